//! The Order Service's PostgreSQL adapter: the store ports on diesel-async with a deadpool
//! pool, the embedded migrations, and (feature `test-db`) a fresh database per test.
//!
//! Every change runs in a [`PgUnitOfWork`]: rows are locked with `SELECT … FOR UPDATE`,
//! written with an update conditional on the status they were read in, and committed with
//! their outbox rows in the same transaction. It holds no business rule.

mod database;
mod erasure;
mod error;
mod escrows;
mod explain;
mod fragment;
mod idempotency;
mod list;
mod liveness;
mod migrate;
mod outbox;
mod page;
mod pipeline;
mod pool;
mod rows;
mod schema;
mod statement_spans;
mod store;
mod story;
mod unit_of_work;
mod worker_runs;

#[cfg(feature = "test-db")]
pub mod test_db;

pub use database::recreate_database;
pub use idempotency::{Claim, IdempotencyKeys};
pub use liveness::Liveness;
pub use migrate::{
    run_migrations, run_migrations_from, MigrationError, MigrationLimits, MIGRATIONS,
};
pub use outbox::ParkedEvent;
pub use pool::{build_pool, PgPool, PoolBuildError, PoolConfig};
pub use store::PgStore;
pub use unit_of_work::PgUnitOfWork;
pub use worker_runs::{LastRun, WorkerRuns};
