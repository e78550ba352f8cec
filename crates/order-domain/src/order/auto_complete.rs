use chrono::{DateTime, TimeDelta, Utc};

use super::{Order, OrderStatus};

/// When a shipped order completes by itself if the buyer neither confirms nor disputes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoCompletePolicy {
    after: TimeDelta,
}

impl AutoCompletePolicy {
    pub fn new(after: TimeDelta) -> Self {
        AutoCompletePolicy { after }
    }

    pub fn after(&self) -> TimeDelta {
        self.after
    }

    /// `shipped_at + after` while the order is SHIPPED or DELIVERED, else `None`.
    pub fn due_at(&self, order: &Order) -> Option<DateTime<Utc>> {
        match order.status {
            OrderStatus::Shipped | OrderStatus::Delivered => {
                order.shipped_at.map(|shipped| shipped + self.after)
            }
            _ => None,
        }
    }

    /// The latest `shipped_at` of an order that is due at `now`.
    pub fn shipped_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.after
    }
}

impl Default for AutoCompletePolicy {
    /// Seven days, the marketplace's standard.
    fn default() -> Self {
        AutoCompletePolicy::new(TimeDelta::days(7))
    }
}
