//! What a caller may do next, computed by trying the very transitions the
//! endpoints run, so that the list and the endpoints cannot disagree.

use chrono::{DateTime, TimeDelta, Utc};

use super::{CancellationReason, Carrier, Deadlines, Order, TrackingNumber};
use crate::caller::Participant;
use crate::dispute::{Dispute, DisputeReason};
use crate::id::{DisputeId, UserId};

/// An action on an order a front end may offer, as `allowed_actions` names it.
pub const ORDER_ACTIONS: [&str; 4] = ["cancel", "complete", "dispute", "ship"];

/// An action on a dispute a front end may offer.
pub const DISPUTE_ACTIONS: [&str; 2] = ["add_evidence", "update"];

impl Order {
    /// The sorted subset of [`ORDER_ACTIONS`] that `user` may do to this order at `now`:
    /// its seller may ship it, its buyer complete it, either dispute or cancel it, each
    /// exactly when that transition would be accepted. An admin who is not a party may do
    /// none of them.
    pub fn allowed_actions(&self, user: UserId, now: DateTime<Utc>) -> Vec<&'static str> {
        let Some(party) = self.participant(user) else {
            return Vec::new();
        };
        // Any valid input will do: only the rules of status, party and time decide.
        let deadlines = Deadlines::default();
        let moment = TimeDelta::zero();
        let reason = || CancellationReason::parse("-").expect("a valid reason");
        let mut allowed = Vec::new();
        if self
            .request_cancellation(party, reason(), now, moment)
            .is_ok()
        {
            allowed.push("cancel");
        }
        if let Participant::Buyer(buyer) = party {
            if self.request_completion(buyer, now, moment).is_ok() {
                allowed.push("complete");
            }
        }
        let opened = self.open_dispute(
            DisputeId::from_uuid(uuid::Uuid::nil()),
            party,
            DisputeReason::parse("---------------").expect("a valid reason"),
            Vec::new(),
            &deadlines,
            now,
        );
        if opened.is_ok() {
            allowed.push("dispute");
        }
        if let Participant::Seller(seller) = party {
            let shipped = self.ship(
                seller,
                TrackingNumber::parse("-").expect("a valid tracking number"),
                Carrier::parse("-").expect("a valid carrier"),
                &deadlines,
                now,
            );
            if shipped.is_ok() {
                allowed.push("ship");
            }
        }
        allowed
    }
}

impl Dispute {
    /// The sorted subset of [`DISPUTE_ACTIONS`] that a caller may do to this dispute: its
    /// buyer and seller may add evidence while it takes some and has room for more; an admin
    /// may update it. (While a resolution's payout is in flight, an update is answered
    /// `operation_in_progress` for those seconds: a passing state, not a rule.)
    pub fn allowed_actions(&self, user: UserId, is_staff: bool) -> Vec<&'static str> {
        let mut allowed = Vec::new();
        if self.participant(user).is_some()
            && self.status.accepts_evidence()
            && self.evidence.len() < Dispute::MAX_EVIDENCE
        {
            allowed.push("add_evidence");
        }
        if is_staff {
            allowed.push("update");
        }
        allowed
    }
}
