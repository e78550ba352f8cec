//! Chapters 7 and 8: orders settled without an admin's ruling — support's refund of a lost
//! parcel, and a dispute ended by the parties' agreement.

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

impl Demo {
    /// Chapter 8: a dispute ended by the parties' agreement, without an admin.
    pub(super) async fn offer_accepted(&self) -> Result<()> {
        println!("\n8. Agreement: Alice disputes a scratched lamp; Sam offers 8.00 back and Alice accepts");
        let lamp = self.paid_auction(listing(9), Cast::ALICE, "20.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{lamp}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "UPS-8", "carrier": "UPS"}),
            StatusCode::OK,
        )
        .await?;
        let dispute = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{lamp}/dispute/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "The lamp arrived scratched."}),
                StatusCode::CREATED,
            )
            .await?;
        let dispute_id = text(&dispute["id"]).to_owned();
        let offer = self
            .expect(
                Method::POST,
                &format!("/api/v1/disputes/{dispute_id}/offers/"),
                Some((Cast::SAM, false)),
                json!({"refund_amount": "8.00"}),
                StatusCode::CREATED,
            )
            .await?;
        let offer_id = text(&offer["id"]).to_owned();
        println!(
            "   Sam offers {} ({})",
            text(&offer["refund_amount"]),
            text(&offer["status"])
        );
        let resolved = self
            .expect(
                Method::POST,
                &format!("/api/v1/disputes/{dispute_id}/offers/{offer_id}/accept/"),
                Some((Cast::ALICE, false)),
                json!({}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   Alice accepts → dispute {} {}, order {}: no admin needed",
            text(&resolved["status"]),
            text(&resolved["resolution"]),
            text(&self.order(&lamp).await?["status"])
        );
        println!("   of 20.00: Alice gets 8.00 back, the platform 5 % of 12.00 = 0.60, Sam 11.40");
        Ok(())
    }
}
