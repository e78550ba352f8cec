//! The outbox relay: publishes what the use cases wrote to the outbox, at least once, in
//! order for each order. While the bus is unavailable, events wait — however long it takes
//! — and the relay only probes it now and then; an event the bus refuses for good is
//! parked, and holds back its order's later events until an operator requeues it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use order_ports::{Clock, EventPublisher, Outbox, PublishError, PublishFailure};
use tracing::Instrument;

use crate::AppError;

/// How the relay treats failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelaySettings {
    /// Rows claimed per step.
    pub batch_size: usize,
    /// Refusals by the bus after which a row is parked. An unavailable bus never counts.
    pub max_attempts: u32,
    /// The wait before the first retry of a refused row, and between the first probes of
    /// an unavailable bus; it doubles with each further failure…
    pub backoff: Duration,
    /// …up to this for a refused row…
    pub max_backoff: Duration,
    /// …and up to this between two probes of an unavailable bus.
    pub max_probe_interval: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            batch_size: 100,
            max_attempts: 10,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            max_probe_interval: Duration::from_secs(30),
        }
    }
}

/// What relay steps did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayReport {
    pub published: usize,
    /// Failed, to be retried later.
    pub failed: usize,
    /// Refused by the bus once too often, parked.
    pub parked: usize,
}

impl RelayReport {
    fn add(&mut self, other: RelayReport) {
        self.published += other.published;
        self.failed += other.failed;
        self.parked += other.parked;
    }

    fn is_idle(&self) -> bool {
        *self == RelayReport::default()
    }
}

/// Whether the bus answered the last call, as this relay saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BusState {
    #[default]
    Available,
    /// Unavailable since `since`, after `failures` failed calls in a row; the next call,
    /// a probe of one event, is due at `next_probe`.
    Unavailable {
        since: DateTime<Utc>,
        failures: u32,
        next_probe: DateTime<Utc>,
    },
}

#[derive(Clone)]
pub struct OutboxRelay {
    outbox: Arc<dyn Outbox>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    settings: RelaySettings,
    /// Shared by the clones of this relay, so that one replica probes an unavailable bus
    /// once per interval instead of every poll.
    bus: Arc<Mutex<BusState>>,
}

impl OutboxRelay {
    pub fn new(
        outbox: Arc<dyn Outbox>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        settings: RelaySettings,
    ) -> OutboxRelay {
        OutboxRelay {
            outbox,
            publisher,
            clock,
            settings,
            bus: Arc::default(),
        }
    }

    /// The bus as this relay last found it.
    pub fn bus_state(&self) -> BusState {
        *self
            .bus
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims one batch of due rows, publishes it and records the outcome, in one
    /// transaction: rows stay locked while they are published, so another relay never
    /// publishes them at the same time. While the bus is unavailable, a step does nothing
    /// until the next probe is due, and the probe is one event.
    pub async fn step(&self) -> Result<RelayReport, AppError> {
        let now = self.clock.now();
        let limit = match self.bus_state() {
            BusState::Available => self.settings.batch_size,
            BusState::Unavailable { next_probe, .. } if now < next_probe => {
                return Ok(RelayReport::default())
            }
            BusState::Unavailable { .. } => 1,
        };
        let mut batch = self.outbox.begin_batch().await?;
        let pending = batch.claim(limit, now).await?;
        if pending.is_empty() {
            return Ok(RelayReport::default());
        }
        // The publication is a span of its own, linked to the request that wrote each
        // event (each in its trace, which the event's consumers continue).
        let span = tracing::debug_span!(
            "relay publish",
            otel.kind = "producer",
            messaging.system = "aws_eventbridge",
            messaging.batch.message_count = pending.len(),
        );
        if let Some(exporter) = order_ports::trace::exporter() {
            for trace in pending.iter().filter_map(|p| p.message.trace) {
                exporter.link(&span, trace);
            }
        }
        let messages = pending.iter().map(|p| p.message.clone()).collect();
        let results: Vec<_> = self.publisher.publish(messages).instrument(span).await;
        self.note_bus(&results, now);
        let mut results = results.into_iter();
        let mut report = RelayReport::default();
        let mut published = Vec::with_capacity(pending.len());
        for event in &pending {
            let outcome = results.next().unwrap_or_else(|| {
                Err(PublishError::Unavailable(
                    "the publisher gave no result for this event".into(),
                ))
            });
            let event_id = event.message.event_id;
            let (error, refused, retry_at) = match outcome {
                Ok(()) => {
                    published.push(event.seq);
                    continue;
                }
                // Due again at once: the relay's own probing paces the retries.
                Err(PublishError::Unavailable(error)) => (error, false, Some(now)),
                Err(PublishError::Refused(error)) => {
                    let refusals = event.refusals + 1;
                    let retry_at = (refusals < self.settings.max_attempts)
                        .then(|| now + self.refusal_backoff(refusals));
                    if retry_at.is_none() {
                        tracing::error!(%event_id, order_id = %event.message.order_id, %error, refusals,
                            "event parked: the bus refuses it; its order's later events wait until it is requeued");
                    }
                    (error, true, retry_at)
                }
            };
            if retry_at.is_some() {
                report.failed += 1;
                tracing::warn!(%event_id, %error, attempts = event.attempts + 1, "publication failed");
            } else {
                report.parked += 1;
            }
            batch
                .mark_failed(
                    event.seq,
                    PublishFailure {
                        error,
                        refused,
                        retry_at,
                    },
                    now,
                )
                .await?;
        }
        report.published = published.len();
        batch.mark_published(published, now).await?;
        batch.commit().await?;
        Ok(report)
    }

    /// Updates the bus state from a call's results: unavailable when every entry failed
    /// for want of the bus, available as soon as anything went out.
    fn note_bus(&self, results: &[Result<(), PublishError>], now: DateTime<Utc>) {
        let down = !results.is_empty()
            && results
                .iter()
                .all(|r| matches!(r, Err(PublishError::Unavailable(_))));
        let mut bus = self
            .bus
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *bus = match (*bus, down) {
            (BusState::Available, false) => BusState::Available,
            (BusState::Unavailable { since, .. }, false) => {
                tracing::info!(%since, "the event bus is available again");
                BusState::Available
            }
            (state, true) => {
                let (since, failures) = match state {
                    BusState::Available => (now, 1),
                    BusState::Unavailable {
                        since, failures, ..
                    } => (since, failures + 1),
                };
                let wait = self.doubling(self.settings.max_probe_interval, failures);
                if failures == 1 {
                    tracing::warn!(probe_every_at_most = ?self.settings.max_probe_interval,
                        "the event bus is unavailable: events wait in the outbox; probing it");
                }
                BusState::Unavailable {
                    since,
                    failures,
                    next_probe: now + wait,
                }
            }
        };
    }

    /// Steps until nothing more is due (at most `max_steps`): an order's next event becomes
    /// claimable only once the one before it is published, so a burst takes a few steps.
    pub async fn drain(&self, max_steps: usize) -> Result<RelayReport, AppError> {
        let mut total = RelayReport::default();
        for _ in 0..max_steps {
            let step = self.step().await?;
            total.add(step);
            if step.is_idle() || step.published == 0 {
                break;
            }
        }
        Ok(total)
    }

    fn refusal_backoff(&self, refusals: u32) -> TimeDelta {
        self.doubling(self.settings.max_backoff, refusals)
    }

    /// `backoff × 2^(n − 1)`, at most `cap`.
    fn doubling(&self, cap: Duration, n: u32) -> TimeDelta {
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        let wait = self.settings.backoff.saturating_mul(factor).min(cap);
        TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX)
    }
}
