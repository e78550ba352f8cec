//! Chapters 7 and 8: orders settled without an admin's ruling — support's refund of a lost
//! parcel, and a dispute ended by the parties' agreement.

use crate::demo::{complaint, money, reason};
use crate::{listing, Cast, Demo, Result, Told};

impl Demo {
    /// Chapter 7: a parcel the carrier lost is refunded by an admin, no dispute needed.
    pub(super) async fn support_refund(&self) -> Result<()> {
        println!("\n7. Support: the carrier loses Alice's parcel; an admin refunds her without a dispute");
        let lost = self.paid_auction(listing(8), Cast::ALICE, "30.00").await?;
        self.ship(lost, "LP-404", "La Poste").await?;
        let offered = self.order(lost).await?;
        println!(
            "   an admin reads order {lost}: {}, may {:?}",
            offered.status, offered.allowed_actions
        );
        let refunded = self
            .admin()
            .refund(lost, &reason("Parcel lost by the carrier.")?)
            .await
            .told()?;
        println!(
            "   refund → {}: Alice gets the whole 30.00 back, Sam and the platform nothing; the history says why",
            refunded.status
        );
        Ok(())
    }
}

impl Demo {
    /// Chapter 8: a dispute ended by the parties' agreement, without an admin.
    pub(super) async fn offer_accepted(&self) -> Result<()> {
        println!("\n8. Agreement: Alice disputes a scratched lamp; Sam offers 8.00 back and Alice accepts");
        let lamp = self.paid_auction(listing(9), Cast::ALICE, "20.00").await?;
        self.ship(lamp, "UPS-8", "UPS").await?;
        let complaint = complaint("The lamp arrived scratched.")?;
        let alice = self.user(Cast::ALICE);
        let dispute = alice.open_dispute(lamp, &complaint).await.told()?;
        let offer = self
            .user(Cast::SAM)
            .make_offer(dispute.id, money("8.00")?)
            .await
            .told()?;
        println!(
            "   Sam offers {} ({})",
            offer.refund_amount,
            serde_json::json!(offer.status).as_str().unwrap_or("?")
        );
        let resolved = alice.accept_offer(dispute.id, offer.id).await.told()?;
        println!(
            "   Alice accepts → dispute {} {}, order {}: no admin needed",
            resolved.status,
            resolved
                .resolution
                .map(|r| r.to_string())
                .unwrap_or_default(),
            self.order(lamp).await?.status
        );
        println!("   of 20.00: Alice gets 8.00 back, the platform 5 % of 12.00 = 0.60, Sam 11.40");
        Ok(())
    }
}
