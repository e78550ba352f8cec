//! `stub-peers`: runs the Wallet and Listing stand-ins on one port.
//!
//! Environment: `STUB_PEERS_ADDR` (default `127.0.0.1:8006`; port 0 picks a free one),
//! `STUB_SERVICE_TOKEN` (default `dev-peer-token`), `STUB_SEED` (a JSON file of listings
//! and wallet deposits to start with). Prints `stub-peers listening on http://ADDR` once
//! it accepts connections.

use std::io::Write;
use std::net::TcpListener;

use stub_peers::{Seed, StubConfig, StubState};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::var("STUB_PEERS_ADDR").unwrap_or_else(|_| "127.0.0.1:8006".into());
    let service_token =
        std::env::var("STUB_SERVICE_TOKEN").unwrap_or_else(|_| "dev-peer-token".into());
    let seed = match std::env::var("STUB_SEED") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| std::io::Error::other(format!("STUB_SEED {path}: {e}")))?;
            serde_json::from_str::<Seed>(&text)
                .map_err(|e| std::io::Error::other(format!("STUB_SEED {path}: {e}")))?
        }
        Err(_) => Seed::default(),
    };
    let listener = TcpListener::bind(&addr)
        .map_err(|e| std::io::Error::other(format!("STUB_PEERS_ADDR {addr}: {e}")))?;
    let local = listener.local_addr()?;
    let server = stub_peers::serve(listener, StubState::new(seed), StubConfig { service_token })?;
    println!("stub-peers listening on http://{local}");
    std::io::stdout().flush()?;
    server.await
}
