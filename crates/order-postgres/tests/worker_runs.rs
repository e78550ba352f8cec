//! A periodic round that one replica runs for all: claimed once while due, its result read
//! back by every replica.

use chrono::TimeDelta;
use order_domain::fixtures::*;
use order_postgres::test_db::TestDatabase;
use order_postgres::{LastRun, WorkerRuns};
use serde_json::json;

#[tokio::test]
async fn of_replicas_claiming_a_due_round_at_once_exactly_one_runs_it() {
    let db = TestDatabase::new();
    let runs = WorkerRuns::new(db.pool());
    let next = later(1);
    let claims: Vec<bool> =
        futures_util::future::join_all((0..8).map(|_| runs.claim("reconcile", t0(), next)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    assert_eq!(claims.iter().filter(|claimed| **claimed).count(), 1);
}

#[tokio::test]
async fn a_round_is_not_claimed_again_before_the_next_is_due() {
    let db = TestDatabase::new();
    let runs = WorkerRuns::new(db.pool());
    assert!(runs.claim("reconcile", t0(), later(1)).await.unwrap());
    let early = later(1) - TimeDelta::seconds(1);
    assert!(!runs.claim("reconcile", early, later(2)).await.unwrap());
    assert!(runs.claim("reconcile", later(1), later(2)).await.unwrap());
    assert!(
        runs.claim("another", t0(), later(1)).await.unwrap(),
        "each worker has its own rounds"
    );
}

#[tokio::test]
async fn the_last_result_reads_back_whoever_recorded_it() {
    let db = TestDatabase::new();
    let (one, other) = (WorkerRuns::new(db.pool()), WorkerRuns::new(db.pool()));
    assert_eq!(other.last("reconcile").await.unwrap(), None);
    assert!(one.claim("reconcile", t0(), later(1)).await.unwrap());
    assert_eq!(
        other.last("reconcile").await.unwrap(),
        None,
        "not finished yet"
    );
    one.finish("reconcile", later(0), &json!({"checked": 3}))
        .await
        .unwrap();
    assert_eq!(
        other.last("reconcile").await.unwrap(),
        Some(LastRun {
            finished_at: t0(),
            report: json!({"checked": 3}),
        })
    );
}
