//! Chapters 1 to 3: an auction sale from win to payout, a Buy It Now, and one declined.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{listing, text, Cast, Demo, Result};

impl Demo {
    /// Chapter 1: an auction's winner pays, the seller ships, the buyer confirms.
    pub(super) async fn auction_sale(&self) -> Result<()> {
        println!("1. Auction: Alice wins \"Vintage camera\" for 200.00 (+10.00 shipping)");
        let won = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/create/",
                None,
                json!({"listing_id": listing(1), "buyer_id": Cast::ALICE, "seller_id": Cast::SAM, "amount": "200.00", "shipping_cost": "10.00", "shipping_address": {"name": "Alice", "city": "Lyon"}}),
                StatusCode::CREATED,
            )
            .await?;
        let id = won["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "   order {id}: {} — amount {}, fee {}, total {}",
            text(&won["status"]),
            text(&won["amount"]),
            text(&won["fee_amount"]),
            text(&won["total"])
        );
        let held = self
            .peers_post(
                "/api/v1/wallet/internal/hold-escrow/",
                json!({"order_id": id, "buyer_id": Cast::ALICE, "amount": won["total"]}),
                Some(format!("demo-hold-{id}")),
            )
            .await?;
        let paid = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/mark-paid/",
                None,
                json!({"order_id": id, "escrow_id": held["escrow_id"]}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   the Wallet holds {} in escrow → {}",
            text(&won["total"]),
            text(&paid["status"])
        );
        let shipped = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{id}/ship/"),
                Some((Cast::SAM, false)),
                json!({"tracking_number": "1Z-999-AA1", "carrier": "UPS"}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   Sam ships it (UPS 1Z-999-AA1) → {}, completes by itself at {}",
            text(&shipped["status"]),
            text(&shipped["auto_complete_at"])
        );
        let done = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{id}/complete/"),
                Some((Cast::ALICE, false)),
                json!({}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   Alice confirms receipt → {}: Sam gets 210.00 − 10.00 = 200.00, the platform 10.00",
            text(&done["status"])
        );
        Ok(())
    }

    /// Chapter 2: a Buy It Now, paid at once; the order's id, for the dispute.
    pub(super) async fn buy_it_now(&self) -> Result<String> {
        println!("\n2. Buy It Now: Alice buys the \"Mechanical keyboard\" (89.90 + 7.50 shipping)");
        let bought = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{}/purchase/", listing(2)),
                Some((Cast::ALICE, false)),
                json!({"shipping_address": {"city": "Lyon"}}),
                StatusCode::CREATED,
            )
            .await?;
        println!(
            "   order {}: {} — total {} held in escrow, fee {}",
            bought["id"].as_str().unwrap_or_default(),
            text(&bought["status"]),
            text(&bought["total"]),
            text(&bought["fee_amount"])
        );
        let keyboard = bought["id"].as_str().unwrap_or_default().to_owned();
        Ok(keyboard)
    }

    /// Chapter 3: a Buy It Now the buyer's wallet cannot pay.
    pub(super) async fn declined_buy_it_now(&self) -> Result<()> {
        println!("\n3. Declined Buy It Now: Bob (20.00 in his wallet) tries the \"Rare vinyl record\" (65.00)");
        let (status, declined) = self
            .call(
                Method::POST,
                &format!("/api/v1/orders/{}/purchase/", listing(3)),
                Some((Cast::BOB, false)),
                json!({}),
            )
            .await?;
        if status != StatusCode::PAYMENT_REQUIRED {
            return Err(format!(
                "a declined Buy It Now answered {status}: {declined}"
            ));
        }
        let (_, bobs) = self
            .call(
                Method::GET,
                "/api/v1/orders/?role=buyer",
                Some((Cast::BOB, false)),
                Value::Null,
            )
            .await?;
        println!(
            "   → HTTP 402 \"{}\"; his order is {}, the listing is free again",
            declined["detail"].as_str().unwrap_or_default(),
            text(&bobs["results"][0]["status"])
        );
        Ok(())
    }
}
