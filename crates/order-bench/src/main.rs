//! `order-bench`: how fast the Order Service is, and how close to the database's own limit.
//!
//! Seeds a database (`BENCH_ORDERS`, default 1,000,000 orders over `BENCH_USERS` 10,000
//! users), starts the stand-in peers and `order-api` (the release binaries next to this
//! one), drives them over loopback with wrk and a lifecycle driver, runs pgbench on the
//! same SQL, and prints a table (and `BENCH_OUTPUT`, default `bench-results.json`).
//! With more than 10,000 orders, the reads are also measured on 10,000, as a scaling check.
//! Run it through `make bench`, which builds it and installs wrk. `order-bench reconcile`
//! (`make bench-reconcile`) measures `order-api reconcile` instead; `order-bench migrate`
//! (`make bench-migrate`) applies this release's migrations to a large database at an
//! earlier release's schema while writes run.

mod erasure;
mod load;
mod migrate;
mod pgbench;
mod reconcile;
mod seed;

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use load::{Lifecycle, Measured, Wrk};
use seed::{id, Kind, Shape, HEAVY_USER, LIGHT_USER};
use serde_json::{json, Value};
use tokio::process::Child;

const CREDENTIALS: Credentials = Credentials {
    jwt_secret: "bench-jwt-secret-0123456789",
    service_token: "bench-service",
    peer_token: "bench-peer",
};
const FOR_SALE: u64 = 20_000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn token(user: u64) -> String {
    order_testkit::user_token(
        CREDENTIALS.jwt_secret,
        id(Kind::User, user),
        false,
        TimeDelta::hours(2),
    )
}

use order_testkit::processes::{self, Credentials};
use order_testkit::{free_port, json_of};

/// The stand-in peers on `port`, killed when dropped.
fn spawn_stub(port: u16) -> Result<Child, String> {
    processes::stub_peers(port, &CREDENTIALS)?
        .spawn()
        .map_err(|e| format!("stub-peers: {e}"))
}

/// Waits for the stand-in peers or the service at `url` to answer.
async fn ready(http: &reqwest::Client, url: &str) -> Result<(), String> {
    processes::wait_ready(http, url, || Ok(())).await
}

/// The service and its stand-in peers on one seeded database.
struct Running {
    api: String,
    peers: String,
    service: Child,
    stub: Child,
}

impl Running {
    async fn start(database_url: &str, shape: &Shape) -> Result<Running, String> {
        Running::start_with(database_url, shape, &[]).await
    }

    /// [`Running::start`] with the service's settings `extra` on top.
    async fn start_with(
        database_url: &str,
        shape: &Shape,
        extra: &[(&str, &str)],
    ) -> Result<Running, String> {
        let (api_port, peers_port) = (free_port(), free_port());
        let peers = format!("http://127.0.0.1:{peers_port}");
        let stub = spawn_stub(peers_port)?;
        let service = processes::order_api(database_url, api_port, &peers, &CREDENTIALS)?
            .env("DB_POOL_SIZE", "16")
            .envs(extra.iter().copied())
            .spawn()
            .map_err(|e| format!("order-api: {e}"))?;
        let running = Running {
            api: format!("http://127.0.0.1:{api_port}"),
            peers,
            service,
            stub,
        };
        let client = reqwest::Client::new();
        ready(&client, &format!("{}/healthz", running.peers)).await?;
        ready(&client, &format!("{}/readyz", running.api)).await?;
        let listings: Vec<Value> = (1..=FOR_SALE)
            .map(|n| json!({"id": id(Kind::ForSale, n), "seller_id": id(Kind::User, HEAVY_USER), "title": "Bench item",
                            "status": "ACTIVE", "buy_now_price": "10.00", "shipping_cost": "0.00"}))
            .collect();
        let wallets: Vec<Value> = (0..shape.users)
            .map(|u| json!({"user_id": id(Kind::User, u), "amount": "1000000.00"}))
            .collect();
        let seed = json!({"listings": listings, "wallets": wallets});
        order_testkit::post_ok(&client, &format!("{}/_stub/seed/", running.peers), &seed).await?;
        Ok(running)
    }

    /// The service's peak resident memory so far, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = self
            .service
            .id()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok());
        status
            .as_deref()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    async fn stop(mut self) {
        let _ = self.service.start_kill();
        let _ = self.stub.start_kill();
        let _ = self.service.wait().await;
        let _ = self.stub.wait().await;
    }
}

/// A deep position in the heavy user's list, reached by following `next` links.
async fn deep_cursor(api: &str, depth: usize) -> Result<String, String> {
    let client = reqwest::Client::new();
    let mut url = format!("{api}/api/v1/orders/?role=buyer&page_size=100&cursor=");
    let mut walked = 0;
    while walked < depth {
        let page = json_of(client.get(&url).bearer_auth(token(HEAVY_USER))).await?;
        walked += page["results"].as_array().map_or(0, Vec::len);
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    Ok(url
        .trim_start_matches(api)
        .replace("page_size=100", "page_size=20"))
}

fn get(path: String, user: u64) -> [String; 4] {
    ["GET".into(), path, token(user), String::new()]
}

fn admin_token() -> String {
    let admin = id(Kind::User, u64::from(u32::MAX));
    order_testkit::user_token(CREDENTIALS.jwt_secret, admin, true, TimeDelta::hours(2))
}

/// 20,000 detail reads of orders spread over the settled ones, each as its buyer.
fn detail_sample(shape: &Shape) -> Vec<[String; 4]> {
    (0..20_000u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) % shape.settled()) + 1)
        .map(|n| {
            get(
                format!("/api/v1/orders/{}/", id(Kind::Order, n)),
                shape.buyer(n),
            )
        })
        .collect()
}

/// Reads at one scale: one order by id (random orders, each as its buyer); the default list
/// (bought or sold) of the heavy user and of a light one, numbered first pages; the heavy
/// user's list through a deep cursor; and an admin's lists: all orders, the largest status,
/// a status no order has, one listing's orders.
async fn reads(
    wrk: &Wrk<'_>,
    api: &str,
    shape: &Shape,
    scale: &str,
) -> Result<Vec<Measured>, String> {
    let settled = shape.settled();
    let sample = detail_sample(shape);
    let heavy = vec![get("/api/v1/orders/?page_size=20".into(), HEAVY_USER)];
    let light = vec![get("/api/v1/orders/?page_size=20".into(), LIGHT_USER)];
    let depth = (shape.orders as usize / 50 / 2).min(10_000);
    let deep = vec![get(deep_cursor(api, depth).await?, HEAVY_USER)];
    let admin = |path: String| vec![["GET".into(), path, admin_token(), String::new()]];
    let listing = id(Kind::Listing, settled / 2);
    let scenarios = [
        (format!("detail ({scale})"), sample),
        (format!("list, first page, heavy user ({scale})"), heavy),
        (format!("list, first page, light user ({scale})"), light),
        (format!("list, cursor page {depth} deep ({scale})"), deep),
        (
            format!("admin, all orders, first page ({scale})"),
            admin("/api/v1/orders/?page_size=20".into()),
        ),
        (
            format!("admin, ?status= largest ({scale})"),
            admin("/api/v1/orders/?status=COMPLETED&page_size=20".into()),
        ),
        (
            format!("admin, ?status= no match ({scale})"),
            admin("/api/v1/orders/?status=DISPUTED&page_size=20".into()),
        ),
        (
            format!("admin, ?listing_id= ({scale})"),
            admin(format!("/api/v1/orders/?listing_id={listing}&page_size=20")),
        ),
    ];
    let mut measured = Vec::new();
    for (name, requests) in scenarios {
        measured.push(wrk.run(&name, &requests).await?);
    }
    Ok(measured)
}

/// Writes: ship (each request a different PAID order, as its seller) and Buy It Now (each a
/// different listing).
async fn writes(wrk: &Wrk<'_>, shape: &Shape) -> Result<Vec<Measured>, String> {
    let body = r#"{"tracking_number": "BENCH-1", "carrier": "UPS"}"#;
    let ships: Vec<[String; 4]> = (shape.settled() + shape.pgbench_pool + 1..=shape.total())
        .map(|n| {
            [
                "POST".into(),
                format!("/api/v1/orders/{}/ship/", id(Kind::Order, n)),
                token(shape.seller(n)),
                body.into(),
            ]
        })
        .collect();
    let purchases: Vec<[String; 4]> = (1..=FOR_SALE)
        .map(|n| {
            [
                "POST".into(),
                format!("/api/v1/orders/{}/purchase/", id(Kind::ForSale, n)),
                token(1 + n % (shape.users - 1)),
                "{}".into(),
            ]
        })
        .collect();
    Ok(vec![
        wrk.run("ship", &ships).await?,
        wrk.run("buy it now", &purchases).await?,
    ])
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("bench failed: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let server = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match std::env::args().nth(1).as_deref() {
        Some("reconcile") => return reconcile::run(&server).await,
        Some("migrate") => return migrate::run(&server).await,
        _ => {}
    }
    let orders = env_number("BENCH_ORDERS", 1_000_000);
    let users = env_number("BENCH_USERS", 10_000).max(2);
    let duration = Duration::from_secs(env_number("BENCH_DURATION", 10));
    let connections = env_number("BENCH_CONNECTIONS", 32) as u32;
    let output = std::env::var("BENCH_OUTPUT").unwrap_or_else(|_| "bench-results.json".into());
    let workdir = std::env::temp_dir().join(format!("order-bench-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).map_err(|e| e.to_string())?;

    // BENCH_SCALES lists every scale to read at (the writes run on the largest); by default
    // 10,000 and BENCH_ORDERS, as a scaling check.
    let mut scales: Vec<u64> = match std::env::var("BENCH_SCALES") {
        Ok(list) => list
            .split(',')
            .filter_map(|n| n.trim().replace('_', "").parse().ok())
            .collect(),
        Err(_) => vec![10_000, orders],
    };
    scales.sort_unstable();
    scales.dedup();
    let orders = *scales.last().ok_or("BENCH_SCALES lists no scale")?;
    let mut results: Vec<Measured> = Vec::new();
    let mut peak_rss = 0.0f64;
    let mut limits = None;
    let mut erasure_line = None;
    for &scale in &scales {
        let shape = Shape::new(scale, users.min(scale));
        let label = format!("{scale} orders");
        let database = format!("orders_bench_{scale}");
        eprintln!("seeding {label}…");
        let seeding = Instant::now();
        seed::seed(&server, &database, shape).await?;
        eprintln!("seeded in {:.0}s", seeding.elapsed().as_secs_f64());
        let url = format!("{server}/{database}");
        let running = Running::start(&url, &shape).await?;
        let wrk = Wrk {
            base_url: &running.api,
            workdir: &workdir,
            threads: 2,
            connections,
            duration,
        };
        results.extend(reads(&wrk, &running.api, &shape, &label).await?);
        if scale == orders {
            results.extend(writes(&wrk, &shape).await?);
            let token = |user: u64| token(user);
            let lifecycle = Lifecycle {
                api: &running.api,
                peers: &running.peers,
                service_token: CREDENTIALS.service_token,
                peer_token: CREDENTIALS.peer_token,
                concurrency: 16,
                duration,
                token: &token,
            };
            results.push(lifecycle.run(shape.users).await?);
            peak_rss = running.peak_rss_mib();
            running.stop().await;
            eprintln!("pgbench…");
            limits = Some(pgbench::limits(&workdir, &url, &shape, 8, duration).await?);
            // Last, so that the scenarios above run on the table as seeded.
            let count = env_number("BENCH_ERASE_ORDERS", 100_000).min(shape.settled());
            eprintln!("erasing the personal data of {count} ended orders…");
            // The detail reads again, against the replica that erases.
            let template = Wrk {
                base_url: "",
                workdir: &workdir,
                threads: 2,
                connections,
                duration,
            };
            let sample = detail_sample(&shape);
            let erased = erasure::measure(&url, &shape, count, &template, &sample, &label).await?;
            results.push(erased.before);
            results.push(erased.during);
            erasure_line = Some(format!(
                "erasing the personal data of {} ended orders: {:.1} s, {:.0} orders/s \
                 (one replica's worker, four stored events an order)",
                erased.orders,
                erased.seconds,
                erased.orders as f64 / erased.seconds
            ));
        } else {
            running.stop().await;
        }
    }
    let limits = limits.expect("the last scale measures the limits");
    report(&results, &limits, peak_rss, &scales, &output)?;
    if let Some(line) = erasure_line {
        println!("{line}");
        let at = format!("({orders} orders)");
        if let (Some(before), Some(during)) = (
            find(&results, &format!("detail before erasing {at}")),
            find(&results, &format!("detail while erasing {at}")),
        ) {
            println!(
                "detail p99 while erasing: {:.2} ms, {:.2} × its {:.2} ms on the same replica before",
                during.p99_ms,
                during.p99_ms / before.p99_ms,
                before.p99_ms
            );
        }
    }
    Ok(())
}

/// `rate` as a share of `limit`, or nothing where there is no limit to compare with.
fn share(rate: f64, limit: Option<f64>) -> String {
    limit.map_or(String::new(), |limit| {
        format!("{:.2} of {limit:.0}", rate / limit)
    })
}

fn find<'a>(results: &'a [Measured], name: &str) -> Option<&'a Measured> {
    results.iter().find(|m| m.name == name)
}

fn report(
    results: &[Measured],
    limits: &pgbench::Limits,
    peak_rss: f64,
    scales: &[u64],
    output: &str,
) -> Result<(), String> {
    let orders = *scales.last().expect("a scale");
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("\nOrder Service benchmark — scales {scales:?}, {cores} cores ({machine}), loopback");
    println!(
        "| scenario | req/s | p50 ms | p99 ms | max ms | errors | 409s | vs same SQL | vs bare |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let largest = format!("({orders} orders)");
    for m in results {
        let (same, bare) = if m.name == format!("detail {largest}") {
            (Some(limits.read_tps), Some(limits.bare_read_tps))
        } else if m.name == "ship" {
            (Some(limits.ship_tps), Some(limits.bare_ship_tps))
        } else {
            (None, None)
        };
        let rate = m.successes_per_second();
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {} |",
            m.name,
            m.requests_per_second,
            m.p50_ms,
            m.p99_ms,
            m.max_ms,
            m.errors,
            m.conflicts,
            share(rate, same),
            share(rate, bare),
        );
    }
    println!(
        "\npgbench (8 clients, prepared): detail read {:.0} tps (bare primary-key read {:.0}), \
         ship {:.0} tps (bare four-column update + outbox insert {:.0})",
        limits.read_tps, limits.bare_read_tps, limits.ship_tps, limits.bare_ship_tps
    );
    let smallest = format!("({} orders)", scales[0]);
    for scale in scales {
        let at = format!("({scale} orders)");
        let m = |name: &str| find(results, &format!("{name} {at}"));
        if let (Some(detail), Some(heavy), Some(light)) = (
            m("detail"),
            m("list, first page, heavy user"),
            m("list, first page, light user"),
        ) {
            println!(
                "at {scale} orders: heavy user's first page {:.2} × the detail rate; \
                 its p99 {:.2} × the light user's",
                heavy.requests_per_second / detail.requests_per_second,
                heavy.p99_ms / light.p99_ms
            );
        }
        for admin in [
            "admin, all orders, first page",
            "admin, ?status= largest",
            "admin, ?status= no match",
            "admin, ?listing_id=",
        ] {
            if let (Some(here), Some(small)) =
                (m(admin), find(results, &format!("{admin} {smallest}")))
            {
                println!(
                    "at {scale} orders: {admin}: p99 {:.2} × its value at {}",
                    here.p99_ms / small.p99_ms,
                    scales[0]
                );
            }
        }
    }
    println!("order-api peak RSS: {peak_rss:.1} MiB");
    let document = json!({
        "scales": scales,
        "cores": cores,
        "cpu": machine,
        "date": chrono::Utc::now().to_rfc3339(),
        "results": results.iter().map(Measured::to_json).collect::<Vec<_>>(),
        "pgbench": {
            "read_tps": limits.read_tps, "bare_read_tps": limits.bare_read_tps,
            "ship_tps": limits.ship_tps, "bare_ship_tps": limits.bare_ship_tps,
        },
        "peak_rss_mib": peak_rss,
    });
    std::fs::write(
        output,
        serde_json::to_string_pretty(&document).expect("json"),
    )
    .map_err(|e| format!("{output}: {e}"))?;
    println!("(results also in {output})");
    Ok(())
}
