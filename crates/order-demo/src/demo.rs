//! The demo's parts: the stand-in peers and the service it starts, and the calls it makes.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::process::Command;
use uuid::Uuid;

use crate::{
    sibling, text, Cast, Demo, Result, CARRIER_SECRET, JWT_SECRET, PEER_TOKEN, SERVICE_TOKEN,
};

impl Demo {
    pub(crate) async fn start(database_url: &str, port: &str, peers_port: &str) -> Result<Demo> {
        let peers = format!("http://127.0.0.1:{peers_port}");
        let api = format!("http://127.0.0.1:{port}");
        let stub = Command::new(sibling("stub-peers")?)
            .env("STUB_PEERS_ADDR", format!("127.0.0.1:{peers_port}"))
            .env("STUB_SERVICE_TOKEN", PEER_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start stub-peers: {e}"))?;
        let service = Command::new(sibling("order-api")?)
            .env("DATABASE_URL", database_url)
            .env("PORT", port)
            .env("JWT_SECRET", JWT_SECRET)
            .env("INTERNAL_SERVICE_TOKENS", SERVICE_TOKEN)
            .env("PEER_SERVICE_TOKEN", PEER_TOKEN)
            .env("WALLET_URL", format!("{peers}/api/v1/wallet"))
            .env("LISTING_URL", format!("{peers}/api/v1/listings"))
            .env("AUTO_COMPLETE_AFTER", "4s")
            .env("AUTO_COMPLETE_AFTER_DELIVERY", "2s")
            .env("CARRIER_WEBHOOK_SECRET", CARRIER_SECRET)
            .env("AUTO_COMPLETE_INTERVAL", "1s")
            // Deadlines of seconds instead of days, so that the story can show them pass.
            .env("PAYMENT_WINDOW", "3s")
            .env("SHIP_WITHIN", "3s")
            .env("DISPUTE_RESPONSE_WINDOW", "4s")
            .env("DEADLINE_INTERVAL", "500ms")
            .env("OUTBOX_POLL_INTERVAL", "200ms")
            .env("RUST_LOG", "warn")
            .env_remove("EVENT_BUS_NAME")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start order-api: {e}"))?;
        let mut demo = Demo {
            http: Client::new(),
            children: vec![
                ("stub-peers", peers.clone(), stub),
                ("order-api", api.clone(), service),
            ],
            api,
            peers,
        };
        let ready = demo.wait_ready(&format!("{}/healthz", demo.peers)).await;
        let ready = match ready {
            Ok(()) => demo.wait_ready(&format!("{}/readyz", demo.api)).await,
            failed => failed,
        };
        if let Err(error) = ready {
            demo.stop().await;
            return Err(error);
        }
        Ok(demo)
    }

    /// Waits until `url` answers 2xx. A part that stops meanwhile stops the demo: an answer
    /// on its port would come from someone else's server.
    pub(crate) async fn wait_ready(&mut self, url: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            for (name, address, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "{name} stopped as it started ({status}): is {address} already taken \
                         (by a `make run`, say)? Set DEMO_PORT / DEMO_PEERS_PORT, or leave them \
                         unset for free ports"
                    ));
                }
            }
            if let Ok(response) = self.http.get(url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("{url} did not answer within a minute"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn stop(&mut self) {
        for (_, _, child) in &mut self.children {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub(crate) fn token(user: Uuid, is_staff: bool) -> String {
        order_testkit::user_token(JWT_SECRET, user, is_staff, chrono::TimeDelta::hours(1))
    }

    /// A call to the service as `user` (or as the Auction service with `None`).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        user: Option<(Uuid, bool)>,
        body: Value,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api))
            .json(&body);
        request = match user {
            Some((id, staff)) => request.bearer_auth(Demo::token(id, staff)),
            None => request.header("X-Service-Token", SERVICE_TOKEN),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub(crate) async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        user: Option<(Uuid, bool)>,
        body: Value,
        expected: StatusCode,
    ) -> Result<Value> {
        let (status, answer) = self.call(method, path, user, body).await?;
        if status != expected {
            return Err(format!(
                "{path} answered {status} (expected {expected}): {answer}"
            ));
        }
        Ok(answer)
    }

    pub(crate) async fn peers_post(
        &self,
        path: &str,
        body: Value,
        key: Option<String>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.peers))
            .header("X-Service-Token", PEER_TOKEN)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        Ok(response.json().await.unwrap_or(Value::Null))
    }

    /// The stand-in Wallet's ledger; an error if it shows a cent lost or made.
    pub(crate) async fn ledger(&self) -> Result<Value> {
        order_testkit::conserved_ledger(&self.http, &self.peers).await
    }

    pub(crate) async fn balance(&self, user: Uuid) -> Result<String> {
        Ok(self.ledger().await?["balances"][user.to_string()]
            .as_str()
            .unwrap_or("0.00")
            .to_owned())
    }

    pub(crate) async fn order(&self, id: &str) -> Result<Value> {
        self.expect(
            reqwest::Method::GET,
            &format!("/api/v1/orders/{id}/"),
            Some((Cast::ADMIN, true)),
            Value::Null,
            StatusCode::OK,
        )
        .await
    }

    /// An auction order held in escrow for `buyer` and marked paid; its id.
    pub(crate) async fn paid_auction(
        &self,
        listing_id: Uuid,
        buyer: Uuid,
        amount: &str,
    ) -> Result<String> {
        use reqwest::Method;
        let won = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/create/",
                None,
                json!({"listing_id": listing_id, "buyer_id": buyer, "seller_id": Cast::SAM, "amount": amount}),
                StatusCode::CREATED,
            )
            .await?;
        let id = text(&won["id"]).to_owned();
        let held = self
            .peers_post(
                "/api/v1/wallet/internal/hold-escrow/",
                json!({"order_id": id, "buyer_id": buyer, "amount": amount}),
                Some(format!("demo-hold-{id}")),
            )
            .await?;
        self.expect(
            Method::POST,
            "/api/v1/orders/internal/mark-paid/",
            None,
            json!({"order_id": id, "escrow_id": held["escrow_id"]}),
            StatusCode::OK,
        )
        .await?;
        Ok(id)
    }

    /// Polls `path` (as an admin) until `done` holds for it; the last answer.
    pub(crate) async fn wait_for(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let started = Instant::now();
        loop {
            let answer = self
                .expect(
                    reqwest::Method::GET,
                    path,
                    Some((Cast::ADMIN, true)),
                    Value::Null,
                    StatusCode::OK,
                )
                .await?;
            if done(&answer) {
                return Ok(answer);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{what} did not happen: {answer}"));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
