//! Settling an order outside a dispute: a seller's or an admin's refund, an admin's release,
//! split, cancellation and extension of a deadline. Each is refused while the order's dispute
//! is open ([`DomainError::OrderDisputed`]): a disputed order is settled through its dispute.
//! The ones that move money are requests for an escrow intent, carried out like every other
//! movement (see [`Order::finish_intent`]).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::escrow_intent::Canceller;
use super::{
    ActionReason, Changed, Ending, EscrowPurpose, IntentRequest, Order, OrderAction, OrderStatus,
};
use crate::caller::{Admin, SellerOrAdmin};
use crate::dispute::Payout;
use crate::error::DomainError;
use crate::event::EventType;
use crate::money::{FeeRate, Money, Settlement};

/// How an order is settled outside a dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectSettlement {
    /// The whole escrow back to the buyer; the order ends REFUNDED.
    Refund,
    /// The sale goes through; the order ends COMPLETED.
    Release,
    /// Part back to the buyer, the rest to the seller less the fee; the order ends COMPLETED.
    Settle,
}

impl DirectSettlement {
    /// The action's name, as its endpoint and its Wallet key say it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DirectSettlement::Refund => "refund",
            DirectSettlement::Release => "release",
            DirectSettlement::Settle => "settle",
        }
    }

    const fn action(self) -> OrderAction {
        match self {
            DirectSettlement::Refund => OrderAction::Refund,
            DirectSettlement::Release => OrderAction::Release,
            DirectSettlement::Settle => OrderAction::Settle,
        }
    }
}

/// A deadline an admin may move later while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtendedDeadline {
    /// The seller's `ship_by`, while PAID.
    ShipBy,
    /// `auto_complete_at`, while SHIPPED or DELIVERED.
    AutoCompleteAt,
}

/// Which deadline an extension moved, from when to when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineExtension {
    /// The deadline moved.
    pub deadline: ExtendedDeadline,
    /// When it was due; `None` when the extension restarted a clock a returned parcel
    /// had stopped.
    pub from: Option<DateTime<Utc>>,
    /// When it is due now.
    pub to: DateTime<Utc>,
}

/// The furthest from now an admin may move a deadline.
pub const MAX_EXTENSION: TimeDelta = TimeDelta::days(30);

/// What an admin's cancellation comes to.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminCancellation {
    /// An unpaid order, cancelled at once: store it.
    Cancelled(Changed<Order>),
    /// A paid order: its whole escrow goes back to the buyer first.
    Refunding(IntentRequest),
}

impl Order {
    /// Step (1) of a refund outside a dispute, by the seller or an admin, while PAID,
    /// SHIPPED or DELIVERED: the whole escrow back to the buyer; the order ends REFUNDED.
    pub fn request_refund(
        &self,
        by: SellerOrAdmin,
        reason: ActionReason,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let payout = Payout::Refund(Settlement::full_refund(self.total()));
        self.request_direct(
            DirectSettlement::Refund,
            payout,
            reason,
            by.into(),
            now,
            resume_after,
        )
    }

    /// Step (1) of an admin's release outside a dispute, while SHIPPED or DELIVERED: the
    /// escrow goes to the seller and the platform as a completion's would; COMPLETED.
    pub fn request_release(
        &self,
        by: Admin,
        reason: ActionReason,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        let payout = Payout::Release(self.release_settlement());
        self.request_direct(
            DirectSettlement::Release,
            payout,
            reason,
            by.into(),
            now,
            resume_after,
        )
    }

    /// Step (1) of an admin's split outside a dispute, while SHIPPED or DELIVERED:
    /// `refund_amount` (strictly between 0 and the total) back to the buyer, the rest to
    /// the seller less the fee, as a dispute's PARTIAL_REFUND; COMPLETED.
    pub fn request_settlement(
        &self,
        by: Admin,
        refund_amount: Money,
        reason: ActionReason,
        fee_rate: FeeRate,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        // The status speaks before the amount: a settled order is a 409 whatever the amount.
        self.outside_dispute()?;
        if self.escrow_intent.is_none()
            && !OrderAction::Settle.allowed_from().contains(&self.status)
        {
            return Err(self.refuse(OrderAction::Settle));
        }
        let settlement =
            Settlement::partial_refund(self.amount, self.shipping_cost, refund_amount, fee_rate)?;
        let payout = Payout::Refund(settlement);
        self.request_direct(
            DirectSettlement::Settle,
            payout,
            reason,
            by.into(),
            now,
            resume_after,
        )
    }

    /// An admin's cancellation: an unpaid order at once, a paid one (before shipping) once
    /// its whole escrow is back with the buyer.
    pub fn cancel_as_admin(
        &self,
        by: Admin,
        reason: ActionReason,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<AdminCancellation, DomainError> {
        self.outside_dispute()?;
        if self.status == OrderStatus::PendingPayment {
            let mut cancelled = self.cancel(reason.clone(), now)?;
            cancelled.events[0].reason = Some(reason);
            return Ok(AdminCancellation::Cancelled(cancelled));
        }
        self.request_cancellation_by(Canceller::Admin(by.id()), reason, now, resume_after)
            .map(AdminCancellation::Refunding)
    }

    /// An admin moves the running deadline later — `ship_by` while PAID, `auto_complete_at`
    /// while SHIPPED or DELIVERED — to a time after the current one and at most
    /// [`MAX_EXTENSION`] from now. A lateness already announced is forgotten with the
    /// deadline it was about. An `auto_complete_at` a returned parcel stopped is set again,
    /// to any time after now: the admin has looked at the parcel. Raises
    /// `order.deadline_extended`.
    pub fn extend(
        &self,
        _by: Admin,
        ship_by: Option<DateTime<Utc>>,
        auto_complete_at: Option<DateTime<Utc>>,
        reason: ActionReason,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        self.outside_dispute()?;
        let mut order = self.begin(OrderAction::Extend)?;
        let running = |deadline: ExtendedDeadline| match deadline {
            ExtendedDeadline::ShipBy => self.status == OrderStatus::Paid,
            ExtendedDeadline::AutoCompleteAt => {
                matches!(self.status, OrderStatus::Shipped | OrderStatus::Delivered)
            }
        };
        let asked = [
            (ExtendedDeadline::ShipBy, "ship_by", ship_by, self.ship_by),
            (
                ExtendedDeadline::AutoCompleteAt,
                "auto_complete_at",
                auto_complete_at,
                self.auto_complete_at,
            ),
        ];
        let mut extension = None;
        for (deadline, field, to, current) in asked {
            let Some(to) = to else { continue };
            if !running(deadline) {
                return Err(DomainError::invalid(field, "This deadline is not running."));
            }
            // Only a returned parcel leaves a SHIPPED or DELIVERED order without its clock.
            let from = current;
            match from {
                Some(due) if to <= due => {
                    return Err(DomainError::invalid(
                        field,
                        "Enter a time later than the current deadline.",
                    ))
                }
                None if to <= now => {
                    return Err(DomainError::invalid(field, "Enter a time in the future."))
                }
                _ => {}
            }
            if to > now + MAX_EXTENSION {
                return Err(DomainError::invalid(
                    field,
                    "Enter a time at most 30 days from now.",
                ));
            }
            extension = Some(DeadlineExtension { deadline, from, to });
        }
        let extension = extension.ok_or_else(|| {
            DomainError::invalid("non_field_errors", "Give ship_by or auto_complete_at.")
        })?;
        let data = order.data_mut();
        match extension.deadline {
            ExtendedDeadline::ShipBy => {
                data.ship_by = Some(extension.to);
                data.ship_overdue_at = None;
            }
            ExtendedDeadline::AutoCompleteAt => data.auto_complete_at = Some(extension.to),
        }
        let mut extended = order.announce(EventType::OrderDeadlineExtended, now);
        extended.events[0].reason = Some(reason);
        extended.events[0].extension = Some(extension);
        Ok(extended)
    }

    /// Step (3) of a settlement outside a dispute, once the Wallet moved `payout`.
    pub(crate) fn settle_directly(
        &self,
        how: DirectSettlement,
        payout: &Payout,
        reason: &ActionReason,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(how.action())?;
        let data = order.data_mut();
        let event = match how {
            DirectSettlement::Refund => {
                data.end(Ending::Refunded, now);
                EventType::OrderRefunded
            }
            DirectSettlement::Release | DirectSettlement::Settle => {
                data.end(Ending::Completed, now);
                EventType::OrderCompleted
            }
        };
        data.ship_by = None;
        data.auto_complete_at = None;
        let mut settled = order.announce(event, now);
        settled.events[0].settlement = Some(*payout.settlement());
        settled.events[0].reason = Some(reason.clone());
        Ok(settled)
    }

    fn request_direct(
        &self,
        how: DirectSettlement,
        payout: Payout,
        reason: ActionReason,
        by: crate::event::Actor,
        now: DateTime<Utc>,
        resume_after: TimeDelta,
    ) -> Result<IntentRequest, DomainError> {
        self.outside_dispute()?;
        let purpose = EscrowPurpose::Direct {
            how,
            payout,
            reason,
            by,
        };
        self.request_movement(how.action(), purpose, now, resume_after)
    }

    /// A disputed order is settled through its dispute.
    fn outside_dispute(&self) -> Result<(), DomainError> {
        if self.status == OrderStatus::Disputed {
            Err(DomainError::OrderDisputed)
        } else {
            Ok(())
        }
    }
}
