//! A typed async client of the Order Service's HTTP API, for the Rust services that call
//! it: the auction close (create, mark paid), the carrier integration, the user service
//! (erasure), and any tool that drives orders.
//!
//! Answers are `order-events`' [`OrderView`] and [`DisputeView`] — the types the service
//! itself writes them with — so client and service cannot disagree about a field; each
//! comes [`Shown`] with the actions the caller may take next. Requests
//! are built from `order-domain`'s checked values, so that a malformed reason, tracking
//! number or amount cannot be sent.
//!
//! Every write goes out with an `Idempotency-Key` (a fresh one, or the caller's), and every
//! retry of it with the same key: a write the client retries — after a 503, once its
//! `Retry-After` has passed, after a 409 saying the order was busy, or after an answer that
//! never arrived — is done by the service once. Refusals come back as a typed [`Error`]:
//! [`Error::Invalid`] with each refused field, or [`Error::Refused`] with a stable
//! [`ErrorCode`].
//!
//! It is not a server, holds no state beyond its connections, and does not talk to the
//! Wallet or the Listing service.
//!
//! ```no_run
//! use order_client::{NewAuctionOrder, OrderClient, Shipment};
//! use order_domain::order::{Carrier, TrackingNumber};
//! use order_domain::{EscrowId, ListingId, Money, UserId};
//!
//! # async fn close(listing: ListingId, winner: UserId, seller: UserId, escrow: EscrowId,
//! #                seller_token: String) -> Result<(), order_client::Error> {
//! let orders = OrderClient::new("http://orders:8005")?;
//! let auctions = orders.as_service("auction-service-token");
//!
//! // The auction closed: the order, under a key the auction service can derive again
//! // if it crashes before it hears the answer.
//! let order = auctions
//!     .create_auction_order(&NewAuctionOrder {
//!         listing_id: listing,
//!         buyer_id: winner,
//!         seller_id: seller,
//!         amount: "125.00".parse::<Money>().expect("an amount"),
//!         shipping_cost: None,
//!         shipping_address: None,
//!     })
//!     .idempotency_key(format!("auction-{listing}-close"))
//!     .await?;
//! auctions.mark_paid(order.id, escrow).await?;
//!
//! // The seller ships it.
//! let shipment = Shipment {
//!     tracking_number: TrackingNumber::parse("1Z999AA10123456784").expect("a tracking number"),
//!     carrier: Carrier::parse("UPS").expect("a carrier"),
//! };
//! let shipped = orders.as_user(seller_token).ship(order.id, &shipment).await?;
//! assert_eq!(shipped.status, order_domain::OrderStatus::Shipped);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod answer;
mod carrier;
mod client;
mod endpoints;
mod error;
mod request;
mod retry;

pub use answer::{
    CarrierReceipt, CarrierResult, ErasureAccepted, FeedEvent, FeedPage, HistoryEntry, Page, Shown,
};
pub use carrier::CarrierSigningKey;
pub use client::{Credentials, OrderClient, Write};
pub use endpoints::{Dispute, Order};
pub use error::{Error, ErrorCode, FieldErrors, Refusal};
pub use order_events::{DisputeView, OrderView};
pub use request::{
    CarrierUpdate, DisputeChange, DisputeFilter, Extension, NewAuctionOrder, NewDispute,
    OrderFilter, Ordering, PageOf, Purchase, Role, Shipment, Split,
};
pub use retry::RetryPolicy;

// The README's example compiles as a doc test, so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
