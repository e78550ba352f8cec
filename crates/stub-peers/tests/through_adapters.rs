//! The `stub-peers` binary, driven through the Order Service's own HTTP adapters: escrow
//! held, released and refunded, each at most once, with every cent accounted for.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use order_domain::fixtures::*;
use order_domain::reconcile::{EscrowRecord, EscrowState};
use order_domain::{EscrowId, ListingId, OrderId, Settlement, UserId};
use order_peers::{HttpListings, HttpWallet, PeerConfig};
use order_ports::{
    HoldEscrow, ListingError, Listings, RefundEscrow, ReleaseEscrow, Wallet, WalletError,
};
use serde_json::{json, Value};
use uuid::Uuid;

const TOKEN: &str = "test-peer-token";

/// The stand-ins as a child process on a free port, killed when dropped.
struct Stub {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Stub {
    fn start() -> Stub {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stub-peers"))
            .env("STUB_PEERS_ADDR", "127.0.0.1:0")
            .env("STUB_SERVICE_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the stub-peers binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("stub-peers listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Stub {
            child,
            url,
            http: reqwest::Client::new(),
        }
    }

    fn config(&self, api: &str) -> PeerConfig {
        let mut config = PeerConfig::new(format!("{}{api}", self.url), TOKEN);
        config.backoff = Duration::from_millis(10);
        config.timeout = Duration::from_secs(2);
        config
    }

    fn wallet(&self) -> HttpWallet {
        HttpWallet::new(self.config("/api/v1/wallet")).unwrap()
    }

    fn listings(&self) -> HttpListings {
        HttpListings::new(self.config("/api/v1/listings")).unwrap()
    }

    async fn post(&self, path: &str, body: Value) {
        let url = format!("{}{path}", self.url);
        order_testkit::post_ok(&self.http, &url, &body)
            .await
            .unwrap();
    }

    async fn deposit(&self, user: UserId, amount: &str) {
        self.post(
            "/_stub/seed/",
            json!({"wallets": [{"user_id": user, "amount": amount}]}),
        )
        .await;
    }

    async fn ledger(&self) -> Value {
        order_testkit::conserved_ledger(&self.http, &self.url)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// The ledger's books: the buyer's balance, the seller's, the platform's fees, and
    /// what is held.
    async fn books(&self) -> [String; 4] {
        let ledger = self.ledger().await;
        let text = |value: &Value| value.as_str().unwrap_or("0.00").to_owned();
        [
            balance(&ledger, buyer()).to_owned(),
            balance(&ledger, seller()).to_owned(),
            text(&ledger["platform"]),
            text(&ledger["held"]),
        ]
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn order(n: u128) -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(n))
}

fn balance(ledger: &Value, user: UserId) -> &str {
    ledger["balances"][user.to_string()]
        .as_str()
        .unwrap_or("0.00")
}

async fn hold(stub: &Stub, order_id: OrderId) -> EscrowId {
    let request = HoldEscrow {
        order_id,
        buyer_id: buyer(),
        amount: money("135.00"),
        idempotency_key: format!("order-{}-hold", order_id),
    };
    stub.wallet().hold_escrow(request).await.unwrap()
}

fn release(escrow_id: EscrowId, order_id: OrderId) -> ReleaseEscrow {
    ReleaseEscrow {
        escrow_id,
        order_id,
        seller_id: seller(),
        seller_amount: money("128.75"),
        fee_amount: money("6.25"),
        idempotency_key: format!("order-{order_id}-release"),
    }
}

fn refund(
    escrow_id: EscrowId,
    order_id: OrderId,
    buyer_gets: &str,
    seller_gets: &str,
    fee: &str,
) -> RefundEscrow {
    RefundEscrow {
        escrow_id,
        order_id,
        buyer_id: buyer(),
        refund_amount: money(buyer_gets),
        seller_id: seller(),
        seller_amount: money(seller_gets),
        fee_amount: money(fee),
        idempotency_key: format!("dispute-{order_id}-refund"),
    }
}

#[tokio::test]
async fn hold_then_release_pays_the_seller_and_the_platform() {
    let stub = Stub::start();
    stub.deposit(buyer(), "1000.00").await;
    let escrow = hold(&stub, order(1)).await;
    assert_eq!(stub.ledger().await["held"], "135.00");
    stub.wallet()
        .release_escrow(release(escrow, order(1)))
        .await
        .unwrap();
    assert_eq!(stub.books().await, ["865.00", "128.75", "6.25", "0.00"]);
}

#[tokio::test]
async fn hold_then_full_refund_returns_everything_to_the_buyer() {
    let stub = Stub::start();
    stub.deposit(buyer(), "200.00").await;
    let escrow = hold(&stub, order(2)).await;
    stub.wallet()
        .refund_escrow(refund(escrow, order(2), "135.00", "0.00", "0.00"))
        .await
        .unwrap();
    assert_eq!(stub.books().await, ["200.00", "0.00", "0.00", "0.00"]);
}

#[tokio::test]
async fn hold_then_partial_refund_splits_three_ways() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    let escrow = hold(&stub, order(3)).await;
    stub.wallet()
        .refund_escrow(refund(escrow, order(3), "25.00", "105.00", "5.00"))
        .await
        .unwrap();
    assert_eq!(stub.books().await, ["25.00", "105.00", "5.00", "0.00"]);
}

#[tokio::test]
async fn the_same_release_twice_moves_money_once() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    let escrow = hold(&stub, order(4)).await;
    stub.wallet()
        .release_escrow(release(escrow, order(4)))
        .await
        .unwrap();
    stub.wallet()
        .release_escrow(release(escrow, order(4)))
        .await
        .unwrap();
    let ledger = stub.ledger().await;
    assert_eq!(balance(&ledger, seller()), "128.75");
    assert_eq!(ledger["platform"], "6.25");
}

#[tokio::test]
async fn a_refund_after_a_release_is_refused_and_moves_nothing() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    let escrow = hold(&stub, order(5)).await;
    stub.wallet()
        .release_escrow(release(escrow, order(5)))
        .await
        .unwrap();
    let outcome = stub
        .wallet()
        .refund_escrow(refund(escrow, order(5), "135.00", "0.00", "0.00"))
        .await;
    assert!(
        matches!(outcome, Err(WalletError::Rejected(ref m)) if m.contains("409")),
        "{outcome:?}"
    );
    assert_eq!(balance(&stub.ledger().await, buyer()), "0.00");
}

#[tokio::test]
async fn insufficient_funds_is_declined_and_debits_nothing() {
    let stub = Stub::start();
    stub.deposit(buyer(), "100.00").await;
    let request = HoldEscrow {
        order_id: order(6),
        buyer_id: buyer(),
        amount: money("135.00"),
        idempotency_key: format!("order-{}-hold", order(6)),
    };
    assert_eq!(
        stub.wallet().hold_escrow(request).await,
        Err(WalletError::InsufficientFunds)
    );
    let ledger = stub.ledger().await;
    assert_eq!(balance(&ledger, buyer()), "100.00");
    assert_eq!(ledger["held"], "0.00");
}

#[tokio::test]
async fn a_hold_whose_answer_is_dropped_is_retried_without_a_second_debit() {
    let stub = Stub::start();
    stub.deposit(buyer(), "300.00").await;
    stub.post(
        "/_stub/faults/",
        json!({"target": "wallet", "mode": "drop", "times": 1}),
    )
    .await;
    let escrow = hold(&stub, order(7)).await;
    let ledger = stub.ledger().await;
    assert_eq!(balance(&ledger, buyer()), "165.00", "debited once");
    assert_eq!(ledger["escrows"].as_array().unwrap().len(), 1);
    assert_eq!(ledger["escrows"][0]["id"], escrow.to_string());
}

#[tokio::test]
async fn an_unavailable_wallet_recovers_within_the_retries() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    stub.post(
        "/_stub/faults/",
        json!({"target": "wallet", "mode": "unavailable", "times": 2}),
    )
    .await;
    hold(&stub, order(8)).await;
    stub.post(
        "/_stub/faults/",
        json!({"target": "all", "mode": "unavailable"}),
    )
    .await;
    let request = HoldEscrow {
        order_id: order(9),
        buyer_id: buyer(),
        amount: money("1.00"),
        idempotency_key: format!("order-{}-hold", order(9)),
    };
    assert!(matches!(
        stub.wallet().hold_escrow(request).await,
        Err(WalletError::Unavailable(_))
    ));
    stub.ledger().await;
}

#[tokio::test]
async fn listings_are_served_as_seeded() {
    let stub = Stub::start();
    stub.post(
        "/_stub/seed/",
        json!({"listings": [{
            "id": listing_id(), "seller_id": seller(), "title": "Vintage camera",
            "status": "ACTIVE", "buy_now_price": "125.00", "shipping_cost": "10.00",
        }]}),
    )
    .await;
    assert_eq!(stub.listings().listing(listing_id()).await, Ok(listing()));
    let unknown = ListingId::from_uuid(Uuid::from_u128(404));
    assert_eq!(
        stub.listings().listing(unknown).await,
        Err(ListingError::NotFound)
    );
}

#[tokio::test]
async fn a_wrong_service_token_is_refused() {
    let stub = Stub::start();
    let mut config = stub.config("/api/v1/wallet");
    config.service_token = "wrong".into();
    let request = HoldEscrow {
        order_id: order(10),
        buyer_id: buyer(),
        amount: money("1.00"),
        idempotency_key: format!("order-{}-hold", order(10)),
    };
    let outcome = HttpWallet::new(config).unwrap().hold_escrow(request).await;
    assert!(
        matches!(outcome, Err(WalletError::Rejected(ref m)) if m.contains("403")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_held_escrow_reads_back_with_its_amount_and_no_parts() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    let escrow = hold(&stub, order(20)).await;
    let record = stub.wallet().escrow(escrow).await.unwrap().unwrap();
    assert_eq!(
        record,
        EscrowRecord {
            escrow_id: escrow,
            order_id: order(20),
            state: EscrowState::Held,
            amount: money("135.00"),
            seller_amount: None,
            fee_amount: None,
            refund_amount: None,
        }
    );
}

#[tokio::test]
async fn a_paid_out_escrow_reads_back_with_its_three_parts() {
    let stub = Stub::start();
    stub.deposit(buyer(), "270.00").await;
    let released = hold(&stub, order(21)).await;
    stub.wallet()
        .release_escrow(release(released, order(21)))
        .await
        .unwrap();
    let refunded = hold(&stub, order(22)).await;
    stub.wallet()
        .refund_escrow(refund(refunded, order(22), "25.00", "105.00", "5.00"))
        .await
        .unwrap();
    let wallet = stub.wallet();
    let record = wallet.escrow(released).await.unwrap().unwrap();
    assert_eq!(record.state, EscrowState::Released);
    assert_eq!(
        record.split(),
        Some(Settlement::from_parts(
            money("0.00"),
            money("128.75"),
            money("6.25")
        ))
    );
    let record = wallet.escrow(refunded).await.unwrap().unwrap();
    assert_eq!(record.state, EscrowState::Refunded);
    assert_eq!(
        record.split(),
        Some(Settlement::from_parts(
            money("25.00"),
            money("105.00"),
            money("5.00")
        ))
    );
}

#[tokio::test]
async fn an_escrow_the_wallet_never_held_reads_as_none() {
    let stub = Stub::start();
    let unknown = EscrowId::from_uuid(Uuid::from_u128(123));
    assert_eq!(stub.wallet().escrow(unknown).await, Ok(None));
}

#[tokio::test]
async fn an_unreadable_wallet_is_unavailable_not_an_unknown_escrow() {
    let stub = Stub::start();
    stub.post(
        "/_stub/faults/",
        json!({"target": "wallet", "mode": "unavailable"}),
    )
    .await;
    let unknown = EscrowId::from_uuid(Uuid::from_u128(123));
    assert!(matches!(
        stub.wallet().escrow(unknown).await,
        Err(WalletError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_drift_made_on_purpose_shows_in_the_escrow_and_moves_no_money() {
    let stub = Stub::start();
    stub.deposit(buyer(), "135.00").await;
    let escrow = hold(&stub, order(23)).await;
    stub.post(
        &format!("/_stub/escrows/{escrow}/drift/"),
        json!({"state": "RELEASED", "amount": "134.99"}),
    )
    .await;
    let record = stub.wallet().escrow(escrow).await.unwrap().unwrap();
    assert_eq!(record.state, EscrowState::Released);
    assert_eq!(record.amount, money("134.99"));
    let ledger: Value = stub
        .http
        .get(format!("{}/_stub/ledger/", stub.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(balance(&ledger, buyer()), "0.00");
    assert_eq!(balance(&ledger, seller()), "0.00");
    assert_eq!(ledger["platform"], "0.00");

    stub.post(
        &format!("/_stub/escrows/{escrow}/drift/"),
        json!({"forget": true}),
    )
    .await;
    assert_eq!(stub.wallet().escrow(escrow).await, Ok(None));
}

#[tokio::test]
async fn a_seeded_escrow_reads_back_as_seeded_and_moves_no_balance() {
    let stub = Stub::start();
    let escrow = EscrowId::from_uuid(Uuid::from_u128(77));
    stub.post(
        "/_stub/seed/",
        json!({"escrows": [{"escrow_id": escrow, "order_id": order(24), "buyer_id": buyer(),
                            "amount": "110.00", "state": "RELEASED", "seller_amount": "105.00",
                            "fee_amount": "5.00", "refund_amount": "0.00"}]}),
    )
    .await;
    let record = stub.wallet().escrow(escrow).await.unwrap().unwrap();
    assert_eq!(record.order_id, order(24));
    assert_eq!(record.state, EscrowState::Released);
    assert_eq!(
        record.split(),
        Some(Settlement::from_parts(
            money("0.00"),
            money("105.00"),
            money("5.00")
        ))
    );
}
