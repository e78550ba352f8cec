//! HTTP clients of the Order Service's peers: the Wallet service, which holds escrow, and
//! the Listing service, which knows what is for sale.
//!
//! Both clients share one retrying JSON client ([`PeerClient`]): connect and per-attempt
//! timeouts, bounded retries with jittered exponential backoff on transport errors and
//! 5xx, and the service token on every call. That shared core is why the two adapters
//! live in one crate rather than in `order-wallet` and `order-listing`.
//!
//! The Wallet is also guarded ([`GuardedWallet`]): a circuit breaker and a cap on calls in
//! flight, so that a Wallet that is down or slow is failed fast rather than waited on.
//!
//! This crate knows the peers' wire formats and nothing of the use cases.

mod client;
mod config;
mod guard;
mod listing;
mod wallet;

pub use client::PeerClient;
pub use config::{InvalidPeerConfig, PeerConfig};
pub use guard::{Breaker, BreakerState, GuardSettings, GuardSnapshot, GuardedWallet, Refused};
pub use listing::HttpListings;
pub use wallet::HttpWallet;
