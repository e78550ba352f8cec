//! The connection pool, and the settings every connection gets.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::statement_spans::StatementSpans;

pub type PgPool = Pool<AsyncPgConnection>;

/// How the service talks to PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    pub database_url: String,
    /// Connections at most (`DB_POOL_SIZE`).
    pub max_size: usize,
    /// How long a request waits for a free connection before answering 503.
    pub wait_timeout: Duration,
    /// How long one statement may wait for a row lock. A lock is held at most for one
    /// peer call (bounded by the peers' timeouts), so waiting longer means trouble.
    pub lock_timeout: Duration,
    /// How long one statement may run.
    pub statement_timeout: Duration,
    /// A span for each statement, below the span that sends it: on where spans are
    /// exported, off (costing nothing) elsewhere.
    pub trace_statements: bool,
}

impl PoolConfig {
    pub fn new(database_url: impl Into<String>) -> PoolConfig {
        PoolConfig {
            database_url: database_url.into(),
            max_size: 10,
            wait_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(20),
            statement_timeout: Duration::from_secs(30),
            trace_statements: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the database pool: {0}")]
pub struct PoolBuildError(String);

/// Builds the pool; connections are opened lazily, on first use.
pub fn build_pool(config: &PoolConfig) -> Result<PgPool, PoolBuildError> {
    // Generic plans, always: every statement is prepared once per connection and planned
    // once, not on each run, and a plan cannot flip with the values. Each statement's
    // generic plan is the index read its filter was built for; the custom plan PostgreSQL
    // would otherwise make for a common status walked the newest orders (all PAID, say)
    // looking for old COMPLETED ones, 60 ms a page at 1,000,000 orders (docs/benchmarks.md).
    // No JIT: a generic plan's estimate with LIMIT and OFFSET unknown crosses `jit_above_cost`
    // on a large table, and compiling the plan cost 1.4 s a page at 10,000,000 orders, for
    // statements that each read a page of rows.
    let session = format!(
        "SET lock_timeout = {}; SET statement_timeout = {}; SET TIME ZONE 'UTC'; \
         SET plan_cache_mode = force_generic_plan; SET jit = off;",
        config.lock_timeout.as_millis(),
        config.statement_timeout.as_millis()
    );
    let mut manager_config = ManagerConfig::default();
    // No `SELECT 1` on every checkout: that doubled the round trips of a detail read. A
    // connection whose socket closed is still discarded when it comes back (deadpool asks
    // `is_broken`), and one found dead in use is dropped, with the pool's idle ones, by
    // the store's `read!` path, which then reads once more.
    manager_config.recycling_method = RecyclingMethod::Fast;
    let trace_statements = config.trace_statements;
    manager_config.custom_setup = Box::new(move |url| {
        let session = session.clone();
        Box::pin(async move {
            let mut connection = AsyncPgConnection::establish(url).await?;
            connection
                .batch_execute(&session)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            if trace_statements {
                connection.set_instrumentation(StatementSpans::default());
            }
            Ok(connection)
        })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        &config.database_url,
        manager_config,
    );
    Pool::builder(manager)
        .max_size(config.max_size)
        .wait_timeout(Some(config.wait_timeout))
        .create_timeout(Some(config.wait_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| PoolBuildError(e.to_string()))
}
