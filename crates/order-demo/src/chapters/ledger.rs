//! The story's end: one order's history, where the money is, and the events published.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use order_domain::OrderId;
use serde_json::{json, Value};

use crate::{text, Cast, Demo, Result, Told};

impl Demo {
    /// One order's history, as support staff would read it.
    pub(super) async fn timeline(&self, order: OrderId) -> Result<()> {
        let history = self
            .user(Cast::ALICE)
            .order_history(order, 1)
            .await
            .told()?;
        println!(
            "\nThe keyboard's story, as Alice reads it (GET /api/v1/orders/{order}/history/):"
        );
        for entry in history.results {
            let actor = json!(entry.actor);
            let who = match actor["id"].as_str().map(Cast::name) {
                Some(name) if name != "someone" => name,
                _ => text(&actor["type"]),
            };
            println!(
                "   {:>2}. {}  {:<22} by {:<22} {} → {}  {}",
                entry.sequence,
                entry.occurred_at.format("%H:%M:%S"),
                entry.event_type.as_str(),
                who,
                entry.from_status,
                entry.to_status,
                Value::Object(entry.details)
            );
        }
        Ok(())
    }

    pub(super) async fn money(&self) -> Result<()> {
        let ledger = self.ledger().await?;
        println!("\nWhere the money is (the stand-in Wallet's ledger):");
        for (who, expected) in [
            (Cast::ALICE, "640.60"),
            (Cast::BOB, "10.00"),
            (Cast::SAM, "342.30"),
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
        if deposits != accounted || ledger["platform"] != "17.10" {
            return Err(format!("the ledger does not add up: {ledger}"));
        }
        Ok(())
    }

    /// The events, once the relay has published them all.
    pub(super) async fn events(&self, database_url: &str) -> Result<()> {
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
