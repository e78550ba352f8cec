//! The demo's story, a chapter a module: each tells one part of an order's life over HTTP
//! and stops the demo if the service answers otherwise than promised.

mod books;
mod carriers;
mod deadlines;
mod dispute;
mod ledger;
mod sales;
mod support;

use serde_json::json;

use crate::{listing, Cast, Demo, Result};

impl Demo {
    /// The whole story, chapter after chapter, on the stand-ins seeded for it.
    pub(crate) async fn story(&self, database_url: &str) -> Result<()> {
        println!(
            "Order Service demo — service {}, stand-in Wallet and Listing {}",
            self.api, self.peers
        );
        self.peers_post(
            "/_stub/seed/",
            json!({
                "listings": [
                    {"id": listing(2), "seller_id": Cast::SAM, "title": "Mechanical keyboard", "status": "ACTIVE", "buy_now_price": "89.90", "shipping_cost": "7.50"},
                    {"id": listing(3), "seller_id": Cast::SAM, "title": "Rare vinyl record", "status": "ACTIVE", "buy_now_price": "60.00", "shipping_cost": "5.00"},
                ],
                "wallets": [{"user_id": Cast::ALICE, "amount": "1000.00"}, {"user_id": Cast::BOB, "amount": "20.00"}],
            }),
            None,
        )
        .await?;
        println!("Wallets before: Alice 1000.00, Bob 20.00, Sam (seller) 0.00 — fee rate 5 %\n");

        self.auction_sale().await?;
        let keyboard = self.buy_it_now().await?;
        self.declined_buy_it_now().await?;
        self.dispute_settled(keyboard).await?;
        self.auto_completion().await?;
        self.deadlines().await?;
        self.support_refund().await?;
        self.offer_accepted().await?;
        self.carrier_updates().await?;
        self.money().await?;
        self.books(database_url, keyboard).await?;
        self.timeline(keyboard).await?;
        self.events(database_url).await
    }
}
