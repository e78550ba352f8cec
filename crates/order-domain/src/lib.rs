//! The Order Service's domain: orders, disputes, money, and every rule that moves them.
//!
//! This crate decides what may happen and what it costs; it does no I/O, holds no clock
//! and knows no framework, so any Rust service can reuse it. Each transition is a method
//! that returns the changed aggregate with the events it raises, or a [`DomainError`]
//! naming why not; the caller stores both or neither.
//!
//! Who may make a change is part of its rules: a transition takes the typed caller it
//! allows ([`Buyer`], [`Seller`], [`Participant`], [`Admin`]), which only the order itself
//! hands out. Authentication, persistence and peers are not here: those are `order-app`
//! and the adapters.

#![warn(missing_docs)]

#[macro_use]
mod wire_name;

pub mod caller;
pub mod dispute;
/// Why the domain refuses a change.
pub mod error;
pub mod event;
pub mod id;
pub mod listing;
pub mod money;
pub mod order;
pub mod personal;
pub mod reconcile;
#[cfg(feature = "openapi")]
mod schema;
mod text;

pub use caller::{Admin, Buyer, Participant, Parties, Seller, SellerOrAdmin};
pub use dispute::{Dispute, DisputeStatus, Resolution};
pub use error::DomainError;
pub use event::{Actor, DomainEvent, EventType};
pub use id::{DisputeId, EscrowId, EventId, ListingId, OfferId, OrderId, UserId};
pub use listing::Listing;
pub use money::{FeeRate, Money, Settlement};
pub use order::{Changed, Order, OrderStatus};

#[cfg(feature = "fixtures")]
pub mod fixtures;

// The README's example runs as a doc test, so that it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
