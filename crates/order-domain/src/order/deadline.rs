//! Deadlines, so that no order and no money waits forever on a party who went silent:
//! the winner's payment, the seller's shipping, the other side's answer to a
//! dispute, and the buyer's confirmation.
//!
//! A deadline is computed once, when it is set, and stored on the order or dispute like the
//! fee: changing a setting later moves no existing deadline.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Order, OrderSource, OrderStatus};

/// How long each party has. The service's settings; passed to the transitions that set a
/// deadline, as the fee rate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// An auction's winner pays within this after the order is created (`pay_by`).
    pub payment_window: TimeDelta,
    /// The seller ships within this after payment (`ship_by`).
    pub ship_within: TimeDelta,
    /// The party that did not open a dispute answers within this (`respond_by`).
    pub dispute_response_window: TimeDelta,
    /// A shipped order completes by itself this long after shipping (`auto_complete_at`).
    pub auto_complete_after: TimeDelta,
    /// A delivered order completes by itself at the latest this long after its delivery.
    pub auto_complete_after_delivery: TimeDelta,
}

impl Default for Deadlines {
    /// The marketplace's standard: 4 days to pay, 4 to ship, 3 to answer a dispute, 7 to
    /// confirm receipt after shipping and 3 after delivery.
    fn default() -> Self {
        Deadlines {
            payment_window: TimeDelta::days(4),
            ship_within: TimeDelta::days(4),
            dispute_response_window: TimeDelta::days(3),
            auto_complete_after: TimeDelta::days(7),
            auto_complete_after_delivery: TimeDelta::days(3),
        }
    }
}

/// What the workers sweep for: each a rule saying which orders are due at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sweep {
    /// An auction's winner let `pay_by` pass: the order is cancelled.
    UnpaidAuction,
    /// The seller let `ship_by` pass: the lateness is announced, once.
    LateShipment,
    /// Nobody confirmed or disputed by `auto_complete_at`: the order completes.
    DueCompletion,
}

impl Sweep {
    /// Every sweep, each once.
    pub const ALL: [Sweep; 3] = [
        Sweep::UnpaidAuction,
        Sweep::LateShipment,
        Sweep::DueCompletion,
    ];

    /// The sweep's name in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Sweep::UnpaidAuction => "unpaid_auction",
            Sweep::LateShipment => "late_shipment",
            Sweep::DueCompletion => "due_completion",
        }
    }

    /// The deadline `self` enforces on `order`, by which claims are ordered: the longest
    /// overdue first.
    pub fn deadline(self, order: &Order) -> Option<DateTime<Utc>> {
        match self {
            Sweep::UnpaidAuction => order.pay_by,
            Sweep::LateShipment => order.ship_by,
            Sweep::DueCompletion => order.auto_complete_at,
        }
    }
}

impl Order {
    /// Whether this order is due for `sweep` at `now`: the one statement of each rule.
    /// The transition the sweep runs (`expire_payment`, `flag_ship_overdue`,
    /// `request_auto_completion`) accepts every order due, and every store's claim takes
    /// exactly these. An order waiting on the Wallet is due for nothing.
    pub fn is_due(&self, sweep: Sweep, now: DateTime<Utc>) -> bool {
        let passed = |deadline: Option<DateTime<Utc>>| deadline.is_some_and(|at| at <= now);
        self.escrow_intent.is_none()
            && match sweep {
                Sweep::UnpaidAuction => {
                    self.status == OrderStatus::PendingPayment
                        && self.source == OrderSource::Auction
                        && passed(self.pay_by)
                }
                Sweep::LateShipment => {
                    self.status == OrderStatus::Paid
                        && self.ship_overdue_at.is_none()
                        && passed(self.ship_by)
                }
                Sweep::DueCompletion => {
                    matches!(self.status, OrderStatus::Shipped | OrderStatus::Delivered)
                        && passed(self.auto_complete_at)
                }
            }
    }
}

/// The least a party keeps of a window a dispute paused, once the dispute ends in
/// NO_ACTION: a dispute opened in a window's last minutes still leaves time to act.
pub const MIN_RESUMED_WINDOW: TimeDelta = TimeDelta::hours(1);

impl Deadlines {
    /// `pay_by` of an order created at `created_at`: only an auction's winner has one; a
    /// Buy It Now is paid at once.
    pub fn pay_by(&self, source: OrderSource, created_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (source == OrderSource::Auction).then(|| created_at + self.payment_window)
    }

    /// `ship_by` of an order paid at `paid_at`.
    pub fn ship_by(&self, paid_at: DateTime<Utc>) -> DateTime<Utc> {
        paid_at + self.ship_within
    }

    /// `auto_complete_at` of an order shipped at `shipped_at`.
    pub fn auto_complete_at(&self, shipped_at: DateTime<Utc>) -> DateTime<Utc> {
        shipped_at + self.auto_complete_after
    }

    /// The latest `auto_complete_at` of an order delivered at `delivered_at`; also the
    /// window a stopped clock restarts with when a dispute ends in NO_ACTION.
    pub fn auto_complete_at_delivery(&self, delivered_at: DateTime<Utc>) -> DateTime<Utc> {
        delivered_at + self.auto_complete_after_delivery
    }

    /// `respond_by` of a dispute opened at `opened_at`.
    pub fn respond_by(&self, opened_at: DateTime<Utc>) -> DateTime<Utc> {
        opened_at + self.dispute_response_window
    }
}

/// A deadline that a dispute paused from `paused_at` to `resumed_at`: what was left of it
/// when the dispute opened, counted again from its end, and never less than
/// [`MIN_RESUMED_WINDOW`], so that a dispute never eats a party's time.
pub fn resumed(
    deadline: DateTime<Utc>,
    paused_at: DateTime<Utc>,
    resumed_at: DateTime<Utc>,
) -> DateTime<Utc> {
    resumed_at + (deadline - paused_at).max(MIN_RESUMED_WINDOW)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap() + TimeDelta::hours(hours)
    }

    #[test]
    fn a_paused_deadline_keeps_what_was_left_when_the_dispute_opened() {
        assert_eq!(resumed(at(100), at(40), at(70)), at(130));
    }

    #[test]
    fn a_paused_deadline_keeps_at_least_an_hour() {
        assert_eq!(resumed(at(40), at(40), at(70)), at(71));
        assert_eq!(resumed(at(30), at(40), at(70)), at(71), "already past");
    }

    #[test]
    fn only_an_auction_order_has_a_payment_deadline() {
        let deadlines = Deadlines::default();
        assert_eq!(deadlines.pay_by(OrderSource::Auction, at(0)), Some(at(96)));
        assert_eq!(deadlines.pay_by(OrderSource::BuyNow, at(0)), None);
    }
}
