//! Chapters 5 and 6: what happens when nobody acts — auto-completion and the deadlines.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{listing, text, Cast, Demo, Result};

impl Demo {
    /// Chapter 5: a shipped order nobody confirms completes by itself.
    pub(super) async fn auto_completion(&self) -> Result<()> {
        println!("\n5. Auto-completion: Sam ships an auction win nobody confirms (the demo waits 4 s, not 7 days)");
        let quiet_id = self.paid_auction(listing(4), Cast::ALICE, "40.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{quiet_id}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "LP-7", "carrier": "La Poste"}),
            StatusCode::OK,
        )
        .await?;
        let completed = self
            .wait_for(
                &format!("/api/v1/orders/{quiet_id}/"),
                "the automatic completion",
                |order| order["status"] == "COMPLETED",
            )
            .await?;
        println!("   order {quiet_id}: shipped at {}, COMPLETED at {} by the worker: Sam gets 38.00, the platform 2.00", text(&completed["shipped_at"]), text(&completed["completed_at"]));
        Ok(())
    }

    /// Chapter 6: nobody waits forever on a party who went silent.
    pub(super) async fn deadlines(&self) -> Result<()> {
        use reqwest::Method;
        println!("\n6. Deadlines (seconds here, days in production): nobody waits forever on a silent party");
        let won = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/create/",
                None,
                json!({"listing_id": listing(5), "buyer_id": Cast::BOB, "seller_id": Cast::SAM, "amount": "15.00"}),
                StatusCode::CREATED,
            )
            .await?;
        let unpaid = text(&won["id"]).to_owned();
        let unshipped = self.paid_auction(listing(6), Cast::ALICE, "50.00").await?;
        let argued = self.paid_auction(listing(7), Cast::BOB, "10.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{argued}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "LP-9", "carrier": "La Poste"}),
            StatusCode::OK,
        )
        .await?;
        let dispute = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{argued}/dispute/"),
                Some((Cast::BOB, false)),
                json!({"reason": "The lamp arrived without its shade."}),
                StatusCode::CREATED,
            )
            .await?;
        let (status, early) = self
            .call(
                Method::POST,
                &format!("/api/v1/orders/{unshipped}/cancel/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "The seller never shipped."}),
            )
            .await?;
        if status != StatusCode::CONFLICT {
            return Err(format!("an early cancellation answered {status}: {early}"));
        }
        println!(
            "   Bob wins \"Old lamp\" and never pays; Alice pays 50.00 for a desk Sam never ships;"
        );
        println!(
            "   Bob disputes a shipped order and Sam never answers. Alice asks to cancel at once:"
        );
        println!(
            "   → HTTP 409 {}: \"{}\"",
            text(&early["code"]),
            text(&early["detail"])
        );

        let cancelled = self
            .wait_for(
                &format!("/api/v1/orders/{unpaid}/"),
                "the unpaid order's cancellation",
                |o| o["status"] == "CANCELLED",
            )
            .await?;
        println!(
            "   the worker cancels Bob's unpaid order at {} (its pay_by)",
            text(&cancelled["cancelled_at"])
        );
        let escalated = self
            .wait_for(
                &format!("/api/v1/disputes/{}/", text(&dispute["id"])),
                "the unanswered dispute's escalation",
                |d| d["status"] == "REVIEW",
            )
            .await?;
        println!(
            "   Sam let respond_by pass: the dispute goes to {} at {}",
            text(&escalated["status"]),
            text(&escalated["escalated_at"])
        );
        self.wait_for(&format!("/api/v1/orders/{unshipped}/"), "ship_by", |o| {
            o["ship_by"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                .is_some_and(|ship_by| ship_by <= chrono::Utc::now())
        })
        .await?;
        let before = self.balance(Cast::ALICE).await?;
        let refunded = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{unshipped}/cancel/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "The seller never shipped."}),
                StatusCode::OK,
            )
            .await?;
        let after = self.balance(Cast::ALICE).await?;
        println!(
            "   past ship_by Alice cancels: order {}, the whole 50.00 back from escrow (Alice {before} → {after})",
            text(&refunded["status"])
        );
        Ok(())
    }
}
