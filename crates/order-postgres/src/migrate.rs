//! The schema's migrations, embedded in the binary and applied under an advisory lock so
//! that replicas starting together never race.

use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// An arbitrary key, the same in every replica: "order-svc" in ASCII.
const MIGRATION_LOCK: i64 = 0x6f72_6465_722d_7376;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("migration failed: {0}")]
    Run(String),
    /// Every attempt of a migration waited on a lock longer than its lock timeout: a long
    /// transaction holds the table. Nothing of that migration was applied.
    #[error(
        "migration {migration} could not take its locks within {lock_timeout:?} in {attempts} \
         attempts: a long-running transaction holds its table (see pg_stat_activity)"
    )]
    LockTimeout {
        migration: String,
        lock_timeout: Duration,
        attempts: u32,
    },
}

/// How the migrator keeps a schema change from stalling the service's reads and writes.
///
/// A statement that needs a table's strongest lock (most `ALTER TABLE`s) waits behind every
/// query already on the table, and every query after it waits behind *it*: one long report
/// ahead of a migration queues the whole service. So each migration that runs in a
/// transaction gives up a lock it cannot take within `lock_timeout`, rolls back (nothing
/// of it is applied), and is tried again after a pause, up to `attempts` times. Meanwhile
/// the queries it held up go on. A migration outside a transaction (an index built
/// `CONCURRENTLY`) blocks no reads or writes while it waits, and waiting is part of how it
/// builds, so it has no lock timeout. No statement runs longer than `statement_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationLimits {
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub attempts: u32,
    /// The pause after the first lock timeout; it doubles each attempt, up to 10 s.
    pub pause: Duration,
}

impl Default for MigrationLimits {
    /// A second per lock, half an hour per statement (one release's three indexes built
    /// concurrently on ten million orders took 16 s in all), 30 attempts from half a second
    /// apart.
    fn default() -> Self {
        MigrationLimits {
            lock_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(30 * 60),
            attempts: 30,
            pause: Duration::from_millis(500),
        }
    }
}

/// Applies every pending migration to the database at `database_url` within the default
/// [`MigrationLimits`], and returns how many it applied. Safe to call from several processes
/// at once: they queue on a lock.
///
/// Needs a multi-threaded tokio runtime (diesel's migration harness is synchronous and
/// runs through `block_in_place`).
pub async fn run_migrations(database_url: &str) -> Result<usize, MigrationError> {
    run_migrations_from(database_url, MIGRATIONS, MigrationLimits::default()).await
}

/// Applies every pending migration of `source`, one at a time, within `limits`.
pub async fn run_migrations_from<S: MigrationSource<Pg>>(
    database_url: &str,
    source: S,
    limits: MigrationLimits,
) -> Result<usize, MigrationError> {
    let mut connection = AsyncPgConnection::establish(database_url).await?;
    connection
        .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await
        .map_err(|e| MigrationError::Run(e.to_string()))?;
    // The harness is synchronous and its migrations are not `Send`: the whole loop runs on
    // this thread, out of the runtime's way, as the harness itself does.
    let (connection, applied) =
        tokio::task::block_in_place(|| apply_pending(connection, source, limits));
    // A connection that failed has lost its session, and the advisory lock with it.
    if let Some(mut connection) = connection {
        connection
            .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .await
            .map_err(|e| MigrationError::Run(e.to_string()))?;
    }
    applied
}

/// Applies the pending migrations one by one, each under its own settings; the connection
/// back unless it failed (to let go of the advisory lock), with how many were applied.
/// Blocks its thread.
fn apply_pending<S: MigrationSource<Pg>>(
    connection: AsyncPgConnection,
    source: S,
    limits: MigrationLimits,
) -> (Option<AsyncPgConnection>, Result<usize, MigrationError>) {
    let run = |e: &dyn std::fmt::Display| MigrationError::Run(e.to_string());
    let mut harness = AsyncMigrationHarness::new(connection);
    let pending = harness.pending_migrations(source);
    let mut connection = harness.into_inner();
    let pending = match pending {
        Ok(pending) => pending,
        Err(e) => return (Some(connection), Err(run(&e))),
    };
    for (applied, migration) in pending.iter().enumerate() {
        let lock_timeout = if migration.metadata().run_in_transaction() {
            limits.lock_timeout
        } else {
            Duration::ZERO
        };
        let settings = format!(
            "SET lock_timeout = {}; SET statement_timeout = {}",
            lock_timeout.as_millis(),
            limits.statement_timeout.as_millis()
        );
        let mut attempt = 1;
        loop {
            let set =
                tokio::runtime::Handle::current().block_on(connection.batch_execute(&settings));
            if let Err(e) = set {
                return (None, Err(run(&e)));
            }
            let mut harness = AsyncMigrationHarness::new(connection);
            let outcome = harness.run_migration(&**migration);
            connection = harness.into_inner();
            let error = match outcome {
                Ok(_) => break,
                Err(e) if e.to_string().contains("lock timeout") => e,
                Err(e) => return (Some(connection), Err(run(&e))),
            };
            if attempt >= limits.attempts {
                let error = MigrationError::LockTimeout {
                    migration: migration.name().to_string(),
                    lock_timeout: limits.lock_timeout,
                    attempts: attempt,
                };
                return (Some(connection), Err(error));
            }
            tracing::warn!(
                migration = %migration.name(),
                attempt,
                %error,
                "a migration waited too long on a lock; trying again"
            );
            let pause = limits.pause.saturating_mul(1 << (attempt - 1).min(16));
            std::thread::sleep(pause.min(Duration::from_secs(10)));
            attempt += 1;
        }
        tracing::info!(migration = %migration.name(), done = applied + 1, "migration applied");
    }
    let applied = pending.len();
    (Some(connection), Ok(applied))
}
