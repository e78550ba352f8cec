//! `order-bench migrate`: this release's migrations applied to a large database at an
//! earlier release's schema while writes run on `orders`, as a deploy applies them to a
//! live database. The figure that matters is the longest a write took while the migration
//! ran: a write waits on a lock the migration holds or has queued for, so a migration that
//! blocks writes shows here. The goal is under a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::process::Command;

use crate::env_number;
use crate::seed::{self, id, Kind, Shape};

/// Connections writing while the migration runs.
const WRITERS: u64 = 8;
/// How long the writes are measured before the migration, and go on after it.
const AROUND: Duration = Duration::from_secs(10);

/// One write: when it started, from the first, and how long it took.
type Write = (Duration, Duration);

pub async fn run(server: &str) -> Result<(), String> {
    let orders = env_number("BENCH_MIGRATE_ORDERS", 10_000_000);
    let users = env_number("BENCH_USERS", 10_000).max(2);
    let previous = std::env::var("BENCH_PREVIOUS_ORDER_API").map_err(|_| {
        "BENCH_PREVIOUS_ORDER_API names no binary: run `make bench-migrate`, which builds the \
         earlier release's order-api"
    })?;
    let release =
        std::env::var("BENCH_PREVIOUS_RELEASE").unwrap_or_else(|_| "an earlier release".into());
    let url = seed::recreate(server, "orders_bench_migrate").await?;
    eprintln!("migrating to {release}'s schema…");
    let status = Command::new(&previous)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .status()
        .await
        .map_err(|e| format!("{previous}: {e}"))?;
    if !status.success() {
        return Err(format!("{release}'s order-api migrate: {status}"));
    }
    let shape = Shape::new(orders, users.min(orders));
    eprintln!("seeding {orders} orders…");
    let seeding = Instant::now();
    seed::fill(&url, shape).await?;
    eprintln!("seeded in {:.0}s", seeding.elapsed().as_secs_f64());

    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (url, stop) = (url.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            write_until(&url, writer, shape.settled(), start, &stop).await
        }));
    }
    tokio::time::sleep(AROUND).await;
    eprintln!("applying this release's migrations under the writes…");
    let began = start.elapsed();
    let applied = order_postgres::run_migrations(&url)
        .await
        .map_err(|e| e.to_string())?;
    let ended = start.elapsed();
    tokio::time::sleep(AROUND).await;
    stop.store(true, Ordering::Relaxed);
    let mut writes = Vec::new();
    for writer in writers {
        writes.extend(writer.await.map_err(|e| e.to_string())??);
    }

    let taken = |from: Duration, to: Duration| -> Vec<f64> {
        let mut ms: Vec<f64> = writes
            .iter()
            .filter(|(at, _)| (from..to).contains(at))
            .map(|(_, took)| took.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let before = taken(Duration::ZERO, began);
    let during = taken(began, ended);
    let p99 = |ms: &[f64]| ms.get(ms.len() * 99 / 100).copied().unwrap_or(0.0);
    let longest = |ms: &[f64]| ms.last().copied().unwrap_or(0.0);
    println!(
        "migrate {orders} orders from {release}'s schema: {applied} migrations in {:.1} s; \
         {} writes meanwhile, the longest {:.1} ms (p99 {:.2} ms); before it: {} writes, \
         the longest {:.1} ms (p99 {:.2} ms)",
        (ended - began).as_secs_f64(),
        during.len(),
        longest(&during),
        p99(&during),
        before.len(),
        longest(&before),
        p99(&before),
    );
    Ok(())
}

/// Updates orders one at a time, as the service's writes do, until `stop`; each write's
/// start (from `start`) and duration.
async fn write_until(
    url: &str,
    writer: u64,
    settled: u64,
    start: Instant,
    stop: &AtomicBool,
) -> Result<Vec<Write>, String> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| e.to_string())?;
    let mut writes = Vec::new();
    let mut i = writer;
    while !stop.load(Ordering::Relaxed) {
        // Spread over every settled order, each writer on its own.
        let n = i.wrapping_mul(2_654_435_761) % settled + 1;
        let at = start.elapsed();
        diesel::sql_query("UPDATE orders SET shipped_at = shipped_at WHERE id = $1")
            .bind::<SqlUuid, _>(id(Kind::Order, n))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("a write during the migration: {e}"))?;
        writes.push((at, start.elapsed() - at));
        i += WRITERS;
    }
    Ok(writes)
}
