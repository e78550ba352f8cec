//! Follows every order's status and money from a stream of the Order Service's events.
//!
//! Reads JSON lines on stdin, each one of: an event document (as the bus delivers its
//! `detail`), a page of the replay feed (`{"results": [...]}`) or one of its entries
//! (`{"detail": ...}`), or a JSON log line of the service's `order_events` target (whose
//! `message` is the document). Anything else is skipped with a note on stderr. At the end it
//! prints one line per order: its latest status, its total, what the escrow still holds, and
//! where the rest went.
//!
//! ```sh
//! cargo run -q -p order-events --example ledger < events.jsonl
//! ```

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, Write};

use order_domain::{EventId, Money, OrderId, OrderStatus, Settlement};
use order_events::EventDocument;
use serde_json::Value;

/// What the events so far say of one order.
#[derive(Debug, PartialEq, Eq)]
struct OrderMoney {
    /// The sequence of the latest event applied: an older one read later changes nothing.
    sequence: u64,
    status: OrderStatus,
    total: Money,
    /// Whether the buyer's money was taken into escrow.
    paid: bool,
    /// Where the escrow went, once an event paid it out.
    settlement: Option<Settlement>,
}

impl OrderMoney {
    /// What the escrow holds now: the total from payment until it is paid out.
    fn held(&self) -> Money {
        if self.paid && self.settlement.is_none() {
            self.total
        } else {
            Money::ZERO
        }
    }
}

/// Every order met, by id, with the events already counted so that a repeated delivery
/// (the bus delivers at least once) counts once.
#[derive(Default)]
struct Ledger {
    orders: BTreeMap<OrderId, OrderMoney>,
    seen: HashSet<EventId>,
}

impl Ledger {
    fn apply(&mut self, event: EventDocument) {
        if !self.seen.insert(event.event_id) {
            return;
        }
        let order = &event.order;
        let entry = self.orders.entry(order.id).or_insert(OrderMoney {
            sequence: 0,
            status: order.status,
            total: order.total,
            paid: false,
            settlement: None,
        });
        entry.paid |= order.escrow_id.is_some();
        // A settlement is announced once, on the event that paid the escrow out.
        entry.settlement = entry.settlement.or(event.settlement);
        if event.sequence > entry.sequence {
            entry.sequence = event.sequence;
            entry.status = order.status;
        }
    }

    /// Reads one line in any of the shapes this program knows; false if it had no event.
    fn read_line(&mut self, line: &str) -> bool {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            return false;
        };
        let documents = documents_in(value);
        let found = !documents.is_empty();
        for document in documents {
            self.apply(document);
        }
        found
    }

    fn print(&self, out: &mut impl Write) -> io::Result<()> {
        for (id, order) in &self.orders {
            let settlement = order
                .settlement
                .unwrap_or(Settlement::full_refund(Money::ZERO));
            writeln!(
                out,
                "{id}  {:<15}  total {:>10}  held {:>10}  buyer {:>10}  seller {:>10}  fee {:>8}",
                order.status.as_str(),
                order.total.to_string(),
                order.held().to_string(),
                settlement.buyer_refund().to_string(),
                settlement.seller_amount().to_string(),
                settlement.fee_amount().to_string(),
            )?;
        }
        Ok(())
    }
}

/// The event documents a line holds, whichever shape it has.
fn documents_in(value: Value) -> Vec<EventDocument> {
    let document = |value: Value| serde_json::from_value::<EventDocument>(value).ok();
    match value {
        Value::Object(mut object) => {
            if let Some(Value::Array(results)) = object.remove("results") {
                results.into_iter().flat_map(documents_in).collect()
            } else if let Some(detail) = object.remove("detail") {
                document(detail).into_iter().collect()
            } else if let Some(Value::String(message)) = object.remove("message") {
                serde_json::from_str(&message).into_iter().collect()
            } else {
                document(Value::Object(object)).into_iter().collect()
            }
        }
        _ => Vec::new(),
    }
}

fn main() -> io::Result<()> {
    let mut ledger = Ledger::default();
    for (number, line) in io::stdin().lock().lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() && !ledger.read_line(&line) {
            eprintln!("line {}: no event in it, skipped", number + 1);
        }
    }
    ledger.print(&mut io::stdout().lock())
}

#[cfg(test)]
mod tests {
    use order_domain::fixtures::*;
    use order_domain::order::{Carrier, TrackingNumber};
    use order_domain::{Order, Parties};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    /// The documents the service would publish for a whole order's life: each event of
    /// each transition, numbered as the service numbers them.
    fn life_of_completed_order() -> Vec<EventDocument> {
        let deadlines = Default::default();
        let created = Order::place(placed().id, new_order(), &Default::default(), t0());
        let payment = placed().mark_paid(escrow(), &deadlines, later(1));
        let tracking = TrackingNumber::parse("1Z999").unwrap();
        let paid = paid();
        let shipment = paid.ship(
            paid.seller(seller()).unwrap(),
            tracking,
            Carrier::parse("UPS").unwrap(),
            &deadlines,
            later(2),
        );
        let completion = shipped().complete(later(9));
        [
            created.unwrap().events,
            payment.unwrap().unwrap().events,
            shipment.unwrap().events,
            completion.unwrap().events,
        ]
        .into_iter()
        .flatten()
        .zip(1..)
        .map(|(event, sequence)| {
            let event_id = EventId::from_uuid(Uuid::from_u128(sequence.into()));
            EventDocument::new(event_id, &event, sequence)
        })
        .collect()
    }

    fn lines_of(documents: &[EventDocument]) -> Vec<String> {
        documents
            .iter()
            .map(|document| serde_json::to_string(document).unwrap())
            .collect()
    }

    fn ledger_of(lines: &[String]) -> Ledger {
        let mut ledger = Ledger::default();
        for line in lines {
            assert!(ledger.read_line(line), "{line}");
        }
        ledger
    }

    #[test]
    fn a_completed_order_holds_nothing_and_pays_the_seller_less_the_fee() {
        let lines = lines_of(&life_of_completed_order());
        let ledger = ledger_of(&lines);
        let order = &ledger.orders[&shipped().id];
        assert_eq!(order.status, OrderStatus::Completed);
        assert_eq!(order.held(), Money::ZERO);
        let settlement = order.settlement.unwrap();
        assert_eq!(settlement.seller_amount(), money("128.75"));
        assert_eq!(settlement.fee_amount(), money("6.25"));
    }

    #[test]
    fn a_paid_order_is_held_in_escrow_until_an_event_pays_it_out() {
        let documents = life_of_completed_order();
        let order = &ledger_of(&lines_of(&documents[..3])).orders[&shipped().id];
        assert_eq!(order.status, OrderStatus::Shipped);
        assert_eq!(order.held(), money("135.00"));
    }

    #[test]
    fn the_feed_page_the_feed_entry_and_the_log_line_read_alike_and_repeats_count_once() {
        let documents = life_of_completed_order();
        let detail = |document: &EventDocument| serde_json::to_value(document).unwrap();
        let page = json!({
            "results": documents[..2].iter().map(|d| json!({"position": 1, "detail": detail(d)})).collect::<Vec<_>>(),
            "next_after": 2,
        });
        let entry = json!({"position": 3, "detail": detail(&documents[2])});
        let log = json!({
            "timestamp": "2026-11-25T19:00:00Z",
            "level": "INFO",
            "message": serde_json::to_string(&documents[3]).unwrap(),
            "event_type": "order.completed",
        });
        // Delivered again, and out of order: it changes nothing.
        let again = serde_json::to_string(&documents[1]).unwrap();
        let lines = [page, entry, log].map(|value| value.to_string());
        let mut ledger = ledger_of(&lines);
        assert!(ledger.read_line(&again));
        let order = &ledger.orders[&shipped().id];
        assert_eq!(order.status, OrderStatus::Completed);
        assert_eq!(order.settlement.unwrap().total(), money("135.00"));
        assert_eq!(ledger.seen.len(), documents.len());
    }

    #[test]
    fn a_line_without_an_event_is_reported_not_counted() {
        let mut ledger = Ledger::default();
        assert!(!ledger.read_line("not json"));
        assert!(!ledger.read_line(r#"{"level": "INFO", "message": "listening on :8005"}"#));
        assert!(ledger.orders.is_empty());
    }

    #[test]
    fn the_printout_has_one_line_per_order_with_its_money() {
        let lines = lines_of(&life_of_completed_order());
        let mut out = Vec::new();
        ledger_of(&lines).print(&mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 1);
        assert!(out.contains("COMPLETED"), "{out}");
        assert!(out.contains("seller     128.75"), "{out}");
    }
}
