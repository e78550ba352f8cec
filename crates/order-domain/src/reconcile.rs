//! What the Wallet's escrow must say for an order, and how a difference is named.
//!
//! The Wallet holds the money; an order records what was done with it. The two are
//! written by different services, so a restored backup, a hand fix in one database or a
//! bug can make them disagree. [`Order::escrow_verdict`] is the rule a reconciliation
//! applies to one order and the Wallet's account of its escrow.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::{EscrowId, OrderId};
use crate::money::{Money, Settlement};
use crate::order::{Order, OrderStatus};

/// Where the Wallet says an escrow's money is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EscrowState {
    /// Taken from the buyer and not paid out yet.
    Held,
    /// Paid to the seller and the platform.
    Released,
    /// Some or all of it returned to the buyer, the rest paid out.
    Refunded,
}

impl fmt::Display for EscrowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EscrowState::Held => "HELD",
            EscrowState::Released => "RELEASED",
            EscrowState::Refunded => "REFUNDED",
        })
    }
}

/// The Wallet's account of one escrow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowRecord {
    /// The escrow's id.
    pub escrow_id: EscrowId,
    /// The order the Wallet holds it for.
    pub order_id: OrderId,
    /// Where its money is.
    pub state: EscrowState,
    /// What was taken from the buyer.
    pub amount: Money,
    /// What the seller was paid; `None` while held.
    pub seller_amount: Option<Money>,
    /// What the platform earned; `None` while held.
    pub fee_amount: Option<Money>,
    /// What went back to the buyer; `None` while held.
    pub refund_amount: Option<Money>,
}

impl EscrowRecord {
    /// How the escrow was paid out, missing parts read as nothing; `None` while held.
    pub fn split(&self) -> Option<Settlement> {
        let part = |money: Option<Money>| money.unwrap_or(Money::ZERO);
        (self.state != EscrowState::Held).then(|| {
            Settlement::from_parts(
                part(self.refund_amount),
                part(self.seller_amount),
                part(self.fee_amount),
            )
        })
    }
}

/// What the Wallet must say for an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedEscrow {
    /// The escrow's id, as the order recorded it.
    pub escrow_id: EscrowId,
    /// Where its money must be.
    pub state: EscrowState,
    /// The order's total.
    pub amount: Money,
    /// How it must have been paid out; `None` while it must still be held.
    pub split: Option<Settlement>,
}

/// How an order and its escrow disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The Wallet has no such escrow, or holds it for another order.
    EscrowUnknown,
    /// The escrow is held, released or refunded where the order says otherwise.
    StateMismatch,
    /// The escrow holds another amount than the order's total.
    AmountMismatch,
    /// The escrow was paid out in other parts than the order's settlement.
    SplitMismatch,
}

impl DriftKind {
    /// Every kind, in the order a summary lists them.
    pub const ALL: [DriftKind; 4] = [
        DriftKind::EscrowUnknown,
        DriftKind::StateMismatch,
        DriftKind::AmountMismatch,
        DriftKind::SplitMismatch,
    ];

    /// The kind's name in reports, metrics and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            DriftKind::EscrowUnknown => "escrow_unknown",
            DriftKind::StateMismatch => "state_mismatch",
            DriftKind::AmountMismatch => "amount_mismatch",
            DriftKind::SplitMismatch => "split_mismatch",
        }
    }
}

wire_name!(display DriftKind);

/// One disagreement, with both sides written out for a person to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    /// How they disagree.
    pub kind: DriftKind,
    /// What the order says the escrow must be.
    pub expected: String,
    /// What the Wallet says it is.
    pub found: String,
}

/// The outcome of comparing one order with its escrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EscrowVerdict {
    /// The order has no escrow: nothing to compare.
    NoEscrow,
    /// The order waits on a Wallet movement: the two may disagree for a moment, and do not
    /// count as drift until it has been applied.
    InFlight,
    /// Both say the same, to the cent.
    Agrees,
    /// They disagree, in each of these ways.
    Drifts(Vec<Drift>),
}

impl Order {
    /// What the Wallet must say about this order's escrow, given the settlement its payout
    /// recorded (`None` if it recorded none); `None` if the order has no escrow.
    ///
    /// PAID, SHIPPED, DELIVERED and DISPUTED hold the total. COMPLETED was paid out as its
    /// settlement says (released, or refunded in part when the buyer got something back);
    /// without a recorded settlement, as a plain release. REFUNDED, and CANCELLED after
    /// payment, returned the whole total.
    pub fn expected_escrow(&self, recorded: Option<&Settlement>) -> Option<ExpectedEscrow> {
        let escrow_id = self.escrow_id?;
        let amount = self.total();
        let paid_out = |split: Settlement| {
            let state = if split.buyer_refund().is_zero() {
                EscrowState::Released
            } else {
                EscrowState::Refunded
            };
            (state, Some(split))
        };
        let (state, split) = match self.status {
            OrderStatus::PendingPayment => return None,
            OrderStatus::Paid
            | OrderStatus::Shipped
            | OrderStatus::Delivered
            | OrderStatus::Disputed => (EscrowState::Held, None),
            OrderStatus::Completed => paid_out(
                recorded
                    .copied()
                    .unwrap_or_else(|| self.release_settlement()),
            ),
            OrderStatus::Refunded | OrderStatus::Cancelled => {
                (EscrowState::Refunded, Some(Settlement::full_refund(amount)))
            }
        };
        Some(ExpectedEscrow {
            escrow_id,
            state,
            amount,
            split,
        })
    }

    /// Compares the order with the Wallet's account of its escrow (`None`: the Wallet does
    /// not know it), given the settlement its payout recorded.
    pub fn escrow_verdict(
        &self,
        recorded: Option<&Settlement>,
        found: Option<&EscrowRecord>,
    ) -> EscrowVerdict {
        let Some(expected) = self.expected_escrow(recorded) else {
            return EscrowVerdict::NoEscrow;
        };
        if self.escrow_intent.is_some() {
            return EscrowVerdict::InFlight;
        }
        let found = match found {
            Some(found) if found.order_id == self.id && found.escrow_id == expected.escrow_id => {
                found
            }
            Some(found) => {
                return EscrowVerdict::Drifts(vec![Drift {
                    kind: DriftKind::EscrowUnknown,
                    expected: format!("escrow {} of order {}", expected.escrow_id, self.id),
                    found: format!("escrow {} of order {}", found.escrow_id, found.order_id),
                }])
            }
            None => {
                return EscrowVerdict::Drifts(vec![Drift {
                    kind: DriftKind::EscrowUnknown,
                    expected: format!("escrow {}", expected.escrow_id),
                    found: "no such escrow".into(),
                }])
            }
        };
        let mut drifts = Vec::new();
        if found.state != expected.state {
            drifts.push(Drift {
                kind: DriftKind::StateMismatch,
                expected: expected.state.to_string(),
                found: found.state.to_string(),
            });
        }
        if found.amount != expected.amount {
            drifts.push(Drift {
                kind: DriftKind::AmountMismatch,
                expected: expected.amount.to_string(),
                found: found.amount.to_string(),
            });
        }
        // A split is compared only when both sides say the escrow was paid out the same
        // way: otherwise the state's mismatch already says all there is.
        if found.state == expected.state {
            if let (Some(want), Some(got)) = (expected.split, found.split()) {
                if want != got {
                    drifts.push(Drift {
                        kind: DriftKind::SplitMismatch,
                        expected: describe(&want),
                        found: describe(&got),
                    });
                }
            }
        }
        if drifts.is_empty() {
            EscrowVerdict::Agrees
        } else {
            EscrowVerdict::Drifts(drifts)
        }
    }
}

fn describe(split: &Settlement) -> String {
    format!(
        "refund {}, seller {}, fee {}",
        split.buyer_refund(),
        split.seller_amount(),
        split.fee_amount()
    )
}
