//! The Wallet client against a real HTTP server (wiremock): the exact calls of the Wallet's
//! contract, retries that keep their idempotency key, and every failure mapped to a typed
//! error.

mod support;

use std::time::{Duration, Instant};

use order_domain::fixtures::*;
use order_domain::{DisputeId, EscrowId, OrderId};
use order_peers::{HttpWallet, PeerConfig};
use order_ports::{HoldEscrow, RefundEscrow, ReleaseEscrow, Wallet, WalletError};
use serde_json::json;
use support::{answering, answering_exactly, unavailable_once_then};
use uuid::Uuid;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "peer-secret";

fn wallet(server: &MockServer) -> HttpWallet {
    let mut config = PeerConfig::new(format!("{}/api/v1/wallet/", server.uri()), TOKEN);
    config.timeout = Duration::from_millis(300);
    config.backoff = Duration::from_millis(10);
    config.max_retries = 2;
    HttpWallet::new(config).unwrap()
}

fn order_id() -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(20))
}

fn hold() -> HoldEscrow {
    HoldEscrow {
        order_id: order_id(),
        buyer_id: buyer(),
        amount: money("135.00"),
        idempotency_key: format!("order-{}-hold", order_id()),
    }
}

fn held(escrow: EscrowId) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({ "escrow_id": escrow }))
}

#[tokio::test]
async fn hold_posts_the_order_buyer_and_amount_with_token_and_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/wallet/internal/hold-escrow/"))
        .and(header("X-Service-Token", TOKEN))
        .and(header(
            "Idempotency-Key",
            format!("order-{}-hold", order_id()).as_str(),
        ))
        .and(header("Content-Type", "application/json"))
        .and(body_json(json!({
            "order_id": order_id(),
            "buyer_id": buyer(),
            "amount": "135.00",
        })))
        .respond_with(held(escrow()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(wallet(&server).hold_escrow(hold()).await, Ok(escrow()));
}

#[tokio::test]
async fn release_posts_the_seller_share_and_the_fee() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/wallet/internal/release-escrow/"))
        .and(header("X-Service-Token", TOKEN))
        .and(header(
            "Idempotency-Key",
            format!("order-{}-release", order_id()).as_str(),
        ))
        .and(body_json(json!({
            "escrow_id": escrow(),
            "order_id": order_id(),
            "seller_id": seller(),
            "seller_amount": "128.75",
            "fee_amount": "6.25",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "released"})))
        .expect(1)
        .mount(&server)
        .await;
    let request = ReleaseEscrow {
        escrow_id: escrow(),
        order_id: order_id(),
        seller_id: seller(),
        seller_amount: money("128.75"),
        fee_amount: money("6.25"),
        idempotency_key: format!("order-{}-release", order_id()),
    };
    assert_eq!(wallet(&server).release_escrow(request).await, Ok(()));
}

#[tokio::test]
async fn refund_posts_the_three_way_split_keyed_by_the_dispute() {
    let server = MockServer::start().await;
    let dispute = DisputeId::from_uuid(Uuid::from_u128(30));
    Mock::given(method("POST"))
        .and(path("/api/v1/wallet/internal/refund-escrow/"))
        .and(header(
            "Idempotency-Key",
            format!("dispute-{dispute}-refund").as_str(),
        ))
        .and(body_json(json!({
            "escrow_id": escrow(),
            "order_id": order_id(),
            "buyer_id": buyer(),
            "refund_amount": "25.00",
            "seller_id": seller(),
            "seller_amount": "105.00",
            "fee_amount": "5.00",
        })))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let request = RefundEscrow {
        escrow_id: escrow(),
        order_id: order_id(),
        buyer_id: buyer(),
        refund_amount: money("25.00"),
        seller_id: seller(),
        seller_amount: money("105.00"),
        fee_amount: money("5.00"),
        idempotency_key: format!("dispute-{dispute}-refund"),
    };
    assert_eq!(wallet(&server).refund_escrow(request).await, Ok(()));
}

#[tokio::test]
async fn a_503_then_201_is_retried_with_the_same_idempotency_key() {
    let server = unavailable_once_then("POST", held(escrow())).await;

    assert_eq!(wallet(&server).hold_escrow(hold()).await, Ok(escrow()));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let keys: Vec<_> = requests
        .iter()
        .map(|r| r.headers.get("Idempotency-Key").cloned())
        .collect();
    assert!(keys[0].is_some());
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn a_peer_failing_every_attempt_is_unavailable_after_the_retries() {
    let server = answering_exactly("POST", ResponseTemplate::new(500), 3).await;
    let outcome = wallet(&server).hold_escrow(hold()).await;
    assert!(
        matches!(outcome, Err(WalletError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_hanging_peer_fails_within_the_configured_timeout() {
    let server = answering("POST", held(escrow()).set_delay(Duration::from_secs(30))).await;
    let started = Instant::now();
    let outcome = wallet(&server).hold_escrow(hold()).await;
    assert!(
        matches!(outcome, Err(WalletError::Unavailable(ref m)) if m.contains("timed out")),
        "{outcome:?}"
    );
    // Three attempts of 300 ms and two short backoffs: far from the peer's 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_peer_that_is_not_listening_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = PeerConfig::new(format!("http://127.0.0.1:{port}/api/v1/wallet"), TOKEN);
    config.backoff = Duration::from_millis(1);
    let outcome = HttpWallet::new(config).unwrap().hold_escrow(hold()).await;
    assert!(
        matches!(outcome, Err(WalletError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_402_is_insufficient_funds_and_is_not_retried() {
    let server = answering_exactly(
        "POST",
        ResponseTemplate::new(402).set_body_json(json!({"code": "insufficient_funds"})),
        1,
    )
    .await;
    assert_eq!(
        wallet(&server).hold_escrow(hold()).await,
        Err(WalletError::InsufficientFunds)
    );
}

#[tokio::test]
async fn another_4xx_is_a_rejection_naming_the_status_and_is_not_retried() {
    let server = answering_exactly(
        "POST",
        ResponseTemplate::new(409).set_body_json(json!({"detail": "escrow already released"})),
        1,
    )
    .await;
    let outcome = wallet(&server).hold_escrow(hold()).await;
    assert!(
        matches!(outcome, Err(WalletError::Rejected(ref m)) if m.contains("409") && m.contains("already released")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn garbage_json_is_a_clear_peer_error() {
    let server = MockServer::start().await;
    for body in ["<html>oops</html>", r#"{"escrow_id": 42}"#, ""] {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_string(body))
            .mount(&server)
            .await;
        let outcome = wallet(&server).hold_escrow(hold()).await;
        assert!(
            matches!(outcome, Err(WalletError::Rejected(ref m)) if m.contains("unreadable")),
            "{body}: {outcome:?}"
        );
    }
}

#[test]
fn a_base_url_that_is_not_http_is_refused() {
    for url in ["wallet:8006", "ftp://wallet", ""] {
        assert!(
            HttpWallet::new(PeerConfig::new(url, TOKEN)).is_err(),
            "{url}"
        );
    }
    assert!(HttpWallet::new(PeerConfig::new("http://wallet:8006", "")).is_err());
}
