//! What a caller may do next, computed by trying the very transitions the
//! endpoints run, so that the list and the endpoints cannot disagree.

use chrono::{DateTime, TimeDelta, Utc};

use super::{CancellationReason, Carrier, Deadlines, Order, OrderAction, TrackingNumber};
use crate::caller::{Admin, Participant, Parties, SellerOrAdmin};
use crate::dispute::{Dispute, DisputeReason};
use crate::id::{DisputeId, UserId};
use crate::money::{FeeRate, Money};

/// An action on an order a front end may offer, as `allowed_actions` names it.
pub const ORDER_ACTIONS: [&str; 8] = [
    "cancel", "complete", "dispute", "extend", "refund", "release", "settle", "ship",
];

/// An action on a dispute a front end may offer.
pub const DISPUTE_ACTIONS: [&str; 5] = [
    "accept_offer",
    "add_evidence",
    "decline_offer",
    "make_offer",
    "update",
];

impl Order {
    /// The sorted subset of [`ORDER_ACTIONS`] that `user` — an admin when `admin` is given
    /// — may do to this order at `now`, each listed exactly when its transition would accept
    /// it: its seller may ship and refund it, its buyer complete it, either party dispute
    /// or cancel it; an admin, party or not, may cancel, extend, refund, release and settle.
    pub fn allowed_actions(
        &self,
        user: UserId,
        admin: Option<Admin>,
        now: DateTime<Utc>,
    ) -> Vec<&'static str> {
        // Any valid input will do: only the rules of status, caller and time decide.
        let deadlines = Deadlines::default();
        let moment = TimeDelta::zero();
        let reason = || CancellationReason::parse("-").expect("a valid reason");
        // A transition the status table refuses is not tried: with no money in flight, its
        // method would refuse it on that same table, and a list of twenty orders, most of
        // them ended, should not build and drop some two hundred changes to learn so.
        let could = |action: OrderAction| {
            self.escrow_intent.is_some() || action.allowed_from().contains(&self.status)
        };
        let party = self.participant(user);
        let mut allowed = Vec::new();
        let mut offer = |action: &'static str, accepted: bool| {
            if accepted && !allowed.contains(&action) {
                allowed.push(action);
            }
        };
        if let Some(party) = party {
            if could(OrderAction::CancelPaid) {
                let cancelled = self.request_cancellation(party, reason(), now, moment);
                offer("cancel", cancelled.is_ok());
            }
            if could(OrderAction::OpenDispute) {
                let opened = self.open_dispute(
                    DisputeId::from_uuid(uuid::Uuid::nil()),
                    party,
                    DisputeReason::parse("---------------").expect("a valid reason"),
                    Vec::new(),
                    &deadlines,
                    now,
                );
                offer("dispute", opened.is_ok());
            }
        }
        if let (Some(Participant::Buyer(buyer)), true) = (party, could(OrderAction::Complete)) {
            offer(
                "complete",
                self.request_completion(buyer, now, moment).is_ok(),
            );
        }
        if let Some(Participant::Seller(seller)) = party {
            if could(OrderAction::Ship) {
                let shipped = self.ship(
                    seller,
                    TrackingNumber::parse("-").expect("a valid tracking number"),
                    Carrier::parse("-").expect("a valid carrier"),
                    &deadlines,
                    now,
                );
                offer("ship", shipped.is_ok());
            }
            if could(OrderAction::Refund) {
                let by = SellerOrAdmin::Seller(seller);
                offer(
                    "refund",
                    self.request_refund(by, reason(), now, moment).is_ok(),
                );
            }
        }
        let Some(admin) = admin else {
            allowed.sort_unstable();
            return allowed;
        };
        if could(OrderAction::Cancel) || could(OrderAction::CancelPaid) {
            let cancelled = self.cancel_as_admin(admin, reason(), now, moment);
            offer("cancel", cancelled.is_ok());
        }
        if could(OrderAction::Extend) {
            let later = |deadline: Option<DateTime<Utc>>| {
                deadline.map(|at| at.max(now) + TimeDelta::seconds(1))
            };
            let extended = self
                .extend(admin, later(self.ship_by), None, reason(), now)
                .or_else(|_| self.extend(admin, None, later(self.auto_complete_at), reason(), now));
            offer("extend", extended.is_ok());
        }
        if could(OrderAction::Refund) {
            let by = SellerOrAdmin::Admin(admin);
            offer(
                "refund",
                self.request_refund(by, reason(), now, moment).is_ok(),
            );
        }
        if could(OrderAction::Release) {
            let released = self.request_release(admin, reason(), now, moment);
            offer("release", released.is_ok());
        }
        if could(OrderAction::Settle) {
            let cent: Money = "0.01".parse().expect("a valid amount");
            let settled =
                self.request_settlement(admin, cent, reason(), FeeRate::default(), now, moment);
            offer("settle", settled.is_ok());
        }
        allowed.sort_unstable();
        allowed
    }
}

impl Dispute {
    /// The sorted subset of [`DISPUTE_ACTIONS`] that a caller may do to this dispute: its
    /// buyer and seller may add evidence while it takes some and has room for more; its
    /// seller may make an offer while it takes offers; its buyer may accept or decline the
    /// pending offer; an admin may update it. Each is decided by the rule its transition
    /// checks. (While a payout is in flight, a change is answered `operation_in_progress`
    /// for those seconds: a passing state, not a rule.)
    pub fn allowed_actions(&self, user: UserId, is_staff: bool) -> Vec<&'static str> {
        let mut allowed = Vec::new();
        if self.participant(user).is_some()
            && self.status.accepts_evidence()
            && self.evidence.len() < Dispute::MAX_EVIDENCE
        {
            allowed.push("add_evidence");
        }
        if self.seller(user).is_some() && self.check_offers_open().is_ok() {
            allowed.push("make_offer");
        }
        if self.buyer(user).is_some() && self.pending_offer().is_some() {
            allowed.extend(["accept_offer", "decline_offer"]);
        }
        if is_staff {
            allowed.push("update");
        }
        allowed.sort_unstable();
        allowed
    }
}
