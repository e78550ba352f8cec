//! A fresh, migrated database for each test, cloned from a template.
//!
//! The template (`order_test_<hash of migrations/>`) is built once per schema version,
//! by whichever test process gets there first under an advisory lock; every test then
//! gets its own `CREATE DATABASE … TEMPLATE`, which takes milliseconds, and drops it when
//! done. `TEST_DATABASE_URL` points at the server (default: local `postgres` over TCP).

use std::future::Future;
use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use uuid::Uuid;

use crate::database::recreate_database;
use crate::migrate::run_migrations;
use crate::pool::{build_pool, PgPool, PoolConfig};

const TEMPLATE_LOCK: i64 = 0x6f72_6465_722d_7464;

/// The server's address, ending before the database name.
fn server_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match url.rsplit_once('/') {
        Some((server, _database)) if server.contains("://") && !server.ends_with('/') => {
            server.to_owned()
        }
        _ => url.trim_end_matches('/').to_owned(),
    }
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own, so that it
/// can be called from any test, async or not, whatever its runtime flavour.
fn run_apart<F: Future + Send + 'static>(future: F) -> F::Output
where
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(future)
    })
    .join()
    .expect("the database setup thread does not panic")
}

async fn admin() -> AsyncPgConnection {
    let url = format!("{}/postgres", server_url());
    AsyncPgConnection::establish(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url}: {e}"))
}

async fn exists(admin: &mut AsyncPgConnection, database: &str) -> bool {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
        .bind::<Text, _>(database)
        .get_result::<Found>(admin)
        .await
        .expect("pg_database is readable")
        .found
}

/// The name of the migrated template, built if this schema version has none yet.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("order_test_{}", env!("MIGRATIONS_HASH"));
        let template = name.clone();
        run_apart(async move {
            let mut admin = admin().await;
            admin
                .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
                .await
                .expect("the template lock");
            if !exists(&mut admin, &template).await {
                let building = format!("{template}_building");
                // It may be left over by a process that died while building.
                recreate_database(&mut admin, &building)
                    .await
                    .unwrap_or_else(|error| panic!("a database for the template: {error}"));
                run_migrations(&format!("{}/{building}", server_url()))
                    .await
                    .expect("the migrations apply to an empty database");
                // Renamed only once complete, so no test ever clones half a schema.
                admin
                    .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                    .await
                    .expect("the template is published");
            }
            admin
                .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
                .await
                .expect("the template lock is released");
        });
        name
    })
}

/// A database of its own for one test, with the full schema and no rows; dropped with it.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let template = template();
        let name = format!("order_test_{}", Uuid::new_v4().simple());
        let statement = format!("CREATE DATABASE {name} TEMPLATE {template}");
        run_apart(async move {
            admin()
                .await
                .batch_execute(&statement)
                .await
                .expect("a database cloned from the template");
        });
        let url = format!("{}/{name}", server_url());
        TestDatabase { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on this database, as the service builds it.
    pub fn pool(&self) -> PgPool {
        build_pool(&PoolConfig::new(self.url.clone())).expect("a pool on the test database")
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        TestDatabase::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        run_apart(async move {
            if let Err(error) = admin().await.batch_execute(&statement).await {
                eprintln!("could not drop a test database: {error}");
            }
        });
    }
}

/// A TCP relay between the service and a test database that counts round trips: a round
/// trip begins each time the client speaks after the server has. Statements sent together
/// (pipelined) before any answer count once; a statement sent after the previous one's
/// answer counts again. What the tests of the round-trip budget read.
pub struct RoundTrips {
    url: String,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RoundTrips {
    /// A relay to `db` on a port of its own, serving as long as the test's runtime runs.
    pub async fn start(db: &TestDatabase) -> RoundTrips {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let server = server_url();
        let authority = server
            .rsplit_once('@')
            .map_or(server.as_str(), |(_, rest)| rest)
            .trim_start_matches("postgres://")
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the relay");
        let relay = listener.local_addr().expect("the relay's address");
        let url = db.url.replacen(&authority, &relay.to_string(), 1);
        let count = Arc::new(AtomicU64::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = tokio::net::TcpStream::connect(&authority).await else {
                    continue;
                };
                // As the database client does: no waiting to fill a packet.
                let _ = (client.set_nodelay(true), upstream.set_nodelay(true));
                let (mut client_in, mut client_out) = client.into_split();
                let (mut server_in, mut server_out) = upstream.into_split();
                // Whether the client spoke last on this connection.
                let client_spoke = Arc::new(AtomicBool::new(false));
                let (spoke, count) = (client_spoke.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = client_in.read(&mut buffer).await {
                        if !spoke.swap(true, Ordering::SeqCst) {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        if server_out.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = server_in.read(&mut buffer).await {
                        client_spoke.store(false, Ordering::SeqCst);
                        if client_out.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        RoundTrips { url, count }
    }

    /// The database's URL through the relay.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The round trips since the last call, on every connection through the relay.
    pub fn take(&self) -> u64 {
        self.count.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}
