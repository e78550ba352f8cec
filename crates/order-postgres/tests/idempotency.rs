//! Idempotency keys: claimed once, replayed to the same caller, released on 5xx, expired
//! after a day.

use chrono::TimeDelta;
use order_domain::fixtures::t0;
use order_postgres::test_db::TestDatabase;
use order_postgres::{Claim, IdempotencyKeys};

#[tokio::test]
async fn a_key_is_claimed_once_then_replayed_with_its_answer() {
    let db = TestDatabase::new();
    let keys = IdempotencyKeys::new(db.pool());
    assert_eq!(
        keys.claim("user:1", "k1", "hash-a", t0()).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        keys.claim("user:1", "k1", "hash-a", t0()).await.unwrap(),
        Claim::InProgress
    );
    keys.store("user:1", "k1", 201, "{\"id\": 1}")
        .await
        .unwrap();
    assert_eq!(
        keys.claim("user:1", "k1", "hash-a", t0()).await.unwrap(),
        Claim::Replay {
            status: 201,
            body: "{\"id\": 1}".into()
        }
    );
    assert_eq!(
        keys.claim("user:1", "k1", "hash-b", t0()).await.unwrap(),
        Claim::Mismatch
    );
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let db = TestDatabase::new();
    let keys = IdempotencyKeys::new(db.pool());
    assert_eq!(
        keys.claim("user:1", "k", "h", t0()).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        keys.claim("user:2", "k", "h", t0()).await.unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn a_released_key_runs_again() {
    let db = TestDatabase::new();
    let keys = IdempotencyKeys::new(db.pool());
    keys.claim("svc", "k", "h", t0()).await.unwrap();
    keys.release("svc", "k").await.unwrap();
    assert_eq!(
        keys.claim("svc", "k", "h", t0()).await.unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn answers_live_a_day_and_abandoned_claims_two_minutes() {
    let db = TestDatabase::new();
    let keys = IdempotencyKeys::new(db.pool());
    keys.claim("u", "answered", "h", t0()).await.unwrap();
    keys.store("u", "answered", 200, "{}").await.unwrap();
    keys.claim("u", "abandoned", "h", t0()).await.unwrap();

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
