//! Row locks: what `SELECT … FOR UPDATE` holds in the database, one async mutex a row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use order_domain::{DisputeId, OrderId};
use tokio::sync::{Mutex as RowMutex, OwnedMutexGuard};

/// A lockable row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Order(OrderId),
    Dispute(DisputeId),
    /// A carrier's update, by a hash of its id: as the primary key's index makes a second
    /// insert of one id wait for the first, two ids sharing a hash merely wait for each other.
    CarrierEvent(u64),
}

/// A held row lock; dropping it lets the row go.
pub(crate) type Held = OwnedMutexGuard<()>;

#[derive(Default)]
pub(crate) struct Locks {
    rows: Mutex<HashMap<Key, Arc<RowMutex<()>>>>,
}

impl Locks {
    fn row(&self, key: Key) -> Arc<RowMutex<()>> {
        // A poisoned table still maps rows to their locks: nothing in it is half-written.
        let mut rows = self
            .rows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        rows.entry(key).or_default().clone()
    }

    /// The row's lock, once whoever holds it lets go.
    pub(crate) async fn lock(&self, key: Key) -> Held {
        self.row(key).lock_owned().await
    }

    /// The row's lock if nobody holds it (`SKIP LOCKED`).
    pub(crate) fn try_lock(&self, key: Key) -> Option<Held> {
        self.row(key).try_lock_owned().ok()
    }
}
