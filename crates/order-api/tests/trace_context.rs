//! W3C trace context across the service's edges: a caller's `traceparent` is continued
//! (or a trace started), sent on to the Wallet and the Listing service with the request's
//! `X-Request-Id`, and stored with every event the request writes.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{listing, seed, token, Cast, TestApp};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// A Buy It Now by the buyer, sent with `headers`; the answer's status and its
/// `X-Request-Id`.
async fn purchase(app: &TestApp, headers: &[(&str, String)]) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/orders/{}/purchase/",
            app.url,
            listing(1)
        ))
        .bearer_auth(token(Cast::buyer(), false))
        .json(&json!({}));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let answer = request.send().await.unwrap();
    let request_id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (answer.status(), request_id)
}

/// The calls the stand-in peers received, oldest first.
async fn peer_calls(app: &TestApp) -> Vec<Value> {
    reqwest::get(format!("{}/_stub/calls/", app.peers))
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

/// The trace id of a `traceparent`, and its span id.
fn ids(traceparent: &str) -> (&str, &str) {
    let fields: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(fields.len(), 4, "{traceparent}");
    (fields[1], fields[2])
}

/// The `traceparent`s stored with the outbox's events.
async fn stored_traces(app: &TestApp) -> Vec<Option<String>> {
    app.texts("SELECT traceparent AS text FROM outbox ORDER BY seq")
        .await
}

#[tokio::test]
async fn a_callers_trace_reaches_the_peers_and_the_events_its_request_writes() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let caller_span = "00f067aa0ba902b7";
    let (status, request_id) = purchase(
        &app,
        &[
            ("traceparent", format!("00-{CALLER_TRACE}-{caller_span}-01")),
            ("X-Request-Id", "checkout-42".to_owned()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(request_id, "checkout-42");

    let calls = peer_calls(&app).await;
    let paths: Vec<&str> = calls.iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert!(
        paths.iter().any(|p| p.starts_with("/api/v1/listings/"))
            && paths.iter().any(|p| p.starts_with("/api/v1/wallet/")),
        "the purchase read the listing and held the escrow: {paths:?}"
    );
    for call in &calls {
        let traceparent = call["traceparent"]
            .as_str()
            .unwrap_or_else(|| panic!("{call}"));
        let (trace, span) = ids(traceparent);
        assert_eq!(trace, CALLER_TRACE, "{call}");
        assert_ne!(
            span, caller_span,
            "each call is a span below the caller's: {call}"
        );
        assert_eq!(call["request_id"], "checkout-42", "{call}");
    }

    let stored = stored_traces(&app).await;
    assert!(!stored.is_empty());
    for traceparent in &stored {
        let traceparent = traceparent.as_deref().expect("every event keeps its trace");
        assert_eq!(ids(traceparent).0, CALLER_TRACE);
    }
}

#[tokio::test]
async fn without_a_traceparent_the_service_starts_a_trace_of_its_own_per_request() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    // A malformed header is not the caller's trace: a new one starts.
    let (status, request_id) =
        purchase(&app, &[("traceparent", "00-not-a-trace-01".to_owned())]).await;
    assert_eq!(status, StatusCode::CREATED);
    let calls = peer_calls(&app).await;
    assert!(!calls.is_empty());
    let traces: Vec<&str> = calls
        .iter()
        .map(|call| ids(call["traceparent"].as_str().unwrap()).0)
        .collect();
    assert!(
        traces
            .iter()
            .all(|trace| *trace == traces[0] && *trace != CALLER_TRACE),
        "one new trace for the request: {traces:?}"
    );
    assert!(calls
        .iter()
        .all(|call| call["request_id"] == request_id.as_str()));
    let stored = stored_traces(&app).await;
    assert!(stored
        .iter()
        .all(|traceparent| ids(traceparent.as_deref().unwrap()).0 == traces[0]));
}
