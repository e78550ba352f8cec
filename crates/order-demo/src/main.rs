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

use diesel_async::{AsyncConnection, AsyncPgConnection};
use order_testkit::processes::Credentials;
use reqwest::Client;
use serde_json::Value;
use tokio::process::Child;
use uuid::Uuid;

mod chapters;
mod demo;

const CREDENTIALS: Credentials = Credentials {
    jwt_secret: "demo-jwt-secret-0123456789",
    service_token: "demo-auction-service",
    peer_token: "demo-peer-token",
};
const CARRIER_SECRET: &str = "demo-carrier-secret";

type Result<T> = std::result::Result<T, String>;

/// A call's outcome, its failure told as the demo tells every failure.
trait Told<T> {
    fn told(self) -> Result<T>;
}

impl<T> Told<T> for std::result::Result<T, order_client::Error> {
    fn told(self) -> Result<T> {
        self.map_err(|error| error.to_string())
    }
}

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
    /// The Order Service, through the client the platform's services use.
    orders: order_client::OrderClient,
    /// The stand-in peers, which the Order Service's client does not reach.
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
    let mut demo = Demo::start(&database_url, port, peers_port).await?;
    let outcome = demo.story(&database_url).await;
    demo.stop().await;
    outcome
}

/// The port `variable` names, or a free one; a named port already taken stops the demo at
/// once, before anything answers on it that is not the demo's.
fn port_from(variable: &str) -> Result<u16> {
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
    Ok(port)
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
    order_postgres::recreate_database(&mut admin, name).await
}

fn sibling(binary: &str) -> Result<std::path::PathBuf> {
    order_testkit::sibling(binary).map_err(unbuilt)
}

/// What to tell of a binary that is not built.
fn unbuilt(missing: String) -> String {
    format!("{missing} (make demo does)")
}
