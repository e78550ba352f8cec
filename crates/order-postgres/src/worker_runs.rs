//! Periodic work that one replica does for all of them: who runs the next round, and the
//! last round's result, which every replica reads back so that their metrics agree.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use order_ports::StoreError;

use crate::error::{pool_error, store_error};
use crate::pool::PgPool;

/// The `worker_runs` table.
#[derive(Clone)]
pub struct WorkerRuns {
    pool: PgPool,
}

/// The last finished round of a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct LastRun {
    pub finished_at: DateTime<Utc>,
    pub report: serde_json::Value,
}

#[derive(QueryableByName)]
struct LastRunRow {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    report: Option<serde_json::Value>,
}

impl WorkerRuns {
    pub fn new(pool: PgPool) -> WorkerRuns {
        WorkerRuns { pool }
    }

    /// Claims the round of `name` due at `now`, the next one to be due at `next_at`:
    /// `true` for exactly one of the replicas asking while the round is due.
    pub async fn claim(
        &self,
        name: &str,
        now: DateTime<Utc>,
        next_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // The row is locked by the upsert, so of two replicas racing one sees the other's
        // `next_at` and updates nothing.
        let claimed = diesel::sql_query(
            "INSERT INTO worker_runs (name, next_at) VALUES ($1, $3)
             ON CONFLICT (name) DO UPDATE SET next_at = EXCLUDED.next_at
             WHERE worker_runs.next_at <= $2",
        )
        .bind::<Text, _>(name)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(next_at)
        .execute(&mut conn)
        .await
        .map_err(store_error)?;
        Ok(claimed == 1)
    }

    /// Records the result of the round of `name` that finished at `at`.
    pub async fn finish(
        &self,
        name: &str,
        at: DateTime<Utc>,
        report: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::sql_query("UPDATE worker_runs SET finished_at = $2, report = $3 WHERE name = $1")
            .bind::<Text, _>(name)
            .bind::<Timestamptz, _>(at)
            .bind::<Jsonb, _>(report)
            .execute(&mut conn)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The last finished round of `name`, whichever replica ran it.
    pub async fn last(&self, name: &str) -> Result<Option<LastRun>, StoreError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<LastRunRow> =
            diesel::sql_query("SELECT finished_at, report FROM worker_runs WHERE name = $1")
                .bind::<Text, _>(name)
                .load(&mut conn)
                .await
                .map_err(store_error)?;
        Ok(rows.into_iter().find_map(|row| {
            Some(LastRun {
                finished_at: row.finished_at?,
                report: row.report?,
            })
        }))
    }
}
