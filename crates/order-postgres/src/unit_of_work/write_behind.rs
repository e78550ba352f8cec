//! Writes held back: the orders a unit of work holds, as stored and as its writes leave
//! them, and the writes waiting to be sent, all at once, with its next statement.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::RunQueryDsl;
use futures_util::future::BoxFuture;
use order_domain::Order;
use order_ports::{RecordedEvent, StoreError, StoredDocument};
use uuid::Uuid;

use crate::error::store_error;
use crate::fragment::Cached;
use crate::rows::{DisputeRow, OrderChanges, OrderRow};
use crate::schema::{disputes, orders, outbox};
use crate::store::with_disputes;

use super::outbox_rows::outbox_rows;
use super::PgUnitOfWork;

/// An order this unit of work holds, as the database has it and as its writes will leave
/// it.
pub(super) struct Held {
    /// The row as the database has it; `None` for an order inserted here and not sent yet.
    pub(super) stored: Option<(OrderRow, i64)>,
    pub(super) row: OrderRow,
    /// The last number of the order's event sequence, counting the events reserved here.
    pub(super) sequence: i64,
}

impl Held {
    pub(super) fn stored(row: OrderRow, sequence: i64) -> Held {
        Held {
            stored: Some((row.clone(), sequence)),
            row,
            sequence,
        }
    }
}

/// What a held order needs sent.
enum OrderWrite {
    Insert(OrderRow, i64),
    Update {
        id: Uuid,
        expected: String,
        changes: OrderChanges,
    },
}

/// A write waiting to be sent with the unit's next statement.
pub(super) enum Write {
    InsertDispute(DisputeRow),
    UpdateDispute(DisputeRow),
    Outbox(Vec<RecordedEvent>),
    /// A stored event's document rewritten (an erasure of personal data).
    Document(StoredDocument),
}

impl PgUnitOfWork {
    pub(super) fn hold(&mut self, row: &OrderRow, sequence: i64) {
        self.held
            .insert(row.id, Held::stored(row.clone(), sequence));
    }

    /// Sends every write waiting, all at once: the orders (new ones, or the columns that
    /// changed), then the disputes, then the outbox rows. Each order update is conditional
    /// on the status it was stored with; none matching means another writer got there
    /// first.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        let orders: Vec<OrderWrite> = self
            .held
            .values()
            .filter_map(|held| match &held.stored {
                None => Some(OrderWrite::Insert(held.row.clone(), held.sequence)),
                Some((stored, stored_sequence)) => {
                    let mut changes = OrderChanges::between(stored, &held.row);
                    if held.sequence != *stored_sequence {
                        changes.event_sequence = Some(held.sequence);
                    }
                    (!changes.is_empty()).then(|| OrderWrite::Update {
                        id: stored.id,
                        expected: stored.status.clone(),
                        changes,
                    })
                }
            })
            .collect();
        if orders.is_empty() && self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let mut conn = self.shared()?;
        let mut sent: Vec<BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
        for write in &orders {
            match write {
                OrderWrite::Insert(row, sequence) => {
                    let insert = Cached(
                        diesel::insert_into(orders::table)
                            .values((row, orders::event_sequence.eq(*sequence))),
                    )
                    .execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
                OrderWrite::Update {
                    id,
                    expected,
                    changes,
                } => {
                    let update = Cached(
                        diesel::update(
                            orders::table
                                .find(*id)
                                .filter(orders::status.eq(expected.as_str())),
                        )
                        .set(changes),
                    )
                    .execute(&mut conn);
                    sent.push(Box::pin(async move { one_row(update.await) }));
                }
            }
        }
        for write in &pending {
            match write {
                Write::InsertDispute(row) => {
                    let insert =
                        Cached(diesel::insert_into(disputes::table).values(row)).execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
                Write::UpdateDispute(row) => {
                    let update = Cached(diesel::update(disputes::table.find(row.id)).set(row))
                        .execute(&mut conn);
                    sent.push(Box::pin(async move { one_row(update.await) }));
                }
                Write::Outbox(events) => {
                    let insert =
                        Cached(diesel::insert_into(outbox::table).values(outbox_rows(events)))
                            .execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
                Write::Document(document) => {
                    let update = Cached(
                        diesel::update(
                            outbox::table.filter(outbox::event_id.eq(document.event_id.as_uuid())),
                        )
                        .set((
                            outbox::payload.eq(&document.payload),
                            outbox::details.eq(&document.details),
                        )),
                    )
                    .execute(&mut conn);
                    sent.push(Box::pin(async move { one_row(update.await) }));
                }
            }
        }
        crate::pipeline::all(sent).await?;
        for held in self.held.values_mut() {
            held.stored = Some((held.row.clone(), held.sequence));
        }
        for write in pending {
            if let Write::InsertDispute(row) | Write::UpdateDispute(row) = write {
                self.disputes.insert(row.id, row);
            }
        }
        Ok(())
    }

    /// Orders locked on their own, then given their disputes' summaries in one statement.
    pub(super) async fn hold_all(
        &mut self,
        rows: Vec<(OrderRow, i64)>,
    ) -> Result<Vec<Order>, StoreError> {
        for (row, sequence) in &rows {
            self.hold(row, *sequence);
        }
        let rows = rows.into_iter().map(|(row, _)| row).collect();
        with_disputes(self.conn()?, rows).await
    }
}

/// An update of one row by its key: none means the row was not as expected.
pub(super) fn one_row(updated: Result<usize, DieselError>) -> Result<(), StoreError> {
    match updated.map_err(store_error)? {
        1 => Ok(()),
        _ => Err(StoreError::Stale),
    }
}
