//! How the client sends, retries and reads, against a real HTTP server (wiremock) that
//! answers as the service would. What the service itself answers is tested in order-api's
//! `tests/client.rs`, against the running service.

use std::time::{Duration, Instant};

use order_client::{
    CarrierSigningKey, CarrierUpdate, Error, ErrorCode, OrderClient, OrderFilter, PageOf,
    RetryPolicy, Shipment,
};
use order_domain::order::{Carrier, CarrierEventId, TrackingNumber, TrackingStatus};
use order_domain::OrderId;
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn order_id() -> OrderId {
    OrderId::from_uuid(Uuid::from_u128(7))
}

/// An order as the service answers it, `status` as given.
fn order_answer(status: &str) -> Value {
    json!({
        "id": order_id(), "listing_id": Uuid::from_u128(8), "buyer_id": Uuid::from_u128(1),
        "seller_id": Uuid::from_u128(2), "source": "AUCTION", "amount": "125.00",
        "fee_amount": "6.25", "shipping_cost": "10.00", "total": "135.00", "status": status,
        "shipping_address": {"city": "Lyon"}, "tracking_number": "1Z-999", "carrier": "UPS",
        "escrow_id": Uuid::from_u128(9), "created_at": "2026-12-01T10:00:00Z",
        "paid_at": "2026-12-01T10:05:00Z", "shipped_at": "2026-12-02T10:00:00Z",
        "delivered_at": null, "completed_at": null, "cancelled_at": null, "pay_by": null,
        "ship_by": null, "auto_complete_at": "2026-12-09T10:00:00Z", "dispute": null
    })
}

fn shipment() -> Shipment {
    Shipment {
        tracking_number: TrackingNumber::parse("1Z-999").unwrap(),
        carrier: Carrier::parse("UPS").unwrap(),
    }
}

fn unavailable(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(503)
        .insert_header("Retry-After", retry_after)
        .set_body_json(json!({"detail": "The Wallet is unavailable; try again later.", "code": "service_unavailable"}))
}

fn keys_of(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|request| {
            request.headers["idempotency-key"]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn seller(server: &MockServer) -> OrderClient {
    OrderClient::new(&server.uri())
        .unwrap()
        .as_user("seller-token")
}

/// A server that answers every POST with `answer`.
async fn answering_every_post(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// The seller's shipment, sent to `server`, which refuses it.
async fn refused_shipment(server: &MockServer) -> Error {
    seller(server)
        .await
        .ship(order_id(), &shipment())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_write_refused_with_503_is_sent_again_after_its_retry_after_under_the_same_key() {
    let server = MockServer::start().await;
    let ship = format!("/api/v1/orders/{}/ship/", order_id());
    Mock::given(method("POST"))
        .and(path(&ship))
        .respond_with(unavailable("1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(&ship))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_answer("SHIPPED")))
        .mount(&server)
        .await;

    let started = Instant::now();
    let shipped = seller(&server)
        .await
        .ship(order_id(), &shipment())
        .await
        .unwrap();

    assert_eq!(shipped.status, order_domain::OrderStatus::Shipped);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as asked"
    );
    let requests = server.received_requests().await.unwrap();
    let keys = keys_of(&requests);
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the retry is the same request");
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn a_503_asking_for_longer_than_the_client_waits_is_returned_at_once() {
    let server = answering_every_post(unavailable("120")).await;

    let error = refused_shipment(&server).await;

    let Error::Refused(refusal) = error else {
        panic!("a refusal, not {error:?}");
    };
    assert_eq!(refusal.code, ErrorCode::ServiceUnavailable);
    assert_eq!(refusal.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_client_gives_up_after_its_last_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(unavailable("0"))
        .mount(&server)
        .await;
    let client = OrderClient::new(&server.uri())
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        });

    let error = client.get_order(order_id()).await.unwrap_err();

    assert_eq!(error.code(), Some(&ErrorCode::ServiceUnavailable));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_write_whose_answer_never_arrives_is_sent_again_under_the_same_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(order_answer("SHIPPED"))
                .set_delay(Duration::from_secs(5)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_answer("SHIPPED")))
        .mount(&server)
        .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = OrderClient::with_http(impatient, &server.uri()).as_user("seller-token");

    client.ship(order_id(), &shipment()).await.unwrap();

    let keys = keys_of(&server.received_requests().await.unwrap());
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn each_write_has_a_key_of_its_own_unless_the_caller_names_one() {
    let server =
        answering_every_post(ResponseTemplate::new(200).set_body_json(order_answer("COMPLETED")))
            .await;
    let buyer = OrderClient::new(&server.uri())
        .unwrap()
        .as_user("buyer-token");

    buyer.complete(order_id()).await.unwrap();
    buyer.complete(order_id()).await.unwrap();
    buyer
        .complete(order_id())
        .idempotency_key("order-7-received")
        .await
        .unwrap();

    let keys = keys_of(&server.received_requests().await.unwrap());
    assert_ne!(keys[0], keys[1]);
    assert_eq!(keys[2], "order-7-received");
}

#[tokio::test]
async fn a_refusal_of_the_request_is_returned_with_its_fields_and_not_retried() {
    let server =
        answering_every_post(ResponseTemplate::new(400).set_body_json(
            json!({"tracking_number": ["Enter 1 to 64 letters, digits or hyphens."]}),
        ))
        .await;

    let error = refused_shipment(&server).await;

    let Error::Invalid(fields) = error else {
        panic!("field errors, not {error:?}");
    };
    assert_eq!(fields.fields().collect::<Vec<_>>(), ["tracking_number"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_user_calls_with_a_bearer_token_and_a_service_with_its_service_token() {
    let server = MockServer::start().await;
    let order = format!("/api/v1/orders/{}/", order_id());
    Mock::given(method("GET"))
        .and(path(&order))
        .and(header("authorization", "Bearer buyer-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_answer("PAID")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/orders/internal/erase-user/"))
        .and(header("x-service-token", "user-service-token"))
        .and(header_exists("idempotency-key"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"erased": 2, "pending": 1})))
        .mount(&server)
        .await;
    let client = OrderClient::new(&server.uri()).unwrap();

    let order = client
        .as_user("buyer-token")
        .get_order(order_id())
        .await
        .unwrap();
    let erasure = client
        .as_service("user-service-token")
        .erase_user(order.buyer_id)
        .await
        .unwrap();

    assert_eq!((erasure.erased, erasure.pending), (2, 1));
}

#[tokio::test]
async fn a_next_link_is_followed_through_the_clients_own_base_url() {
    let server = MockServer::start().await;
    let first = json!({"count": 2, "next": "http://orders.internal/api/v1/orders/?page=2&page_size=1",
                       "previous": null, "results": [order_answer("PAID")]});
    let second = json!({"count": 2, "next": null, "previous": "http://orders.internal/api/v1/orders/?page_size=1",
                        "results": [order_answer("SHIPPED")]});
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/"))
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(second))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .mount(&server)
        .await;
    let admin = OrderClient::new(&server.uri())
        .unwrap()
        .as_user("admin-token");

    let page = admin
        .list_orders(&OrderFilter {
            page: PageOf::Number { page: 1, size: 1 },
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    let next = admin
        .next_page(&page)
        .await
        .unwrap()
        .expect("a second page");

    assert_eq!(next.results[0].status, order_domain::OrderStatus::Shipped);
    assert_eq!(admin.next_page(&next).await.unwrap(), None);
}

#[tokio::test]
async fn a_carrier_update_is_signed_over_the_bytes_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/orders/carrier-events/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"event_id": "evt-1", "result": "applied", "order_ids": [order_id()]}),
        ))
        .mount(&server)
        .await;
    let key = CarrierSigningKey::new(b"whsec-test");
    let update = CarrierUpdate {
        event_id: CarrierEventId::parse("evt-1").unwrap(),
        carrier: Carrier::parse("UPS").unwrap(),
        tracking_number: TrackingNumber::parse("1Z-999").unwrap(),
        status: TrackingStatus::Delivered,
        occurred_at: "2026-12-04T09:30:00Z".parse().unwrap(),
        detail: None,
    };

    let receipt = OrderClient::new(&server.uri())
        .unwrap()
        .carrier_update(&key, &update)
        .await
        .unwrap();

    assert_eq!(receipt.order_ids, [order_id()]);
    let request = &server.received_requests().await.unwrap()[0];
    let signature = request.headers["carrier-signature"].to_str().unwrap();
    let timestamp: i64 = signature[2..signature.find(',').unwrap()].parse().unwrap();
    assert_eq!(signature, key.sign(timestamp, &request.body));
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_request_that_cannot_be_built_is_refused_without_sending_anything() {
    let server =
        answering_every_post(ResponseTemplate::new(200).set_body_json(order_answer("SHIPPED")))
            .await;

    let bad_key = seller(&server)
        .await
        .ship(order_id(), &shipment())
        .idempotency_key("line\nbreak")
        .await
        .unwrap_err();
    let bad_base = OrderClient::new("not a url")
        .unwrap()
        .get_order(order_id())
        .await
        .unwrap_err();

    assert!(matches!(bad_key, Error::InvalidRequest(_)), "{bad_key:?}");
    assert!(matches!(bad_base, Error::InvalidRequest(_)), "{bad_base:?}");
    assert_eq!(bad_key.status(), None);
    assert!(server.received_requests().await.unwrap().is_empty());
}
