//! This process's liveness, as the other replicas can see it in the database.
//!
//! A request that carries an `Idempotency-Key` claims the key before it runs; when its
//! process dies mid-request (killed, out of memory, a node lost), nothing releases the
//! claim, and a retry of the same request would be told "in progress" until the claim
//! expires. So each process holds a session-level advisory lock, keyed by an instance
//! number drawn at start, on a connection of its own for as long as it runs, and signs its
//! claims with that number. PostgreSQL drops the lock with the connection when the process
//! dies, and a claim whose signer holds no lock is abandoned at once.
//!
//! The lock's connection sends nothing once the lock is taken: the task waits for the
//! connection's end (a database restart, the session terminated) and then takes the lock
//! again on a new one. A claim signed in the instant between the end and its notice can be
//! taken over early; that is safe, as the change itself is guarded by the order's row lock
//! and its escrow intent, and the claim only spares a retry the work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

/// The first key of the two-key advisory locks that say "this instance is alive": "ordi"
/// in ASCII. The second key is the instance number.
pub(crate) const LIVENESS_LOCK_SPACE: i32 = 0x6f72_6469;

/// The longest wait between two attempts to take the lock while the database is away.
const RETRY_AT_MOST: Duration = Duration::from_secs(5);

/// The lock that says this process is alive, held on a connection of its own by a
/// background task; dropping the last handle releases it.
pub struct Liveness {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    instance: i32,
    /// Whether the lock is held right now: between a lost connection and its replacement
    /// it is not, and claims made meanwhile are not signed (they expire by age instead).
    held: AtomicBool,
}

impl Liveness {
    /// Draws this process's instance number and starts holding its lock. Never fails: while
    /// the database cannot be reached, the task keeps trying and claims go unsigned.
    pub fn start(database_url: impl Into<String>) -> Liveness {
        let random = uuid::Uuid::new_v4().as_u128();
        // Positive, so that it reads the same as pg_locks' unsigned `objid`.
        let instance = (random as u32 & 0x7fff_ffff) as i32;
        let shared = Arc::new(Shared {
            instance,
            held: AtomicBool::new(false),
        });
        let task = tokio::spawn(hold(database_url.into(), shared.clone()));
        Liveness { shared, task }
    }

    /// This process's instance number, while its lock is held.
    pub(crate) fn signature(&self) -> Option<i32> {
        self.shared
            .held
            .load(Ordering::Acquire)
            .then_some(self.shared.instance)
    }

    /// Waits until the lock is held (for tests and start-up checks).
    pub async fn held(&self) {
        while self.signature().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Liveness {
    fn drop(&mut self) {
        // The task owns the connection: ending it closes the connection, which ends the lock.
        self.task.abort();
    }
}

async fn hold(database_url: String, shared: Arc<Shared>) {
    let lock = format!(
        "SELECT pg_advisory_lock({LIVENESS_LOCK_SPACE}, {})",
        shared.instance
    );
    let mut pause = Duration::from_millis(200);
    loop {
        if let Ok((client, connection)) =
            tokio_postgres::connect(&database_url, tokio_postgres::NoTls).await
        {
            // The connection future carries the session and ends with it.
            let mut connection = std::pin::pin!(connection);
            let locked = tokio::select! {
                taken = client.batch_execute(&lock) => taken.is_ok(),
                _ = &mut connection => false,
            };
            if locked {
                shared.held.store(true, Ordering::Release);
                pause = Duration::from_millis(200);
                let _ = connection.await;
                shared.held.store(false, Ordering::Release);
                tracing::warn!("the liveness connection ended; taking the lock again");
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_AT_MOST);
    }
}
