//! The background workers every replica runs: the outbox relay, auto-completion, the
//! deadlines (with the finishing of escrow intents whose requester went silent), the
//! erasure of personal data, the expiry of idempotency keys, and (when configured) the
//! reconciliation with the Wallet.
//! They coordinate through the database (`SKIP LOCKED`, or a claimed round in
//! `worker_runs`), never through memory, so any number of replicas may run them at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use order_app::{
    AppError, BusState, Finding, FindingKind, OrderService, OutboxRelay, ReconcileProgress,
    ReconcileSummary,
};
use order_domain::reconcile::DriftKind;
use order_ports::store::EscrowScope;
use order_ports::Clock;
use order_postgres::{IdempotencyKeys, WorkerRuns};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::{DeadlineLabels, DriftLabels, Metrics, Sweeper};
use crate::personal_data::Erasure;

/// How often each worker wakes up.
#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    pub outbox_poll_interval: Duration,
    pub auto_complete_interval: Duration,
    /// Orders completed per sweep at most; the next sweep takes the rest.
    pub auto_complete_batch: usize,
    pub key_expiry_interval: Duration,
    /// How often the deadlines are enforced and escrow intents whose requester went silent
    /// are finished.
    pub deadline_interval: Duration,
    /// Rows a transaction of that sweep takes at most.
    pub deadline_batch: usize,
    /// How often the orders changed in the last two intervals are reconciled with the
    /// Wallet, by one replica a round; `None`: never.
    pub reconcile_interval: Option<Duration>,
    /// How often ended orders past `personal_data_retention`, and those whose erasure a
    /// party asked for, are erased.
    pub erasure_interval: Duration,
    pub personal_data_retention: Duration,
    /// Orders a transaction of that sweep erases at most.
    pub erasure_batch: usize,
}

/// What the workers need.
#[derive(Clone)]
pub struct WorkerContext {
    pub service: OrderService,
    pub relay: OutboxRelay,
    pub idempotency: IdempotencyKeys,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub runs: WorkerRuns,
}

impl WorkerContext {
    /// Personal data's erasure, through this context's stores.
    pub fn erasure(&self) -> Erasure<'_> {
        Erasure {
            service: &self.service,
            idempotency: &self.idempotency,
        }
    }
}

/// Running workers; [`Workers::stop`] ends them between two rounds of work.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub fn spawn(context: WorkerContext, settings: WorkerSettings) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let relay = {
            let context = context.clone();
            every(settings.outbox_poll_interval, stopped.clone(), move || {
                let context = context.clone();
                async move { relay_round(&context).await }
            })
        };
        let auto_complete = {
            let context = context.clone();
            let batch = settings.auto_complete_batch;
            every(
                settings.auto_complete_interval,
                stopped.clone(),
                move || {
                    let context = context.clone();
                    async move {
                        let outcome = auto_complete_round(&context, batch).await;
                        warn_on(outcome, "auto-completion sweep failed");
                    }
                },
            )
        };
        let deadlines = {
            let context = context.clone();
            let batch = settings.deadline_batch;
            every(settings.deadline_interval, stopped.clone(), move || {
                let context = context.clone();
                async move {
                    let outcome = deadline_round(&context, batch).await;
                    warn_on(outcome, "deadline sweep failed");
                    let outcome = intent_round(&context, batch).await;
                    warn_on(outcome, "escrow intent sweep failed");
                }
            })
        };
        let mut handles = Vec::new();
        if let Some(interval) = settings.reconcile_interval {
            let context = context.clone();
            handles.push(every(interval, stopped.clone(), move || {
                let context = context.clone();
                async move { reconcile_round(&context, interval).await }
            }));
        }
        let erasure = {
            let context = context.clone();
            let stopped_now = stopped.clone();
            every(settings.erasure_interval, stopped.clone(), move || {
                let context = context.clone();
                let stopped = stopped_now.clone();
                async move { erasure_round(&context, settings, &stopped).await }
            })
        };
        let expiry = every(settings.key_expiry_interval, stopped, move || {
            let context = context.clone();
            async move {
                if let Err(error) = context.idempotency.purge_expired(context.clock.now()).await {
                    tracing::warn!(%error, "idempotency key expiry failed");
                }
                if let Err(error) = context.service.forget_old_carrier_events().await {
                    tracing::warn!(%error, "carrier update expiry failed");
                }
            }
        });
        handles.extend([relay, auto_complete, deadlines, erasure, expiry]);
        Workers { stop, handles }
    }

    /// Asks the workers to stop and waits up to `grace` for the round in progress.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            if tokio::time::timeout(grace, handle).await.is_err() {
                tracing::warn!("a worker did not stop in time");
            }
        }
    }
}

/// Logs a round's failure as `failure`; the next round tries again.
fn warn_on(outcome: Result<(), AppError>, failure: &str) {
    if let Err(error) = outcome {
        tracing::warn!(%error, "{failure}");
    }
}

/// Publishes what the outbox holds, and positions new events in the replay feed.
async fn relay_round(context: &WorkerContext) {
    let outcome = context.relay.drain(100).await;
    let metrics = &context.metrics;
    let available = context.relay.bus_state() == BusState::Available;
    metrics.outbox_bus_available.set(i64::from(available));
    match outcome {
        Ok(report) => {
            metrics.outbox_published.inc_by(report.published as u64);
            metrics.outbox_failures.inc_by(report.failed as u64);
            metrics.outbox_parked_events.inc_by(report.parked as u64);
        }
        Err(error) => tracing::warn!(%error, "outbox relay step failed"),
    }
    if let Err(error) = context.service.position_feed().await {
        tracing::warn!(%error, "the replay feed's sequencer failed");
    }
}

/// Completes up to `batch` orders whose auto-completion is due.
async fn auto_complete_round(context: &WorkerContext, batch: usize) -> Result<(), AppError> {
    let sweep = context.service.complete_due(batch).await?;
    let metrics = &context.metrics;
    metrics.refused(Sweeper::AutoCompletion, sweep.refused.len());
    metrics.auto_completed.inc_by(sweep.completed.len() as u64);
    metrics
        .auto_complete_failures
        .inc_by(sweep.failed.len() as u64);
    if !sweep.completed.is_empty() {
        tracing::info!(completed = sweep.completed.len(), "orders auto-completed");
    }
    Ok(())
}

/// Expires unpaid orders, flags overdue shipments and escalates unanswered disputes.
async fn deadline_round(context: &WorkerContext, batch: usize) -> Result<(), AppError> {
    let sweep = context.service.enforce_deadlines(batch).await?;
    context.metrics.refused(Sweeper::Deadlines, sweep.refused);
    for (effect, count) in [
        ("payment_expired", sweep.payments_expired.len()),
        ("ship_overdue", sweep.ship_overdue.len()),
        ("dispute_escalated", sweep.disputes_escalated.len()),
    ] {
        context
            .metrics
            .deadline_effects
            .get_or_create(&DeadlineLabels { effect })
            .inc_by(count as u64);
    }
    if !sweep.is_empty() {
        tracing::info!(
            payments_expired = sweep.payments_expired.len(),
            ship_overdue = sweep.ship_overdue.len(),
            disputes_escalated = sweep.disputes_escalated.len(),
            "deadlines enforced"
        );
    }
    Ok(())
}

/// Finishes the escrow intents whose requester went silent.
async fn intent_round(context: &WorkerContext, batch: usize) -> Result<(), AppError> {
    let sweep = context.service.resume_intents(batch).await?;
    let metrics = &context.metrics;
    metrics.refused(Sweeper::Intents, sweep.refused.len());
    metrics.intents_resumed.inc_by(sweep.applied.len() as u64);
    metrics
        .intents_abandoned
        .inc_by(sweep.abandoned.len() as u64);
    if !sweep.applied.is_empty() || !sweep.postponed.is_empty() {
        tracing::info!(
            finished = sweep.applied.len(),
            postponed = sweep.postponed.len(),
            "escrow intents resumed"
        );
    }
    Ok(())
}

/// Erases until nothing is left due (or the workers are stopped), a batch a transaction, so
/// that a backlog — the first run past the retention, a large seller's request — drains in
/// one round rather than a batch a round. Between two batches it rests as long as the last
/// one took: an erasure has days to happen, and the requests sharing the database and the
/// cores keep at least half of this worker's share.
async fn erasure_round(
    context: &WorkerContext,
    settings: WorkerSettings,
    stopped: &watch::Receiver<bool>,
) {
    let retention = TimeDelta::from_std(settings.personal_data_retention).unwrap_or(TimeDelta::MAX);
    let batch = settings.erasure_batch;
    while !*stopped.borrow() {
        let started = std::time::Instant::now();
        match context.erasure().due(retention, batch).await {
            Ok(round) => {
                let erased = round.erased.len();
                context.metrics.personal_data_erased.inc_by(erased as u64);
                context.metrics.refused(Sweeper::Erasure, round.refused);
                if erased > 0 || round.ends_recorded > 0 {
                    tracing::info!(
                        erased,
                        ends_recorded = round.ends_recorded,
                        "personal data erased"
                    );
                }
                if erased < batch && round.ends_recorded < batch as u64 {
                    break;
                }
                tokio::time::sleep(started.elapsed()).await;
            }
            Err(error) => {
                context.metrics.personal_data_erasure_failures.inc();
                tracing::warn!(%error, "personal data erasure failed");
                break;
            }
        }
    }
}

/// The reconciliation's row in `worker_runs`.
const RECONCILE: &str = "reconcile";

/// Wallet calls the reconciliation worker makes at once: a few, so that the requests'
/// own calls keep the room the Wallet guard gives them.
const RECONCILE_CONCURRENCY: usize = 4;

/// One replica a round reconciles the orders changed in the last two intervals (so that a
/// round that ran late leaves none out); every replica then exports the last round's
/// result, whichever ran it.
async fn reconcile_round(context: &WorkerContext, interval: Duration) {
    let now = context.clock.now();
    let interval = TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX);
    let next_at = now.checked_add_signed(interval).unwrap_or(now);
    match context.runs.claim(RECONCILE, now, next_at).await {
        Ok(true) => {
            let since = now.checked_sub_signed(interval * 2).unwrap_or(now);
            let outcome = context
                .service
                .reconcile(
                    EscrowScope::ChangedSince(since),
                    RECONCILE_CONCURRENCY,
                    &mut LoggedFindings,
                )
                .await;
            match outcome {
                Ok(summary) => {
                    if !summary.is_clean() {
                        tracing::error!(
                            drifting = summary.drifting,
                            "orders disagree with their Wallet escrows"
                        );
                    }
                    let report = serde_json::to_value(&summary).unwrap_or_default();
                    let finished = context.runs.finish(RECONCILE, context.clock.now(), &report);
                    if let Err(error) = finished.await {
                        tracing::warn!(%error, "the reconciliation's result was not recorded");
                    }
                }
                Err(error) => {
                    context.metrics.reconcile_failures.inc();
                    tracing::warn!(%error, "reconciliation not finished");
                }
            }
        }
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "reconciliation round not claimed"),
    }
    match context.runs.last(RECONCILE).await {
        Ok(Some(last)) => {
            let Ok(summary) = serde_json::from_value::<ReconcileSummary>(last.report) else {
                return;
            };
            let metrics = &context.metrics;
            for kind in DriftKind::ALL {
                let count = summary.drift.get(&kind).copied().unwrap_or_default();
                metrics
                    .reconcile_drift
                    .get_or_create(&DriftLabels {
                        kind: kind.as_str(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            metrics
                .reconcile_in_flight
                .set(i64::try_from(summary.in_flight).unwrap_or(i64::MAX));
            metrics.reconcile_last_run.set(last.finished_at.timestamp());
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "the last reconciliation could not be read"),
    }
}

/// Each drift found, in the log with its order and escrow.
struct LoggedFindings;

impl ReconcileProgress for LoggedFindings {
    fn finding(&mut self, finding: &Finding) {
        match finding.kind {
            FindingKind::Drift(kind) => tracing::error!(
                order_id = %finding.order_id,
                escrow_id = %finding.escrow_id,
                %kind,
                expected = %finding.expected,
                found = %finding.found,
                "order and escrow disagree"
            ),
            FindingKind::InFlight => {}
        }
    }

    fn checked(&mut self, _count: u64) {}
}

/// Runs `work` every `interval` until told to stop; a round in progress is finished.
fn every<F, Fut>(
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
    mut work: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = tokio::time::sleep(interval) => work().await,
            }
        }
    })
}
