//! The schema's migrations, embedded in the binary and applied under an advisory lock so
//! that replicas starting together never race.

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
}

/// Applies every pending migration to the database at `database_url`, and returns how
/// many it applied. Safe to call from several processes at once: they queue on a lock.
///
/// Needs a multi-threaded tokio runtime (diesel's migration harness is synchronous and
/// runs through `block_in_place`).
pub async fn run_migrations(database_url: &str) -> Result<usize, MigrationError> {
    let mut connection = AsyncPgConnection::establish(database_url).await?;
    let run = |e: diesel::result::Error| MigrationError::Run(e.to_string());
    connection
        .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await
        .map_err(run)?;
    let mut harness = AsyncMigrationHarness::new(connection);
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(|e| MigrationError::Run(e.to_string()));
    let mut connection = harness.into_inner();
    connection
        .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await
        .map_err(run)?;
    applied
}
