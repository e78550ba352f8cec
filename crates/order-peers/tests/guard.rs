//! The Wallet guard on a fake clock: failures open the breaker, which then answers at
//! once without calling the Wallet, probes once after the cool-down, and closes again.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use order_domain::fixtures::*;
use order_domain::reconcile::EscrowRecord;
use order_domain::EscrowId;
use order_peers::{BreakerState, GuardSettings, GuardedWallet};
use order_ports::{Clock, HoldEscrow, RefundEscrow, ReleaseEscrow, Wallet, WalletError};

/// A clock that moves only when told.
struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A Wallet for the guard to stand in front of: it counts the holds that reach it, fails
/// them while `down`, and, when `gate` is set, answers each only once it gets a permit
/// (so that a test can keep calls in flight).
#[derive(Default)]
struct TestWallet {
    down: std::sync::atomic::AtomicBool,
    calls: AtomicU32,
    gate: Option<tokio::sync::Semaphore>,
}

#[async_trait]
impl Wallet for TestWallet {
    async fn hold_escrow(&self, _: HoldEscrow) -> Result<EscrowId, WalletError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _pass = gate.acquire().await.unwrap();
        }
        if self.down.load(Ordering::SeqCst) {
            Err(WalletError::Unavailable("connection refused".into()))
        } else {
            Ok(escrow())
        }
    }

    async fn release_escrow(&self, _: ReleaseEscrow) -> Result<(), WalletError> {
        unreachable!()
    }

    async fn refund_escrow(&self, _: RefundEscrow) -> Result<(), WalletError> {
        unreachable!()
    }

    async fn escrow(&self, _: EscrowId) -> Result<Option<EscrowRecord>, WalletError> {
        unreachable!()
    }
}

fn hold() -> HoldEscrow {
    HoldEscrow {
        order_id: placed().id,
        buyer_id: buyer(),
        amount: money("135.00"),
        idempotency_key: "order-1-hold".into(),
    }
}

#[tokio::test]
async fn the_breaker_opens_sheds_probes_after_the_cooldown_and_closes() {
    let clock = Arc::new(FakeClock(Mutex::new(t0())));
    let wallet = Arc::new(TestWallet::default());
    wallet.down.store(true, Ordering::SeqCst);
    let guard = GuardedWallet::new(
        wallet.clone(),
        clock.clone(),
        GuardSettings {
            failure_threshold: 3,
            cooldown: Duration::from_secs(10),
            max_concurrent_calls: 8,
        },
    );
    for _ in 0..3 {
        assert!(matches!(
            guard.hold_escrow(hold()).await,
            Err(WalletError::Unavailable(_))
        ));
    }
    assert!(matches!(guard.snapshot().state, BreakerState::Open { .. }));

    clock.advance(TimeDelta::seconds(4));
    let shed = guard.hold_escrow(hold()).await;
    assert_eq!(
        shed,
        Err(WalletError::Shed {
            reason: "the wallet's circuit breaker is open".into(),
            retry_after: Duration::from_secs(6),
        })
    );
    assert_eq!(
        wallet.calls.load(Ordering::SeqCst),
        3,
        "shed calls never reach it"
    );

    wallet.down.store(false, Ordering::SeqCst);
    clock.advance(TimeDelta::seconds(6));
    assert_eq!(guard.hold_escrow(hold()).await, Ok(escrow()), "the probe");
    assert_eq!(guard.snapshot().state, BreakerState::Closed { failures: 0 });
    assert_eq!(guard.hold_escrow(hold()).await, Ok(escrow()));
    assert_eq!(wallet.calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_call_past_the_cap_is_shed_at_once() {
    let wallet = Arc::new(TestWallet {
        gate: Some(tokio::sync::Semaphore::new(0)),
        ..TestWallet::default()
    });
    let guard = Arc::new(GuardedWallet::new(
        wallet.clone(),
        Arc::new(FakeClock(Mutex::new(t0()))),
        GuardSettings {
            max_concurrent_calls: 2,
            ..GuardSettings::default()
        },
    ));
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let guard = guard.clone();
            tokio::spawn(async move { guard.hold_escrow(hold()).await })
        })
        .collect();
    while guard.snapshot().in_flight < 2 {
        tokio::task::yield_now().await;
    }
    assert!(matches!(
        guard.hold_escrow(hold()).await,
        Err(WalletError::Shed { .. })
    ));
    wallet.gate.as_ref().unwrap().add_permits(2);
    for call in waiting {
        assert_eq!(call.await.unwrap(), Ok(escrow()));
    }
    assert_eq!(guard.snapshot().in_flight, 0);
    assert_eq!(guard.snapshot().state, BreakerState::Closed { failures: 0 });
}
