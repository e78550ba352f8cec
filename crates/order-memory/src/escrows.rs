//! The orders a reconciliation reads, each with the settlement its payout recorded.

use order_domain::{OrderId, Settlement};
use order_ports::store::{EscrowCursor, EscrowLine, EscrowLines, EscrowScope};

use crate::state::State;

impl State {
    pub fn escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> EscrowLines {
        // (where the next page starts, the order) for each candidate, in the scope's order.
        let candidates: Vec<(EscrowCursor, OrderId)> = match scope {
            EscrowScope::Order(id) => vec![(EscrowCursor::AfterOrder(id), id)],
            EscrowScope::All => {
                let from = match after {
                    Some(EscrowCursor::AfterOrder(id)) => Some(id),
                    _ => None,
                };
                self.orders
                    .keys()
                    .filter(|id| from.map_or(true, |from| **id > from))
                    .map(|id| (EscrowCursor::AfterOrder(*id), *id))
                    .collect()
            }
            // The log of changes is the outbox; an order is read at its latest event, so
            // that it is read once however often it changed.
            EscrowScope::ChangedSince(since) => {
                let from = match after {
                    Some(EscrowCursor::AfterChange(place)) => place,
                    _ => -1,
                };
                self.outbox
                    .iter()
                    .enumerate()
                    .filter(|(place, row)| {
                        let message = &row.event.message;
                        *place as i64 > from
                            && message.occurred_at >= since
                            && self
                                .orders
                                .get(&message.order_id)
                                .is_some_and(|stored| stored.sequence == row.event.story.sequence)
                    })
                    .map(|(place, row)| {
                        (
                            EscrowCursor::AfterChange(place as i64),
                            row.event.message.order_id,
                        )
                    })
                    .collect()
            }
        };
        let mut lines = Vec::new();
        let mut next = None;
        for (cursor, id) in candidates {
            if lines.len() == limit {
                break;
            }
            let Some(order) = self.order(id).filter(|order| order.escrow_id.is_some()) else {
                continue;
            };
            lines.push(EscrowLine {
                settlement: self.recorded_settlement(id),
                order,
            });
            next = Some(cursor);
        }
        if lines.len() < limit || matches!(scope, EscrowScope::Order(_)) {
            next = None;
        }
        EscrowLines { lines, next }
    }

    /// The settlement of the order's latest event that carries one.
    fn recorded_settlement(&self, id: OrderId) -> Option<Settlement> {
        self.outbox
            .iter()
            .filter(|row| row.event.message.order_id == id)
            .max_by_key(|row| {
                (
                    row.event.story.details.get("settlement").is_some(),
                    row.event.story.sequence,
                )
            })
            .and_then(|row| row.event.story.details.get("settlement"))
            .and_then(|settlement| serde_json::from_value(settlement.clone()).ok())
    }
}
