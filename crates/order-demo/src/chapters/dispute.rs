//! Chapter 4: a dispute settled by an admin's partial refund.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{text, Cast, Demo, Result};

impl Demo {
    /// Chapter 4: the buyer disputes `keyboard`, an admin refunds part of it.
    pub(super) async fn dispute_settled(&self, keyboard: &str) -> Result<()> {
        println!("\n4. Dispute: Alice says the keyboard arrived with broken keys");
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{keyboard}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "DHL-42", "carrier": "DHL"}),
            StatusCode::OK,
        )
        .await?;
        let dispute = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{keyboard}/dispute/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "Three keys are broken on arrival.", "evidence": ["https://img.example.com/keys.jpg"]}),
                StatusCode::CREATED,
            )
            .await?;
        let dispute_id = dispute["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "   dispute {dispute_id}: {} → order {}",
            text(&dispute["status"]),
            text(&self.order(keyboard).await?["status"])
        );
        let settled = self
            .expect(
                Method::PATCH,
                &format!("/api/v1/disputes/{dispute_id}/"),
                Some((Cast::ADMIN, true)),
                json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00", "admin_notes": "Refund the repair."}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   the admin resolves {} with {} → order {}",
            text(&settled["resolution"]),
            text(&settled["refund_amount"]),
            text(&self.order(keyboard).await?["status"])
        );
        println!("   of 97.40: Alice gets 30.00 back, the platform 5 % of (89.90 − 30.00) = 3.00, Sam 64.40");
        Ok(())
    }
}
