//! The erasure of personal data at scale: `BENCH_ERASE_ORDERS` (default 100,000) completed
//! orders are given the four stored events a real order has (created, paid, shipped,
//! completed, their documents holding its address) and made to pass the 90-day retention a
//! minute later. A replica starts meanwhile; detail reads are measured against it before
//! the minute is up, then again while its worker erases. Orders erased per second from the
//! moment they fall due, and the reads' p99 during the erasure beside the same replica's
//! before it.

use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::load::{Measured, Wrk};
use crate::seed::Shape;
use crate::Running;

/// What the erasure came to.
pub struct Erasure {
    pub orders: u64,
    pub seconds: f64,
    /// The detail reads on the replica before the orders fell due.
    pub before: Measured,
    /// The same reads while it erased.
    pub during: Measured,
}

/// How long after the preparation the orders fall due: time to start the replica and
/// measure it before.
const DUE_AFTER: Duration = Duration::from_secs(60);

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Gives the `count` first completed orders four stored events each and an end that passes
/// the default 90-day retention `DUE_AFTER` from now (every other order ended within 30
/// days).
async fn prepare(url: &str, count: u64) -> Result<(), String> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| e.to_string())?;
    let sql = format!(
        "CREATE TEMPORARY TABLE due AS
             SELECT id, shipping_address, created_at FROM orders
             WHERE status = 'COMPLETED' AND personal_data_erased_at IS NULL
             ORDER BY id LIMIT {count};
         UPDATE orders SET ended_at = now() - interval '90 days' + interval '{due} seconds',
                           event_sequence = 4
             WHERE id IN (SELECT id FROM due);
         INSERT INTO outbox (event_id, event_type, order_id, occurred_at, payload, published_at,
                             sequence, actor_type, from_status, to_status, details, position)
             SELECT gen_random_uuid(), e.kind, due.id, due.created_at,
                    json_build_object('event_type', e.kind, 'order',
                        json_build_object('id', due.id, 'status', e.to_status,
                                          'shipping_address', due.shipping_address))::text,
                    now(), e.sequence, 'system', e.from_status, e.to_status,
                    jsonb_build_object('note', 'bench'),
                    (SELECT coalesce(max(position), 0) FROM outbox)
                        + row_number() OVER (ORDER BY due.id, e.sequence)
             FROM due CROSS JOIN (VALUES
                 ('order.created', 1, 'PENDING_PAYMENT', 'PENDING_PAYMENT'),
                 ('order.paid', 2, 'PENDING_PAYMENT', 'PAID'),
                 ('order.shipped', 3, 'PAID', 'SHIPPED'),
                 ('order.completed', 4, 'SHIPPED', 'COMPLETED')
             ) AS e(kind, sequence, from_status, to_status);",
        due = DUE_AFTER.as_secs()
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("preparing the erasure: {e}"))?;
    // Each alone: VACUUM cannot run in the transaction statements sent together make.
    for table in ["orders", "outbox"] {
        conn.batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .map_err(|e| format!("vacuuming {table}: {e}"))?;
    }
    Ok(())
}

async fn erased(conn: &mut AsyncPgConnection) -> Result<u64, String> {
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM orders WHERE personal_data_erased_at IS NOT NULL",
    )
    .get_result(conn)
    .await
    .map_err(|e| e.to_string())?;
    Ok(u64::try_from(count.n).unwrap_or_default())
}

/// Prepares `count` orders, starts a replica whose erasure worker wakes every second,
/// runs `reads` with `wrk`'s settings (its own URL aside) before the orders fall due and
/// again as they are erased, and times the erasure from the moment they fall due to its
/// last order.
pub async fn measure(
    url: &str,
    shape: &Shape,
    count: u64,
    wrk: &Wrk<'_>,
    reads: &[[String; 4]],
    label: &str,
) -> Result<Erasure, String> {
    let due = Instant::now() + DUE_AFTER;
    prepare(url, count).await?;
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| e.to_string())?;
    let already = erased(&mut conn).await?;
    let running = Running::start_with(url, shape, &[("ERASURE_INTERVAL", "1s")]).await?;
    let replica = Wrk {
        base_url: &running.api,
        workdir: wrk.workdir,
        threads: wrk.threads,
        connections: wrk.connections,
        duration: wrk.duration,
    };
    let before = replica
        .run(&format!("detail before erasing ({label})"), reads)
        .await?;
    if Instant::now() >= due {
        return Err("the orders fell due before the replica was measured without".into());
    }
    tokio::time::sleep_until(due.into()).await;
    let during = replica
        .run(&format!("detail while erasing ({label})"), reads)
        .await?;
    let done = loop {
        let now = erased(&mut conn).await? - already;
        if now >= count {
            break Ok(due.elapsed());
        }
        if due.elapsed() > Duration::from_secs(3600) {
            break Err(format!("only {now} of {count} orders erased in an hour"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    running.stop().await;
    Ok(Erasure {
        orders: count,
        seconds: done?.as_secs_f64(),
        before,
        during,
    })
}
