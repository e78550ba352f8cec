//! `order-api` as an operator runs it: with only `DATABASE_URL`, it migrates and serves
//! on port 8005.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use order_postgres::test_db::TestDatabase;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn with_only_a_database_url_it_serves_on_port_8005() {
    let db = TestDatabase::new();
    let _service = Running(
        Command::new(env!("CARGO_BIN_EXE_order-api"))
            .env_clear()
            .env("DATABASE_URL", db.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let ready = loop {
        match client.get("http://127.0.0.1:8005/readyz").send().await {
            Ok(response) => break response,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("order-api did not come up: {error}"),
        }
    };
    assert_eq!(ready.status(), 200);
    let orders = client
        .get("http://127.0.0.1:8005/api/v1/orders/")
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 401, "it answers, and asks for credentials");
    let healthcheck = Command::new(env!("CARGO_BIN_EXE_order-api"))
        .arg("healthcheck")
        .env_clear()
        .status()
        .unwrap();
    assert!(healthcheck.success(), "the container health check passes");
}

#[test]
fn a_missing_database_url_stops_start_up_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_order-api"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_order-api"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("serve") && help.contains("migrate") && help.contains("healthcheck"),
        "{help}"
    );
}

#[test]
fn a_bad_value_stops_start_up_with_one_line_naming_it() {
    for (variable, value) in [
        ("PORT", "eighty"),
        ("AUTO_COMPLETE_AFTER", "soon"),
        ("FEE_RATE", "2"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_order-api"))
            .env_clear()
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unused")
            .env(variable, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{variable}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(variable) && stderr.contains(value),
            "{stderr}"
        );
    }
}

use order_testkit::free_port;

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_cleanly() {
    let db = TestDatabase::new();
    let peers_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peers = format!("http://{}", peers_listener.local_addr().unwrap());
    let seed: stub_peers::Seed = serde_json::from_value(serde_json::json!({
        "listings": [{"id": uuid::Uuid::from_u128(1), "seller_id": uuid::Uuid::from_u128(2), "title": "Lamp",
                      "status": "ACTIVE", "buy_now_price": "10.00", "shipping_cost": "0.00"}],
        "wallets": [{"user_id": uuid::Uuid::from_u128(3), "amount": "100.00"}],
    }))
    .unwrap();
    let state = stub_peers::StubState::new(seed);
    tokio::spawn(
        stub_peers::serve(
            peers_listener,
            state,
            stub_peers::StubConfig {
                service_token: "peer".into(),
            },
        )
        .unwrap(),
    );
    let client = reqwest::Client::new();
    // Every wallet call takes two seconds.
    client
        .post(format!("{peers}/_stub/faults/"))
        .json(&serde_json::json!({"target": "wallet", "mode": "delay", "delay_ms": 2000}))
        .send()
        .await
        .unwrap();

    let port = free_port();
    let mut service = Running(
        Command::new(env!("CARGO_BIN_EXE_order-api"))
            .env_clear()
            .env("DATABASE_URL", db.url())
            .env("PORT", port.to_string())
            .env("JWT_SECRET", "sigterm-secret-0123456789")
            .env("PEER_SERVICE_TOKEN", "peer")
            .env("WALLET_URL", format!("{peers}/api/v1/wallet"))
            .env("LISTING_URL", format!("{peers}/api/v1/listings"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "order-api did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": uuid::Uuid::from_u128(3), "exp": chrono::Utc::now().timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"sigterm-secret-0123456789"),
    )
    .unwrap();
    let slow = tokio::spawn({
        let client = client.clone();
        let url = format!(
            "{base}/api/v1/orders/{}/purchase/",
            uuid::Uuid::from_u128(1)
        );
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({}))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = service.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());

    let answer = slow
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let exited = Instant::now();
    let status = loop {
        if let Some(status) = service.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            exited.elapsed() < Duration::from_secs(20),
            "order-api did not exit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
}
