//! One method per endpoint, grouped by who calls it. Each write returns a [`Write`]: await
//! it to send it under a fresh Idempotency-Key, or name the key first.

use chrono::{DateTime, Utc};

use order_domain::dispute::{EvidenceUrl, Offer};
use order_domain::order::{ActionReason, CancellationReason};
use order_domain::{DisputeId, EscrowId, ListingId, OfferId, OrderId, UserId};
use order_events::{DisputeView, OrderView};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::answer::{CarrierReceipt, ErasureAccepted, FeedPage, HistoryEntry, Page, Shown};
use crate::carrier::CarrierSigningKey;
use crate::client::{OrderClient, Write};
use crate::error::Error;
use crate::request::{
    CarrierUpdate, DisputeChange, DisputeFilter, Extension, NewAuctionOrder, NewDispute,
    OrderFilter, Purchase, Shipment, Split,
};

/// An order as this caller is shown it.
pub type Order = Shown<OrderView>;

/// A dispute as this caller is shown it.
pub type Dispute = Shown<DisputeView>;

/// No body: the action's path says it all.
#[derive(Serialize)]
struct Empty {}

/// The service's own platform: the auction close, the payment flow, the carrier
/// integration, the user service. Call them on a client [`OrderClient::as_service`].
impl OrderClient {
    /// Creates the order of an auction's win (PENDING_PAYMENT, to be paid by its deadline).
    /// Sent again for the same auction with the same terms, it answers the order created
    /// the first time.
    pub fn create_auction_order(&self, order: &NewAuctionOrder) -> Write<'_, Order> {
        self.write(
            Method::POST,
            "/api/v1/orders/internal/create/".into(),
            order,
        )
    }

    /// Marks an auction order paid, once the Wallet holds `escrow_id` for it.
    pub fn mark_paid(&self, order: OrderId, escrow_id: EscrowId) -> Write<'_, Order> {
        self.write(
            Method::POST,
            "/api/v1/orders/internal/mark-paid/".into(),
            &json!({"order_id": order, "escrow_id": escrow_id}),
        )
    }

    /// Cancels an unpaid auction order (the winner never paid).
    pub fn cancel_unpaid(&self, order: OrderId, reason: &CancellationReason) -> Write<'_, Order> {
        self.write(
            Method::POST,
            "/api/v1/orders/internal/cancel/".into(),
            &json!({"order_id": order, "reason": reason}),
        )
    }

    /// Marks a shipped order delivered at `delivered_at` (now when `None`).
    pub fn mark_delivered(
        &self,
        order: OrderId,
        delivered_at: Option<DateTime<Utc>>,
    ) -> Write<'_, Order> {
        let mut body = json!({"order_id": order});
        if let Some(at) = delivered_at {
            body["delivered_at"] = json!(at);
        }
        self.write(
            Method::POST,
            "/api/v1/orders/internal/mark-delivered/".into(),
            &body,
        )
    }

    /// Erases the personal data of `user`'s ended orders now and of their open ones as
    /// each ends.
    pub fn erase_user(&self, user: UserId) -> Write<'_, ErasureAccepted> {
        self.write(
            Method::POST,
            "/api/v1/orders/internal/erase-user/".into(),
            &json!({"user_id": user}),
        )
    }

    /// Up to `limit` events of the replay feed after position `after` (0: from the
    /// start).
    pub async fn event_feed(&self, after: u64, limit: Option<u32>) -> Result<FeedPage, Error> {
        let mut query = vec![("after", after.to_string())];
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        self.read("/api/v1/orders/internal/events/", &query).await
    }

    /// A carrier's tracking update, signed with `key`. Needs no other credentials; sent
    /// again (same `event_id`), it is applied once.
    pub async fn carrier_update(
        &self,
        key: &CarrierSigningKey,
        update: &CarrierUpdate,
    ) -> Result<CarrierReceipt, Error> {
        self.signed("/api/v1/orders/carrier-events/", update, key)
            .await
    }
}

/// Buyers, sellers and admins, with their token: call them on a client
/// [`OrderClient::as_user`].
impl OrderClient {
    /// Buys `listing` at its Buy It Now price (PAID at once: the buyer's wallet pays).
    pub fn buy_now(&self, listing: ListingId, purchase: &Purchase) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{listing}/purchase/"),
            purchase,
        )
    }

    /// The caller's orders (any order, for an admin) that `filter` admits.
    pub async fn list_orders(&self, filter: &OrderFilter) -> Result<Page<Order>, Error> {
        self.read("/api/v1/orders/", &filter.params()).await
    }

    /// One order.
    pub async fn get_order(&self, order: OrderId) -> Result<Order, Error> {
        self.read(&format!("/api/v1/orders/{order}/"), &[]).await
    }

    /// Page `page` (from 1) of an order's history, oldest first.
    pub async fn order_history(
        &self,
        order: OrderId,
        page: u64,
    ) -> Result<Page<HistoryEntry>, Error> {
        self.read(
            &format!("/api/v1/orders/{order}/history/"),
            &[("page", page.to_string())],
        )
        .await
    }

    /// The seller ships a paid order.
    pub fn ship(&self, order: OrderId, shipment: &Shipment) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/ship/"),
            shipment,
        )
    }

    /// The buyer confirms receipt: the escrow is released to the seller.
    pub fn complete(&self, order: OrderId) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/complete/"),
            &Empty {},
        )
    }

    /// A party (or an admin) cancels the order, refunding what was paid.
    pub fn cancel(&self, order: OrderId, reason: &CancellationReason) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/cancel/"),
            &json!({"reason": reason}),
        )
    }

    /// A party opens a dispute about the order.
    pub fn open_dispute(&self, order: OrderId, dispute: &NewDispute) -> Write<'_, Dispute> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/dispute/"),
            dispute,
        )
    }

    /// The seller (or an admin) refunds the whole order.
    pub fn refund(&self, order: OrderId, reason: &ActionReason) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/refund/"),
            &json!({"reason": reason}),
        )
    }

    /// An admin releases the escrow to the seller.
    pub fn release(&self, order: OrderId, reason: &ActionReason) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/release/"),
            &json!({"reason": reason}),
        )
    }

    /// The seller (or an admin) splits the escrow: part back to the buyer, the rest to the
    /// seller.
    pub fn settle(&self, order: OrderId, split: &Split) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/settle/"),
            split,
        )
    }

    /// An admin moves the deadline the order's status runs.
    pub fn extend_deadline(&self, order: OrderId, extension: &Extension) -> Write<'_, Order> {
        self.write(
            Method::POST,
            format!("/api/v1/orders/{order}/extend/"),
            extension,
        )
    }

    /// The caller's disputes (any, for an admin) that `filter` admits.
    pub async fn list_disputes(&self, filter: &DisputeFilter) -> Result<Page<Dispute>, Error> {
        self.read("/api/v1/disputes/", &filter.params()).await
    }

    /// One dispute.
    pub async fn get_dispute(&self, dispute: DisputeId) -> Result<Dispute, Error> {
        self.read(&format!("/api/v1/disputes/{dispute}/"), &[])
            .await
    }

    /// An admin moves a dispute on, resolves it, or writes notes.
    pub fn update_dispute(&self, dispute: DisputeId, change: &DisputeChange) -> Write<'_, Dispute> {
        self.write(
            Method::PATCH,
            format!("/api/v1/disputes/{dispute}/"),
            change,
        )
    }

    /// A party adds links to evidence.
    pub fn add_evidence(&self, dispute: DisputeId, urls: &[EvidenceUrl]) -> Write<'_, Dispute> {
        self.write(
            Method::POST,
            format!("/api/v1/disputes/{dispute}/evidence/"),
            &json!({"urls": urls}),
        )
    }

    /// The seller offers `refund_amount` back to the buyer to end the dispute.
    pub fn make_offer(
        &self,
        dispute: DisputeId,
        refund_amount: order_domain::Money,
    ) -> Write<'_, Offer> {
        self.write(
            Method::POST,
            format!("/api/v1/disputes/{dispute}/offers/"),
            &json!({"refund_amount": refund_amount}),
        )
    }

    /// The buyer accepts an offer: the escrow is split as it says and the dispute ends.
    pub fn accept_offer(&self, dispute: DisputeId, offer: OfferId) -> Write<'_, Dispute> {
        self.write(
            Method::POST,
            format!("/api/v1/disputes/{dispute}/offers/{offer}/accept/"),
            &Empty {},
        )
    }

    /// The buyer declines an offer.
    pub fn decline_offer(&self, dispute: DisputeId, offer: OfferId) -> Write<'_, Dispute> {
        self.write(
            Method::POST,
            format!("/api/v1/disputes/{dispute}/offers/{offer}/decline/"),
            &Empty {},
        )
    }
}

/// What operators and tools read; no credentials needed. Sent once each, never retried.
impl OrderClient {
    /// Whether the process is up (`/healthz`).
    pub async fn liveness(&self) -> Result<(), Error> {
        self.read_text("/healthz/").await.map(drop)
    }

    /// Whether it serves requests now: its database and peers answer (`/readyz`); the
    /// service's report of what is missing otherwise, as a 503 [`Error::Refused`] or
    /// [`Error::Unexpected`].
    pub async fn readiness(&self) -> Result<(), Error> {
        self.read_text("/readyz/").await.map(drop)
    }

    /// The Prometheus metrics, as text.
    pub async fn metrics(&self) -> Result<String, Error> {
        self.read_text("/metrics/").await
    }

    /// The OpenAPI document the service serves.
    pub async fn api_document(&self) -> Result<serde_json::Value, Error> {
        self.read("/api/v1/openapi.json/", &[]).await
    }

    /// The HTML page that shows the API document.
    pub async fn api_docs_page(&self) -> Result<String, Error> {
        self.read_text("/api/docs/").await
    }
}
