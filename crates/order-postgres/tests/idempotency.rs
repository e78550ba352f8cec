//! Idempotency keys: claimed once, replayed to the same caller, released on 5xx, expired
//! after a day; a claim left by a process that died is taken over at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use order_domain::fixtures::t0;
use order_postgres::test_db::TestDatabase;
use order_postgres::{Claim, IdempotencyKeys, Liveness};

/// A database of its own and its keys, unsigned.
fn fresh_keys() -> (TestDatabase, IdempotencyKeys) {
    let db = TestDatabase::new();
    let keys = IdempotencyKeys::new(db.pool());
    (db, keys)
}

/// `caller`'s claim of `key` for a request hashed `hash`, at t0.
async fn claim(keys: &IdempotencyKeys, caller: &str, key: &str, hash: &str) -> Claim {
    keys.claim(caller, key, hash, t0()).await.unwrap()
}

/// A process's keys, signed with its liveness, once its lock is held.
async fn process(db: &TestDatabase) -> IdempotencyKeys {
    let liveness = Arc::new(Liveness::start(db.url()));
    liveness.held().await;
    IdempotencyKeys::new(db.pool()).signed_by(liveness)
}

/// Runs `select` over this database's liveness locks; how many there are.
async fn liveness_locks(conn: &mut AsyncPgConnection, select: &str) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        _seen: bool,
    }
    diesel::sql_query(format!(
        "SELECT ({select}) IS NOT NULL AS _seen FROM pg_locks WHERE locktype = 'advisory' \
         AND objsubid = 2 AND granted AND pid <> pg_backend_pid() \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ))
    .load::<Row>(conn)
    .await
    .unwrap()
    .len()
}

/// Claims `key` again and again (for up to ten seconds) until the claim is fresh.
async fn claimed_eventually(keys: &IdempotencyKeys, key: &str) -> bool {
    for _ in 0..200 {
        if keys.claim("u", key, "h", t0()).await.unwrap() == Claim::Fresh {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_key_is_claimed_once_then_replayed_with_its_answer() {
    let (_db, keys) = fresh_keys();
    assert_eq!(claim(&keys, "user:1", "k1", "hash-a").await, Claim::Fresh);
    assert_eq!(
        claim(&keys, "user:1", "k1", "hash-a").await,
        Claim::InProgress
    );
    keys.store("user:1", "k1", 201, "{\"id\": 1}")
        .await
        .unwrap();
    assert_eq!(
        claim(&keys, "user:1", "k1", "hash-a").await,
        Claim::Replay {
            status: 201,
            body: "{\"id\": 1}".into()
        }
    );
    assert_eq!(
        claim(&keys, "user:1", "k1", "hash-b").await,
        Claim::Mismatch
    );
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let (_db, keys) = fresh_keys();
    assert_eq!(claim(&keys, "user:1", "k", "h").await, Claim::Fresh);
    assert_eq!(claim(&keys, "user:2", "k", "h").await, Claim::Fresh);
}

#[tokio::test]
async fn a_released_key_runs_again() {
    let (_db, keys) = fresh_keys();
    claim(&keys, "svc", "k", "h").await;
    keys.release("svc", "k").await.unwrap();
    assert_eq!(claim(&keys, "svc", "k", "h").await, Claim::Fresh);
}

#[tokio::test]
async fn answers_live_a_day_and_abandoned_claims_two_minutes() {
    let (_db, keys) = fresh_keys();
    claim(&keys, "u", "answered", "h").await;
    keys.store("u", "answered", 200, "{}").await.unwrap();
    claim(&keys, "u", "abandoned", "h").await;

    let next_hour = t0() + TimeDelta::hours(23);
    assert!(matches!(
        keys.claim("u", "answered", "h", next_hour).await.unwrap(),
        Claim::Replay { .. }
    ));
    assert_eq!(
        keys.claim("u", "abandoned", "h", next_hour).await.unwrap(),
        Claim::Fresh
    );

    let next_day = t0() + TimeDelta::hours(25);
    assert_eq!(
        keys.purge_expired(next_day).await.unwrap(),
        1,
        "the day-old answer"
    );
    assert_eq!(
        keys.claim("u", "answered", "other", next_day)
            .await
            .unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn a_claim_left_by_a_process_that_died_is_taken_over_at_once() {
    let db = TestDatabase::new();
    let dying = process(&db).await;
    let other = process(&db).await;
    assert_eq!(
        dying.claim("u", "k", "h", t0()).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        other.claim("u", "k", "h", t0()).await.unwrap(),
        Claim::InProgress,
        "its process is alive"
    );

    // The process dies: its lock goes with its connection, long before two minutes.
    drop(dying);

    assert!(claimed_eventually(&other, "k").await);
}

#[tokio::test]
async fn an_unsigned_claim_waits_for_its_expiry() {
    let db = TestDatabase::new();
    let unsigned = IdempotencyKeys::new(db.pool());
    let other = process(&db).await;
    unsigned.claim("u", "k", "h", t0()).await.unwrap();
    drop(unsigned);

    assert_eq!(
        other.claim("u", "k", "h", t0()).await.unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        other
            .claim("u", "k", "h", t0() + TimeDelta::minutes(3))
            .await
            .unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn a_process_whose_connection_is_ended_takes_its_lock_again_and_its_claims_stay_its_own() {
    let db = TestDatabase::new();
    let living = Arc::new(Liveness::start(db.url()));
    living.held().await;
    let own = IdempotencyKeys::new(db.pool()).signed_by(living.clone());
    let other = process(&db).await;
    own.claim("u", "k", "h", t0()).await.unwrap();

    // As a database restart would: the sessions holding the processes' locks end.
    let mut admin = AsyncPgConnection::establish(db.url()).await.unwrap();
    assert_eq!(
        liveness_locks(&mut admin, "pg_terminate_backend(pid)").await,
        2
    );
    // Both processes take their locks again, each under its own instance number.
    for _ in 0..300 {
        if liveness_locks(&mut admin, "1").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::timeout(Duration::from_secs(10), living.held())
        .await
        .expect("the lock is taken again");

    assert_eq!(
        other.claim("u", "k", "h", t0()).await.unwrap(),
        Claim::InProgress
    );
}
