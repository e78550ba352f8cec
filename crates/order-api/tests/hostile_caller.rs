//! What a hostile caller tried, and what it must get: metrics it cannot grow, tokens not yet
//! valid refused, links it cannot forge, repeated keys and doubled credentials refused by
//! name, an admin's notes kept from the parties and from every event.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{id, listing, results, seed, As, Cast, TestApp, JWT_SECRET, SERVICE_TOKEN};

/// The number of series and the size of one `/metrics` exposition.
async fn exposition_size(app: &TestApp) -> (usize, usize) {
    let text = app.get("/metrics", &As::Nobody).await.body;
    let text = text.as_str().expect("metrics are text");
    let series = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .count();
    (series, text.len())
}

#[tokio::test]
async fn invented_methods_and_unmatched_paths_add_no_series_to_the_metrics() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let http = reqwest::Client::new();
    let send = |method: String, path: String| {
        let request = http.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", app.url),
        );
        async move { request.send().await.unwrap().status() }
    };
    // One of each kind first, so that the series they fall into exist (a scrape's own
    // series appear with the next one).
    send("ZQWERTY".into(), "/healthz/".into()).await;
    send("GET".into(), "/no/such/path/".into()).await;
    exposition_size(&app).await;
    let (series, bytes) = exposition_size(&app).await;

    for n in 0..500 {
        send(format!("ZQWERTY{n}"), "/healthz/".into()).await;
        send("GET".into(), format!("/no/such/path/{n}/")).await;
    }

    let (series_after, bytes_after) = exposition_size(&app).await;
    assert!(
        series_after <= series + 4,
        "{series} series before, {series_after} after"
    );
    // Counters grow by a few digits; no label set is new.
    assert!(
        bytes_after <= bytes + 512,
        "{bytes} bytes before, {bytes_after} after"
    );
}

#[tokio::test]
async fn an_overlong_method_or_path_is_refused_before_it_is_routed() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let http = reqwest::Client::new();
    let long_method = "Z".repeat(16 * 1024);
    let answer = http
        .request(
            Method::from_bytes(long_method.as_bytes()).unwrap(),
            format!("{}/healthz/", app.url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.headers().contains_key("x-request-id"));
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "method_too_long", "{body}");

    let long_path = format!("/api/v1/orders/{}/", "a".repeat(4 * 1024));
    let answer = app.get(&long_path, &As::buyer()).await;
    answer.assert_refused(StatusCode::URI_TOO_LONG, "uri_too_long");
    let metrics = app.get("/metrics", &As::Nobody).await.body;
    assert!(
        !metrics.as_str().unwrap().contains("ZZZZZZZZ"),
        "the method is no label"
    );
}

/// A user's token signed with the test secret, with exactly `claims`.
fn signed(claims: Value) -> As {
    let token = order_testkit::sign(JWT_SECRET, &claims);
    As::Raw("Authorization", format!("Bearer {token}"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_beyond_the_leeway() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let path = format!("/api/v1/orders/{}/", id(&order));
    let exp = now() + 3600;
    let tomorrow = signed(json!({"sub": Cast::buyer(), "exp": exp, "nbf": now() + 86_400}));
    assert_eq!(
        app.get(&path, &tomorrow).await.status,
        StatusCode::UNAUTHORIZED
    );
    let admin_in_ten_years = signed(json!({
        "sub": Cast::admin(), "exp": now() + 11 * 365 * 86_400, "is_staff": true,
        "nbf": now() + 10 * 365 * 86_400,
    }));
    assert_eq!(
        app.get("/api/v1/orders/", &admin_in_ten_years).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A clock a few seconds apart is what the leeway is for.
    let in_ten_seconds = signed(json!({"sub": Cast::buyer(), "exp": exp, "nbf": now() + 10}));
    assert_eq!(app.get(&path, &in_ten_seconds).await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_a_maximum_age_a_token_issued_too_long_ago_or_undated_is_refused() {
    let app = TestApp::spawn_with(seed(0, "1.00"), &[("JWT_MAX_AGE", "1h")]).await;
    let exp = now() + 3600;
    let user = Cast::buyer();
    let fresh = signed(json!({"sub": user, "exp": exp, "iat": now() - 600}));
    let old = signed(json!({"sub": user, "exp": exp, "iat": now() - 2 * 3600}));
    let undated = signed(json!({"sub": user, "exp": exp}));
    assert_eq!(
        app.get("/api/v1/orders/", &fresh).await.status,
        StatusCode::OK
    );
    for refused in [old, undated] {
        assert_eq!(
            app.get("/api/v1/orders/", &refused).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// An app with three orders of the buyer, so that a page of one has a `next` link.
async fn app_with_pages(overrides: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(seed(0, "1.00"), overrides).await;
    for n in 1..=3 {
        app.auction_win(listing(n), "10.00").await;
    }
    app
}

const PAGE: &str = "/api/v1/orders/?page_size=1";

async fn next_link(app: &TestApp, headers: &[(&str, &str)]) -> Answer {
    let answer = app
        .call_with(Method::GET, PAGE, &As::buyer(), None, headers)
        .await;
    Answer {
        status: answer.status,
        next: answer.body["next"].as_str().unwrap_or_default().to_owned(),
    }
}

struct Answer {
    status: StatusCode,
    next: String,
}

const FORGED: [(&str, &str); 2] = [
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "javascript"),
];

#[tokio::test]
async fn links_ignore_forwarded_headers_unless_told_to_trust_them() {
    let app = app_with_pages(&[]).await;
    let own = format!("{}/api/v1/orders/?page_size=1&page=2", app.url);
    assert_eq!(next_link(&app, &FORGED).await.next, own);
    let forwarded = [("Forwarded", "host=evil.example;proto=https")];
    assert_eq!(next_link(&app, &forwarded).await.next, own);
}

#[tokio::test]
async fn trusted_forwarded_headers_name_the_host_but_never_a_scheme_other_than_http_s() {
    let app = app_with_pages(&[("TRUST_FORWARDED_HEADERS", "true")]).await;
    let proxied = [
        ("X-Forwarded-Host", "shop.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    assert_eq!(
        next_link(&app, &proxied).await.next,
        "https://shop.example/api/v1/orders/?page_size=1&page=2"
    );
    let answer = next_link(&app, &FORGED).await;
    assert_eq!(
        answer.next,
        "http://evil.example/api/v1/orders/?page_size=1&page=2"
    );
}

#[tokio::test]
async fn a_public_base_url_makes_every_link_whatever_the_request_says() {
    let app = app_with_pages(&[
        ("PUBLIC_BASE_URL", "https://api.example.com/orders-service/"),
        ("TRUST_FORWARDED_HEADERS", "true"),
    ])
    .await;
    let mut headers = FORGED.to_vec();
    headers.push(("Host", "evil.example"));
    assert_eq!(
        next_link(&app, &headers).await.next,
        "https://api.example.com/orders-service/api/v1/orders/?page_size=1&page=2"
    );
}

#[tokio::test]
async fn a_host_outside_the_allowed_hosts_is_refused() {
    let app = app_with_pages(&[("ALLOWED_HOSTS", "api.example.com,127.0.0.1")]).await;
    assert_eq!(
        next_link(&app, &[("Host", "evil.example")]).await.status,
        StatusCode::BAD_REQUEST
    );
    // Forwarded headers are not trusted here, so they do not matter.
    let answer = next_link(&app, &FORGED).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.next.starts_with(&app.url), "{}", answer.next);
    let allowed = next_link(&app, &[("Host", "api.example.com")]).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.next,
        "http://api.example.com/api/v1/orders/?page_size=1&page=2"
    );

    let trusting = app_with_pages(&[
        ("ALLOWED_HOSTS", "api.example.com,127.0.0.1"),
        ("TRUST_FORWARDED_HEADERS", "true"),
    ])
    .await;
    assert_eq!(
        next_link(&trusting, &FORGED).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// POSTs `body` as it is written (repeated keys and all) with exactly `headers`, a header
/// named twice sent twice; the answer's status and JSON.
async fn post_raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: String,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.url))
        .header("Content-Type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let answer = request.send().await.unwrap();
    (answer.status(), answer.json().await.unwrap())
}

fn bearer(token: String) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn service_token(token: &str) -> (&'static str, String) {
    ("X-Service-Token", token.to_owned())
}

/// An auction win's body, with `address` as its shipping address as written.
fn auction_win(address: &str) -> String {
    format!(
        r#"{{"listing_id": "{}", "buyer_id": "{}", "seller_id": "{}", "amount": "10.00",
             "shipping_address": {address}}}"#,
        listing(1),
        Cast::buyer(),
        Cast::seller()
    )
}

#[tokio::test]
async fn a_repeated_key_is_refused_by_name_and_changes_nothing() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let before = app.snapshot().await;
    let seller = [bearer(support::token(Cast::seller(), false))];
    let body = r#"{"tracking_number": "1Z-1", "carrier": "UPS", "tracking_number": "1Z-2"}"#;
    let ship = format!("/api/v1/orders/{}/ship/", id(&order));
    let answer = post_raw(&app, &ship, &seller, body.into()).await;
    assert_eq!(
        answer,
        (
            StatusCode::BAD_REQUEST,
            json!({"tracking_number": ["Repeated key."]})
        )
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_repeated_key_inside_a_field_is_reported_under_that_field() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let body = auction_win(r#"{"city": "Lyon", "city": "Paris"}"#);
    let create = "/api/v1/orders/internal/create/";
    let answer = post_raw(&app, create, &[service_token(SERVICE_TOKEN)], body).await;
    assert_eq!(
        answer,
        (
            StatusCode::BAD_REQUEST,
            json!({"shipping_address": ["city: Repeated key."]})
        )
    );
    assert_eq!(app.count("orders", "true").await, 0);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_and_nothing_is_done() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let before = app.snapshot().await;
    let forged_admin = order_testkit::sign(
        "not-the-secret-at-all",
        &json!({"sub": Cast::admin(), "exp": now() + 600, "is_staff": true}),
    );
    let both = [
        bearer(support::token(Cast::seller(), false)),
        bearer(forged_admin),
    ];
    let ship = format!("/api/v1/orders/{}/ship/", id(&order));
    let body = json!({"tracking_number": "1Z-1", "carrier": "UPS"}).to_string();
    let (status, body) = post_raw(&app, &ship, &both, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "ambiguous_credentials", "{body}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn two_service_tokens_are_refused_and_nothing_is_done() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let both = [
        service_token(SERVICE_TOKEN),
        service_token("a-forged-token"),
    ];
    let create = "/api/v1/orders/internal/create/";
    let (status, body) = post_raw(&app, create, &both, auction_win("{}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "ambiguous_credentials", "{body}");
    assert_eq!(app.count("orders", "true").await, 0);
}

#[tokio::test]
async fn the_admins_notes_reach_admins_only_never_the_parties_nor_an_event() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let path = app.disputed_order(listing(1), "100.00").await;
    let admin = As::admin();
    let updated = app
        .patch(
            &path,
            &admin,
            json!({"admin_notes": "The seller lied twice."}),
        )
        .await;
    updated.assert_status(StatusCode::OK);
    assert_eq!(updated.body["admin_notes"], "The seller lied twice.");
    assert_eq!(
        app.get(&path, &admin).await.body["admin_notes"],
        "The seller lied twice."
    );
    let listed = app.get("/api/v1/disputes/", &admin).await.body;
    assert_eq!(
        listed["results"][0]["admin_notes"],
        "The seller lied twice."
    );

    for party in [Cast::buyer(), Cast::seller()] {
        let read = app.get(&path, &As::User(party)).await;
        read.assert_status(StatusCode::OK);
        assert_eq!(read.body["admin_notes"], Value::Null, "{}", read.body);
        // The field is there, as documented, only empty.
        assert!(read.body.as_object().unwrap().contains_key("admin_notes"));
    }

    let feed = app
        .get("/api/v1/orders/internal/events/?limit=500", &As::Service)
        .await
        .body;
    let with_dispute: Vec<&Value> = results(&feed)
        .iter()
        .filter(|event| !event["detail"]["dispute"].is_null())
        .collect();
    assert!(with_dispute.len() >= 2, "{feed}");
    for event in with_dispute {
        assert_eq!(
            event["detail"]["dispute"]["admin_notes"],
            Value::Null,
            "{event}"
        );
    }
    assert_eq!(
        app.count("outbox", "payload::text LIKE '%lied twice%'")
            .await,
        0,
        "no event written carries the notes"
    );
}

#[test]
fn the_token_verifier_needs_no_rsa_crate_with_a_known_timing_advisory() {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    assert!(
        !lock.lines().any(|line| line == "name = \"rsa\""),
        "RUSTSEC-2023-0071: the rsa crate is in Cargo.lock"
    );
}
