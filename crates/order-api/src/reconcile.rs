//! `order-api reconcile`: every order with an escrow compared with the Wallet's account of
//! it, one line per finding, then a summary; the exit code says whether the books agree.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use order_app::{
    Finding, FindingKind, OrderService, Ports, ReconcileError, ReconcileProgress, ReconcileSummary,
    Settings,
};
use order_domain::reconcile::DriftKind;
use order_domain::OrderId;
use order_peers::{GuardSettings, GuardedWallet, HttpListings, HttpWallet};
use order_ports::store::EscrowScope;
use order_ports::{SystemClock, UuidV7Ids};
use order_postgres::{build_pool, PgStore, PoolConfig};

use crate::config::Config;

/// Wallet calls in flight at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How a reconciliation ended, as its exit code says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every order agrees with its escrow (exit 0).
    Clean,
    /// At least one does not (exit 1).
    Drift,
    /// The run could not finish: the Wallet or the database could not be read (exit 2).
    Unfinished,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Clean => 0,
            Verdict::Drift => 1,
            Verdict::Unfinished => 2,
        }
    }
}

/// What to reconcile and how to report it.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub scope: EscrowScope,
    /// One JSON object a line instead of text.
    pub json: bool,
    /// Wallet calls in flight at most.
    pub concurrency: usize,
}

/// `--since`: a time (RFC 3339) or how long ago (`24h`, `7d`).
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let ago = humantime::parse_duration(value).map_err(|_| {
        format!("--since {value:?}: give a time (2026-12-01T00:00:00Z) or how long ago (24h, 7d)")
    })?;
    chrono::TimeDelta::from_std(ago)
        .ok()
        .and_then(|ago| now.checked_sub_signed(ago))
        .ok_or_else(|| format!("--since {value:?} is too long ago"))
}

/// The scope the command line asks for.
pub fn scope(since: Option<DateTime<Utc>>, order: Option<OrderId>) -> EscrowScope {
    match (order, since) {
        (Some(order), _) => EscrowScope::Order(order),
        (None, Some(since)) => EscrowScope::ChangedSince(since),
        (None, None) => EscrowScope::All,
    }
}

/// The use cases wired for a reconciliation: the database, and the Wallet behind its
/// breaker with room for `concurrency` calls.
pub fn service(config: &Config, concurrency: usize) -> Result<OrderService, String> {
    let pool = build_pool(&PoolConfig::new(config.database_url.clone()))
        .map_err(|error| format!("database: {error}"))?;
    let clock = Arc::new(SystemClock);
    let wallet =
        HttpWallet::new(config.wallet.clone()).map_err(|error| format!("WALLET_URL: {error}"))?;
    let listings = HttpListings::new(config.listing.clone())
        .map_err(|error| format!("LISTING_URL: {error}"))?;
    let guard = GuardSettings {
        max_concurrent_calls: concurrency.max(config.wallet_guard.max_concurrent_calls),
        ..config.wallet_guard
    };
    let ports = Ports {
        store: Arc::new(PgStore::new(pool)),
        wallet: Arc::new(GuardedWallet::new(Arc::new(wallet), clock.clone(), guard)),
        listings: Arc::new(listings),
        clock,
        ids: Arc::new(UuidV7Ids),
    };
    Ok(OrderService::new(ports, Settings::default()))
}

/// Runs the reconciliation, writing findings and the summary to `out` and progress to a
/// terminal's stderr.
pub async fn run(
    service: &OrderService,
    options: Options,
    out: &mut (dyn Write + Send),
) -> Verdict {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} orders checked ({per_sec}), {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut report = Report {
        out,
        json: options.json,
        bar: bar.clone(),
        drift: 0,
    };
    let outcome = service
        .reconcile(options.scope, options.concurrency, &mut report)
        .await;
    bar.finish_and_clear();
    match outcome {
        Ok(summary) => {
            report.summary(&summary, None);
            if summary.is_clean() {
                Verdict::Clean
            } else {
                Verdict::Drift
            }
        }
        Err(error) => {
            report.summary(&ReconcileSummary::default(), Some(&error));
            Verdict::Unfinished
        }
    }
}

/// Writes what the reconciliation finds as it goes.
struct Report<'a> {
    out: &'a mut (dyn Write + Send),
    json: bool,
    bar: ProgressBar,
    drift: u64,
}

impl Report<'_> {
    fn line(&mut self, text: &str) {
        let out = &mut self.out;
        // A closed pipe (`| head`) ends the output, not the run.
        self.bar.suspend(|| {
            let _ = writeln!(out, "{text}");
        });
    }

    fn summary(&mut self, summary: &ReconcileSummary, failure: Option<&ReconcileError>) {
        if self.json {
            let mut body = serde_json::json!({"summary": summary});
            body["summary"]["clean"] = serde_json::json!(failure.is_none() && summary.is_clean());
            if let Some(error) = failure {
                body["summary"]["error"] = serde_json::json!(error.to_string());
            }
            self.line(&body.to_string());
            return;
        }
        if let Some(error) = failure {
            self.line(&format!("not finished: {error}"));
            self.line("no clean bill: the books were not compared to the end");
            return;
        }
        let mut text = format!(
            "checked {} orders: {} agree, {} in flight, {} drift",
            summary.checked, summary.agreeing, summary.in_flight, summary.drifting
        );
        for kind in DriftKind::ALL {
            let count = summary.drift.get(&kind).copied().unwrap_or_default();
            text.push_str(&format!("\n  {kind}: {count}"));
        }
        self.line(&text);
    }
}

impl ReconcileProgress for Report<'_> {
    fn finding(&mut self, finding: &Finding) {
        if matches!(finding.kind, FindingKind::Drift(_)) {
            self.drift += 1;
            self.bar.set_message(format!("{} drift", self.drift));
        }
        let text = if self.json {
            serde_json::to_string(finding).unwrap_or_default()
        } else {
            finding.to_string()
        };
        self.line(&text);
    }

    fn checked(&mut self, count: u64) {
        self.bar.set_position(count);
    }
}
