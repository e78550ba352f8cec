//! The service and its stand-in peers as processes, started as the demo and the benchmark
//! start them: the binaries built beside the running one, on loopback ports, quiet.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::sibling;

/// What a started service shares with its callers and its peers.
#[derive(Clone, Copy, Debug)]
pub struct Credentials {
    /// Signs the users' tokens (`JWT_SECRET`).
    pub jwt_secret: &'static str,
    /// What the auction and payment services send (`INTERNAL_SERVICE_TOKENS`).
    pub service_token: &'static str,
    /// What the service sends its peers, and the stand-ins accept.
    pub peer_token: &'static str,
}

/// `stub-peers` on 127.0.0.1:`port`, accepting `credentials.peer_token`, killed when
/// dropped.
pub fn stub_peers(port: u16, credentials: &Credentials) -> Result<Command, String> {
    let mut command = Command::new(sibling("stub-peers")?);
    command
        .env("STUB_PEERS_ADDR", format!("127.0.0.1:{port}"))
        .env("STUB_SERVICE_TOKEN", credentials.peer_token)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    Ok(command)
}

/// `order-api` on 127.0.0.1:`port` over `database_url`, calling the stand-in peers at
/// `peers`, killed when dropped. It logs warnings only and publishes to no event bus (its
/// events stay in the outbox); a caller adds its own settings before spawning.
pub fn order_api(
    database_url: &str,
    port: u16,
    peers: &str,
    credentials: &Credentials,
) -> Result<Command, String> {
    let mut command = Command::new(sibling("order-api")?);
    command
        .env("DATABASE_URL", database_url)
        .env("PORT", port.to_string())
        .env("JWT_SECRET", credentials.jwt_secret)
        .env("INTERNAL_SERVICE_TOKENS", credentials.service_token)
        .env("PEER_SERVICE_TOKEN", credentials.peer_token)
        .env("WALLET_URL", format!("{peers}/api/v1/wallet"))
        .env("LISTING_URL", format!("{peers}/api/v1/listings"))
        .env("RUST_LOG", "warn")
        .env_remove("EVENT_BUS_NAME")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    Ok(command)
}

/// Waits until `url` answers with a success, asking `alive` before each try whether what
/// should answer is still running (its error ends the wait); a minute at most.
pub async fn wait_ready(
    http: &reqwest::Client,
    url: &str,
    mut alive: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        alive()?;
        let answered = http.get(url).send().await;
        if answered.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("{url} did not answer within a minute"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
