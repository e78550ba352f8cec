//! What an operator relies on: metrics that move with the traffic, and a readiness probe
//! that follows the database.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::tcp_proxy::TcpProxy;
use support::{listing, seed, As, Cast, TestApp};

#[tokio::test]
async fn metrics_follow_requests_peers_transitions_and_the_outbox() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.shipped_order(listing(2), "10.00").await;
    app.post(
        &format!("/api/v1/orders/{}/complete/", order["id"].as_str().unwrap()),
        &As::User(Cast::buyer()),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/orders/{}/purchase/", listing(1)),
        &As::User(Cast::buyer()),
        json!({}),
    )
    .await;
    app.get(
        &format!("/api/v1/orders/{}/", support::uuid(1)),
        &As::User(Cast::buyer()),
    )
    .await;

    for series in [
        "order_service_http_requests_total",
        "order_service_http_request_duration_seconds_count",
        "order_service_db_pool_connections",
        "order_service_peer_requests_total",
        "order_service_peer_request_duration_seconds_count",
        "order_service_order_transitions_total",
        "order_service_outbox_pending_rows",
        "order_service_outbox_lag_seconds",
    ] {
        let value = app
            .metric(series)
            .await
            .unwrap_or_else(|| panic!("{series} is missing"));
        assert!(value > 0.0, "{series} = {value}");
    }
    let text = app
        .get("/metrics", &As::Nobody)
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains(r#"order_service_order_transitions_total{event="order.shipped"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"peer="wallet",operation="release_escrow",outcome="ok""#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/orders/{id}/",method="GET",status="404""#),
        "{text}"
    );

    // Once the relay runs, the outbox drains and the publications are counted.
    let _workers = app.start_workers();
    let started = Instant::now();
    // The relay counts its publications once its step has committed them: both must show.
    while app.metric("order_service_outbox_pending_rows").await != Some(0.0)
        || app
            .metric("order_service_outbox_published_events_total")
            .await
            == Some(0.0)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the relay drains the outbox and counts it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.metric("order_service_outbox_lag_seconds").await,
        Some(0.0)
    );
    assert_eq!(
        app.metric("order_service_outbox_parked_rows").await,
        Some(0.0)
    );
}

#[tokio::test]
async fn readiness_turns_unready_without_the_database_and_ready_again_after() {
    let proxy = TcpProxy::start(5432).await;
    let db = order_postgres::test_db::TestDatabase::new();
    let name = db.url().rsplit('/').next().unwrap().to_owned();
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    let app = TestApp::spawn_with(seed(0, "1.00"), &[("DATABASE_URL", url.as_str())]).await;
    assert_eq!(app.get("/readyz", &As::Nobody).await.status, StatusCode::OK);

    proxy.cut();
    let unready = app.get("/readyz", &As::Nobody).await;
    assert_eq!(
        unready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        unready.body
    );
    assert!(unready.headers.contains_key("retry-after"));
    let listed = app.get("/api/v1/orders/", &As::User(Cast::buyer())).await;
    assert_eq!(
        listed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a request needing the database: 503, not 500"
    );
    assert_eq!(
        app.get("/healthz", &As::Nobody).await.status,
        StatusCode::OK,
        "alive all the same"
    );

    proxy.restore();
    let started = Instant::now();
    while app.get("/readyz", &As::Nobody).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ready again once the database is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(db);
}
