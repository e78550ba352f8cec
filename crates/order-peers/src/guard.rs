//! A bulkhead around the Wallet: a circuit breaker and a cap on concurrent calls, so that
//! a Wallet that is down or slow is failed fast instead of being waited on by every request.
//!
//! The breaker is a small state machine on the service's [`Clock`] port rather than a crate
//! such as `failsafe`, whose time source cannot be replaced: this one is tested on a fake
//! clock, and its thresholds are the service's settings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use order_domain::reconcile::EscrowRecord;
use order_domain::EscrowId;
use order_ports::{Clock, HoldEscrow, RefundEscrow, ReleaseEscrow, Wallet, WalletError};
use tokio::sync::Semaphore;

/// When the breaker opens and how calls are capped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardSettings {
    /// Consecutive unavailable answers after which the breaker opens.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before letting one probe through.
    pub cooldown: Duration,
    /// Wallet calls in flight at most; one more is refused at once.
    pub max_concurrent_calls: usize,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            failure_threshold: 5,
            cooldown: Duration::from_secs(10),
            max_concurrent_calls: 32,
        }
    }
}

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` consecutive ones have been unavailable.
    Closed { failures: u32 },
    /// Calls are refused until `until`.
    Open { until: DateTime<Utc> },
    /// One call is probing whether the Wallet is back; the others are refused meanwhile.
    HalfOpen,
}

impl BreakerState {
    /// For metrics: 0 closed, 1 open, 2 half-open.
    pub fn code(&self) -> i64 {
        match self {
            BreakerState::Closed { .. } => 0,
            BreakerState::Open { .. } => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// The circuit breaker's rules, apart from any I/O.
#[derive(Clone, Debug)]
pub struct Breaker {
    state: BreakerState,
    threshold: u32,
    cooldown: TimeDelta,
}

/// Why a call was not let through, and when to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            state: BreakerState::Closed { failures: 0 },
            threshold: threshold.max(1),
            cooldown: TimeDelta::from_std(cooldown).unwrap_or(TimeDelta::MAX),
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a call may go out at `now`. An open breaker whose cool-down is over lets
    /// this one call through as the probe.
    pub fn admit(&mut self, now: DateTime<Utc>) -> Result<(), Refused> {
        match self.state {
            BreakerState::Closed { .. } => Ok(()),
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                Ok(())
            }
            BreakerState::Open { until } => Err(Refused {
                retry_after: (until - now).to_std().unwrap_or_default(),
            }),
            // The probe's outcome is due within one call's time; check back after a second.
            BreakerState::HalfOpen => Err(Refused {
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// Records how an admitted call ended: `available` unless the Wallet could not be
    /// reached, timed out or answered 5xx (a refusal or a decline is an answer).
    pub fn record(&mut self, available: bool, now: DateTime<Utc>) {
        self.state = match (self.state, available) {
            (_, true) => BreakerState::Closed { failures: 0 },
            (BreakerState::Closed { failures }, false) if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => BreakerState::Open {
                until: now + self.cooldown,
            },
        };
    }
}

/// What the guard shows in `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardSnapshot {
    pub state: BreakerState,
    pub in_flight: usize,
}

/// A [`Wallet`] behind a circuit breaker and a concurrency cap. Refused calls fail with
/// [`WalletError::Shed`] without reaching the Wallet.
pub struct GuardedWallet {
    inner: Arc<dyn Wallet>,
    clock: Arc<dyn Clock>,
    breaker: Mutex<Breaker>,
    /// One permit per call in flight; none left means the cap is reached.
    permits: Semaphore,
    max_concurrent_calls: usize,
}

impl GuardedWallet {
    pub fn new(inner: Arc<dyn Wallet>, clock: Arc<dyn Clock>, settings: GuardSettings) -> Self {
        GuardedWallet {
            inner,
            clock,
            breaker: Mutex::new(Breaker::new(settings.failure_threshold, settings.cooldown)),
            permits: Semaphore::new(settings.max_concurrent_calls),
            max_concurrent_calls: settings.max_concurrent_calls,
        }
    }

    pub fn snapshot(&self) -> GuardSnapshot {
        GuardSnapshot {
            state: self.breaker().state(),
            in_flight: self.max_concurrent_calls - self.permits.available_permits(),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn guarded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, WalletError>>,
    ) -> Result<T, WalletError> {
        let Ok(_permit) = self.permits.try_acquire() else {
            return Err(WalletError::Shed {
                reason: format!(
                    "{} wallet calls are already in flight",
                    self.max_concurrent_calls
                ),
                retry_after: Duration::from_secs(1),
            });
        };
        if let Err(refused) = self.breaker().admit(self.clock.now()) {
            return Err(WalletError::Shed {
                reason: "the wallet's circuit breaker is open".into(),
                retry_after: refused.retry_after,
            });
        }
        let result = call.await;
        let available = !matches!(result, Err(WalletError::Unavailable(_)));
        self.breaker().record(available, self.clock.now());
        result
    }
}

#[async_trait]
impl Wallet for GuardedWallet {
    async fn hold_escrow(&self, request: HoldEscrow) -> Result<EscrowId, WalletError> {
        self.guarded(self.inner.hold_escrow(request)).await
    }

    async fn release_escrow(&self, request: ReleaseEscrow) -> Result<(), WalletError> {
        self.guarded(self.inner.release_escrow(request)).await
    }

    async fn refund_escrow(&self, request: RefundEscrow) -> Result<(), WalletError> {
        self.guarded(self.inner.refund_escrow(request)).await
    }

    async fn escrow(&self, id: EscrowId) -> Result<Option<EscrowRecord>, WalletError> {
        self.guarded(self.inner.escrow(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn breaker() -> Breaker {
        Breaker::new(3, Duration::from_secs(10))
    }

    fn fail(breaker: &mut Breaker, times: u32, at: DateTime<Utc>) {
        for _ in 0..times {
            breaker.admit(at).unwrap();
            breaker.record(false, at);
        }
    }

    #[test]
    fn a_closed_breaker_admits_calls_below_the_threshold() {
        let mut breaker = breaker();
        fail(&mut breaker, 2, t(0));
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 2 });
        assert_eq!(breaker.admit(t(0)), Ok(()));
    }

    #[test]
    fn consecutive_failures_up_to_the_threshold_open_it_for_the_cooldown() {
        let mut breaker = breaker();
        fail(&mut breaker, 3, t(0));
        assert_eq!(breaker.state(), BreakerState::Open { until: t(10) });
        assert_eq!(
            breaker.admit(t(4)),
            Err(Refused {
                retry_after: Duration::from_secs(6)
            })
        );
    }

    #[test]
    fn a_success_resets_the_count_of_failures() {
        let mut breaker = breaker();
        fail(&mut breaker, 2, t(0));
        breaker.record(true, t(1));
        fail(&mut breaker, 2, t(2));
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 2 });
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_through_and_the_others_wait() {
        let mut breaker = breaker();
        fail(&mut breaker, 3, t(0));
        assert_eq!(breaker.admit(t(10)), Ok(()));
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit(t(10)).is_err());
    }

    #[test]
    fn a_successful_probe_closes_it() {
        let mut breaker = breaker();
        fail(&mut breaker, 3, t(0));
        breaker.admit(t(11)).unwrap();
        breaker.record(true, t(11));
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
        assert_eq!(breaker.admit(t(11)), Ok(()));
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_cooldown() {
        let mut breaker = breaker();
        fail(&mut breaker, 3, t(0));
        breaker.admit(t(12)).unwrap();
        breaker.record(false, t(12));
        assert_eq!(breaker.state(), BreakerState::Open { until: t(22) });
    }
}
