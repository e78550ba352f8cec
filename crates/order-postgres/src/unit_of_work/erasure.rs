//! What an erasure of personal data claims and marks: the orders due under an
//! [`ErasureDue`] rule (the domain's `Order::is_erasable`, written here as SQL and held to it
//! by the store contract), and a user's request, remembered on their orders' rows.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use order_domain::personal::ErasureDue;
use order_domain::{Order, OrderStatus, UserId};
use order_ports::StoreError;

use crate::error::store_error;
use crate::rows::OrderRow;
use crate::schema::orders;

use super::PgUnitOfWork;

type Condition = Box<dyn BoxableExpression<orders::table, Pg, SqlType = Bool>>;
type Time = Box<dyn BoxableExpression<orders::table, Pg, SqlType = Nullable<Timestamptz>>>;

/// The statuses an order ends in, as stored.
fn ended() -> Vec<&'static str> {
    OrderStatus::ENDED
        .iter()
        .map(|status| status.as_str())
        .collect()
}

/// `Order::is_erasable` under `due`, less the status, as SQL. Each rule past the first is
/// served by an index of its own (`orders_erasable_by_age`, `orders_erasure_requested`, and
/// the buyer's and seller's indexes).
fn erasable(due: ErasureDue) -> Condition {
    let kept = orders::personal_data_erased_at.is_null();
    match due {
        ErasureDue::RetentionPassed { ended_before } => Box::new(
            kept.and(orders::ended_at.is_not_null())
                .and(orders::ended_at.assume_not_null().le(ended_before)),
        ),
        ErasureDue::Requested => Box::new(kept.and(orders::erasure_requested_at.is_not_null())),
        ErasureDue::PartyIs(user) => {
            let user = *user.as_uuid();
            Box::new(kept.and(orders::buyer_id.eq(user).or(orders::seller_id.eq(user))))
        }
    }
}

/// What a claim under `due` takes first: the order that has waited longest.
fn oldest_first(due: ErasureDue) -> Time {
    match due {
        ErasureDue::Requested => Box::new(orders::erasure_requested_at),
        ErasureDue::RetentionPassed { .. } | ErasureDue::PartyIs(_) => Box::new(orders::ended_at),
    }
}

/// `$body` with `$query` bound to the claim of up to `$limit` orders due under `$due`,
/// oldest first, locked: one query, which the claim and its plan each select from.
///
/// A sweep's claim passes over rows others hold. A user's own request waits for them, and
/// so takes its locks in one total order (the id after the time, which orders ended by one
/// sweep share): the requests of a buyer and a seller who share orders never wait on each
/// other in a circle.
macro_rules! with_claim {
    ($due:expr, $limit:expr, $query:ident => $body:expr) => {
        match $due {
            ErasureDue::PartyIs(_) => {
                let $query = orders::table
                    .filter(erasable($due))
                    .filter(orders::status.eq_any(ended()))
                    .order((oldest_first($due).asc(), orders::id.asc()))
                    .limit($limit)
                    .for_update();
                $body
            }
            ErasureDue::RetentionPassed { .. } | ErasureDue::Requested => {
                let $query = orders::table
                    .filter(erasable($due))
                    .filter(orders::status.eq_any(ended()))
                    .order(oldest_first($due).asc())
                    .limit($limit)
                    .for_update()
                    .skip_locked();
                $body
            }
        }
    };
}

impl PgUnitOfWork {
    /// `SweepClaims::claim_erasable_orders`.
    pub(super) async fn claim_erasable(
        &mut self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.flush().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(OrderRow, i64)> = with_claim!(due, limit, query => query
            .select((OrderRow::as_select(), orders::event_sequence))
            .load(self.conn()?)
            .await)
        .map_err(store_error)?;
        self.hold_all(rows).await
    }

    /// The plan of a claim under `due`, as `EXPLAIN` prints it with sequential scans priced
    /// out: whether the index made for it serves it.
    pub(crate) async fn explain_erasable(&mut self, due: ErasureDue) -> Result<String, StoreError> {
        with_claim!(due, 100, query => self.plan_of(query.select(orders::id)).await)
    }

    /// `UnitOfWork::request_erasure`.
    pub(super) async fn mark_for_erasure(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.flush().await?;
        let user = *user.as_uuid();
        let marked = diesel::update(
            orders::table
                .filter(orders::buyer_id.eq(user).or(orders::seller_id.eq(user)))
                .filter(orders::personal_data_erased_at.is_null())
                .filter(orders::erasure_requested_at.is_null()),
        )
        .set(orders::erasure_requested_at.eq(now))
        .execute(self.conn()?)
        .await
        .map_err(store_error)?;
        Ok(u64::try_from(marked).unwrap_or_default())
    }
}
