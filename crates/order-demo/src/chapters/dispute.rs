//! Chapter 4: a dispute settled by an admin's partial refund.

use order_client::{DisputeChange, NewDispute};
use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::{DisputeStatus, OrderId, Resolution};

use crate::demo::money;
use crate::{Cast, Demo, Result, Told};

impl Demo {
    /// Chapter 4: the buyer disputes `keyboard`, an admin refunds part of it.
    pub(super) async fn dispute_settled(&self, keyboard: OrderId) -> Result<()> {
        println!("\n4. Dispute: Alice says the keyboard arrived with broken keys");
        self.ship(keyboard, "DHL-42", "DHL").await?;
        let complaint = NewDispute {
            reason: DisputeReason::parse("Three keys are broken on arrival.")
                .map_err(|e| e.to_string())?,
            evidence: vec![EvidenceUrl::parse("https://img.example.com/keys.jpg")
                .map_err(|e| e.to_string())?],
        };
        let dispute = self
            .user(Cast::ALICE)
            .open_dispute(keyboard, &complaint)
            .await
            .told()?;
        println!(
            "   dispute {}: {} → order {}",
            dispute.id,
            dispute.status,
            self.order(keyboard).await?.status
        );
        let settled = self
            .admin()
            .update_dispute(
                dispute.id,
                &DisputeChange {
                    status: Some(DisputeStatus::Resolved),
                    resolution: Some(Resolution::PartialRefund),
                    refund_amount: Some(money("30.00")?),
                    admin_notes: Some("Refund the repair.".into()),
                },
            )
            .await
            .told()?;
        println!(
            "   the admin resolves {} with {} → order {}",
            settled
                .resolution
                .map(|r| r.to_string())
                .unwrap_or_default(),
            settled
                .refund_amount
                .map(|a| a.to_string())
                .unwrap_or_default(),
            self.order(keyboard).await?.status
        );
        println!("   of 97.40: Alice gets 30.00 back, the platform 5 % of (89.90 − 30.00) = 3.00, Sam 64.40");
        Ok(())
    }
}
