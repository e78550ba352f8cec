//! The outbox relay: publishes what the use cases wrote to the outbox, at least once, in
//! order for each order, retrying failures with backoff and parking what keeps failing.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use order_ports::{Clock, EventPublisher, Outbox};

use crate::AppError;

/// How the relay treats failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelaySettings {
    /// Rows claimed per step.
    pub batch_size: usize,
    /// Failed publications after which a row is parked.
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles with each further failure…
    pub backoff: Duration,
    /// …up to this.
    pub max_backoff: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            batch_size: 100,
            max_attempts: 10,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// What relay steps did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayReport {
    pub published: usize,
    /// Failed, to be retried later.
    pub failed: usize,
    /// Failed once too often, parked.
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

#[derive(Clone)]
pub struct OutboxRelay {
    outbox: Arc<dyn Outbox>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    settings: RelaySettings,
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
        }
    }

    /// Claims one batch of due rows, publishes it and records the outcome, in one
    /// transaction: rows stay locked while they are published, so another relay never
    /// publishes them at the same time.
    pub async fn step(&self) -> Result<RelayReport, AppError> {
        let now = self.clock.now();
        let mut batch = self.outbox.begin_batch().await?;
        let pending = batch.claim(self.settings.batch_size, now).await?;
        if pending.is_empty() {
            return Ok(RelayReport::default());
        }
        let messages = pending.iter().map(|p| p.message.clone()).collect();
        let mut results = self.publisher.publish(messages).await.into_iter();
        let mut report = RelayReport::default();
        let mut published = Vec::with_capacity(pending.len());
        for event in &pending {
            let outcome = results
                .next()
                .unwrap_or_else(|| Err("the publisher gave no result for this event".into()));
            match outcome {
                Ok(()) => published.push(event.seq),
                Err(error) => {
                    let attempts = event.attempts + 1;
                    let retry_at = (attempts < self.settings.max_attempts)
                        .then(|| now + self.backoff(attempts));
                    if retry_at.is_some() {
                        report.failed += 1;
                    } else {
                        report.parked += 1;
                        tracing::error!(event_id = %event.message.event_id, %error, attempts, "event parked");
                    }
                    tracing::warn!(event_id = %event.message.event_id, %error, attempts, "publication failed");
                    batch.mark_failed(event.seq, error, retry_at, now).await?;
                }
            }
        }
        report.published = published.len();
        batch.mark_published(published, now).await?;
        batch.commit().await?;
        Ok(report)
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

    fn backoff(&self, attempts: u32) -> TimeDelta {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        let wait = self
            .settings
            .backoff
            .saturating_mul(factor)
            .min(self.settings.max_backoff);
        TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX)
    }
}
