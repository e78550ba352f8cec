//! The real application on a fresh database, with the stand-in peers, over real HTTP.
#![allow(dead_code)]

pub mod tcp_proxy;

use std::collections::HashMap;
use std::net::TcpListener;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use order_api::config::Config;
use order_api::workers::Workers;
use order_api::Application;
use order_domain::order::{Carrier, ShippingAddress, TrackingNumber};
use order_postgres::test_db::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stub_peers::{Seed, StubConfig, StubState};
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-0123456789";
pub const SERVICE_TOKEN: &str = "auction-service-token";
/// The secret the test apps' carriers sign with (`CARRIER_WEBHOOK_SECRET`).
pub const CARRIER_SECRET: &str = "whsec-carrier-test";
const PEER_TOKEN: &str = "peer-token";

pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// An `order-api` process started by [`TestApp::spawn_binary`].
pub struct Process {
    pub child: std::process::Child,
    pub url: String,
}

impl Process {
    /// Ends the process at once, as a crash or `kill -9` would: nothing is drained.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The cast of every test: who buys, who sells, who watches.
pub struct Cast;
impl Cast {
    pub fn buyer() -> Uuid {
        uuid(0xB1)
    }
    pub fn seller() -> Uuid {
        uuid(0x5E)
    }
    pub fn stranger() -> Uuid {
        uuid(0x57)
    }
    pub fn admin() -> Uuid {
        uuid(0xAD)
    }
}

pub fn token(user: Uuid, is_staff: bool) -> String {
    order_testkit::user_token(JWT_SECRET, user, is_staff, chrono::TimeDelta::hours(1))
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum As {
    Nobody,
    User(Uuid),
    Admin(Uuid),
    Service,
    Raw(&'static str, String),
}

impl As {
    pub fn buyer() -> As {
        As::User(Cast::buyer())
    }
    pub fn seller() -> As {
        As::User(Cast::seller())
    }
    pub fn stranger() -> As {
        As::User(Cast::stranger())
    }
    pub fn admin() -> As {
        As::Admin(Cast::admin())
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts that this answer has `status`, showing the body if not.
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
    }

    /// Asserts that this answer refuses with `status` and the error `code`, showing the
    /// body if not.
    pub fn assert_refused(&self, status: StatusCode, code: &str) {
        self.assert_status(status);
        assert_eq!(self.body["code"], code, "{}", self.body);
    }
}

pub struct TestApp {
    pub url: String,
    pub peers: String,
    pub db: TestDatabase,
    pub http: reqwest::Client,
    pub application: Application,
    vars: HashMap<String, String>,
}

impl TestApp {
    /// The app with default settings, and the stand-ins seeded with `seed`.
    pub async fn spawn(seed: Seed) -> TestApp {
        TestApp::spawn_with(seed, &[]).await
    }

    pub async fn spawn_with(seed: Seed, overrides: &[(&str, &str)]) -> TestApp {
        TestApp::spawn_on(TestDatabase::new(), seed, overrides).await
    }

    /// The app on `db` (which `DATABASE_URL` among `overrides` may reach another way).
    pub async fn spawn_on(db: TestDatabase, seed: Seed, overrides: &[(&str, &str)]) -> TestApp {
        let peers_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peers = format!("http://{}", peers_listener.local_addr().unwrap());
        let stub = stub_peers::serve(
            peers_listener,
            StubState::new(seed),
            StubConfig {
                service_token: PEER_TOKEN.into(),
            },
        )
        .unwrap();
        tokio::spawn(stub);

        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", db.url().to_owned()),
            ("JWT_SECRET", JWT_SECRET.to_owned()),
            (
                "INTERNAL_SERVICE_TOKENS",
                format!("other-token,{SERVICE_TOKEN}"),
            ),
            ("PEER_SERVICE_TOKEN", PEER_TOKEN.to_owned()),
            ("CARRIER_WEBHOOK_SECRET", CARRIER_SECRET.to_owned()),
            ("WALLET_URL", format!("{peers}/api/v1/wallet")),
            ("LISTING_URL", format!("{peers}/api/v1/listings")),
            ("PEER_TIMEOUT", "2s".to_owned()),
            ("DB_POOL_SIZE", "30".to_owned()),
            // Workers run only where a test starts them; these make them quick when it does.
            ("OUTBOX_POLL_INTERVAL", "50ms".to_owned()),
            ("AUTO_COMPLETE_INTERVAL", "100ms".to_owned()),
            ("OUTBOX_RETRY_BACKOFF", "100ms".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let application = Application::build(&config).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(order_api::serve(listener, application.state.clone()).unwrap());
        TestApp {
            url,
            peers,
            db,
            http: reqwest::Client::new(),
            application,
            vars,
        }
    }

    /// Starts this app's background workers (relay, auto-completion).
    pub fn start_workers(&self) -> Workers {
        self.application.spawn_workers()
    }

    /// The `order-api` binary as a process of its own on this app's database and peers,
    /// with this app's settings and `overrides`, on a free port; killed when dropped.
    pub async fn spawn_binary(&self, overrides: &[(&str, &str)]) -> Process {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_order-api"));
        command
            .env_clear()
            .envs(&self.vars)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (name, value) in overrides {
            command.env(name, value);
        }
        let process = Process {
            child: command.spawn().unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = std::time::Instant::now();
        loop {
            let ready = self
                .http
                .get(format!("{}/readyz", process.url))
                .send()
                .await;
            match ready {
                Ok(response) if response.status().is_success() => return process,
                _ if started.elapsed() < std::time::Duration::from_secs(30) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                _ => panic!("order-api did not come up"),
            }
        }
    }

    /// Runs `order-api ARGS…` with this app's settings to the end; what it printed,
    /// asserting it succeeded.
    pub fn run_binary(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_order-api"))
            .args(args)
            .env_clear()
            .envs(&self.vars)
            .envs(std::env::vars().filter(|(name, _)| name.starts_with("AWS_")))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "order-api {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `order-api ARGS…` with this app's settings to the end, off the runtime's
    /// threads (it calls the stand-ins this process serves); whatever it exited with.
    pub async fn run_binary_output(&self, args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_order-api"));
        command.args(args).env_clear().envs(&self.vars);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    /// Another replica of the service: the same database, peers and settings, its own
    /// workers and pool.
    pub async fn replica(&self) -> Application {
        let config = Config::from_lookup(|name| self.vars.get(name).cloned()).unwrap();
        Application::build(&config).await.unwrap()
    }

    pub async fn call(&self, method: Method, path: &str, who: &As, body: Option<Value>) -> Answer {
        self.call_with(method, path, who, body, &[]).await
    }

    /// [`TestApp::call`] with `headers`.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        who: &As,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = format!("{}{path}", self.url);
        self.send(self.http.request(method, url), who, body, headers)
            .await
    }

    /// Sends `request` as `who` with `body` and `headers`; the answer, its body read as
    /// JSON where it is JSON.
    pub async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
        who: &As,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        request = match who {
            As::Nobody => request,
            As::User(id) => request.bearer_auth(token(*id, false)),
            As::Admin(id) => request.bearer_auth(token(*id, true)),
            As::Service => request.header("X-Service-Token", SERVICE_TOKEN),
            As::Raw(name, value) => request.header(*name, value),
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends `update` to the carrier endpoint as a carrier aggregator would: signed now
    /// with [`CARRIER_SECRET`].
    pub async fn carrier_update(&self, update: &Value) -> Answer {
        let body = serde_json::to_vec(update).unwrap();
        let signature = order_api::carrier_signature::CarrierSecret::new(CARRIER_SECRET)
            .sign(chrono::Utc::now().timestamp(), &body);
        let response = self
            .http
            .post(format!("{}/api/v1/orders/carrier-events/", self.url))
            .header("Content-Type", "application/json")
            .header("Carrier-Signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, who: &As) -> Answer {
        self.call(Method::GET, path, who, None).await
    }

    pub async fn post(&self, path: &str, who: &As, body: Value) -> Answer {
        self.call(Method::POST, path, who, Some(body)).await
    }

    pub async fn patch(&self, path: &str, who: &As, body: Value) -> Answer {
        self.call(Method::PATCH, path, who, Some(body)).await
    }

    /// The stand-in wallet's ledger; asserts that money was conserved.
    pub async fn ledger(&self) -> Value {
        order_testkit::conserved_ledger(&self.http, &self.peers)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    pub async fn balance(&self, user: Uuid) -> String {
        self.ledger().await["balances"][user.to_string()]
            .as_str()
            .unwrap_or("0.00")
            .to_owned()
    }

    pub async fn fault(&self, fault: Value) {
        self.stub_post("/_stub/faults/", fault).await;
    }

    /// POSTs `body` to the stand-ins' `path`, asserting it succeeded.
    pub async fn stub_post(&self, path: &str, body: Value) {
        let url = format!("{}{path}", self.peers);
        order_testkit::post_ok(&self.http, &url, &body)
            .await
            .unwrap();
    }

    pub async fn clear_faults(&self) {
        self.http
            .delete(format!("{}/_stub/faults/", self.peers))
            .send()
            .await
            .unwrap();
    }

    /// Asserts that every kept count (orders and disputes by status, orders by buyer and
    /// by seller) equals a `count(*)` of the rows themselves.
    pub async fn assert_counts_exact(&self) {
        #[derive(diesel::QueryableByName, Debug)]
        struct Mismatch {
            #[diesel(sql_type = diesel::sql_types::Text)]
            what: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            kept: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            counted: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        let mismatches: Vec<Mismatch> = diesel::sql_query(
            "SELECT 'orders ' || status AS what, coalesce(k.n, 0) AS kept, coalesce(c.n, 0) AS counted
             FROM (SELECT status, sum(n)::bigint AS n FROM order_counts GROUP BY status) k
             FULL JOIN (SELECT status, count(*) AS n FROM orders GROUP BY status) c USING (status)
             WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)
             UNION ALL
             SELECT 'disputes ' || status, coalesce(k.n, 0), coalesce(c.n, 0)
             FROM (SELECT status, sum(n)::bigint AS n FROM dispute_counts GROUP BY status) k
             FULL JOIN (SELECT status, count(*) AS n FROM disputes GROUP BY status) c USING (status)
             WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)
             UNION ALL
             SELECT 'user ' || user_id || ' ' || side, coalesce(k.n, 0), coalesce(c.n, 0)
             FROM user_order_counts k
             FULL JOIN (SELECT buyer_id AS user_id, 'buyer' AS side, count(*) AS n FROM orders GROUP BY buyer_id
                        UNION ALL
                        SELECT seller_id, 'seller', count(*) FROM orders GROUP BY seller_id) c
             USING (user_id, side)
             WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)",
        )
        .load(&mut conn)
        .await
        .unwrap();
        assert!(
            mismatches.is_empty(),
            "kept counts differ from the rows: {mismatches:?}"
        );
    }

    /// Runs a `SELECT count(*)` with `condition` on `table`.
    pub async fn count(&self, table: &str, condition: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM {table} WHERE {condition}"
        ))
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
    }

    /// The sum of a metric's samples on /metrics (every label set), or `None` if the
    /// service does not export it.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = self.get("/metrics", &As::Nobody).await.body;
        let text = text.as_str().expect("metrics are text");
        let samples: Vec<f64> = text
            .lines()
            .filter(|line| line.split([' ', '{']).next() == Some(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
            .collect();
        (!samples.is_empty()).then(|| samples.iter().sum())
    }

    /// A digest of every stored row, to show that a refused request changed nothing. A
    /// Wallet movement recorded and not applied (`escrow_intent`) is left out: it changes
    /// nothing the API shows, and is what lets a retry finish the movement once.
    pub async fn snapshot(&self) -> String {
        #[derive(diesel::QueryableByName)]
        struct Digest {
            #[diesel(sql_type = diesel::sql_types::Text)]
            digest: String,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        let mut digests = Vec::new();
        for (table, order) in [("orders", "id"), ("disputes", "id"), ("outbox", "seq")] {
            let query = format!(
                "SELECT md5(coalesce(string_agg( \
                   (to_jsonb(t) - 'escrow_intent' - 'escrow_intent_resume_at')::text, \
                   ',' ORDER BY {order}), '')) AS digest FROM {table} t"
            );
            digests.push(
                diesel::sql_query(query)
                    .get_result::<Digest>(&mut conn)
                    .await
                    .unwrap()
                    .digest,
            );
        }
        digests.join(":")
    }

    /// How many orders wait on a recorded Wallet movement.
    pub async fn pending_intents(&self) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        diesel::sql_query("SELECT count(*) AS count FROM orders WHERE escrow_intent IS NOT NULL")
            .get_result::<Count>(&mut conn)
            .await
            .unwrap()
            .count
    }

    /// The event types written for an order, in order.
    pub async fn events_of(&self, order_id: &str) -> Vec<String> {
        self.texts(&format!(
            "SELECT event_type AS text FROM outbox WHERE order_id = '{order_id}' ORDER BY seq"
        ))
        .await
        .into_iter()
        .flatten()
        .collect()
    }

    /// The one text column, `text`, of every row `sql` selects (`None` where it is null).
    pub async fn texts(&self, sql: &str) -> Vec<Option<String>> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            text: Option<String>,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        diesel::sql_query(sql)
            .load::<Row>(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.text)
            .collect()
    }

    /// The buyer confirms receipt of `order`.
    pub async fn complete(&self, order: &Value) -> Answer {
        self.post(
            &format!("/api/v1/orders/{}/complete/", id(order)),
            &As::buyer(),
            json!({}),
        )
        .await
    }

    /// The order as an admin reads it now.
    pub async fn order_now(&self, order: &Value) -> Value {
        let admin = self.client(&As::admin());
        wire(admin.get_order(typed_id(order)).await)
    }

    /// The entries of `order`'s history as an admin reads it now.
    pub async fn history_entries(&self, order: &Value) -> Vec<Value> {
        let path = format!("/api/v1/orders/{}/history/", id(order));
        let answer = self.get(&path, &As::admin()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        results(&answer.body).to_vec()
    }

    /// The dispute as an admin reads it now.
    pub async fn dispute_now(&self, dispute: &Value) -> Value {
        let admin = self.client(&As::admin());
        wire(admin.get_dispute(typed_id(dispute)).await)
    }

    // The story's steps, each asserting it succeeded.

    pub async fn auction_win(&self, listing: Uuid, amount: &str) -> Value {
        let city = [("city".to_owned(), "Lyon".to_owned())].into();
        let won = order_client::NewAuctionOrder {
            listing_id: listing.into(),
            buyer_id: Cast::buyer().into(),
            seller_id: Cast::seller().into(),
            amount: amount.parse().unwrap(),
            shipping_cost: Some("10.00".parse().unwrap()),
            shipping_address: Some(ShippingAddress::new(city).unwrap()),
        };
        wire(self.client(&As::Service).create_auction_order(&won).await)
    }

    /// An auction order held in escrow by the stand-in wallet, then marked paid.
    pub async fn paid_order(&self, listing: Uuid, amount: &str) -> Value {
        let order = self.auction_win(listing, amount).await;
        self.pay(&order).await
    }

    /// `order`, just created, held in escrow by the stand-in wallet and marked paid.
    pub async fn pay(&self, order: &Value) -> Value {
        let escrow = self
            .hold_escrow(&id(order), order["total"].as_str().unwrap())
            .await;
        let service = self.client(&As::Service);
        wire(service.mark_paid(typed_id(order), escrow.into()).await)
    }

    /// Has the stand-in wallet hold `amount` of the buyer's money for `order_id`, as the
    /// payment flow does before it marks the order paid; the escrow's id.
    pub async fn hold_escrow(&self, order_id: &str, amount: &str) -> Uuid {
        let order = order_id.parse().unwrap();
        order_testkit::hold_escrow(
            &self.http,
            &self.peers,
            PEER_TOKEN,
            order,
            Cast::buyer(),
            amount,
        )
        .await
        .unwrap_or_else(|error| panic!("{error}"))
    }

    /// A client of this app, calling as `who` (a [`As::Raw`] header is not sent).
    pub fn client(&self, who: &As) -> order_client::OrderClient {
        let anonymous = order_client::OrderClient::with_http(self.http.clone(), &self.url);
        match who {
            As::Nobody | As::Raw(..) => anonymous,
            As::User(user) => anonymous.as_user(token(*user, false)),
            As::Admin(user) => anonymous.as_user(token(*user, true)),
            As::Service => anonymous.as_service(SERVICE_TOKEN),
        }
    }

    /// Opens a dispute on `order` as the user `by` for `reason`, asserting it opened; the
    /// dispute.
    pub async fn open_dispute(&self, order: &Value, by: Uuid, reason: &str) -> Value {
        self.open_dispute_with(order, by, json!({ "reason": reason }))
            .await
    }

    /// [`TestApp::open_dispute`] with a whole body, for one that carries evidence.
    pub async fn open_dispute_with(&self, order: &Value, by: Uuid, body: Value) -> Value {
        let answer = self
            .post(
                &format!("/api/v1/orders/{}/dispute/", id(order)),
                &As::User(by),
                body,
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body
    }

    /// `by` adds the evidence `url` to `dispute`, whatever it answers.
    pub async fn add_evidence(&self, dispute: &Value, by: Uuid, url: &str) -> Answer {
        let path = format!("{}evidence/", dispute_path(dispute));
        self.post(&path, &As::User(by), json!({ "urls": [url] }))
            .await
    }

    /// An admin resolves the dispute at `path` with `resolution` (one that needs no
    /// amount), whatever it answers.
    pub async fn resolve(&self, path: &str, resolution: &str) -> Answer {
        let decision = json!({"status": "RESOLVED", "resolution": resolution});
        self.patch(path, &As::admin(), decision).await
    }

    /// A service's POST of `body` to the internal endpoint `action` (`create`, `cancel`, …),
    /// whatever it answers.
    pub async fn internal(&self, action: &str, body: Value) -> Answer {
        let path = format!("/api/v1/orders/internal/{action}/");
        self.post(&path, &As::Service, body).await
    }

    /// `by` cancels `order` for `reason`, whatever it answers.
    pub async fn cancel(&self, order: &Value, by: &As, reason: &str) -> Answer {
        let path = format!("/api/v1/orders/{}/cancel/", id(order));
        self.post(&path, by, json!({ "reason": reason })).await
    }

    /// The buyer's Buy It Now of `listing`, whatever it answers.
    pub async fn purchase(&self, listing: Uuid) -> Answer {
        self.post(
            &format!("/api/v1/orders/{listing}/purchase/"),
            &As::buyer(),
            json!({}),
        )
        .await
    }

    /// The seller ships `order` with `tracking_number` by `carrier`, whatever it answers.
    pub async fn ship(&self, order: &Value, tracking_number: &str, carrier: &str) -> Answer {
        self.post(
            &format!("/api/v1/orders/{}/ship/", id(order)),
            &As::seller(),
            json!({ "tracking_number": tracking_number, "carrier": carrier }),
        )
        .await
    }

    /// Asserts that `order` is still in `status` with its `events` events and nothing more.
    pub async fn assert_untouched(&self, order: &Value, status: &str, events: usize) {
        assert_eq!(self.order_now(order).await["status"], status);
        assert_eq!(
            self.events_of(&id(order)).await.len(),
            events,
            "nothing happened"
        );
    }

    /// Sends the buyer's completion of `order` (the only escrow) to a replica of its own,
    /// with `headers`, and kills that replica once the wallet has released the escrow but
    /// before its answer comes back: the money moved, the order row does not say so, and
    /// the caller got no answer. The wallet answers normally again afterwards.
    pub async fn complete_cut_by_a_crash(&self, order: &Value, headers: &[(&str, &str)]) {
        let path = format!("/api/v1/orders/{}/complete/", id(order));
        let buyer = token(Cast::buyer(), false);
        self.cut_by_a_crash(&path, &buyer, json!({}), headers).await;
    }

    /// Sends a POST of `body` to `path` with the bearer `token` to a replica of its own,
    /// with `headers`, and kills that replica once the wallet has paid out the escrow (the
    /// only one) but before its answer comes back. The wallet answers normally afterwards.
    pub async fn cut_by_a_crash(
        &self,
        path: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) {
        self.fault(json!({"target": "wallet", "mode": "stall", "delay_ms": 30_000}))
            .await;
        // Its own worker would take the release over after a second, but sweeps only every
        // minute: the process is gone long before.
        let mut dying = self
            .spawn_binary(&[("PEER_TIMEOUT", "60s"), ("PAYMENT_RESUME_AFTER", "1s")])
            .await;
        let mut request = self
            .http
            .post(format!("{}{path}", dying.url))
            .bearer_auth(token)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let cut = tokio::spawn(request.send());
        let app = self;
        wait_until("the wallet pays the escrow out", || async move {
            app.ledger().await["held"] == "0.00"
        })
        .await;
        dying.kill();
        assert!(
            cut.await.unwrap().is_err(),
            "the caller never got an answer"
        );
        self.clear_faults().await;
    }

    /// A shipped order whose buyer opened a dispute ("never arrived"): the dispute's path.
    pub async fn disputed_order(&self, listing: Uuid, amount: &str) -> String {
        let order = self.shipped_order(listing, amount).await;
        let opened = self
            .open_dispute(&order, Cast::buyer(), "The parcel never arrived.")
            .await;
        dispute_path(&opened)
    }

    pub async fn shipped_order(&self, listing: Uuid, amount: &str) -> Value {
        let order = self.paid_order(listing, amount).await;
        let shipment = order_client::Shipment {
            tracking_number: TrackingNumber::parse("1Z-999").unwrap(),
            carrier: Carrier::parse("UPS").unwrap(),
        };
        let seller = self.client(&As::seller());
        wire(seller.ship(typed_id(&order), &shipment).await)
    }
}

/// Listings 1..=n for sale by the cast's seller at 125.00 + 10.00, and `balance` for the
/// buyer (and for the stranger, who sometimes buys too).
pub fn seed(listings: u128, balance: &str) -> Seed {
    serde_json::from_value(json!({
        "listings": (1..=listings).map(|n| json!({
            "id": uuid(0x1000 + n), "seller_id": Cast::seller(), "title": format!("Listing {n}"),
            "status": "ACTIVE", "buy_now_price": "125.00", "shipping_cost": "10.00",
        })).collect::<Vec<_>>(),
        "wallets": [
            {"user_id": Cast::buyer(), "amount": balance},
            {"user_id": Cast::stranger(), "amount": balance},
        ],
    }))
    .unwrap()
}

/// Polls `done` every 50 ms until it holds, failing the test after 30 s with `what`.
pub async fn wait_until(what: &str, done: impl AsyncFnMut() -> bool) {
    wait_up_to(what, std::time::Duration::from_secs(30), done).await
}

/// [`wait_until`], failing after `timeout`.
pub async fn wait_up_to(
    what: &str,
    timeout: std::time::Duration,
    mut done: impl AsyncFnMut() -> bool,
) {
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Every operation of the OpenAPI `document`: each path with its methods, upper case.
pub fn documented_operations(document: &Value) -> Vec<(String, Vec<String>)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .map(str::to_uppercase)
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// A story step's answer through the client, as the service sent it; the step must have
/// succeeded.
fn wire<T: serde::Serialize>(answer: Result<T, order_client::Error>) -> Value {
    serde_json::to_value(answer.unwrap_or_else(|error| panic!("{error}"))).unwrap()
}

/// The typed id (an order's, a dispute's) of an answer.
fn typed_id<T: From<Uuid>>(value: &Value) -> T {
    id(value).parse::<Uuid>().unwrap().into()
}

/// Asserts that of two racing requests one won (2xx) and the other lost with 409; the
/// index of the winner.
pub fn one_winner(statuses: [StatusCode; 2], what: &str) -> usize {
    let winners = statuses.iter().filter(|s| s.is_success()).count();
    let losers = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((winners, losers), (1, 1), "{what}: {statuses:?}");
    statuses.iter().position(|s| s.is_success()).unwrap()
}

/// The entries of a page of a list.
pub fn results(page: &Value) -> &[Value] {
    page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("a page has results: {page}"))
}

/// The path of `dispute`, the base of its actions.
pub fn dispute_path(dispute: &Value) -> String {
    format!("/api/v1/disputes/{}/", id(dispute))
}

/// The `id` of an order or a dispute as an answer shows it.
pub fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

pub fn listing(n: u128) -> Uuid {
    uuid(0x1000 + n)
}
