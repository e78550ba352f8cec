//! The Listing client against a real HTTP server (wiremock).

mod support;

use std::time::Duration;

use order_domain::fixtures::*;
use order_peers::{HttpListings, PeerConfig};
use order_ports::{ListingError, Listings};
use serde_json::json;
use support::{answering, answering_exactly, unavailable_once_then};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "peer-secret";

fn listings(server: &MockServer) -> HttpListings {
    let mut config = PeerConfig::new(format!("{}/api/v1/listings", server.uri()), TOKEN);
    config.timeout = Duration::from_millis(300);
    config.backoff = Duration::from_millis(10);
    HttpListings::new(config).unwrap()
}

fn listing_path() -> String {
    format!("/api/v1/listings/{}/", listing_id())
}

#[tokio::test]
async fn a_listing_is_read_with_the_service_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(listing_path()))
        .and(header("X-Service-Token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": listing_id(),
            "seller_id": seller(),
            "title": "Vintage camera",
            "status": "ACTIVE",
            "buy_now_price": "125.00",
            "shipping_cost": "10.00",
            "category": "cameras",
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(listings(&server).listing(listing_id()).await, Ok(listing()));
}

#[tokio::test]
async fn a_listing_without_buy_now_price_reads_as_none() {
    let server = answering(
        "GET",
        ResponseTemplate::new(200).set_body_json(json!({
            "id": listing_id(), "seller_id": seller(), "title": "Auction only",
            "status": "ACTIVE", "buy_now_price": null, "shipping_cost": 0,
        })),
    )
    .await;
    let read = listings(&server).listing(listing_id()).await.unwrap();
    assert_eq!(read.buy_now_price, None);
    assert_eq!(read.shipping_cost, money("0.00"));
}

#[tokio::test]
async fn a_404_is_not_found() {
    let server = answering_exactly(
        "GET",
        ResponseTemplate::new(404).set_body_json(json!({"detail": "Not found."})),
        1,
    )
    .await;
    assert_eq!(
        listings(&server).listing(listing_id()).await,
        Err(ListingError::NotFound)
    );
}

#[tokio::test]
async fn a_503_then_200_is_retried() {
    let server = unavailable_once_then(
        "GET",
        ResponseTemplate::new(200).set_body_json(json!({
            "id": listing_id(), "seller_id": seller(), "title": "Vintage camera",
            "status": "ACTIVE", "buy_now_price": "125.00", "shipping_cost": "10.00",
        })),
    )
    .await;
    assert_eq!(listings(&server).listing(listing_id()).await, Ok(listing()));
}

#[tokio::test]
async fn a_listing_service_down_is_unavailable() {
    let server = answering_exactly("GET", ResponseTemplate::new(502), 3).await;
    let outcome = listings(&server).listing(listing_id()).await;
    assert!(
        matches!(outcome, Err(ListingError::Unavailable(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn garbage_or_another_listing_is_a_protocol_error() {
    let server = MockServer::start().await;
    let answers = [
        ResponseTemplate::new(200).set_body_string("not json"),
        ResponseTemplate::new(200).set_body_json(json!({
            "id": seller(), "seller_id": seller(), "title": "x", "status": "ACTIVE",
            "buy_now_price": "1.00", "shipping_cost": "0.00",
        })),
        ResponseTemplate::new(200).set_body_json(json!({
            "id": listing_id(), "seller_id": seller(), "title": "x", "status": "ACTIVE",
            "buy_now_price": "1.001", "shipping_cost": "0.00",
        })),
    ];
    for answer in answers {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let outcome = listings(&server).listing(listing_id()).await;
        assert!(
            matches!(outcome, Err(ListingError::Protocol(_))),
            "{outcome:?}"
        );
    }
}
