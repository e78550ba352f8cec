//! Chapters 5 and 6: what happens when nobody acts — auto-completion and the deadlines.

use order_client::{Error, ErrorCode};
use order_domain::{DisputeStatus, OrderStatus};

use super::sales::shown;
use crate::demo::{complaint, reason};
use crate::{listing, Cast, Demo, Result, Told};

impl Demo {
    /// Chapter 5: a shipped order nobody confirms completes by itself.
    pub(super) async fn auto_completion(&self) -> Result<()> {
        println!("\n5. Auto-completion: Sam ships an auction win nobody confirms (the demo waits 4 s, not 7 days)");
        let quiet_id = self.paid_auction(listing(4), Cast::ALICE, "40.00").await?;
        self.ship(quiet_id, "LP-7", "La Poste").await?;
        let completed = self
            .wait_for_status(quiet_id, OrderStatus::Completed, "the automatic completion")
            .await?;
        println!(
            "   order {quiet_id}: shipped at {}, COMPLETED at {} by the worker: Sam gets 38.00, the platform 2.00",
            shown(completed.shipped_at),
            shown(completed.completed_at)
        );
        Ok(())
    }

    /// Chapter 6: nobody waits forever on a party who went silent.
    pub(super) async fn deadlines(&self) -> Result<()> {
        println!("\n6. Deadlines (seconds here, days in production): nobody waits forever on a silent party");
        let unpaid = self.won(listing(5), Cast::BOB, "15.00", None).await?.id;
        let unshipped = self.paid_auction(listing(6), Cast::ALICE, "50.00").await?;
        let argued = self.paid_auction(listing(7), Cast::BOB, "10.00").await?;
        self.ship(argued, "LP-9", "La Poste").await?;
        let complaint = complaint("The lamp arrived without its shade.")?;
        let dispute = self
            .user(Cast::BOB)
            .open_dispute(argued, &complaint)
            .await
            .told()?;
        let alice = self.user(Cast::ALICE);
        let never_shipped = reason("The seller never shipped.")?;
        let early = match alice.cancel(unshipped, &never_shipped).await {
            Err(Error::Refused(refusal)) if refusal.code == ErrorCode::NotYetOverdue => refusal,
            other => return Err(format!("an early cancellation answered {other:?}")),
        };
        println!(
            "   Bob wins \"Old lamp\" and never pays; Alice pays 50.00 for a desk Sam never ships;"
        );
        println!(
            "   Bob disputes a shipped order and Sam never answers. Alice asks to cancel at once:"
        );
        println!(
            "   → HTTP {} {}: \"{}\"",
            early.status, early.code, early.detail
        );

        let cancelled = self
            .wait_for_status(
                unpaid,
                OrderStatus::Cancelled,
                "the unpaid order's cancellation",
            )
            .await?;
        println!(
            "   the worker cancels Bob's unpaid order at {} (its pay_by)",
            shown(cancelled.cancelled_at)
        );
        let escalated = self
            .wait_for_dispute(dispute.id, "the unanswered dispute's escalation", |d| {
                d.status == DisputeStatus::Review
            })
            .await?;
        println!(
            "   Sam let respond_by pass: the dispute goes to {} at {}",
            escalated.status,
            shown(escalated.escalated_at)
        );
        self.wait_for_order(unshipped, "ship_by", |order| {
            order
                .ship_by
                .is_some_and(|ship_by| ship_by <= chrono::Utc::now())
        })
        .await?;
        let before = self.balance(Cast::ALICE).await?;
        let refunded = alice.cancel(unshipped, &never_shipped).await.told()?;
        let after = self.balance(Cast::ALICE).await?;
        println!(
            "   past ship_by Alice cancels: order {}, the whole 50.00 back from escrow (Alice {before} → {after})",
            refunded.status
        );
        Ok(())
    }
}
