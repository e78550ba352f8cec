//! Spans exported over OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`), read by a local receiver:
//! one purchase is one trace, continued from the caller's `traceparent`, across the
//! service's request, its use case, the database, the Listing and the Wallet, and on into
//! the event it publishes.

mod support;

use std::collections::HashSet;

use serde_json::{json, Value};
use support::{listing, seed, token, wait_until, Cast, TestApp};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// EventBridge's PutEvents, accepting every entry it is sent.
struct AcceptEvery;

impl Respond for AcceptEvery {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let entries = body["Entries"].as_array().map_or(0, Vec::len);
        let ids: Vec<Value> = (0..entries)
            .map(|n| json!({"EventId": format!("e-{n}")}))
            .collect();
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .set_body_json(json!({"FailedEntryCount": 0, "Entries": ids}))
    }
}

/// Every span the receiver was sent (OTLP/JSON), with its resource's `service.name`.
async fn exported_spans(collector: &MockServer) -> Vec<Value> {
    let mut spans = Vec::new();
    for request in collector.received_requests().await.unwrap_or_default() {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            continue;
        };
        for resource in body["resourceSpans"].as_array().into_iter().flatten() {
            let service = attribute(&resource["resource"], "service.name");
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let mut span = span.clone();
                    span["service"] = service.clone();
                    spans.push(span);
                }
            }
        }
    }
    spans
}

/// The value of an OTLP attribute of `holder`, as JSON (`Null` when absent).
fn attribute(holder: &Value, key: &str) -> Value {
    holder["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["key"] == key)
        .map(|a| {
            let value = &a["value"];
            value
                .get("stringValue")
                .or_else(|| value.get("intValue"))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .unwrap_or(Value::Null)
}

/// Whether `span` records a call of the peer `peer`.
fn calls_peer(span: &Value, peer: &str) -> bool {
    attribute(span, "peer.service") == peer
}

/// OTLP's `SPAN_KIND_SERVER`.
const SERVER: u64 = 2;

#[tokio::test]
async fn a_purchase_is_one_exported_trace_from_the_caller_to_the_peers_and_its_event() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&collector)
        .await;
    let bus = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "AWSEvents.PutEvents"))
        .respond_with(AcceptEvery)
        .mount(&bus)
        .await;
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let collector_url = collector.uri();
    let bus_url = bus.uri();
    let service = app
        .spawn_binary(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector_url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "orders-under-test"),
            // The SDK's batch processor sends every 100 ms rather than every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("EVENT_BUS_NAME", "orders"),
            ("AWS_ENDPOINT_URL", bus_url.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ])
        .await;

    let answer = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/orders/{}/purchase/",
            service.url,
            listing(1)
        ))
        .bearer_auth(token(Cast::buyer(), false))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .header("X-Request-Id", "checkout-7")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);

    // The event's publication, and every span of it, arrive within a few batches.
    let mut spans = Vec::new();
    wait_until(
        "the purchase's spans and its event's publication",
        async || {
            spans = exported_spans(&collector).await;
            let published = spans.iter().any(|s| {
                s["name"] == "relay publish"
                    && s["links"]
                        .as_array()
                        .is_some_and(|links| links.iter().any(|l| l["traceId"] == CALLER_TRACE))
            });
            published && spans.iter().any(|s| calls_peer(s, "wallet"))
        },
    )
    .await;

    let trace: Vec<&Value> = spans
        .iter()
        .filter(|s| s["traceId"] == CALLER_TRACE)
        .collect();
    assert!(trace.iter().all(|s| s["service"] == "orders-under-test"));
    let requests: Vec<&&Value> = trace.iter().filter(|s| s["kind"] == SERVER).collect();
    assert_eq!(requests.len(), 1, "{trace:#?}");
    let request = requests[0];
    assert_eq!(request["name"], "POST /api/v1/orders/{id}/purchase/");
    assert_eq!(
        request["parentSpanId"], CALLER_SPAN,
        "the request continues the caller's span"
    );
    assert_eq!(
        attribute(request, "request_id"),
        "checkout-7",
        "{request:#}"
    );

    // Every other span of the trace hangs, through its parents, below the request.
    let by_id: std::collections::HashMap<&str, &Value> = trace
        .iter()
        .map(|s| (s["spanId"].as_str().unwrap(), *s))
        .collect();
    let request_id = request["spanId"].as_str().unwrap();
    for span in &trace {
        let mut at = *span;
        while at["spanId"] != request_id {
            let parent = at["parentSpanId"].as_str().unwrap_or_default();
            at = by_id
                .get(parent)
                .unwrap_or_else(|| panic!("{span:#} does not hang below the request"));
        }
    }

    assert!(
        trace.iter().any(|s| s["name"] == "purchase"),
        "the use case's span"
    );
    let statements: Vec<&&Value> = trace
        .iter()
        .filter(|s| attribute(s, "db.system.name") == "postgresql")
        .collect();
    assert!(
        statements.iter().any(|s| s["name"] == "INSERT")
            && statements.iter().all(|s| {
                let text = attribute(s, "db.query.text");
                text.as_str()
                    .is_some_and(|text| text.starts_with(s["name"].as_str().unwrap()))
            }),
        "a span per statement, named for its operation: {statements:#?}"
    );

    // The peers were called under the exported peer-call spans, with the request's id.
    let peer_spans: Vec<&&Value> = trace
        .iter()
        .filter(|s| !attribute(s, "peer.service").is_null())
        .collect();
    let peers: HashSet<String> = peer_spans
        .iter()
        .map(|s| attribute(s, "peer.service").as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        peers,
        HashSet::from(["listing".to_owned(), "wallet".to_owned()])
    );
    let calls: Vec<Value> = reqwest::get(format!("{}/_stub/calls/", app.peers))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!calls.is_empty());
    for call in &calls {
        let traceparent = call["traceparent"].as_str().unwrap();
        let span_id = traceparent.split('-').nth(2).unwrap();
        assert!(
            peer_spans.iter().any(|s| s["spanId"] == span_id)
                && traceparent.starts_with(&format!("00-{CALLER_TRACE}-")),
            "{call} was not sent under an exported peer-call span"
        );
        assert_eq!(call["request_id"], "checkout-7");
    }

    // The event went out with the request's span as its trace header.
    let sent = bus.received_requests().await.unwrap();
    let headers: Vec<String> = sent
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .flat_map(|body| body["Entries"].as_array().cloned().unwrap_or_default())
        .filter_map(|entry| entry["TraceHeader"].as_str().map(str::to_owned))
        .collect();
    let expected = format!(
        "Root=1-{}-{};Parent={request_id};Sampled=1",
        &CALLER_TRACE[..8],
        &CALLER_TRACE[8..]
    );
    assert!(
        !headers.is_empty() && headers.iter().all(|h| *h == expected),
        "{headers:?}, not {expected}"
    );

    // Probes are not exported, nor statements outside any exported span.
    assert!(
        !spans.iter().any(|s| s["name"]
            .as_str()
            .is_some_and(|name| name.contains("/readyz"))),
        "the readiness probe's requests stay out of the traces"
    );
    // A statement outside an exported span would be a root. (Its parent may still be
    // open, and so not exported yet: a sweep's span ends after its statements.)
    for statement in spans
        .iter()
        .filter(|s| attribute(s, "db.system.name") == "postgresql")
    {
        let parent = statement["parentSpanId"].as_str().unwrap_or_default();
        assert!(!parent.is_empty(), "a statement of its own: {statement:#}");
    }
}

#[tokio::test]
async fn requests_are_served_while_the_collector_cannot_be_reached() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    // A port nothing listens on: every export fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let service = app
        .spawn_binary(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", nowhere.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ])
        .await;
    let client = reqwest::Client::new();
    let purchase = client
        .post(format!(
            "{}/api/v1/orders/{}/purchase/",
            service.url,
            listing(1)
        ))
        .bearer_auth(token(Cast::buyer(), false))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(purchase.status(), 201);
    let order: Value = purchase.json().await.unwrap();
    // Exports keep failing meanwhile; reads are answered all the same.
    for _ in 0..20 {
        let read = client
            .get(format!(
                "{}/api/v1/orders/{}/",
                service.url,
                order["id"].as_str().unwrap()
            ))
            .bearer_auth(token(Cast::buyer(), false))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
