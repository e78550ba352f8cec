//! Money follows the orders: after any mix of concurrent completes, disputes, resolutions,
//! deliveries, cancellations and Buy It Now races, the stand-in wallet's ledger is exactly
//! what the orders' final states say it must be — no escrow released twice, none lost, no
//! cent rounded away — and every kept count (by status, by buyer and seller)
//! still equals a count of the rows. proptest draws the operations; each case runs them in
//! three concurrent waves against the real service, then reconciles.

mod support;

use std::collections::HashMap;
use std::str::FromStr;

use futures_util::future::join_all;
use proptest::prelude::*;
use reqwest::StatusCode;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use support::{id, listing, seed, As, Cast, TestApp};
use uuid::Uuid;

const BALANCE: &str = "10000.00";
/// Buy It Now listings seeded in the stand-in (1..=LISTINGS); auction orders use others.
const LISTINGS: usize = 3;
/// Auction orders placed before the operations: pending, paid and shipped in turn.
const ORDERS: usize = 6;
const AMOUNTS: [&str; ORDERS] = ["100.00", "33.33", "0.10", "999.99", "12.34", "250.05"];

#[derive(Clone, Debug)]
enum Decision {
    RefundBuyer,
    ReleaseSeller,
    /// A refund of this share of the total, in percent (1–99).
    PartialRefund(u8),
    NoAction,
}

#[derive(Clone, Debug)]
enum Op {
    Complete(usize),
    Dispute { order: usize, by_seller: bool },
    Resolve(usize, Decision),
    Ship(usize),
    Deliver(usize),
    Cancel(usize),
    BuyItNow { listing: usize, stranger: bool },
}

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![
        Just(Decision::RefundBuyer),
        Just(Decision::ReleaseSeller),
        (1u8..=99).prop_map(Decision::PartialRefund),
        Just(Decision::NoAction),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let order = 0..ORDERS;
    // Resolutions weigh most: they act only on an order a dispute reached in an earlier wave.
    prop_oneof![
        2 => order.clone().prop_map(Op::Complete),
        2 => (order.clone(), any::<bool>()).prop_map(|(order, by_seller)| Op::Dispute {
            order,
            by_seller
        }),
        4 => (order.clone(), decision()).prop_map(|(order, d)| Op::Resolve(order, d)),
        1 => order.clone().prop_map(Op::Ship),
        1 => order.clone().prop_map(Op::Deliver),
        1 => order.prop_map(Op::Cancel),
        2 => (1..=LISTINGS, any::<bool>())
            .prop_map(|(listing, stranger)| Op::BuyItNow { listing, stranger }),
    ]
}

fn money(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap()).unwrap()
}

/// The fee at the default FEE_RATE, written again on purpose: the reconciliation must
/// not take its expectations from the code it checks.
fn fee(amount: Decimal) -> Decimal {
    (Decimal::new(5, 2) * amount.max(Decimal::ZERO))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Runs `op`; the status it got, or `None` when it had nothing to act on.
async fn run(app: &TestApp, orders: &[Value], op: &Op) -> Option<(StatusCode, String)> {
    let order_path = |n: usize, action: &str| format!("/api/v1/orders/{}/{action}", id(&orders[n]));
    let answer = match op {
        Op::Complete(n) => {
            app.post(&order_path(*n, "complete/"), &As::buyer(), json!({}))
                .await
        }
        Op::Dispute { order, by_seller } => {
            let by = if *by_seller {
                Cast::seller()
            } else {
                Cast::buyer()
            };
            app.post(
                &order_path(*order, "dispute/"),
                &As::User(by),
                json!({"reason": "Drawn by the reconciliation test."}),
            )
            .await
        }
        Op::Resolve(n, decision) => {
            let admin = As::admin();
            let order = app.get(&order_path(*n, ""), &admin).await.body;
            let dispute = order["dispute"]["id"].as_str()?.to_owned();
            let body = match decision {
                Decision::RefundBuyer => {
                    json!({"status": "RESOLVED", "resolution": "REFUND_BUYER"})
                }
                Decision::ReleaseSeller => {
                    json!({"status": "RESOLVED", "resolution": "RELEASE_SELLER"})
                }
                Decision::PartialRefund(percent) => {
                    let refund = (money(&order["total"]) * Decimal::from(*percent)
                        / Decimal::ONE_HUNDRED)
                        .round_dp_with_strategy(2, RoundingStrategy::ToZero);
                    if refund.is_zero() {
                        return None;
                    }
                    json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND",
                           "refund_amount": refund.to_string()})
                }
                Decision::NoAction => json!({"status": "CLOSED"}),
            };
            app.patch(&format!("/api/v1/disputes/{dispute}/"), &admin, body)
                .await
        }
        Op::Ship(n) => {
            app.post(
                &order_path(*n, "ship/"),
                &As::seller(),
                json!({"tracking_number": "1Z-42", "carrier": "UPS"}),
            )
            .await
        }
        Op::Deliver(n) => {
            app.internal("mark-delivered", json!({"order_id": id(&orders[*n])}))
                .await
        }
        Op::Cancel(n) => {
            app.internal(
                "cancel",
                json!({"order_id": id(&orders[*n]), "reason": "Unpaid."}),
            )
            .await
        }
        Op::BuyItNow {
            listing: n,
            stranger,
        } => {
            let buyer = if *stranger {
                Cast::stranger()
            } else {
                Cast::buyer()
            };
            app.post(
                &format!("/api/v1/orders/{}/purchase/", listing(*n as u128)),
                &As::User(buyer),
                json!({"shipping_address": {"city": "Nantes"}}),
            )
            .await
        }
    };
    Some((answer.status, answer.body.to_string()))
}

/// What the ledger must show, computed from the orders' final states alone.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    balances: HashMap<Uuid, Decimal>,
    platform: Decimal,
    held: Decimal,
}

async fn expected_from_orders(app: &TestApp) -> Expected {
    let admin = As::admin();
    let listed = app.get("/api/v1/orders/?page_size=100", &admin).await.body;
    let mut expected = Expected::default();
    for user in [Cast::buyer(), Cast::stranger()] {
        expected
            .balances
            .insert(user, Decimal::from_str(BALANCE).unwrap());
    }
    expected.balances.insert(Cast::seller(), Decimal::ZERO);
    for order in listed["results"].as_array().unwrap() {
        let total = money(&order["total"]);
        let buyer = Uuid::parse_str(order["buyer_id"].as_str().unwrap()).unwrap();
        let status = order["status"].as_str().unwrap();
        // Where the order's total went: (to the buyer, to the seller, to the platform).
        let (to_buyer, to_seller, to_platform) = match status {
            "PENDING_PAYMENT" | "CANCELLED" => continue,
            "PAID" | "SHIPPED" | "DELIVERED" | "DISPUTED" => {
                expected.held += total;
                (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
            }
            "REFUNDED" => (total, Decimal::ZERO, Decimal::ZERO),
            "COMPLETED" if order["dispute"]["resolution"] == "PARTIAL_REFUND" => {
                let dispute = app
                    .get(
                        &format!("/api/v1/disputes/{}/", id(&order["dispute"])),
                        &admin,
                    )
                    .await
                    .body;
                let refund = money(&dispute["refund_amount"]);
                let platform = fee(money(&order["amount"]) - refund);
                (refund, total - refund - platform, platform)
            }
            "COMPLETED" => {
                let platform = money(&order["fee_amount"]);
                (Decimal::ZERO, total - platform, platform)
            }
            other => panic!("unexpected status {other}"),
        };
        *expected.balances.get_mut(&buyer).unwrap() += to_buyer - total;
        *expected.balances.get_mut(&Cast::seller()).unwrap() += to_seller;
        expected.platform += to_platform;
    }
    expected
}

async fn ledger_shows(app: &TestApp) -> Expected {
    let ledger = app.ledger().await;
    let balances = [Cast::buyer(), Cast::stranger(), Cast::seller()]
        .into_iter()
        .map(|user| {
            let balance = ledger["balances"][user.to_string()]
                .as_str()
                .unwrap_or("0.00");
            (user, Decimal::from_str(balance).unwrap())
        })
        .collect();
    Expected {
        balances,
        platform: money(&ledger["platform"]),
        held: money(&ledger["held"]),
    }
}

async fn case(waves: Vec<Vec<Op>>) {
    let app = TestApp::spawn(seed(LISTINGS as u128, BALANCE)).await;
    let mut orders = Vec::new();
    for (n, amount) in AMOUNTS.iter().enumerate() {
        let at = listing(100 + n as u128);
        orders.push(match n % 3 {
            0 => app.auction_win(at, amount).await,
            1 => app.paid_order(at, amount).await,
            _ => app.shipped_order(at, amount).await,
        });
    }
    for wave in waves {
        let answers = join_all(wave.iter().map(|op| run(&app, &orders, op))).await;
        for (op, answer) in wave.iter().zip(answers) {
            if let Some((status, body)) = answer {
                assert!(
                    [StatusCode::OK, StatusCode::CREATED, StatusCode::CONFLICT].contains(&status),
                    "{op:?} answered {status}: {body}"
                );
            }
        }
    }
    assert_eq!(ledger_shows(&app).await, expected_from_orders(&app).await);
    app.assert_counts_exact().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_always_matches_the_orders_final_states(
        waves in prop::collection::vec(prop::collection::vec(op(), 3..10), 3),
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(case(waves));
    }
}
