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

/// The backends holding the processes' liveness locks.
async fn liveness_holders(conn: &mut AsyncPgConnection) -> Vec<i32> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    diesel::sql_query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' \
         AND objsubid = 2 AND granted AND pid <> pg_backend_pid() \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .load::<Row>(conn)
    .await
    .unwrap()
    .into_iter()
    .map(|row| row.pid)
    .collect()
}

/// Ends the session of backend `pid`, as a database restart would.
async fn terminate(conn: &mut AsyncPgConnection, pid: i32) {
    diesel::sql_query("SELECT pg_terminate_backend($1)")
        .bind::<diesel::sql_types::Integer, _>(pid)
        .execute(conn)
        .await
        .unwrap();
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
    let ended = liveness_holders(&mut admin).await;
    assert_eq!(ended.len(), 2);
    for pid in &ended {
        terminate(&mut admin, *pid).await;
    }
    // Both processes take their locks again, each under its own instance number, on new
    // sessions: a lock still listed under an ended session is not taken again yet.
    for _ in 0..300 {
        let holders = liveness_holders(&mut admin).await;
        if holders.len() == 2 && holders.iter().all(|pid| !ended.contains(pid)) {
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

/// `caller`'s key `key`, claimed and answered 200 with `body`.
async fn answered(keys: &IdempotencyKeys, key: &str, body: &serde_json::Value) {
    claim(keys, "user:1", key, "h").await;
    keys.store("user:1", key, 200, &body.to_string())
        .await
        .unwrap();
}

/// The saved answer of `key`.
async fn saved(keys: &IdempotencyKeys, key: &str) -> serde_json::Value {
    match claim(keys, "user:1", key, "h").await {
        Claim::Replay { body, .. } => serde_json::from_str(&body).unwrap(),
        other => panic!("{key} has no answer: {other:?}"),
    }
}

/// Blanks every `shipping_address` at the top of an answer; whether there was one.
fn blank_address(answer: &mut serde_json::Value) -> bool {
    let Some(address) = answer.get_mut("shipping_address") else {
        return false;
    };
    *address = serde_json::json!({});
    true
}

/// The ids recorded as named by the answer of `key`, in order.
async fn mentioned(db: &TestDatabase, key: &str) -> Vec<uuid::Uuid> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Uuid>)]
        mentioned_ids: Vec<uuid::Uuid>,
    }
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let row: Row = diesel::sql_query("SELECT mentioned_ids FROM idempotency_keys WHERE key = $1")
        .bind::<diesel::sql_types::Text, _>(key)
        .get_result(&mut conn)
        .await
        .unwrap();
    row.mentioned_ids
}

#[tokio::test]
async fn an_answer_is_saved_with_every_id_it_names() {
    let (db, keys) = fresh_keys();
    let (dispute, order, user) = (
        uuid::Uuid::from_u128(9),
        uuid::Uuid::from_u128(1),
        uuid::Uuid::from_u128(5),
    );
    let answer = serde_json::json!({
        "id": dispute,
        "order_id": order,
        "evidence": [{"submitted_by": user, "note": "not an id"}],
        "amount": "12.00",
    });
    answered(&keys, "dispute", &answer).await;
    assert_eq!(mentioned(&db, "dispute").await, [order, user, dispute]);
}

#[tokio::test]
async fn an_erasure_rewrites_the_answers_that_name_the_order_and_no_other() {
    let (_db, keys) = fresh_keys();
    let (erased, kept) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
    let order = |id| serde_json::json!({"id": id, "shipping_address": {"name": "A. Buyer"}});
    let dispute = serde_json::json!({"id": uuid::Uuid::from_u128(9), "order_id": erased});
    answered(&keys, "order", &order(erased)).await;
    answered(&keys, "other", &order(kept)).await;
    answered(&keys, "dispute", &dispute).await;

    let changed = keys
        .rewrite_answers_mentioning(&[erased], blank_address)
        .await
        .unwrap();

    assert_eq!(
        changed, 1,
        "the dispute's answer names the order but shows no address"
    );
    assert_eq!(
        saved(&keys, "order").await["shipping_address"],
        serde_json::json!({})
    );
    assert_eq!(saved(&keys, "other").await, order(kept));
    assert_eq!(saved(&keys, "dispute").await, dispute);
}

#[tokio::test]
async fn an_answer_saved_by_an_earlier_release_without_its_ids_is_found_by_its_text() {
    let (db, keys) = fresh_keys();
    let erased = uuid::Uuid::from_u128(1);
    let answer = serde_json::json!({"id": erased, "shipping_address": {"name": "A. Buyer"}});
    claim(&keys, "user:1", "old", "h").await;
    // As a release that did not record the ids saved it.
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    diesel::sql_query(format!(
        "UPDATE idempotency_keys SET status_code = 200, response_body = '{answer}' WHERE key = 'old'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let changed = keys
        .rewrite_answers_mentioning(&[erased], blank_address)
        .await
        .unwrap();

    assert_eq!(changed, 1);
    assert_eq!(
        saved(&keys, "old").await["shipping_address"],
        serde_json::json!({})
    );
}

#[tokio::test]
async fn the_answers_naming_an_id_are_found_through_their_index() {
    let (db, _keys) = fresh_keys();
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        text: String,
    }
    let plan: Vec<Line> = diesel::sql_query(
        "EXPLAIN SELECT caller, key FROM idempotency_keys \
         WHERE mentioned_ids && ARRAY['00000000-0000-0000-0000-000000000001']::uuid[]",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|line| line.text).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("idempotency_keys_mentioned_ids"), "{plan}");
}
