//! `order-api`: the Order Service.

// No request path may panic: what an `expect` would assume, the types carry.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::unreachable)]

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use order_api::carrier_signature::CarrierSecret;
use order_api::config::Config;
use order_api::outbox_admin::{self, Requeue};
use order_api::{serve, telemetry, Application, StartError};
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "order-api",
    version,
    about = "The Order Service of the auction marketplace (configuration: environment variables, see docs/configuration.md)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Serve the HTTP API on $PORT (the default when no command is given).
    Serve,
    /// Apply the pending database migrations, then exit.
    Migrate,
    /// Exit 0 if the service on $PORT answers /healthz (for container health checks).
    Healthcheck,
    /// Print the OpenAPI document (JSON), as `/api/v1/openapi.json` serves it, then exit.
    Openapi,
    /// The event outbox: where it stands, parked events, requeueing them.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Print a user token signed with $JWT_SECRET, for trying the API (valid 24 hours).
    Token {
        /// The user the token is for.
        user: uuid::Uuid,
        /// An admin's token (`is_staff`).
        #[arg(long)]
        staff: bool,
    },
    /// Compare every order that has an escrow with the Wallet's account of it. Exit 0 when
    /// they all agree, 1 when something drifts, 2 when the run could not finish (the Wallet
    /// or the database could not be read).
    Reconcile {
        /// Only the orders changed since then: a time (2026-12-01T00:00:00Z) or how long
        /// ago (24h, 7d).
        #[arg(long, value_name = "TIME", value_parser = since)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only this order.
        #[arg(long, value_name = "ORDER_ID")]
        order: Option<uuid::Uuid>,
        /// One JSON object a line (each finding, then the summary) instead of text.
        #[arg(long)]
        json: bool,
        /// Wallet calls in flight at most.
        #[arg(long, value_name = "N", default_value_t = order_api::reconcile::DEFAULT_CONCURRENCY,
              value_parser = concurrency)]
        concurrency: usize,
    },
    /// Print the Carrier-Signature header value of the body on stdin, signed with
    /// $CARRIER_WEBHOOK_SECRET now, for trying the carrier endpoint by hand.
    CarrierSign {
        /// Sign at this time (unix seconds) instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        timestamp: Option<i64>,
    },
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum OutboxCommand {
    /// Pending and parked events, the oldest pending one's age, and whether the bus answers.
    Status,
    /// Parked events: which, why, and how many of their order's events wait behind each.
    Parked,
    /// Put parked events back in line once their cause is fixed; the relays then publish
    /// each order's events in order.
    Requeue {
        /// Only the parked events of this order.
        #[arg(
            long,
            value_name = "ORDER_ID",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        order: Option<uuid::Uuid>,
        /// Every parked event.
        #[arg(long)]
        all: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command == Some(Command::Healthcheck) {
        return healthcheck();
    }
    if cli.command == Some(Command::Openapi) {
        return match order_api::openapi::document_json() {
            Ok(document) => {
                println!("{document}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Token { user, staff }) = cli.command {
        return token(user, staff);
    }
    if let Some(Command::CarrierSign { timestamp }) = cli.command {
        return carrier_sign(timestamp);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Reconcile {
        since,
        order,
        json,
        concurrency,
    }) = cli.command
    {
        return reconcile(&config, since, order, json, concurrency).await;
    }
    let command = cli.command.unwrap_or(Command::Serve);
    // Spans are exported only by the service itself; the outbox commands log nothing.
    let telemetry = match command {
        Command::Outbox(_) => None,
        Command::Serve => Some(telemetry::init(config.log_format, config.otlp.as_ref())),
        _ => Some(telemetry::init(config.log_format, None)),
    };
    let telemetry = match telemetry.transpose() {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let outcome = run(command, config).await;
    if let Err(error) = &outcome {
        tracing::error!(%error, "order-api stopped");
        eprintln!("{error}");
    }
    if let Some(telemetry) = telemetry {
        telemetry.shutdown().await;
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

async fn run(command: Command, config: Config) -> Result<(), StartError> {
    if let Command::Outbox(outbox) = command {
        let text = match outbox {
            OutboxCommand::Status => outbox_admin::status(&config).await?,
            OutboxCommand::Parked => outbox_admin::parked(&config).await?,
            OutboxCommand::Requeue { order, .. } => {
                let which = order.map_or(Requeue::All, Requeue::Order);
                outbox_admin::requeue(&config, which).await?
            }
        };
        print!("{text}");
        return Ok(());
    }
    if command == Command::Migrate || config.migrate_on_start {
        let applied = order_postgres::run_migrations_from(
            &config.database_url,
            order_postgres::MIGRATIONS,
            config.migration_limits,
        )
        .await?;
        tracing::info!(applied, "database schema up to date");
    }
    if command == Command::Migrate {
        return Ok(());
    }
    let application = Application::build(&config).await?;
    let listener = TcpListener::bind(("0.0.0.0", config.port))?;
    tracing::info!(port = config.port, "order-api listening");
    let workers = application.spawn_workers();
    // Returns once SIGTERM or SIGINT has drained the in-flight requests.
    serve(listener, application.state.clone())?.await?;
    workers.stop(Duration::from_secs(10)).await;
    tracing::info!("order-api stopped");
    Ok(())
}

fn concurrency(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n @ 1..=256) => Ok(n),
        _ => Err(format!("{value:?}: give a number of calls from 1 to 256")),
    }
}

fn since(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    order_api::reconcile::parse_since(value, chrono::Utc::now())
}

/// `order-api reconcile`: the findings on stdout, progress on a terminal's stderr, the
/// verdict in the exit code.
async fn reconcile(
    config: &Config,
    since: Option<chrono::DateTime<chrono::Utc>>,
    order: Option<uuid::Uuid>,
    json: bool,
    concurrency: usize,
) -> ExitCode {
    use order_api::reconcile::{self, Options, Verdict};
    let service = match reconcile::service(config, concurrency) {
        Ok(service) => service,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(Verdict::Unfinished.exit_code());
        }
    };
    let options = Options {
        scope: reconcile::scope(since, order.map(order_domain::OrderId::from_uuid)),
        json,
        concurrency,
    };
    let verdict = reconcile::run(&service, options, &mut std::io::stdout()).await;
    ExitCode::from(verdict.exit_code())
}

/// `order-api carrier-sign`: the signature a carrier aggregator would send with the body
/// read from stdin, exactly as read (sign the very bytes you then send).
fn carrier_sign(timestamp: Option<i64>) -> ExitCode {
    use std::io::Read;
    let _ = dotenvy::dotenv();
    let Some(secret) = std::env::var("CARRIER_WEBHOOK_SECRET")
        .ok()
        .filter(|secret| !secret.is_empty())
    else {
        eprintln!("CARRIER_WEBHOOK_SECRET is not set");
        return ExitCode::from(2);
    };
    let mut body = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut body) {
        eprintln!("cannot read the body from stdin: {error}");
        return ExitCode::FAILURE;
    }
    let at = timestamp.unwrap_or_else(|| chrono::Utc::now().timestamp());
    println!("{}", CarrierSecret::new(secret).sign(at, &body));
    ExitCode::SUCCESS
}

/// A token as the marketplace's identity provider would issue it, for trying the API out
/// from the docs UI or curl; only HS256, since a service holding only a public key cannot
/// sign.
fn token(user: uuid::Uuid, staff: bool) -> ExitCode {
    let Ok(secret) = std::env::var("JWT_SECRET") else {
        eprintln!("set JWT_SECRET to the secret the service verifies tokens with");
        return ExitCode::from(2);
    };
    let claims = serde_json::json!({
        "sub": user,
        "is_staff": staff,
        "exp": chrono::Utc::now().timestamp() + 24 * 3600,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    match jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot sign a token: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One plain HTTP/1.0 request to the local service; no client library, no configuration
/// beyond `PORT`, so that it works in the smallest runtime image.
fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    let port = std::env::var("PORT").unwrap_or_else(|_| "8005".into());
    let answer = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port.parse().unwrap_or(8005)))?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        stream.write_all(b"GET /healthz/ HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    })();
    match answer {
        Ok(answer) if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        Ok(answer) => {
            eprintln!("unhealthy: {}", answer.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            ExitCode::FAILURE
        }
    }
}
