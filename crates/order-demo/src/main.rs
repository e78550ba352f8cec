//! `order-demo`: the Order Service's whole story, told over HTTP.
//!
//! Starts the stand-in peers and `order-api` (the binaries built next to this one) on a
//! fresh database, walks an auction sale, a Buy It Now, a declined Buy It Now, a dispute
//! settled by partial refund and an auto-completed order, and prints each step, where the
//! money went, and the events the service published.
//!
//! Environment: `DEMO_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/orders_demo`;
//! the database is dropped and created anew), `DEMO_PORT` and `DEMO_PEERS_PORT` (default:
//! free ports, so that a `make run` left up is never mistaken for the demo's own service).

use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use uuid::Uuid;

const JWT_SECRET: &str = "demo-jwt-secret-0123456789";
const SERVICE_TOKEN: &str = "demo-auction-service";
const PEER_TOKEN: &str = "demo-peer-token";

type Result<T> = std::result::Result<T, String>;

/// Who takes part, with stable ids so that runs can be compared.
struct Cast;

impl Cast {
    const ALICE: Uuid = Uuid::from_u128(0xA11CE);
    const BOB: Uuid = Uuid::from_u128(0xB0B);
    const SAM: Uuid = Uuid::from_u128(0x5A11E5);
    const ADMIN: Uuid = Uuid::from_u128(0xAD);

    fn name(id: &str) -> &'static str {
        match Uuid::parse_str(id).ok() {
            Some(Cast::ALICE) => "Alice (buyer)",
            Some(Cast::BOB) => "Bob (buyer)",
            Some(Cast::SAM) => "Sam (seller)",
            _ => "someone",
        }
    }
}

/// A JSON string's text, for printing without quotes.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}

fn listing(n: u128) -> Uuid {
    Uuid::from_u128(0x1157_0000 + n)
}

struct Demo {
    http: Client,
    api: String,
    peers: String,
    /// The stand-in peers and the service, each with its name and address for messages.
    children: Vec<(&'static str, String, Child)>,
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("\ndemo failed: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let database_url = std::env::var("DEMO_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/orders_demo".into());
    let port = port_from("DEMO_PORT")?;
    let peers_port = port_from("DEMO_PEERS_PORT")?;
    recreate_database(&database_url).await?;
    let mut demo = Demo::start(&database_url, &port, &peers_port).await?;
    let outcome = demo.story(&database_url).await;
    demo.stop().await;
    outcome
}

/// The port `variable` names, or a free one; a named port already taken stops the demo at
/// once, before anything answers on it that is not the demo's.
fn port_from(variable: &str) -> Result<String> {
    let named = std::env::var(variable).ok();
    let address = format!("127.0.0.1:{}", named.as_deref().unwrap_or("0"));
    let listener = std::net::TcpListener::bind(&address).map_err(|e| match &named {
        Some(_) => format!(
            "{variable}: {address} is already taken ({e}), by a `make run` perhaps; \
             choose another port, or leave {variable} unset for a free one"
        ),
        None => format!("cannot find a free port: {e}"),
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot find a free port: {e}"))?
        .port();
    Ok(port.to_string())
}

/// Drops and creates the demo's own database, so every run starts from nothing.
async fn recreate_database(url: &str) -> Result<()> {
    let (server, name) = url
        .rsplit_once('/')
        .ok_or("DEMO_DATABASE_URL has no database name")?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "DEMO_DATABASE_URL: \"{name}\" is not a plain database name"
        ));
    }
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .map_err(|e| format!("cannot reach PostgreSQL at {server}: {e}"))?;
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .map_err(|e| format!("{statement}: {e}"))?;
    }
    Ok(())
}

fn sibling(binary: &str) -> Result<std::path::PathBuf> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name(binary);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it first (make demo does)",
            path.display()
        ))
    }
}

impl Demo {
    async fn start(database_url: &str, port: &str, peers_port: &str) -> Result<Demo> {
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
    async fn wait_ready(&mut self, url: &str) -> Result<()> {
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

    async fn stop(&mut self) {
        for (_, _, child) in &mut self.children {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    fn token(user: Uuid, is_staff: bool) -> String {
        let claims = json!({"sub": user, "is_staff": is_staff, "exp": chrono::Utc::now().timestamp() + 3600});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .expect("an HS256 token")
    }

    /// A call to the service as `user` (or as the Auction service with `None`).
    async fn call(
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

    async fn expect(
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

    async fn peers_post(&self, path: &str, body: Value, key: Option<String>) -> Result<Value> {
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

    async fn ledger(&self) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}/_stub/ledger/", self.peers))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        response.json().await.map_err(|e| e.to_string())
    }

    async fn balance(&self, user: Uuid) -> Result<String> {
        Ok(self.ledger().await?["balances"][user.to_string()]
            .as_str()
            .unwrap_or("0.00")
            .to_owned())
    }

    async fn order(&self, id: &str) -> Result<Value> {
        self.expect(
            reqwest::Method::GET,
            &format!("/api/v1/orders/{id}/"),
            Some((Cast::ADMIN, true)),
            Value::Null,
            StatusCode::OK,
        )
        .await
    }

    async fn story(&self, database_url: &str) -> Result<()> {
        use reqwest::Method;
        println!(
            "Order Service demo — service {}, stand-in Wallet and Listing {}",
            self.api, self.peers
        );
        self.peers_post(
            "/_stub/seed/",
            json!({
                "listings": [
                    {"id": listing(2), "seller_id": Cast::SAM, "title": "Mechanical keyboard", "status": "ACTIVE", "buy_now_price": "89.90", "shipping_cost": "7.50"},
                    {"id": listing(3), "seller_id": Cast::SAM, "title": "Rare vinyl record", "status": "ACTIVE", "buy_now_price": "60.00", "shipping_cost": "5.00"},
                ],
                "wallets": [{"user_id": Cast::ALICE, "amount": "1000.00"}, {"user_id": Cast::BOB, "amount": "20.00"}],
            }),
            None,
        )
        .await?;
        println!("Wallets before: Alice 1000.00, Bob 20.00, Sam (seller) 0.00 — fee rate 5 %\n");

        println!("1. Auction: Alice wins \"Vintage camera\" for 200.00 (+10.00 shipping)");
        let won = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/create/",
                None,
                json!({"listing_id": listing(1), "buyer_id": Cast::ALICE, "seller_id": Cast::SAM, "amount": "200.00", "shipping_cost": "10.00", "shipping_address": {"name": "Alice", "city": "Lyon"}}),
                StatusCode::CREATED,
            )
            .await?;
        let id = won["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "   order {id}: {} — amount {}, fee {}, total {}",
            text(&won["status"]),
            text(&won["amount"]),
            text(&won["fee_amount"]),
            text(&won["total"])
        );
        let held = self
            .peers_post(
                "/api/v1/wallet/internal/hold-escrow/",
                json!({"order_id": id, "buyer_id": Cast::ALICE, "amount": won["total"]}),
                Some(format!("demo-hold-{id}")),
            )
            .await?;
        let paid = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/mark-paid/",
                None,
                json!({"order_id": id, "escrow_id": held["escrow_id"]}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   the Wallet holds {} in escrow → {}",
            text(&won["total"]),
            text(&paid["status"])
        );
        let shipped = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{id}/ship/"),
                Some((Cast::SAM, false)),
                json!({"tracking_number": "1Z-999-AA1", "carrier": "UPS"}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   Sam ships it (UPS 1Z-999-AA1) → {}, completes by itself at {}",
            text(&shipped["status"]),
            text(&shipped["auto_complete_at"])
        );
        let done = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{id}/complete/"),
                Some((Cast::ALICE, false)),
                json!({}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   Alice confirms receipt → {}: Sam gets 210.00 − 10.00 = 200.00, the platform 10.00",
            text(&done["status"])
        );

        println!("\n2. Buy It Now: Alice buys the \"Mechanical keyboard\" (89.90 + 7.50 shipping)");
        let bought = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{}/purchase/", listing(2)),
                Some((Cast::ALICE, false)),
                json!({"shipping_address": {"city": "Lyon"}}),
                StatusCode::CREATED,
            )
            .await?;
        println!(
            "   order {}: {} — total {} held in escrow, fee {}",
            bought["id"].as_str().unwrap_or_default(),
            text(&bought["status"]),
            text(&bought["total"]),
            text(&bought["fee_amount"])
        );

        println!("\n3. Declined Buy It Now: Bob (20.00 in his wallet) tries the \"Rare vinyl record\" (65.00)");
        let (status, declined) = self
            .call(
                Method::POST,
                &format!("/api/v1/orders/{}/purchase/", listing(3)),
                Some((Cast::BOB, false)),
                json!({}),
            )
            .await?;
        if status != StatusCode::PAYMENT_REQUIRED {
            return Err(format!(
                "a declined Buy It Now answered {status}: {declined}"
            ));
        }
        let (_, bobs) = self
            .call(
                Method::GET,
                "/api/v1/orders/?role=buyer",
                Some((Cast::BOB, false)),
                Value::Null,
            )
            .await?;
        println!(
            "   → HTTP 402 \"{}\"; his order is {}, the listing is free again",
            declined["detail"].as_str().unwrap_or_default(),
            text(&bobs["results"][0]["status"])
        );

        println!("\n4. Dispute: Alice says the keyboard arrived with broken keys");
        let keyboard = bought["id"].as_str().unwrap_or_default().to_owned();
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{keyboard}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "DHL-42", "carrier": "DHL"}),
            StatusCode::OK,
        )
        .await?;
        let dispute = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{keyboard}/dispute/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "Three keys are broken on arrival.", "evidence": ["https://img.example.com/keys.jpg"]}),
                StatusCode::CREATED,
            )
            .await?;
        let dispute_id = dispute["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "   dispute {dispute_id}: {} → order {}",
            text(&dispute["status"]),
            text(&self.order(&keyboard).await?["status"])
        );
        let settled = self
            .expect(
                Method::PATCH,
                &format!("/api/v1/disputes/{dispute_id}/"),
                Some((Cast::ADMIN, true)),
                json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00", "admin_notes": "Refund the repair."}),
                StatusCode::OK,
            )
            .await?;
        println!(
            "   the admin resolves {} with {} → order {}",
            text(&settled["resolution"]),
            text(&settled["refund_amount"]),
            text(&self.order(&keyboard).await?["status"])
        );
        println!("   of 97.40: Alice gets 30.00 back, the platform 5 % of (89.90 − 30.00) = 3.00, Sam 64.40");

        println!("\n5. Auto-completion: Sam ships an auction win nobody confirms (the demo waits 4 s, not 7 days)");
        let quiet_id = self.paid_auction(listing(4), Cast::ALICE, "40.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{quiet_id}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "LP-7", "carrier": "La Poste"}),
            StatusCode::OK,
        )
        .await?;
        let completed = self
            .wait_for(
                &format!("/api/v1/orders/{quiet_id}/"),
                "the automatic completion",
                |order| order["status"] == "COMPLETED",
            )
            .await?;
        println!("   order {quiet_id}: shipped at {}, COMPLETED at {} by the worker: Sam gets 38.00, the platform 2.00", text(&completed["shipped_at"]), text(&completed["completed_at"]));

        self.deadlines().await?;
        self.money().await?;
        self.timeline(&keyboard).await?;
        self.events(database_url).await
    }

    /// An auction order held in escrow for `buyer` and marked paid; its id.
    async fn paid_auction(&self, listing_id: Uuid, buyer: Uuid, amount: &str) -> Result<String> {
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
    async fn wait_for(
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

    /// Chapter 6: nobody waits forever on a party who went silent.
    async fn deadlines(&self) -> Result<()> {
        use reqwest::Method;
        println!("\n6. Deadlines (seconds here, days in production): nobody waits forever on a silent party");
        let won = self
            .expect(
                Method::POST,
                "/api/v1/orders/internal/create/",
                None,
                json!({"listing_id": listing(5), "buyer_id": Cast::BOB, "seller_id": Cast::SAM, "amount": "15.00"}),
                StatusCode::CREATED,
            )
            .await?;
        let unpaid = text(&won["id"]).to_owned();
        let unshipped = self.paid_auction(listing(6), Cast::ALICE, "50.00").await?;
        let argued = self.paid_auction(listing(7), Cast::BOB, "10.00").await?;
        self.expect(
            Method::POST,
            &format!("/api/v1/orders/{argued}/ship/"),
            Some((Cast::SAM, false)),
            json!({"tracking_number": "LP-9", "carrier": "La Poste"}),
            StatusCode::OK,
        )
        .await?;
        let dispute = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{argued}/dispute/"),
                Some((Cast::BOB, false)),
                json!({"reason": "The lamp arrived without its shade."}),
                StatusCode::CREATED,
            )
            .await?;
        let (status, early) = self
            .call(
                Method::POST,
                &format!("/api/v1/orders/{unshipped}/cancel/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "The seller never shipped."}),
            )
            .await?;
        if status != StatusCode::CONFLICT {
            return Err(format!("an early cancellation answered {status}: {early}"));
        }
        println!(
            "   Bob wins \"Old lamp\" and never pays; Alice pays 50.00 for a desk Sam never ships;"
        );
        println!(
            "   Bob disputes a shipped order and Sam never answers. Alice asks to cancel at once:"
        );
        println!(
            "   → HTTP 409 {}: \"{}\"",
            text(&early["code"]),
            text(&early["detail"])
        );

        let cancelled = self
            .wait_for(
                &format!("/api/v1/orders/{unpaid}/"),
                "the unpaid order's cancellation",
                |o| o["status"] == "CANCELLED",
            )
            .await?;
        println!(
            "   the worker cancels Bob's unpaid order at {} (its pay_by)",
            text(&cancelled["cancelled_at"])
        );
        let escalated = self
            .wait_for(
                &format!("/api/v1/disputes/{}/", text(&dispute["id"])),
                "the unanswered dispute's escalation",
                |d| d["status"] == "REVIEW",
            )
            .await?;
        println!(
            "   Sam let respond_by pass: the dispute goes to {} at {}",
            text(&escalated["status"]),
            text(&escalated["escalated_at"])
        );
        self.wait_for(&format!("/api/v1/orders/{unshipped}/"), "ship_by", |o| {
            o["ship_by"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                .is_some_and(|ship_by| ship_by <= chrono::Utc::now())
        })
        .await?;
        let before = self.balance(Cast::ALICE).await?;
        let refunded = self
            .expect(
                Method::POST,
                &format!("/api/v1/orders/{unshipped}/cancel/"),
                Some((Cast::ALICE, false)),
                json!({"reason": "The seller never shipped."}),
                StatusCode::OK,
            )
            .await?;
        let after = self.balance(Cast::ALICE).await?;
        println!(
            "   past ship_by Alice cancels: order {}, the whole 50.00 back from escrow (Alice {before} → {after})",
            text(&refunded["status"])
        );
        Ok(())
    }

    /// One order's history, as support staff would read it.
    async fn timeline(&self, order: &str) -> Result<()> {
        let history = self
            .expect(
                reqwest::Method::GET,
                &format!("/api/v1/orders/{order}/history/"),
                Some((Cast::ALICE, false)),
                Value::Null,
                StatusCode::OK,
            )
            .await?;
        println!(
            "\nThe keyboard's story, as Alice reads it (GET /api/v1/orders/{order}/history/):"
        );
        for entry in history["results"].as_array().cloned().unwrap_or_default() {
            let who = match entry["actor"]["id"].as_str().map(Cast::name) {
                Some(name) if name != "someone" => name,
                _ => text(&entry["actor"]["type"]),
            };
            println!(
                "   {:>2}. {}  {:<22} by {:<22} {} → {}  {}",
                entry["sequence"],
                text(&entry["occurred_at"]).get(11..19).unwrap_or_default(),
                text(&entry["event_type"]),
                who,
                text(&entry["from_status"]),
                text(&entry["to_status"]),
                entry["details"]
            );
        }
        Ok(())
    }

    async fn money(&self) -> Result<()> {
        let ledger = self.ledger().await?;
        println!("\nWhere the money is (the stand-in Wallet's ledger):");
        for (who, expected) in [
            (Cast::ALICE, "682.60"),
            (Cast::BOB, "10.00"),
            (Cast::SAM, "302.40"),
        ] {
            let balance = self.balance(who).await?;
            println!("   {:<16} {balance:>9}", Cast::name(&who.to_string()));
            if balance != expected {
                return Err(format!(
                    "{} has {balance}, expected {expected}",
                    Cast::name(&who.to_string())
                ));
            }
        }
        println!(
            "   {:<16} {:>9}",
            "platform fees",
            ledger["platform"].as_str().unwrap_or_default()
        );
        println!(
            "   {:<16} {:>9}",
            "held in escrow",
            ledger["held"].as_str().unwrap_or_default()
        );
        let (deposits, accounted) = (text(&ledger["deposits"]), text(&ledger["accounted"]));
        println!(
            "   deposits {} = balances + fees + escrow {} — {}",
            deposits,
            accounted,
            if deposits == accounted {
                "no cent lost or made"
            } else {
                "MONEY MISMATCH"
            }
        );
        if deposits != accounted || ledger["platform"] != "15.00" {
            return Err(format!("the ledger does not add up: {ledger}"));
        }
        Ok(())
    }

    /// The events, once the relay has published them all.
    async fn events(&self, database_url: &str) -> Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Event {
            #[diesel(sql_type = diesel::sql_types::Text)]
            event_type: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            order_id: String,
            #[diesel(sql_type = diesel::sql_types::Bool)]
            published: bool,
        }
        let mut conn = AsyncPgConnection::establish(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let events = loop {
            let events: Vec<Event> = diesel::sql_query(
                "SELECT event_type, order_id::text AS order_id, published_at IS NOT NULL AS published FROM outbox ORDER BY seq",
            )
            .load(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
            if events.iter().all(|e| e.published) || started.elapsed() > Duration::from_secs(10) {
                break events;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let published = events.iter().filter(|e| e.published).count();
        println!("\nEvents published ({published} of {}; with no EVENT_BUS_NAME they go to the service's log):", events.len());
        for event in &events {
            println!("   {:<18} order {}", event.event_type, event.order_id);
        }
        if published != events.len() {
            return Err("some events were not published".into());
        }
        println!("\nThe demo ran to the end.");
        Ok(())
    }
}
