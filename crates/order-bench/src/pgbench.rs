//! The database's own limits, so that each service figure has two ceilings to compare with:
//! pgbench running the very statements the service issues (same SQL, pipelined as the
//! service pipelines them), and the barest transaction that does the same job (a
//! primary-key read of one row; an UPDATE of four columns and an outbox INSERT).

use std::path::Path;
use std::time::Duration;

use crate::seed::{Kind, Shape};

fn order_id(n: &str) -> String {
    format!(
        // The number typed: under `-M prepared`, `:n` is a parameter of unknown type.
        "(lpad(to_hex({}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(({n})::bigint), 12, '0'))::uuid",
        Kind::Order as u32
    )
}

const COLUMNS: &str = "id, listing_id, buyer_id, seller_id, source, amount, fee_amount, shipping_cost, status, \
    shipping_address, tracking_number, carrier, escrow_id, created_at, paid_at, shipped_at, delivered_at, \
    completed_at, cancelled_at, cancellation_reason, status_before_dispute, escrow_intent, \
    escrow_intent_resume_at, pay_by, ship_by, ship_overdue_at, auto_complete_at";

const DISPUTE_COLUMNS: &str =
    "id, order_id, opened_by, buyer_id, seller_id, reason, evidence, status, \
    resolution, refund_amount, admin_notes, created_at, updated_at, resolved_at, respond_by, \
    responded_at, escalated_at";

/// An event document of the size the service writes for `order.shipped`.
fn payload() -> String {
    format!(
        "{{\"event_type\": \"order.shipped\", \"padding\": \"{}\"}}",
        "x".repeat(1100)
    )
}

/// GET /orders/{id}/: the order by id joined with its dispute's summary, one statement.
fn read_script(shape: &Shape) -> String {
    let id = order_id(":n");
    let columns: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| format!("orders.{}", c.trim()))
        .collect();
    format!(
        "\\set n random(1, {settled})\n\
         SELECT {}, disputes.id, disputes.order_id, disputes.status, disputes.resolution \
         FROM orders LEFT OUTER JOIN disputes ON disputes.order_id = orders.id WHERE orders.id = {id} LIMIT 1;\n",
        columns.join(", "),
        settled = shape.settled(),
    )
}

/// The barest read: one order row by its primary key.
fn bare_read_script(shape: &Shape) -> String {
    format!(
        "\\set n random(1, {settled})\n\
         SELECT * FROM orders WHERE id = {id};\n",
        id = order_id(":n"),
        settled = shape.settled(),
    )
}

/// POST /orders/{id}/ship/ as the service runs it: BEGIN; the order and its dispute locked
/// in one pipelined exchange; the changed columns and the outbox row in another; COMMIT.
fn ship_script(shape: &Shape) -> String {
    let id = order_id(":n");
    let first = shape.settled() + 1;
    let last = shape.settled() + shape.pgbench_pool / 2;
    let payload = payload();
    format!(
        "\\set n random({first}, {last})\n\
         BEGIN;\n\
         \\startpipeline\n\
         SELECT {COLUMNS}, event_sequence FROM orders WHERE id = {id} LIMIT 1 FOR UPDATE;\n\
         SELECT {DISPUTE_COLUMNS} FROM disputes WHERE order_id = {id} LIMIT 1 FOR UPDATE;\n\
         \\endpipeline\n\
         \\startpipeline\n\
         UPDATE orders SET status = 'SHIPPED', tracking_number = 'PGB-1', carrier = 'UPS', shipped_at = now(), \
             ship_by = NULL, auto_complete_at = now() + interval '7 days', event_sequence = event_sequence + 1 \
             WHERE id = {id} AND status = 'PAID';\n\
         INSERT INTO outbox (event_id, event_type, order_id, occurred_at, next_attempt_at, payload, sequence, \
             actor_type, actor_id, from_status, to_status, details) \
             VALUES (gen_random_uuid(), 'order.shipped', {id}, now(), now(), '{payload}', 1000 + (:n)::bigint, \
             'seller', gen_random_uuid(), 'PAID', 'SHIPPED', '{{\"carrier\": \"UPS\"}}');\n\
         \\endpipeline\n\
         COMMIT;\n"
    )
}

/// The smallest transaction that ships: four columns updated and the outbox row, nothing
/// read first.
fn bare_ship_script(shape: &Shape) -> String {
    let id = order_id(":n");
    let first = shape.settled() + shape.pgbench_pool / 2 + 1;
    let last = shape.settled() + shape.pgbench_pool;
    let payload = payload();
    format!(
        "\\set n random({first}, {last})\n\
         BEGIN;\n\
         UPDATE orders SET status = 'SHIPPED', tracking_number = 'PGB-1', carrier = 'UPS', shipped_at = now() \
             WHERE id = {id};\n\
         INSERT INTO outbox (event_id, event_type, order_id, occurred_at, payload) \
             VALUES (gen_random_uuid(), 'order.shipped', {id}, now(), '{payload}');\n\
         COMMIT;\n"
    )
}

/// Transactions per second of `script` with `clients` connections for `duration`.
async fn run(
    workdir: &Path,
    url: &str,
    name: &str,
    script: String,
    clients: u32,
    duration: Duration,
) -> Result<f64, String> {
    let path = workdir.join(format!("{name}.sql"));
    std::fs::write(&path, script).map_err(|e| e.to_string())?;
    let output = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-M",
            "prepared",
            "-T",
            &duration.as_secs().to_string(),
            "-f",
        ])
        .arg(&path)
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| {
            format!(
                "pgbench said: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// The database's rates (transactions per second) for the service's statements and for
/// the barest equivalent.
pub struct Limits {
    pub read_tps: f64,
    pub bare_read_tps: f64,
    pub ship_tps: f64,
    pub bare_ship_tps: f64,
}

pub async fn limits(
    workdir: &Path,
    url: &str,
    shape: &Shape,
    clients: u32,
    duration: Duration,
) -> Result<Limits, String> {
    let mut rates = Vec::new();
    for (name, script) in [
        ("pgbench-read", read_script(shape)),
        ("pgbench-bare-read", bare_read_script(shape)),
        ("pgbench-ship", ship_script(shape)),
        ("pgbench-bare-ship", bare_ship_script(shape)),
    ] {
        rates.push(run(workdir, url, name, script, clients, duration).await?);
    }
    Ok(Limits {
        read_tps: rates[0],
        bare_read_tps: rates[1],
        ship_tps: rates[2],
        bare_ship_tps: rates[3],
    })
}
