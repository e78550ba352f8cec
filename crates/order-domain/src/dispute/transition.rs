//! How a dispute is opened, fed with evidence and decided, and what the decision does to
//! the order and its escrow.

use crate::caller::Participant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Dispute, DisputeData, DisputeReason, DisputeStatus, EvidenceUrl, Resolution};
use crate::error::DomainError;
use crate::event::{DomainEvent, EventType};
use crate::id::{DisputeId, OfferId};
use crate::money::{Money, Settlement};
use crate::order::{
    resumed, Changed, Deadlines, Ending, IdleOrder, Order, OrderAction, OrderStatus, Terms,
};

/// An order that has just been disputed, with its new dispute.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeOpened {
    /// The order, now DISPUTED.
    pub order: Order,
    /// The new dispute, OPEN.
    pub dispute: Dispute,
    /// `order.disputed`.
    pub events: Vec<DomainEvent>,
}

/// An admin's change to a dispute; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeUpdate {
    /// The status to move to.
    pub status: Option<DisputeStatus>,
    /// The resolution to apply; the dispute becomes RESOLVED.
    pub resolution: Option<Resolution>,
    /// The buyer's refund, for a PARTIAL_REFUND only.
    pub refund_amount: Option<Money>,
    /// Replaces the admin's notes.
    pub admin_notes: Option<String>,
}

/// The escrow movement a resolution calls for, to be done by the Wallet before the
/// decision is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "settlement", rename_all = "snake_case")]
pub enum Payout {
    /// The sale goes through: release the escrow to the seller and the platform.
    Release(Settlement),
    /// Some or all of the escrow goes back to the buyer, the rest to the seller and platform.
    Refund(Settlement),
}

impl Payout {
    /// The split of the escrow, either way.
    pub fn settlement(&self) -> &Settlement {
        match self {
            Payout::Release(settlement) | Payout::Refund(settlement) => settlement,
        }
    }
}

/// The outcome of an admin's update.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeDecision {
    /// The dispute as updated.
    pub dispute: Dispute,
    /// The order, when the update resolved the dispute and so changed the order.
    pub order: Option<Order>,
    /// The money to move before storing anything, when the resolution moves money.
    pub payout: Option<Payout>,
    /// The order's event (if its status changed) then `dispute.resolved`, when resolved.
    pub events: Vec<DomainEvent>,
}

const MAX_ADMIN_NOTES_CHARS: usize = 10_000;

impl Order {
    /// PAID/SHIPPED/DELIVERED → DISPUTED, opening the order's one dispute on behalf of its
    /// buyer or seller. Raises `order.disputed`.
    ///
    /// The other party's answer is due by `respond_by`; the order's own deadline (`ship_by`
    /// or `auto_complete_at`) is paused until the dispute ends.
    pub fn open_dispute(
        &self,
        id: DisputeId,
        by: Participant,
        reason: DisputeReason,
        evidence: Vec<EvidenceUrl>,
        deadlines: &Deadlines,
        now: DateTime<Utc>,
    ) -> Result<DisputeOpened, DomainError> {
        if self.dispute.is_some() {
            return Err(DomainError::DisputeExists);
        }
        let opened_by = by.id();
        check_evidence_count(evidence.len())?;
        let mut order = self.begin(OrderAction::OpenDispute)?;
        let dispute = Dispute(DisputeData {
            id,
            order_id: self.id,
            opened_by,
            buyer_id: self.buyer_id,
            seller_id: self.seller_id,
            reason,
            evidence,
            status: DisputeStatus::Open,
            resolution: None,
            refund_amount: None,
            admin_notes: String::new(),
            created_at: now,
            updated_at: now,
            resolved_at: None,
            respond_by: Some(deadlines.respond_by(now)),
            responded_at: None,
            escalated_at: None,
            offers: Vec::new(),
        });
        let data = order.data_mut();
        data.status_before_dispute = Some(self.status);
        data.status = OrderStatus::Disputed;
        data.dispute = Some(dispute.summary());
        let event = DomainEvent::new(
            EventType::OrderDisputed,
            now,
            order.clone(),
            Some(dispute.clone()),
        );
        Ok(DisputeOpened {
            order,
            dispute,
            events: vec![event],
        })
    }

    /// What resolving this order's dispute with `resolution` does to the order and the
    /// escrow, and which order event (if any) announces it.
    ///
    /// NO_ACTION gives the order back the deadline the dispute (opened at `opened_at`)
    /// paused, counted from now; a clock a returned parcel had stopped restarts with the
    /// window a delivery leaves, so that the dispute's end is the admin's word on the parcel.
    fn settle(
        &self,
        resolution: Resolution,
        refund_amount: Option<Money>,
        terms: &Terms,
        opened_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(Order, Option<Payout>, Option<EventType>), DomainError> {
        let mut order = self.begin(OrderAction::SettleDispute)?;
        let data = order.data_mut();
        let (payout, event) = match resolution {
            Resolution::RefundBuyer => {
                data.end(Ending::Refunded, now);
                let payout = Payout::Refund(Settlement::full_refund(self.total()));
                (Some(payout), Some(EventType::OrderRefunded))
            }
            Resolution::ReleaseSeller => {
                data.end(Ending::Completed, now);
                let payout = Payout::Release(self.release_settlement());
                (Some(payout), Some(EventType::OrderCompleted))
            }
            Resolution::PartialRefund => {
                let refund = refund_amount.ok_or_else(|| {
                    DomainError::invalid("refund_amount", "This field is required.")
                })?;
                let settlement = Settlement::partial_refund(
                    self.amount,
                    self.shipping_cost,
                    refund,
                    terms.fee_rate,
                )?;
                data.end(Ending::Completed, now);
                (
                    Some(Payout::Refund(settlement)),
                    Some(EventType::OrderCompleted),
                )
            }
            Resolution::NoAction => {
                data.status = self
                    .status_before_dispute
                    .expect("a disputed order remembers the status it came from");
                data.ship_by = data.ship_by.map(|due| resumed(due, opened_at, now));
                data.auto_complete_at = Some(match data.auto_complete_at {
                    Some(due) => resumed(due, opened_at, now),
                    None => terms.deadlines.auto_complete_at_delivery(now),
                });
                (None, None)
            }
        };
        if data.status != OrderStatus::Paid {
            data.ship_by = None;
        }
        if !matches!(data.status, OrderStatus::Shipped | OrderStatus::Delivered) {
            data.auto_complete_at = None;
        }
        data.status_before_dispute = None;
        Ok((order, payout, event))
    }
}

impl Dispute {
    /// Appends evidence from `by` while the dispute is OPEN or in EVIDENCE, up to
    /// [`Dispute::MAX_EVIDENCE`] URLs in all. The respondent's first evidence is its answer:
    /// `responded_at` is set and `respond_by` cleared.
    ///
    /// Raises `dispute.evidence_added` with the new URLs; `order` is the disputed order,
    /// idle: none is added while a payout is in flight, whose resolution was decided on the
    /// evidence as it stood.
    pub fn add_evidence(
        &self,
        order: IdleOrder<'_>,
        urls: Vec<EvidenceUrl>,
        by: Participant,
        now: DateTime<Utc>,
    ) -> Result<Changed<Dispute>, DomainError> {
        let (order, by) = (order.order(), by.id());
        if !self.status.accepts_evidence() {
            return Err(DomainError::EvidenceClosed {
                status: self.status,
            });
        }
        if urls.is_empty() {
            return Err(DomainError::invalid("urls", "This list may not be empty."));
        }
        check_evidence_count(self.evidence.len() + urls.len())?;
        let mut dispute = self.clone();
        dispute.0.evidence.extend(urls.iter().cloned());
        dispute.0.updated_at = now;
        if by == self.respondent() && self.responded_at.is_none() {
            dispute.0.responded_at = Some(now);
            dispute.0.respond_by = None;
        }
        let mut event = DomainEvent::new(
            EventType::DisputeEvidenceAdded,
            now,
            order.clone(),
            Some(dispute.clone()),
        );
        event.new_evidence = urls;
        Ok(Changed {
            value: dispute,
            events: vec![event],
        })
    }

    /// `dispute.updated`: this dispute changed short of a resolution; `order` as it reads
    /// with the dispute's new summary.
    fn updated_event(&self, order: &Order, now: DateTime<Utc>) -> DomainEvent {
        let mut order = order.clone();
        order.data_mut().dispute = Some(self.summary());
        DomainEvent::new(EventType::DisputeUpdated, now, order, Some(self.clone()))
    }

    /// OPEN/EVIDENCE → REVIEW by the deadline worker: the respondent let `respond_by` pass
    /// without a word. Returns the dispute and `order` as they now read, and raises
    /// `dispute.escalated`. `order` is idle: the escalation's claim passes over a dispute
    /// whose payout is in flight, and the type holds the worker to that all the same.
    pub fn escalate(
        &self,
        order: IdleOrder<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Dispute, Order, Vec<DomainEvent>), DomainError> {
        let order = order.order();
        if !self.is_unanswered(now) {
            return Err(DomainError::NotYetOverdue);
        }
        let mut dispute = self.clone();
        dispute.0.status = DisputeStatus::Review;
        dispute.0.escalated_at = Some(now);
        dispute.0.respond_by = None;
        dispute.0.updated_at = now;
        let mut order = order.clone();
        order.data_mut().dispute = Some(dispute.summary());
        let event = DomainEvent::new(
            EventType::DisputeEscalated,
            now,
            order.clone(),
            Some(dispute.clone()),
        );
        Ok((dispute, order, vec![event]))
    }

    /// Applies an admin's update to this dispute of `order`.
    ///
    /// Statuses move forward only. A resolution comes only with RESOLVED, and RESOLVED
    /// only with a resolution; CLOSED from an unresolved dispute resolves it as NO_ACTION.
    /// A resolution is applied once: its payout, the order's new status and the events are
    /// in the returned decision.
    /// A resolution withdraws the pending settlement offer. NO_ACTION gives the order back
    /// its paused deadline (a stopped clock restarts with the window after a delivery).
    pub fn update(
        &self,
        order: IdleOrder<'_>,
        update: DisputeUpdate,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> Result<DisputeDecision, DomainError> {
        self.deciding(order, update, None, terms, now)
    }

    /// [`Dispute::update`], the resolution coming from the buyer's acceptance of the
    /// offer `accepted` when given: that offer ends ACCEPTED rather than withdrawn.
    pub(crate) fn deciding(
        &self,
        order: IdleOrder<'_>,
        update: DisputeUpdate,
        accepted: Option<OfferId>,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> Result<DisputeDecision, DomainError> {
        let order = order.order();
        debug_assert_eq!(
            order.id, self.order_id,
            "a dispute is decided with its own order"
        );
        let resolution = check_update_fields(&update)?;
        let mut dispute = self.clone();
        let mut changed = false;
        if let Some(notes) = update.admin_notes {
            crate::text::no_null_characters("admin_notes", &notes)?;
            if notes.chars().count() > MAX_ADMIN_NOTES_CHARS {
                return Err(DomainError::invalid(
                    "admin_notes",
                    format!(
                        "Ensure this field has no more than {MAX_ADMIN_NOTES_CHARS} characters."
                    ),
                ));
            }
            changed |= notes != self.admin_notes;
            dispute.0.admin_notes = notes;
        }

        let Some(to) = update
            .status
            .filter(|to| *to != self.status || *to == DisputeStatus::Resolved)
        else {
            let mut events = Vec::new();
            if changed {
                dispute.0.updated_at = now;
                events.push(dispute.updated_event(order, now));
            }
            return Ok(DisputeDecision {
                dispute,
                order: None,
                payout: None,
                events,
            });
        };
        if to <= self.status {
            return Err(DomainError::InvalidDisputeTransition {
                from: self.status,
                to,
            });
        }
        dispute.0.status = to;
        dispute.0.updated_at = now;
        if !to.accepts_evidence() {
            dispute.0.respond_by = None;
        }

        let resolution = match (to, resolution, self.resolution) {
            (DisputeStatus::Resolved, Some(resolution), _) => resolution,
            (DisputeStatus::Closed, None, None) => Resolution::NoAction,
            _ => {
                let events = vec![dispute.updated_event(order, now)];
                return Ok(DisputeDecision {
                    dispute,
                    order: None,
                    payout: None,
                    events,
                });
            }
        };
        let (mut settled, payout, order_event) = order.settle(
            resolution,
            update.refund_amount,
            terms,
            self.created_at,
            now,
        )?;
        dispute = dispute.deciding_offers(accepted, now);
        dispute.0.resolution = Some(resolution);
        dispute.0.refund_amount = update.refund_amount;
        dispute.0.resolved_at = Some(now);
        settled.data_mut().dispute = Some(dispute.summary());

        let mut events = Vec::with_capacity(2);
        if let Some(event_type) = order_event {
            let mut event =
                DomainEvent::new(event_type, now, settled.clone(), Some(dispute.clone()));
            event.settlement = payout.map(|payout| *payout.settlement());
            events.push(event);
        }
        events.push(DomainEvent::new(
            EventType::DisputeResolved,
            now,
            settled.clone(),
            Some(dispute.clone()),
        ));
        Ok(DisputeDecision {
            dispute,
            order: Some(settled),
            payout,
            events,
        })
    }
}

/// The rules that tie an update's fields together, checked before anything else so that a
/// malformed update is a 400 whatever the dispute's status.
fn check_update_fields(update: &DisputeUpdate) -> Result<Option<Resolution>, DomainError> {
    let resolving = update.status == Some(DisputeStatus::Resolved);
    match update.resolution {
        Some(_) if !resolving => Err(DomainError::invalid(
            "resolution",
            "A resolution is given only together with status RESOLVED.",
        )),
        None if resolving => Err(DomainError::invalid(
            "resolution",
            "This field is required when status is RESOLVED.",
        )),
        Some(Resolution::PartialRefund) if update.refund_amount.is_none() => {
            Err(DomainError::invalid(
                "refund_amount",
                "This field is required for a PARTIAL_REFUND.",
            ))
        }
        resolution
            if update.refund_amount.is_some() && resolution != Some(Resolution::PartialRefund) =>
        {
            Err(DomainError::invalid(
                "refund_amount",
                "A refund amount is given only with the PARTIAL_REFUND resolution.",
            ))
        }
        resolution => Ok(resolution),
    }
}

fn check_evidence_count(count: usize) -> Result<(), DomainError> {
    if count > Dispute::MAX_EVIDENCE {
        return Err(DomainError::invalid(
            "evidence",
            format!(
                "A dispute holds at most {} evidence URLs.",
                Dispute::MAX_EVIDENCE
            ),
        ));
    }
    Ok(())
}
