//! What the workers' sweeps claim: the rows due under a rule at a time, locked in the
//! claiming unit of work.
//!
//! Each claim takes exactly the rows the domain's rule calls due (`Order::is_due`,
//! `Dispute::is_unanswered`, `Order::is_erasable`), so that a sweep's transitions accept
//! every row it is handed; a row the domain refuses all the same is the sweep's to skip.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::order::Sweep;
use order_domain::personal::ErasureDue;
use order_domain::{Dispute, DisputeId, Order, OrderId};

use crate::store::StoreError;

/// What a sweep claims: the rows due at `now`, `limit` at most, none of `skip` (those the
/// sweep has already left alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepClaim<Id> {
    pub now: DateTime<Utc>,
    pub limit: usize,
    pub skip: Vec<Id>,
}

impl<Id> SweepClaim<Id> {
    pub fn new(now: DateTime<Utc>, limit: usize, skip: Vec<Id>) -> SweepClaim<Id> {
        SweepClaim { now, limit, skip }
    }
}

/// What the intent worker claims: up to `limit` orders whose escrow intent was due to be
/// taken over at `now`, each leased `until` then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntentLease {
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub limit: usize,
}

/// The sweeps' claims, made in one unit of work ([`crate::UnitOfWork`] extends this):
/// what they lock stays locked until it ends. Workers claiming at once each get different
/// rows, since a row another unit of work holds is passed over.
#[async_trait]
pub trait SweepClaims: Send {
    /// Locks and returns up to `claim.limit` orders due for `sweep` at `claim.now` —
    /// exactly those [`Order::is_due`] calls due — that no other unit of work has locked and
    /// that are not in `claim.skip`, the longest overdue first. Workers calling this at once
    /// each get different orders.
    async fn claim_due_orders(
        &mut self,
        sweep: Sweep,
        claim: SweepClaim<OrderId>,
    ) -> Result<Vec<Order>, StoreError>;

    /// Locks and returns up to `claim.limit` OPEN or EVIDENCE disputes past `respond_by` at
    /// `claim.now`, each with its order, both locked; rows another unit of work holds, and
    /// the disputes in `claim.skip`, are left out.
    async fn claim_unanswered_disputes(
        &mut self,
        claim: SweepClaim<DisputeId>,
    ) -> Result<Vec<(Order, Dispute)>, StoreError>;

    /// Locks and returns up to `limit` orders due for erasure under `due` — exactly those
    /// [`Order::is_erasable`] calls due — the longest ended first where the store knows
    /// when. A sweep's claim passes over the orders another unit of work has locked, so
    /// that workers calling it at once each get different orders. A user's own request
    /// ([`ErasureDue::PartyIs`]) waits for them instead, and takes each only if it is still
    /// due once had: the request's answer then counts an order a worker was erasing at that
    /// moment as erased, not as pending.
    async fn claim_erasable_orders(
        &mut self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
}
