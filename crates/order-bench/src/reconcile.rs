//! `order-bench reconcile`: `order-api reconcile` over every seeded order, against the
//! stand-in Wallet holding each order's escrow as it should be. Orders per second, and the
//! command's peak resident memory at two scales: memory that stays flat as the count grows
//! shows the orders are read in batches, never all at once.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::seed::{self, id, Kind, Shape};
use crate::{env_number, free_port, ready, spawn_stub, CREDENTIALS};

/// Escrows sent to the stand-in in one request: well under its 64 MiB body limit.
const ESCROWS_A_REQUEST: u64 = 50_000;

/// One run of the command at one scale.
struct Measured {
    orders: u64,
    seconds: f64,
    peak_rss_mib: f64,
}

pub async fn run(server: &str) -> Result<(), String> {
    let largest = env_number("BENCH_RECONCILE_ORDERS", 1_000_000);
    let users = env_number("BENCH_USERS", 10_000).max(2);
    let concurrency = env_number("BENCH_RECONCILE_CONCURRENCY", 16);
    let mut scales = vec![(largest / 10).max(1_000), largest];
    scales.dedup();
    let mut measured = Vec::new();
    for scale in scales {
        let shape = Shape::new(scale, users.min(scale));
        let database = format!("orders_bench_reconcile_{scale}");
        eprintln!("seeding {scale} orders…");
        seed::seed(server, &database, shape).await?;
        let run = reconcile(&format!("{server}/{database}"), &shape, concurrency).await?;
        println!(
            "reconcile {} orders: {:.1} s, {:.0} orders/s, peak RSS {:.1} MiB",
            run.orders,
            run.seconds,
            run.orders as f64 / run.seconds,
            run.peak_rss_mib
        );
        measured.push(run);
    }
    if let [small, large] = measured.as_slice() {
        println!(
            "peak RSS at {} orders is {:.2} × its value at {}",
            large.orders,
            large.peak_rss_mib / small.peak_rss_mib,
            small.orders
        );
    }
    Ok(())
}

/// Starts the stand-ins with every order's escrow, then times the command to its end.
async fn reconcile(
    database_url: &str,
    shape: &Shape,
    concurrency: u64,
) -> Result<Measured, String> {
    let port = free_port();
    let peers = format!("http://127.0.0.1:{port}");
    let mut stub = spawn_stub(port)?;
    let client = reqwest::Client::new();
    ready(&client, &format!("{peers}/healthz")).await?;
    let mut first = 1;
    while first <= shape.total() {
        let last = (first + ESCROWS_A_REQUEST - 1).min(shape.total());
        let escrows: Vec<Value> = (first..=last).map(|n| escrow(shape, n)).collect();
        let seed = json!({"escrows": escrows});
        order_testkit::post_ok(&client, &format!("{peers}/_stub/seed/"), &seed).await?;
        first = last + 1;
    }

    let started = Instant::now();
    let mut command = Command::new(order_testkit::sibling("order-api")?)
        .args([
            "reconcile",
            "--json",
            "--concurrency",
            &concurrency.to_string(),
        ])
        .env("DATABASE_URL", database_url)
        .env("WALLET_URL", format!("{peers}/api/v1/wallet"))
        .env("LISTING_URL", format!("{peers}/api/v1/listings"))
        .env("PEER_SERVICE_TOKEN", CREDENTIALS.peer_token)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("order-api reconcile: {e}"))?;
    let mut stdout = command.stdout.take().ok_or("no stdout")?;
    let output = tokio::spawn(async move {
        let mut text = String::new();
        stdout.read_to_string(&mut text).await.map(|_| text)
    });
    // VmHWM is gone once the process has been waited for: read it while it runs.
    let mut peak_rss_kib = 0.0f64;
    let status = loop {
        if let Some(kib) = command.id().and_then(high_water_kib) {
            peak_rss_kib = peak_rss_kib.max(kib);
        }
        match command.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let _ = stub.start_kill();
    let text = output
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("order-api reconcile exited {status}: {text}"));
    }
    let summary: Value = text
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| format!("no summary in {text:?}"))?;
    let orders = summary["summary"]["checked"].as_u64().unwrap_or_default();
    if orders != shape.total() {
        return Err(format!("checked {orders} orders of {}", shape.total()));
    }
    Ok(Measured {
        orders,
        seconds,
        peak_rss_mib: peak_rss_kib / 1024.0,
    })
}

/// Order `n`'s escrow as the seeded order says it must be: released (105.00 to the
/// seller, 5.00 fee) for a settled order, held otherwise.
fn escrow(shape: &Shape, n: u64) -> Value {
    let mut escrow = json!({
        "escrow_id": id(Kind::Escrow, n), "order_id": id(Kind::Order, n),
        "buyer_id": id(Kind::User, shape.buyer(n)), "amount": "110.00", "state": "HELD",
    });
    if n <= shape.settled() {
        escrow["state"] = json!("RELEASED");
        escrow["seller_amount"] = json!("105.00");
        escrow["fee_amount"] = json!("5.00");
        escrow["refund_amount"] = json!("0.00");
    }
    escrow
}

fn high_water_kib(pid: u32) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
