//! `order-api outbox …`: what an operator needs of the event outbox, instead of SQL —
//! where it stands, which events are parked and why, and putting them back in line.

use std::fmt::Write;

use chrono::Utc;
use order_eventbridge::EventBridgePublisher;
use order_ports::Outbox;
use order_postgres::{build_pool, PgStore, PoolConfig};
use uuid::Uuid;

use crate::config::Config;
use crate::StartError;

/// Which parked events to requeue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    Order(Uuid),
    All,
}

fn store(config: &Config) -> Result<PgStore, StartError> {
    let pool = build_pool(&PoolConfig::new(config.database_url.clone()))
        .map_err(|e| StartError::Setup(e.to_string()))?;
    Ok(PgStore::new(pool))
}

fn database(error: impl std::fmt::Display) -> StartError {
    StartError::Setup(format!("database: {error}"))
}

/// Pending, oldest age, parked, held back, and whether the bus answers now.
pub async fn status(config: &Config) -> Result<String, StartError> {
    let stats = store(config)?.stats(Utc::now()).await.map_err(database)?;
    let bus = match &config.event_bus_name {
        None => "none: events are written to the log (EVENT_BUS_NAME is not set)".to_owned(),
        Some(name) => {
            let publisher = EventBridgePublisher::from_env(
                name.clone(),
                config.event_source.clone(),
                config.aws_endpoint_url.clone(),
            )
            .await;
            match publisher.probe().await {
                Ok(()) => format!("{name}: available"),
                Err(error) => format!("{name}: UNAVAILABLE ({error})"),
            }
        }
    };
    let mut text = String::new();
    let _ = writeln!(text, "pending     {}", stats.pending);
    let _ = writeln!(text, "oldest      {:.0} s", stats.lag_seconds);
    let _ = writeln!(text, "parked      {}", stats.parked);
    let _ = writeln!(
        text,
        "held back   {} (later events of orders with a parked event)",
        stats.held_back
    );
    let _ = writeln!(text, "bus         {bus}");
    Ok(text)
}

/// The parked events, oldest first: one line each, with the bus's last word.
pub async fn parked(config: &Config) -> Result<String, StartError> {
    let parked = store(config)?.parked_events().await.map_err(database)?;
    if parked.is_empty() {
        return Ok("no parked events\n".into());
    }
    let mut text = String::new();
    for event in parked {
        let _ = writeln!(
            text,
            "{} {} order {} occurred {} parked {} after {} refusals, {} later events waiting: {}",
            event.event_id,
            event.event_type,
            event.order_id,
            event.occurred_at.to_rfc3339(),
            event.parked_at.to_rfc3339(),
            event.refusals,
            event.held_back,
            event.last_error.as_deref().unwrap_or("(no error recorded)")
        );
    }
    Ok(text)
}

/// Puts parked events back in line; the relays publish them, each order's in order.
pub async fn requeue(config: &Config, which: Requeue) -> Result<String, StartError> {
    let order = match which {
        Requeue::Order(order) => Some(order),
        Requeue::All => None,
    };
    let count = store(config)?
        .requeue_parked(order, Utc::now())
        .await
        .map_err(database)?;
    Ok(format!("{count} parked events requeued\n"))
}
