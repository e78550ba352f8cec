//! Money in flight: a Wallet movement recorded before it is asked for, applied once answered.
//!
//! A change that moves escrow happens in three steps, so that no database transaction waits
//! on the Wallet: (1) the order records an [`EscrowIntent`] — what the movement is for, its
//! idempotency key, the amounts — and that is committed; (2) the Wallet is called with
//! nothing locked; (3) the Wallet's answer is applied by [`Order::finish_intent`], with the
//! change's events. While an intent is pending the order refuses every other change
//! ([`DomainError::OperationInProgress`]), so the answer lands on the order the movement was
//! decided for. A request for the very same movement carries the pending one on once its
//! requester has let go of it (`resume_at` has passed: the requester gave up after a Wallet
//! failure, or went silent); while the requester is still waiting on the Wallet, it too is
//! told the operation is in progress.

use crate::caller::{Admin, Buyer, Participant};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::operator::DirectSettlement;
use super::{
    ActionReason, CancellationReason, Changed, Ending, Order, OrderAction, OrderSource,
    OrderStatus, Party, Terms,
};
use crate::dispute::{Dispute, DisputeUpdate, Payout};
use crate::dispute::{DisputeStatus, Resolution};
use crate::error::DomainError;
use crate::event::Actor;
use crate::event::DomainEvent;
use crate::id::{DisputeId, EscrowId, OfferId, UserId};
use crate::money::{Money, Settlement};

/// A Wallet movement this order is waiting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowIntent {
    /// Why the money moves.
    pub purpose: EscrowPurpose,
    /// Sent with every Wallet call for this intent, whoever makes it, so that the Wallet
    /// moves the money once however often the call is repeated.
    pub idempotency_key: String,
    /// When it was first asked for.
    pub requested_at: DateTime<Utc>,
    /// From then on anyone may carry the intent on — a retry of the same request, or the
    /// intent worker: its requester let go of it, or is taken to be gone.
    pub resume_at: DateTime<Utc>,
}

/// Why escrow moves, which decides both the Wallet call and what its answer does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EscrowPurpose {
    /// A Buy It Now payment: hold the total; then PAID, or CANCELLED if declined.
    Payment {
        /// The order's total.
        amount: Money,
    },
    /// The buyer's confirmation or the automatic completion: release; then COMPLETED.
    Completion {
        /// Where the escrow goes.
        settlement: Settlement,
        /// Whether the deadline worker completes it, rather than the buyer.
        automatic: bool,
    },
    /// A resolution of the order's dispute that moves money — an admin's, or the buyer's
    /// acceptance of the seller's offer; then the order and the dispute as the same update
    /// decides again once the Wallet has done it.
    Resolution {
        /// The dispute being resolved.
        dispute_id: DisputeId,
        /// The update, applied once the money has moved.
        update: DisputeUpdate,
        /// The movement the resolution calls for.
        payout: Payout,
        /// Who decided it: the admin, or the buyer accepting `offer`. (Stored as `admin`,
        /// as it was when only admins resolved.)
        #[serde(rename = "admin")]
        decided_by: UserId,
        /// The offer whose acceptance this is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offer: Option<OfferId>,
    },
    /// A paid order called off before shipping: the whole escrow back; then CANCELLED.
    Cancellation {
        /// The reason the party gave, if any.
        reason: CancellationReason,
        /// Who calls it off.
        by: Canceller,
        /// The full refund.
        settlement: Settlement,
    },
    /// A refund, release or split outside a dispute, by a seller or an admin; then
    /// REFUNDED or COMPLETED.
    Direct {
        /// Which of the three.
        how: DirectSettlement,
        /// The movement it calls for.
        payout: Payout,
        /// Why, as the seller or admin said it.
        reason: ActionReason,
        /// Who asked.
        by: Actor,
    },
}

/// Who calls a paid order off. (Stored as `"buyer"` and `"seller"` before admins could,
/// which still reads.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Canceller {
    /// The buyer, once the seller let `ship_by` pass.
    Buyer,
    /// The seller, before shipping.
    Seller,
    /// An admin, at any time before shipping.
    Admin(UserId),
}

/// The Wallet call an intent stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalletCall {
    /// Hold the buyer's money in a new escrow.
    Hold {
        /// The order's total.
        amount: Money,
    },
    /// Release the escrow as the settlement splits it.
    Release(Settlement),
    /// Refund the escrow as the settlement splits it.
    Refund(Settlement),
}

/// What the Wallet answered to an intent's call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalletAnswer {
    /// The hold was made in this escrow.
    Held(EscrowId),
    /// The buyer's balance does not cover the hold.
    Declined,
    /// The release or refund was made.
    Done,
}

/// An order whose intent has been applied, with whatever else the answer changed.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntentFinished {
    /// The order, its intent gone.
    pub order: Order,
    /// The dispute, when the intent carried out its resolution.
    pub dispute: Option<Dispute>,
    /// The events the answer raises.
    pub events: Vec<DomainEvent>,
}

/// An order with the Wallet movement it waits on: what the Wallet is called for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// The order, its intent recorded.
    pub order: Order,
    /// The recorded intent, as the order holds it.
    pub intent: EscrowIntent,
}

/// What a request for a movement comes to.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentRequest {
    /// The order with the intent newly recorded: store it, then call the Wallet.
    Recorded(Movement),
    /// The very same movement is pending and its requester let go of it (a retry after a
    /// failure): call the Wallet again with it.
    Pending(Movement),
}

impl IntentRequest {
    /// The movement to call the Wallet for, either way.
    pub fn movement(&self) -> &Movement {
        match self {
            IntentRequest::Recorded(movement) | IntentRequest::Pending(movement) => movement,
        }
    }

    /// The order to call the Wallet for, either way.
    pub fn order(&self) -> &Order {
        &self.movement().order
    }

    /// The movement, either way.
    pub fn into_movement(self) -> Movement {
        match self {
            IntentRequest::Recorded(movement) | IntentRequest::Pending(movement) => movement,
        }
    }
}

impl EscrowPurpose {
    /// Who asked for the movement of `order`'s escrow, as its history will show the change.
    pub fn requester(&self, order: &Order) -> Actor {
        match self {
            EscrowPurpose::Payment { .. }
            | EscrowPurpose::Completion {
                automatic: false, ..
            } => Actor::Buyer(order.buyer_id),
            EscrowPurpose::Completion {
                automatic: true, ..
            } => Actor::System,
            EscrowPurpose::Resolution {
                decided_by,
                offer: None,
                ..
            } => Actor::Admin(*decided_by),
            EscrowPurpose::Resolution {
                decided_by,
                offer: Some(_),
                ..
            } => Actor::Buyer(*decided_by),
            EscrowPurpose::Cancellation { by, .. } => match by {
                Canceller::Buyer => Actor::Buyer(order.buyer_id),
                Canceller::Seller => Actor::Seller(order.seller_id),
                Canceller::Admin(admin) => Actor::Admin(*admin),
            },
            EscrowPurpose::Direct { by, .. } => *by,
        }
    }

    /// The Wallet call this purpose makes.
    pub fn wallet_call(&self) -> WalletCall {
        match self {
            EscrowPurpose::Payment { amount } => WalletCall::Hold { amount: *amount },
            EscrowPurpose::Completion { settlement, .. } => WalletCall::Release(*settlement),
            EscrowPurpose::Resolution { payout, .. } | EscrowPurpose::Direct { payout, .. } => {
                match payout {
                    Payout::Release(settlement) => WalletCall::Release(*settlement),
                    Payout::Refund(settlement) => WalletCall::Refund(*settlement),
                }
            }
            EscrowPurpose::Cancellation { settlement, .. } => WalletCall::Refund(*settlement),
        }
    }

    /// The idempotency key of `order`'s movement for this purpose. Derived from the order
    /// (or its dispute), never from the request, so that however a movement is triggered
    /// again — the caller's retry, another caller, the worker — the Wallet sees one key:
    /// one hold and one release per order, one refund per dispute, one cancellation refund.
    fn idempotency_key(&self, order: &Order) -> String {
        match self {
            EscrowPurpose::Payment { .. } => format!("order-{}-hold", order.id),
            EscrowPurpose::Completion { .. }
            | EscrowPurpose::Resolution {
                payout: Payout::Release(_),
                ..
            } => format!("order-{}-release", order.id),
            EscrowPurpose::Resolution {
                dispute_id,
                payout: Payout::Refund(_),
                ..
            } => format!("dispute-{dispute_id}-refund"),
            EscrowPurpose::Cancellation { .. } => format!("order-{}-cancel-refund", order.id),
            // A release is the order's one release, whoever asks for it.
            EscrowPurpose::Direct {
                how: DirectSettlement::Release,
                ..
            } => format!("order-{}-release", order.id),
            EscrowPurpose::Direct { how, .. } => format!("order-{}-{}", order.id, how.as_str()),
        }
    }
}

impl EscrowIntent {
    /// Whether `other` is this very intent, whoever holds it now: the same request, though
    /// a worker's lease or a requester letting go may have moved its `resume_at`.
    pub fn is_same(&self, other: &EscrowIntent) -> bool {
        self.purpose == other.purpose
            && self.idempotency_key == other.idempotency_key
            && self.requested_at == other.requested_at
    }

    /// Whether `other` asks the Wallet for exactly this movement: the same key and the
    /// same call, so that carrying this one on is the same as making that one.
    fn same_movement(&self, other: &EscrowIntent) -> bool {
        self.idempotency_key == other.idempotency_key
            && self.purpose.wallet_call() == other.purpose.wallet_call()
    }
}

impl Order {
    /// Records the intent to move escrow for `purpose`, after `action`'s status rule; or,
    /// if the same movement is already pending, hands it back to be carried on.
    ///
    /// `resume_after` is how long the requester is given before a worker takes over.
    pub(crate) fn request_movement(
        &self,
        action: OrderAction,
        purpose: EscrowPurpose,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let intent = EscrowIntent {
            idempotency_key: purpose.idempotency_key(self),
            purpose,
            requested_at: now,
            resume_at: now + resume_after,
        };
        if let Some(pending) = &self.escrow_intent {
            return if pending.same_movement(&intent) && pending.resume_at <= now {
                Ok(IntentRequest::Pending(Movement {
                    order: self.clone(),
                    intent: pending.clone(),
                }))
            } else {
                Err(DomainError::OperationInProgress)
            };
        }
        let mut order = self.begin(action)?;
        order.data_mut().escrow_intent = Some(intent.clone());
        Ok(IntentRequest::Recorded(Movement { order, intent }))
    }

    /// Step (1) of the buyer's confirmation: record the release of the escrow to the seller
    /// and the platform. The order completes once the Wallet has released it.
    pub fn request_completion(
        &self,
        _by: Buyer,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let purpose = EscrowPurpose::Completion {
            settlement: self.release_settlement(),
            automatic: false,
        };
        self.request_movement(OrderAction::Complete, purpose, now, resume_after)
    }

    /// Step (1) of the automatic completion, once `auto_complete_at` has passed.
    pub fn request_auto_completion(
        &self,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        match self.auto_complete_at {
            Some(due) if due <= now => {}
            Some(_) => return Err(DomainError::NotYetOverdue),
            None => return Err(self.refuse(OrderAction::Complete)),
        }
        let purpose = EscrowPurpose::Completion {
            settlement: self.release_settlement(),
            automatic: true,
        };
        self.request_movement(OrderAction::Complete, purpose, now, resume_after)
    }

    /// Step (1) of a Buy It Now payment: record the hold of the order's total.
    pub fn request_payment(
        &self,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        if self.source != OrderSource::BuyNow {
            // An auction's winner pays through the Wallet on their own; the Wallet then
            // marks the order paid.
            return Err(self.refuse(OrderAction::MarkPaid));
        }
        let purpose = EscrowPurpose::Payment {
            amount: self.total(),
        };
        self.request_movement(OrderAction::MarkPaid, purpose, now, resume_after)
    }

    /// Step (1) of calling off a paid order before it ships: record the refund of the whole
    /// escrow to the buyer. The seller may while the order is PAID; the buyer only once the
    /// seller let `ship_by` pass ([`DomainError::NotYetOverdue`] before).
    pub fn request_cancellation(
        &self,
        by: Participant,
        reason: CancellationReason,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let by = match by.party() {
            Party::Buyer => Canceller::Buyer,
            Party::Seller => Canceller::Seller,
        };
        self.request_cancellation_by(by, reason, now, resume_after)
    }

    pub(crate) fn request_cancellation_by(
        &self,
        by: Canceller,
        reason: CancellationReason,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let purpose = EscrowPurpose::Cancellation {
            reason,
            by,
            settlement: Settlement::full_refund(self.total()),
        };
        if self.escrow_intent.is_none()
            && self.status == OrderStatus::Paid
            && by == Canceller::Buyer
        {
            match self.ship_by {
                Some(ship_by) if ship_by <= now => {}
                _ => return Err(DomainError::NotYetOverdue),
            }
        }
        self.request_movement(OrderAction::CancelPaid, purpose, now, resume_after)
    }

    /// Step (3): applies the Wallet's `answer` to the pending intent, with the events the
    /// change raises. A resolution needs the order's `dispute`, and is decided again from
    /// the update it recorded, which must call for the same payout.
    pub fn finish_intent(
        &self,
        answer: WalletAnswer,
        dispute: Option<&Dispute>,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> Result<IntentFinished, DomainError> {
        let Some(intent) = &self.escrow_intent else {
            return Err(DomainError::invalid(
                "escrow_intent",
                "This order is not waiting on the Wallet.",
            ));
        };
        let cleared = self.without_intent();
        let changed = |changed: Changed<Order>| IntentFinished {
            order: changed.value,
            dispute: None,
            events: changed.events,
        };
        match (&intent.purpose, answer) {
            (EscrowPurpose::Payment { .. }, WalletAnswer::Held(escrow_id)) => {
                let paid = cleared
                    .mark_paid(escrow_id, &terms.deadlines, now)?
                    .ok_or_else(|| cleared.refuse(OrderAction::MarkPaid))?;
                Ok(changed(paid))
            }
            (EscrowPurpose::Payment { .. }, WalletAnswer::Declined) => {
                let reason = CancellationReason::parse("Payment declined: insufficient funds.")?;
                Ok(changed(cleared.cancel(reason, now)?))
            }
            (EscrowPurpose::Completion { .. }, WalletAnswer::Done) => {
                Ok(changed(cleared.complete(now)?))
            }
            (
                EscrowPurpose::Resolution {
                    dispute_id,
                    update,
                    payout,
                    offer,
                    ..
                },
                WalletAnswer::Done,
            ) => {
                let dispute = dispute.filter(|d| d.id == *dispute_id).ok_or_else(|| {
                    DomainError::invalid("dispute", "The resolution's dispute is missing.")
                })?;
                let decision =
                    dispute.deciding(cleared.idle()?, update.clone(), *offer, terms, now)?;
                if decision.payout.as_ref() != Some(payout) {
                    return Err(DomainError::invalid(
                        "refund_amount",
                        "The resolution no longer calls for the payout the Wallet made.",
                    ));
                }
                Ok(IntentFinished {
                    order: decision.order.unwrap_or(cleared),
                    dispute: Some(decision.dispute),
                    events: decision.events,
                })
            }
            (EscrowPurpose::Cancellation { reason, by, .. }, WalletAnswer::Done) => {
                let mut cancelled = cleared.cancel_paid(reason.clone(), now)?;
                if matches!(by, Canceller::Admin(_)) {
                    cancelled.events[0].reason = Some(reason.clone());
                }
                Ok(changed(cancelled))
            }
            (
                EscrowPurpose::Direct {
                    how,
                    payout,
                    reason,
                    ..
                },
                WalletAnswer::Done,
            ) => Ok(changed(cleared.settle_directly(*how, payout, reason, now)?)),
            _ => Err(DomainError::invalid(
                "escrow_intent",
                "The Wallet's answer does not fit the movement it was asked for.",
            )),
        }
    }

    /// The pending intent, let go of at `now` by whoever was carrying it on because the
    /// Wallet could not be reached: from now on a retry or the worker may carry it on.
    pub fn let_go_of_intent(&self, now: DateTime<Utc>) -> Order {
        let mut order = self.clone();
        if let Some(intent) = &mut order.data_mut().escrow_intent {
            intent.resume_at = intent.resume_at.min(now);
        }
        order
    }

    /// Drops the pending intent without applying it, when the Wallet refused the movement
    /// for good: nothing moved and the order is as it was before the request.
    pub fn abandon_intent(&self) -> Order {
        self.without_intent()
    }

    fn without_intent(&self) -> Order {
        let mut order = self.clone();
        order.data_mut().escrow_intent = None;
        order
    }

    /// PAID → CANCELLED once the whole escrow went back to the buyer. Raises
    /// `order.cancelled`.
    pub(crate) fn cancel_paid(
        &self,
        reason: CancellationReason,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(OrderAction::CancelPaid)?;
        let data = order.data_mut();
        data.end(Ending::Cancelled, now);
        data.cancellation_reason = Some(reason);
        data.ship_by = None;
        let refund = Settlement::full_refund(order.total());
        let mut cancelled = order.announce(crate::event::EventType::OrderCancelled, now);
        cancelled.events[0].settlement = Some(refund);
        Ok(cancelled)
    }
}

/// Who decides a dispute: an admin, or the buyer accepting an offer.
struct Decider {
    id: UserId,
    offer: Option<OfferId>,
}

/// What an admin's update of a dispute comes to.
// Made once per request and matched at once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisputeChange {
    /// Nothing moves money: store the decision now.
    Decided(crate::dispute::DisputeDecision),
    /// The resolution moves money: its intent, to store before calling the Wallet.
    Movement(IntentRequest),
}

impl Order {
    /// Step (1) of an admin's `update` of this order's `dispute`: a decision to store at once
    /// when no money moves, or the intent of the resolution's payout.
    pub fn request_resolution(
        &self,
        dispute: &Dispute,
        update: DisputeUpdate,
        admin: Admin,
        terms: &Terms,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<DisputeChange, DomainError> {
        let decider = Decider {
            id: admin.id(),
            offer: None,
        };
        self.request_decision(dispute, update, decider, terms, now, resume_after)
    }

    /// Step (1) of the buyer's acceptance of the seller's pending offer `offer_id`: the
    /// dispute is resolved as an admin's PARTIAL_REFUND with the offer's amount would
    /// resolve it — REFUND_BUYER when the offer is the whole total — and the offer ends
    /// ACCEPTED once the Wallet has refunded.
    pub fn request_offer_acceptance(
        &self,
        dispute: &Dispute,
        by: Buyer,
        offer_id: OfferId,
        terms: &Terms,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let offer = dispute.pending(offer_id)?;
        let whole = offer.refund_amount == self.total();
        let update = DisputeUpdate {
            status: Some(DisputeStatus::Resolved),
            resolution: Some(if whole {
                Resolution::RefundBuyer
            } else {
                Resolution::PartialRefund
            }),
            refund_amount: (!whole).then_some(offer.refund_amount),
            admin_notes: None,
        };
        let decider = Decider {
            id: by.id(),
            offer: Some(offer_id),
        };
        match self.request_decision(dispute, update, decider, terms, now, resume_after)? {
            DisputeChange::Movement(request) => Ok(request),
            // An offer refunds more than nothing, so its resolution always moves money.
            DisputeChange::Decided(_) => Err(DomainError::invalid(
                "refund_amount",
                "An offer's acceptance must move money.",
            )),
        }
    }

    fn request_decision(
        &self,
        dispute: &Dispute,
        update: DisputeUpdate,
        decider: Decider,
        terms: &Terms,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<DisputeChange, DomainError> {
        // Decided as if no movement were pending, so that the retry of this very decision
        // finds the movement it recorded; any other decision waits for that movement.
        let cleared = self.without_intent();
        let decision = dispute.update(cleared.idle()?, update.clone(), terms, now)?;
        match decision.payout {
            None => self.idle().map(|_| DisputeChange::Decided(decision)),
            Some(payout) => {
                let purpose = EscrowPurpose::Resolution {
                    dispute_id: dispute.id,
                    update,
                    payout,
                    decided_by: decider.id,
                    offer: decider.offer,
                };
                self.request_movement(OrderAction::SettleDispute, purpose, now, resume_after)
                    .map(DisputeChange::Movement)
            }
        }
    }
}
