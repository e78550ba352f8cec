//! The migrator against a real database: a schema change that cannot take its lock at once
//! lets the service's writes through, tries again, and applies once the lock is free.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::FileBasedMigrations;
use order_postgres::test_db::TestDatabase;
use order_postgres::{run_migrations_from, MigrationError, MigrationLimits};

/// A directory of this test's own, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let path = std::env::temp_dir().join(format!("migrations-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrations directory holding one migration that adds a column to `parcels`.
fn adding_a_column() -> (Scratch, FileBasedMigrations) {
    let dir = Scratch::new();
    let migration = dir.path().join("9999-01-01-000001_parcel_weight");
    std::fs::create_dir_all(&migration).unwrap();
    std::fs::write(
        migration.join("up.sql"),
        "ALTER TABLE parcels ADD COLUMN weight_grams BIGINT;",
    )
    .unwrap();
    std::fs::write(
        migration.join("down.sql"),
        "ALTER TABLE parcels DROP COLUMN weight_grams;",
    )
    .unwrap();
    let source = FileBasedMigrations::from_path(dir.path()).unwrap();
    (dir, source)
}

/// The database with a `parcels` table, and a transaction that has read it and stays
/// open: the long report a schema change finds ahead of it.
async fn a_table_held_by_a_long_read(db: &TestDatabase) -> AsyncPgConnection {
    let mut setup = AsyncPgConnection::establish(db.url()).await.unwrap();
    setup
        .batch_execute("CREATE TABLE parcels (id BIGINT PRIMARY KEY)")
        .await
        .unwrap();
    let mut reader = AsyncPgConnection::establish(db.url()).await.unwrap();
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM parcels")
        .await
        .unwrap();
    reader
}

async fn has_column(db: &TestDatabase) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    diesel_async::RunQueryDsl::get_result::<Found>(
        diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
             WHERE table_name = 'parcels' AND column_name = 'weight_grams') AS found",
        ),
        &mut conn,
    )
    .await
    .unwrap()
    .found
}

fn quick(attempts: u32) -> MigrationLimits {
    MigrationLimits {
        lock_timeout: Duration::from_millis(100),
        statement_timeout: Duration::from_secs(60),
        attempts,
        pause: Duration::from_millis(50),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_behind_a_long_read_lets_writes_through_and_applies_once_the_read_ends() {
    let db = TestDatabase::new();
    let mut reader = a_table_held_by_a_long_read(&db).await;
    let (_dir, source) = adding_a_column();
    let url = db.url().to_owned();
    let migrating =
        tokio::spawn(async move { run_migrations_from(&url, source, quick(1000)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The read is still open: without a lock timeout the ALTER would wait for it, and this
    // insert would wait behind the ALTER until the read ends.
    let mut writer = AsyncPgConnection::establish(db.url()).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(20),
        writer.batch_execute("INSERT INTO parcels VALUES (1)"),
    )
    .await
    .expect("the write went through while the migration waited")
    .unwrap();
    assert!(
        !has_column(&db).await,
        "nothing applied while the read holds the table"
    );
    assert!(!migrating.is_finished());

    reader.batch_execute("COMMIT").await.unwrap();
    assert_eq!(migrating.await.unwrap().unwrap(), 1);
    assert!(has_column(&db).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_held_past_every_attempt_fails_the_migration_and_applies_nothing() {
    let db = TestDatabase::new();
    let _reader = a_table_held_by_a_long_read(&db).await;
    let (_dir, source) = adding_a_column();

    let error = run_migrations_from(db.url(), source, quick(3))
        .await
        .unwrap_err();

    match error {
        MigrationError::LockTimeout {
            migration,
            attempts,
            ..
        } => {
            assert!(migration.contains("parcel_weight"), "{migration}");
            assert_eq!(attempts, 3);
        }
        other => panic!("a lock timeout, not {other:?}"),
    }
    assert!(!has_column(&db).await);
}
