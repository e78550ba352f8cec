//! Load on the running service: wrk for single requests, and a driver of its own for the
//! full lifecycle, which chains four requests and a wallet hold.

use std::path::Path;
use std::time::{Duration, Instant};

use order_client::{NewAuctionOrder, OrderClient, RetryPolicy, Shipment};
use order_domain::order::{Carrier, TrackingNumber};
use order_domain::{EscrowId, ListingId, Money, UserId};
use serde_json::{json, Value};

/// What one load run measured.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub name: String,
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers that are neither 2xx nor 409, and socket errors.
    pub errors: u64,
    /// 409 answers: a write that lost to another (or found its order already moved).
    pub conflicts: u64,
}

impl Measured {
    /// Requests per second that succeeded (neither an error nor a 409).
    pub fn successes_per_second(&self) -> f64 {
        let ok = self.requests.saturating_sub(self.errors + self.conflicts);
        self.requests_per_second * ok as f64 / (self.requests.max(1)) as f64
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name, "requests": self.requests, "requests_per_second": self.requests_per_second,
            "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
            "errors": self.errors, "conflicts": self.conflicts,
        })
    }
}

/// A wrk script sending, in turn, the requests of `lines` (one `METHOD\tPATH\tTOKEN\tBODY` a
/// line): each thread takes every n-th line, so that no two requests move the same order.
const SCRIPT: &str = r#"
local lines = {}
for line in io.lines(os.getenv("BENCH_LINES")) do
  local method, path, token, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)")
  table.insert(lines, {method, path, token, body})
end
local threads = {}
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  index = id
  statuses = {conflicts = 0, errors = 0}
end
function request()
  local line = lines[((index - 1) % #lines) + 1]
  index = index + tonumber(os.getenv("BENCH_THREADS"))
  local headers = {["Authorization"] = "Bearer " .. line[3], ["Content-Type"] = "application/json"}
  if line[4] == "" then
    return wrk.format(line[1], line[2], headers)
  end
  return wrk.format(line[1], line[2], headers, line[4])
end
function response(status, headers, body)
  if status == 409 then
    statuses.conflicts = statuses.conflicts + 1
  elseif status >= 300 then
    statuses.errors = statuses.errors + 1
  end
end
function done(summary, latency, requests)
  local conflicts, errors = 0, 0
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    conflicts = conflicts + s.conflicts
    errors = errors + s.errors
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d conflicts=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    conflicts, errors + socket))
end
"#;

pub struct Wrk<'a> {
    pub base_url: &'a str,
    pub workdir: &'a Path,
    pub threads: u32,
    pub connections: u32,
    pub duration: Duration,
}

impl Wrk<'_> {
    /// Runs wrk over `lines` (METHOD, PATH, TOKEN, BODY) and reads its report.
    pub async fn run(&self, name: &str, lines: &[[String; 4]]) -> Result<Measured, String> {
        let script = self.workdir.join("bench.lua");
        std::fs::write(&script, SCRIPT).map_err(|e| e.to_string())?;
        let data = self.workdir.join(format!("{name}.tsv"));
        let text: String = lines
            .iter()
            .map(|l| format!("{}\t{}\t{}\t{}\n", l[0], l[1], l[2], l[3]))
            .collect();
        std::fs::write(&data, text).map_err(|e| e.to_string())?;
        let output = tokio::process::Command::new("wrk")
            .env("BENCH_LINES", &data)
            .env("BENCH_THREADS", self.threads.to_string())
            .args([
                "-t",
                &self.threads.to_string(),
                "-c",
                &self.connections.to_string(),
            ])
            .args([
                "-d",
                &format!("{}s", self.duration.as_secs()),
                "--timeout",
                "10s",
                "-s",
            ])
            .arg(&script)
            .arg(self.base_url)
            .output()
            .await
            .map_err(|e| format!("cannot run wrk ({e}): make bench installs it"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("BENCH "))
            .ok_or_else(|| {
                format!(
                    "wrk said: {stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        let field = |key: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let seconds = field("duration_us") / 1e6;
        Ok(Measured {
            name: name.to_owned(),
            requests: field("requests") as u64,
            requests_per_second: field("requests") / seconds.max(1e-9),
            p50_ms: field("p50_us") / 1000.0,
            p99_ms: field("p99_us") / 1000.0,
            max_ms: field("max_us") / 1000.0,
            errors: field("errors") as u64,
            conflicts: field("conflicts") as u64,
        })
    }
}

/// The full lifecycle, as its four callers make it: the Auction service creates the order,
/// the Wallet holds the escrow and the payment flow marks it paid, the seller ships, the
/// buyer confirms (which releases the escrow).
pub struct Lifecycle<'a> {
    pub api: &'a str,
    pub peers: &'a str,
    pub service_token: &'a str,
    pub peer_token: &'a str,
    pub concurrency: usize,
    pub duration: Duration,
    pub token: &'a (dyn Fn(u64) -> String + Sync),
}

impl Lifecycle<'_> {
    pub async fn run(&self, users: u64) -> Result<Measured, String> {
        let http = reqwest::Client::new();
        let callers = Callers {
            service: OrderClient::with_http(http.clone(), self.api)
                .with_retry(RetryPolicy::never())
                .as_service(self.service_token),
            wallet: http,
            shipment: Shipment {
                tracking_number: TrackingNumber::parse("BENCH-1").map_err(|e| e.to_string())?,
                carrier: Carrier::parse("UPS").map_err(|e| e.to_string())?,
            },
        };
        let deadline = Instant::now() + self.duration;
        let started = Instant::now();
        let tasks = (0..self.concurrency).map(|worker| {
            let callers = &callers;
            async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut n = worker as u64;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    match self.one(callers, n, users).await {
                        Ok(()) => latencies.push(began.elapsed().as_secs_f64() * 1000.0),
                        Err(_) => errors += 1,
                    }
                    n += self.concurrency as u64;
                }
                (latencies, errors)
            }
        });
        let results = futures_util::future::join_all(tasks).await;
        let elapsed = started.elapsed().as_secs_f64();
        let mut latencies: Vec<f64> = results
            .iter()
            .flat_map(|(l, _)| l.iter().copied())
            .collect();
        latencies.sort_by(|a, b| a.total_cmp(b));
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        Ok(Measured {
            name: "lifecycle".into(),
            requests: latencies.len() as u64,
            requests_per_second: latencies.len() as f64 / elapsed,
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            max_ms: latencies.last().copied().unwrap_or(0.0),
            errors: results.iter().map(|(_, e)| e).sum(),
            conflicts: 0,
        })
    }

    /// One order's whole life, through the same client the platform's services use
    /// (each write under its own Idempotency-Key, as they send it), sent once: a refusal
    /// counts as an error rather than hiding in a retry's latency.
    async fn one(&self, clients: &Callers, n: u64, users: u64) -> Result<(), String> {
        use crate::seed::{id, Kind};
        let (buyer, seller) = (1 + n % (users - 1), 0);
        let money = |amount: &str| amount.parse::<Money>().map_err(|e| e.to_string());
        let order = clients
            .service
            .create_auction_order(&NewAuctionOrder {
                listing_id: ListingId::from_uuid(id(Kind::Fresh, n)),
                buyer_id: UserId::from_uuid(id(Kind::User, buyer)),
                seller_id: UserId::from_uuid(id(Kind::User, seller)),
                amount: money("50.00")?,
                shipping_cost: Some(money("5.00")?),
                shipping_address: None,
            })
            .await
            .map_err(|e| e.to_string())?;
        let escrow = order_testkit::hold_escrow(
            &clients.wallet,
            self.peers,
            self.peer_token,
            order.id.into(),
            id(Kind::User, buyer),
            &order.total.to_string(),
        )
        .await?;
        clients
            .service
            .mark_paid(order.id, EscrowId::from_uuid(escrow))
            .await
            .map_err(|e| e.to_string())?;
        clients
            .service
            .as_user((self.token)(seller))
            .ship(order.id, &clients.shipment)
            .await
            .map_err(|e| e.to_string())?;
        clients
            .service
            .as_user((self.token)(buyer))
            .complete(order.id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// What a lifecycle worker calls with.
struct Callers {
    /// The Order Service, as the Auction service; its clones call as users.
    service: OrderClient,
    /// The stand-in Wallet, which the Order Service's client does not reach.
    wallet: reqwest::Client,
    shipment: Shipment,
}
