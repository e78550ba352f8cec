//! Chapter 7: support settles an order without a dispute.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{listing, text, Cast, Demo, Result};

impl Demo {
    /// Chapter 7: a parcel the carrier lost is refunded by an admin, no dispute needed.
    pub(super) async fn support_refund(&self) -> Result<()> {
        println!("\n7. Support: the carrier loses Alice's parcel; an admin refunds her without a dispute");
        let lost = self.paid_auction(listing(8), Cast::ALICE, "30.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{lost}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "LP-404", "carrier": "La Poste"}),
            StatusCode::OK,
        )
        .await?;
        let offered = self.order(&lost).await?;
        println!(
            "   an admin reads order {lost}: {}, may {}",
            text(&offered["status"]),
            offered["allowed_actions"]
        );
        let refunded = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{lost}/refund/"),
                Some((Cast::ADMIN, true)),
                json!({"reason": "Parcel lost by the carrier."}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   refund → {}: Alice gets the whole 30.00 back, Sam and the platform nothing; the history says why",
            text(&refunded["status"])
        );
        Ok(())
    }
}
