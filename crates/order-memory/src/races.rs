//! Races a test stages: another request's write landing at a chosen moment, and a store
//! whose claim disagrees with the domain's rule.
//!
//! Against PostgreSQL these cannot be timed from a test; here a test names the moment and
//! the store plays it, once. The store's own rules (locks, unique rows, conditional
//! updates) are unchanged: a staged write meets them as a real concurrent one would.

use std::collections::HashMap;

use order_domain::order::Sweep;
use order_domain::{Order, OrderId};
use order_ports::StoreError;

use crate::state::{State, StoredOrder};
use crate::MemoryStore;

/// A point inside a store call at which another request's write can land.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Moment {
    /// Inside a unit of work's `insert_order`, before it checks the listing's live order:
    /// the insert meets what was committed meanwhile.
    BeforeOrderInsert,
    /// Inside `claim_stale_intents`, after it leased its rows and let go of them: the
    /// claimer holds a version that is no longer the stored one.
    AfterIntentClaim,
}

/// What the tests staged and the store has not played yet.
#[derive(Default)]
pub(crate) struct Races {
    /// Orders committed at their moment, as another request would commit them.
    writes: HashMap<Moment, Vec<Order>>,
    /// Orders a sweep's claim returns whether or not the domain calls them due.
    misclaimed: Vec<(Sweep, OrderId)>,
}

impl Races {
    /// Commits the writes staged for `moment`, once.
    pub fn play(&mut self, moment: Moment, state: &mut State) {
        for order in self.writes.remove(&moment).unwrap_or_default() {
            let sequence = state
                .orders
                .get(&order.id)
                .map_or(0, |stored| stored.sequence);
            state
                .orders
                .insert(order.id, StoredOrder { order, sequence });
        }
    }

    /// The orders claims for `sweep` return whatever their deadlines say.
    pub fn misclaimed(&self, sweep: Sweep) -> Vec<OrderId> {
        let of_sweep = self.misclaimed.iter().filter(|(s, _)| *s == sweep);
        of_sweep.map(|(_, id)| *id).collect()
    }
}

impl MemoryStore {
    /// At the next `moment`, `order` is committed as another request would commit it (its
    /// event sequence kept).
    pub fn stage_write(&self, moment: Moment, order: Order) -> Result<(), StoreError> {
        let mut races = self.shared.races()?;
        races.writes.entry(moment).or_default().push(order);
        Ok(())
    }

    /// From now on, claims for `sweep` also return the stored order `id` (unless skipped or
    /// held), as a store whose query disagreed with [`Order::is_due`] would.
    pub fn misclaim(&self, sweep: Sweep, id: OrderId) -> Result<(), StoreError> {
        self.shared.races()?.misclaimed.push((sweep, id));
        Ok(())
    }
}
