//! What the tests, the demo and the benchmark share to call the Order Service as its
//! callers do: user tokens signed as an identity provider signs them, the stand-in Wallet's
//! ledger, and the processes they start (free ports, the binaries built beside them). The
//! service itself never depends on it.

pub mod processes;

use chrono::{TimeDelta, Utc};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

/// `claims` signed HS256 with `secret`, exactly as given.
pub fn sign(secret: &str, claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signs any JSON object")
}

/// A token of `user` (an admin with `is_staff`), valid for `valid_for` from now.
pub fn user_token(secret: &str, user: Uuid, is_staff: bool, valid_for: TimeDelta) -> String {
    let exp = (Utc::now() + valid_for).timestamp();
    sign(
        secret,
        &json!({"sub": user, "is_staff": is_staff, "exp": exp}),
    )
}

/// A port free on 127.0.0.1 at this moment, for a process to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("the loopback interface has a free port")
}

/// The path of `binary`, built in the same directory as the running one (`cargo build`
/// puts a workspace's binaries side by side); an error naming it when it is not there.
pub fn sibling(binary: &str) -> Result<std::path::PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name(binary);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} is missing: build it first", path.display()))
    }
}

/// The stand-in Wallet's ledger at `peers`, once it shows that money was conserved: every
/// deposit accounted for in balances, fees and escrow. `Err` says what is wrong, with the
/// ledger.
pub async fn conserved_ledger(http: &reqwest::Client, peers: &str) -> Result<Value, String> {
    let ledger = json_of(http.get(format!("{peers}/_stub/ledger/"))).await?;
    if ledger["accounted"] == ledger["deposits"] {
        Ok(ledger)
    } else {
        Err(format!("money was not conserved: {ledger:#}"))
    }
}

/// Has the stand-in Wallet at `peers` hold `amount` of `buyer`'s money for `order`, as the
/// payment flow does before it marks an auction order paid; the escrow's id. Under a key
/// derived from the order, so that holding it again holds nothing more.
pub async fn hold_escrow(
    http: &reqwest::Client,
    peers: &str,
    peer_token: &str,
    order: Uuid,
    buyer: Uuid,
    amount: &str,
) -> Result<Uuid, String> {
    let held: Value = http
        .post(format!("{peers}/api/v1/wallet/internal/hold-escrow/"))
        .header("X-Service-Token", peer_token)
        .header("Idempotency-Key", format!("hold-{order}"))
        .json(&json!({"order_id": order, "buyer_id": buyer, "amount": amount}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("holding the escrow of {order}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("holding the escrow of {order}: {e}"))?;
    held["escrow_id"]
        .as_str()
        .and_then(|escrow| escrow.parse().ok())
        .ok_or_else(|| format!("the Wallet held no escrow for {order}: {held}"))
}

/// The JSON body `request` is answered with, whatever its status; what went wrong as text.
pub async fn json_of(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    response.json().await.map_err(|e| e.to_string())
}

/// POSTs `body` to `url` (a stand-in's control endpoint, say); an error naming `url` unless
/// it succeeded.
pub async fn post_ok(http: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let response = http.post(url).json(body).send().await;
    match response.map_err(|e| e.to_string())?.status() {
        status if status.is_success() => Ok(()),
        status => Err(format!("{url}: {status}")),
    }
}
