//! The database's own limit: pgbench running the SQL the service issues, for a detail read
//! and for a ship transition, so that each service figure has a ceiling to compare with.

use std::path::Path;
use std::time::Duration;

use crate::seed::{Kind, Shape};

fn order_id(n: &str) -> String {
    format!(
        "(lpad(to_hex({}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid",
        Kind::Order as u32
    )
}

const COLUMNS: &str = "id, listing_id, buyer_id, seller_id, source, amount, fee_amount, shipping_cost, status, \
    shipping_address, tracking_number, carrier, escrow_id, created_at, paid_at, shipped_at, delivered_at, \
    completed_at, cancelled_at, cancellation_reason, status_before_dispute";

/// GET /orders/{id}/: the order by id joined with its dispute's summary, one query.
fn read_script(shape: &Shape) -> String {
    let id = order_id(":n");
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("orders.{c}")).collect();
    format!(
        "\\set n random(1, {settled})\n\
         SELECT {}, disputes.id, disputes.order_id, disputes.status, disputes.resolution \
         FROM orders LEFT OUTER JOIN disputes ON disputes.order_id = orders.id WHERE orders.id = {id} LIMIT 1;\n",
        columns.join(", "),
        settled = shape.settled(),
    )
}

/// POST /orders/{id}/ship/: lock, read the dispute summary, conditional update of the whole
/// row, the outbox row, commit — the statements of the service's unit of work.
fn ship_script(shape: &Shape) -> String {
    let id = order_id(":n");
    let first = shape.settled() + 1;
    let last = shape.settled() + shape.pgbench_pool;
    let payload = format!(
        "{{\"event_type\": \"order.shipped\", \"padding\": \"{}\"}}",
        "x".repeat(1100)
    );
    format!(
        "\\set n random({first}, {last})\n\
         BEGIN;\n\
         SELECT {COLUMNS} FROM orders WHERE id = {id} LIMIT 1 FOR UPDATE;\n\
         SELECT id, order_id, status, resolution FROM disputes WHERE order_id = ANY(ARRAY[{id}]);\n\
         UPDATE orders SET status = 'SHIPPED', tracking_number = 'PGB-1', carrier = 'UPS', shipped_at = now(), \
             amount = amount, fee_amount = fee_amount, shipping_cost = shipping_cost, shipping_address = shipping_address, \
             escrow_id = escrow_id, paid_at = paid_at WHERE id = {id} AND status = 'PAID';\n\
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

pub struct Limits {
    pub read_tps: f64,
    pub ship_tps: f64,
}

pub async fn limits(
    workdir: &Path,
    url: &str,
    shape: &Shape,
    clients: u32,
    duration: Duration,
) -> Result<Limits, String> {
    Ok(Limits {
        read_tps: run(
            workdir,
            url,
            "pgbench-read",
            read_script(shape),
            clients,
            duration,
        )
        .await?,
        ship_tps: run(
            workdir,
            url,
            "pgbench-ship",
            ship_script(shape),
            clients,
            duration,
        )
        .await?,
    })
}
