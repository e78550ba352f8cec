//! Chapters 1 to 3: an auction sale from win to payout, a Buy It Now, and one declined.

use order_client::{ErrorCode, OrderFilter, Purchase, Role};
use order_domain::order::ShippingAddress;
use order_domain::{ListingId, OrderId};

use crate::{listing, Cast, Demo, Result, Told};

/// An address of the story: `lines` as (name, value).
fn address(lines: &[(&str, &str)]) -> Result<ShippingAddress> {
    let lines = lines
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ShippingAddress::new(lines).map_err(|e| e.to_string())
}

impl Demo {
    /// Chapter 1: an auction's winner pays, the seller ships, the buyer confirms.
    pub(super) async fn auction_sale(&self) -> Result<()> {
        println!("1. Auction: Alice wins \"Vintage camera\" for 200.00 (+10.00 shipping)");
        let home = address(&[("name", "Alice"), ("city", "Lyon")])?;
        let won = self
            .won(listing(1), Cast::ALICE, "200.00", Some(("10.00", home)))
            .await?;
        let id = won.id;
        println!(
            "   order {id}: {} — amount {}, fee {}, total {}",
            won.status, won.amount, won.fee_amount, won.total
        );
        let paid = self.pay(&won).await?;
        println!(
            "   the Wallet holds {} in escrow → {}",
            won.total, paid.status
        );
        let shipped = self.ship(id, "1Z-999-AA1", "UPS").await?;
        println!(
            "   Sam ships it (UPS 1Z-999-AA1) → {}, completes by itself at {}",
            shipped.status,
            shown(shipped.auto_complete_at)
        );
        let done = self.user(Cast::ALICE).complete(id).await.told()?;
        println!(
            "   Alice confirms receipt → {}: Sam gets 210.00 − 10.00 = 200.00, the platform 10.00",
            done.status
        );
        Ok(())
    }

    /// Chapter 2: a Buy It Now, paid at once; the order's id, for the dispute.
    pub(super) async fn buy_it_now(&self) -> Result<OrderId> {
        println!("\n2. Buy It Now: Alice buys the \"Mechanical keyboard\" (89.90 + 7.50 shipping)");
        let purchase = Purchase {
            shipping_address: Some(address(&[("city", "Lyon")])?),
            buyer_id: None,
        };
        let bought = self
            .user(Cast::ALICE)
            .buy_now(ListingId::from_uuid(listing(2)), &purchase)
            .await
            .told()?;
        println!(
            "   order {}: {} — total {} held in escrow, fee {}",
            bought.id, bought.status, bought.total, bought.fee_amount
        );
        Ok(bought.id)
    }

    /// Chapter 3: a Buy It Now the buyer's wallet cannot pay.
    pub(super) async fn declined_buy_it_now(&self) -> Result<()> {
        println!("\n3. Declined Buy It Now: Bob (20.00 in his wallet) tries the \"Rare vinyl record\" (65.00)");
        let bob = self.user(Cast::BOB);
        let declined = match bob
            .buy_now(ListingId::from_uuid(listing(3)), &Purchase::default())
            .await
        {
            Err(order_client::Error::Refused(refusal))
                if refusal.code == ErrorCode::InsufficientFunds =>
            {
                refusal
            }
            other => return Err(format!("a declined Buy It Now answered {other:?}")),
        };
        let bobs = bob
            .list_orders(&OrderFilter {
                role: Some(Role::Buyer),
                ..OrderFilter::default()
            })
            .await
            .told()?;
        let status = bobs.results.first().map(|order| order.status.to_string());
        println!(
            "   → HTTP {} \"{}\"; his order is {}, the listing is free again",
            declined.status,
            declined.detail,
            status.as_deref().unwrap_or("?")
        );
        Ok(())
    }
}

/// A time of the story, or "-" when there is none.
pub(super) fn shown(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}
