//! Time and identity, as ports so that tests can fix them.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// The current time.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, to the microsecond: the precision PostgreSQL stores, so that an order read
    /// back equals the order written.
    fn now(&self) -> DateTime<Utc>;
}

/// New identifiers for orders, disputes and events.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdSource: Send + Sync {
    /// A new id, never returned before.
    fn new_id(&self) -> Uuid;
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// UUID v7: random, yet ordered by creation time, which keeps the primary-key index of a
/// table that only grows compact.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7Ids;

impl IdSource for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
