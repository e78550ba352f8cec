//! Erasure of personal data, read and prepared outside a unit of work: where a user's orders
//! stand, and the `ended_at` of orders that ended before it was recorded.

use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use order_domain::{EventType, OrderStatus, UserId};
use order_ports::store::UserErasure;
use order_ports::StoreError;

use crate::error::store_error;
use crate::schema::orders;
use crate::store::PgStore;

impl PgStore {
    /// `OrderStore::erasure_of`.
    pub(crate) async fn erasure_counts(&self, user: UserId) -> Result<UserErasure, StoreError> {
        let user = *user.as_uuid();
        let mut conn = self.connection().await?;
        let (all, erased): (i64, i64) = orders::table
            .filter(orders::buyer_id.eq(user).or(orders::seller_id.eq(user)))
            .select((
                count_star(),
                sql::<BigInt>("count(*) FILTER (WHERE personal_data_erased_at IS NOT NULL)"),
            ))
            .get_result(&mut conn)
            .await
            .map_err(store_error)?;
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(UserErasure {
            erased: count(erased),
            pending: count(all - erased),
        })
    }

    /// `OrderStore::backfill_ended_at`. A REFUNDED order records no time of its own: its
    /// refund's event says when. The statuses are written into the statement, not bound,
    /// so that the planner can match the partial index `orders_end_unrecorded`, which
    /// holds exactly the rows left to fill and is empty once they are.
    pub(crate) async fn fill_ended_at(&self, limit: usize) -> Result<u64, StoreError> {
        let ended = OrderStatus::ENDED
            .iter()
            .map(|status| format!("'{}'", status.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let refunded = EventType::OrderRefunded.as_str();
        let mut conn = self.connection().await?;
        let filled = diesel::sql_query(format!(
            "UPDATE orders o SET ended_at = coalesce(o.completed_at, o.cancelled_at, \
                 (SELECT max(occurred_at) FROM outbox \
                  WHERE outbox.order_id = o.id AND event_type = '{refunded}'), \
                 (SELECT max(occurred_at) FROM outbox WHERE outbox.order_id = o.id), \
                 o.created_at) \
             WHERE o.id IN (SELECT id FROM orders \
                            WHERE ended_at IS NULL AND status IN ({ended}) \
                            LIMIT $1 FOR UPDATE SKIP LOCKED)"
        ))
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .execute(&mut conn)
        .await
        .map_err(store_error)?;
        Ok(u64::try_from(filled).unwrap_or_default())
    }
}
