//! The stand-ins' memory: listings, balances, escrows, the ledger and pending faults.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use order_domain::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::fault::{Fault, FaultMode, FaultTarget};

/// A listing as the Listing service describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StubListing {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub title: String,
    pub status: String,
    pub buy_now_price: Option<Money>,
    pub shipping_cost: Money,
}

/// Money put into a user's wallet from outside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedWallet {
    pub user_id: Uuid,
    pub amount: Money,
}

/// An escrow the Wallet already holds or paid out, as a large seeded world needs it (the
/// reconciliation's benchmark): it moves no balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedEscrow {
    pub escrow_id: Uuid,
    pub order_id: Uuid,
    pub buyer_id: Uuid,
    pub amount: Money,
    pub state: EscrowState,
    #[serde(default)]
    pub seller_amount: Option<Money>,
    #[serde(default)]
    pub fee_amount: Option<Money>,
    #[serde(default)]
    pub refund_amount: Option<Money>,
}

/// What the stand-ins start with (the `STUB_SEED` file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    #[serde(default)]
    pub listings: Vec<StubListing>,
    #[serde(default)]
    pub wallets: Vec<SeedWallet>,
    #[serde(default)]
    pub escrows: Vec<SeedEscrow>,
}

/// Where an escrow's money is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EscrowState {
    Held,
    Released,
    Refunded,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Escrow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub buyer_id: Uuid,
    pub amount: Decimal,
    pub state: EscrowState,
    /// How it was paid out; `None` while held.
    pub seller_amount: Option<Decimal>,
    pub fee_amount: Option<Decimal>,
    pub refund_amount: Option<Decimal>,
}

/// One movement of money, as the ledger shows it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    pub kind: &'static str,
    pub escrow_id: Option<Uuid>,
    pub account: String,
    pub amount: Decimal,
}

/// An answer already given to an idempotency key, replayed for the same request.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub request: Value,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Book {
    pub listings: HashMap<Uuid, StubListing>,
    pub balances: BTreeMap<Uuid, Decimal>,
    pub platform: Decimal,
    pub escrows: HashMap<Uuid, Escrow>,
    /// Every amount ever deposited: what the balances, the platform and the held
    /// escrows must add up to.
    pub deposits: Decimal,
    pub entries: Vec<Entry>,
    /// Keyed by endpoint and idempotency key.
    pub replies: HashMap<(String, String), Reply>,
    pub faults: Vec<Fault>,
    /// The latest contract calls, oldest first, at most [`KEPT_CALLS`].
    pub calls: std::collections::VecDeque<Call>,
}

/// How many calls the stand-ins remember: enough for a test's story, bounded for a
/// benchmark's millions.
pub(crate) const KEPT_CALLS: usize = 1000;

/// A contract call as it arrived: what a test reads to see what the service sends along.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// W3C `traceparent`, if sent.
    pub traceparent: Option<String>,
    /// `X-Request-Id`, if sent.
    pub request_id: Option<String>,
}

/// The shared, in-memory state of both stand-ins. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct StubState(Arc<Mutex<Book>>);

impl StubState {
    pub fn new(seed: Seed) -> StubState {
        let state = StubState::default();
        state.apply(seed);
        state
    }

    pub fn apply(&self, seed: Seed) {
        let mut book = self.book();
        for listing in seed.listings {
            book.listings.insert(listing.id, listing);
        }
        for wallet in seed.wallets {
            book.deposit(wallet.user_id, wallet.amount.amount());
        }
        let part = |money: Option<Money>| money.map(|money| money.amount());
        for escrow in seed.escrows {
            book.escrows.insert(
                escrow.escrow_id,
                Escrow {
                    id: escrow.escrow_id,
                    order_id: escrow.order_id,
                    buyer_id: escrow.buyer_id,
                    amount: escrow.amount.amount(),
                    state: escrow.state,
                    seller_amount: part(escrow.seller_amount),
                    fee_amount: part(escrow.fee_amount),
                    refund_amount: part(escrow.refund_amount),
                },
            );
        }
    }

    pub(crate) fn book(&self) -> MutexGuard<'_, Book> {
        // A panic while holding the lock leaves plain data behind, still consistent
        // enough for a stand-in; keep serving.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The fault to apply to the next request to `target`, if one is pending.
    pub(crate) fn take_fault(&self, target: FaultTarget) -> Option<FaultMode> {
        let mut book = self.book();
        let position = book.faults.iter().position(|f| f.applies_to(target))?;
        let fault = &mut book.faults[position];
        let mode = fault.mode;
        match &mut fault.times {
            Some(1) => {
                book.faults.remove(position);
            }
            Some(times) => *times -= 1,
            None => {}
        }
        Some(mode)
    }
}

impl Book {
    pub fn deposit(&mut self, user: Uuid, amount: Decimal) {
        *self.balances.entry(user).or_default() += amount;
        self.deposits += amount;
        self.entries.push(Entry {
            kind: "deposit",
            escrow_id: None,
            account: user.to_string(),
            amount,
        });
    }

    pub fn credit(&mut self, kind: &'static str, escrow: Uuid, account: Account, amount: Decimal) {
        if amount.is_zero() {
            return;
        }
        let name = match account {
            Account::User(user) => {
                *self.balances.entry(user).or_default() += amount;
                user.to_string()
            }
            Account::Platform => {
                self.platform += amount;
                "platform".to_owned()
            }
        };
        self.entries.push(Entry {
            kind,
            escrow_id: Some(escrow),
            account: name,
            amount,
        });
    }

    pub fn held(&self) -> Decimal {
        self.escrows
            .values()
            .filter(|e| e.state == EscrowState::Held)
            .map(|e| e.amount)
            .sum()
    }
}

pub(crate) enum Account {
    User(Uuid),
    Platform,
}
