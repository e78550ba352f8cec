//! The stored event documents of an order, read and rewritten by an erasure of its
//! personal data.

use diesel::sql_types::{Jsonb, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use order_domain::{EventId, OrderId};
use order_ports::{StoreError, StoredDocument};
use uuid::Uuid;

use crate::error::store_error;

use super::write_behind::Write;
use super::PgUnitOfWork;

#[derive(QueryableByName)]
struct DocumentRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Jsonb)]
    details: serde_json::Value,
}

impl PgUnitOfWork {
    /// `UnitOfWork::order_documents`: the outbox rows of the order, `FOR UPDATE`.
    pub(super) async fn documents_of(
        &mut self,
        order: OrderId,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        self.flush().await?;
        let rows: Vec<DocumentRow> = diesel::sql_query(
            "SELECT event_id, payload, coalesce(details, '{}') AS details FROM outbox
             WHERE order_id = $1 ORDER BY sequence, seq FOR UPDATE",
        )
        .bind::<diesel::sql_types::Uuid, _>(*order.as_uuid())
        .load(self.conn()?)
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|row| StoredDocument {
                event_id: EventId::from_uuid(row.event_id),
                payload: row.payload,
                details: row.details,
            })
            .collect())
    }

    /// `UnitOfWork::replace_document`: sent with the unit's next writes, all at once, so
    /// that an order's documents cost no round trip of their own.
    pub(super) fn replace(&mut self, document: &StoredDocument) {
        self.pending.push(Write::Document(document.clone()));
    }
}
