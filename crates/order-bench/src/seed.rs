//! The benchmark's data: a large, realistic orders table written with `generate_series`,
//! and ids that a benchmark client and pgbench can both compute from a number.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

/// What kind of thing an id names; each kind has its own id space.
#[derive(Clone, Copy)]
pub enum Kind {
    Order = 0xa,
    Listing = 0xb,
    User = 0xc,
    Escrow = 0xd,
    /// Listings for sale with Buy It Now in the stand-in Listing service.
    ForSale = 0xe,
    /// Listings of the orders the lifecycle driver creates.
    Fresh = 0xf,
}

/// The id number `n` of `kind`: `0000000a-0000-4000-8000-00000000002a` for order 42.
pub fn id(kind: Kind, n: u64) -> Uuid {
    Uuid::parse_str(&format!("{:08x}-0000-4000-8000-{n:012x}", kind as u32))
        .expect("a well-formed uuid")
}

/// The same id in SQL, for `n` an SQL expression.
fn sql_id(kind: Kind, n: &str) -> String {
    format!(
        "(lpad(to_hex({}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid",
        kind as u32
    )
}

/// The shape of the seeded data.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Settled (COMPLETED) orders: the table the reads are measured on.
    pub orders: u64,
    pub users: u64,
    /// PAID orders, on top of `orders`, that pgbench's ship transactions ship: the first
    /// half with the service's statements, the second with the smallest transaction.
    pub pgbench_pool: u64,
    /// PAID orders, after pgbench's, that the service's ship benchmark ships.
    pub ship_pool: u64,
}

/// A user with about 200 orders (100 bought, 100 sold at 1,000,000 orders over 10,000
/// users): the light side of the list benchmark.
pub const LIGHT_USER: u64 = 1;

/// The user who buys one order in 50: the "user with many orders" of the list benchmark.
pub const HEAVY_USER: u64 = 0;

impl Shape {
    /// The pools hold more orders than a 10 s run on two cores ships, so that every ship
    /// request moves an order of its own.
    pub fn new(orders: u64, users: u64) -> Shape {
        Shape {
            orders,
            users,
            pgbench_pool: 50_000,
            ship_pool: 40_000,
        }
    }

    /// Orders `1..=settled()` are COMPLETED; the rest, up to `total()`, are PAID.
    pub fn settled(&self) -> u64 {
        self.orders
    }

    pub fn total(&self) -> u64 {
        self.orders + self.pgbench_pool + self.ship_pool
    }

    pub fn buyer(&self, n: u64) -> u64 {
        if n % 50 == 0 {
            HEAVY_USER
        } else {
            1 + n % (self.users - 1)
        }
    }

    pub fn seller(&self, n: u64) -> u64 {
        let buyer = self.buyer(n);
        (buyer + 1 + (n / 7) % (self.users - 1)) % self.users
    }
}

/// Drops and creates `database`, migrates it and fills it with `shape.orders` orders.
pub async fn seed(server: &str, database: &str, shape: Shape) -> Result<(), String> {
    let url = recreate(server, database).await?;
    order_postgres::run_migrations(&url)
        .await
        .map_err(|e| e.to_string())?;
    fill(&url, shape).await
}

/// Drops and creates `database`, empty; its URL.
pub async fn recreate(server: &str, database: &str) -> Result<String, String> {
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .map_err(|e| e.to_string())?;
    order_postgres::recreate_database(&mut admin, database).await?;
    Ok(format!("{server}/{database}"))
}

/// Fills the migrated database at `url` with `shape.orders` orders. A schema from before
/// orders recorded when they ended (an earlier release's) gets the same orders without it.
pub async fn fill(url: &str, shape: Shape) -> Result<(), String> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| e.to_string())?;
    let ended_at = has_column(&mut conn, "orders", "ended_at").await?;
    // The kept counts' triggers would fire once a row; the load skips them (a replica
    // session fires no ordinary trigger) and the counts are rebuilt once at the end.
    conn.batch_execute("SET session_replication_role = replica")
        .await
        .map_err(|e| e.to_string())?;
    // Buyer and seller as SQL, mirroring `Shape::buyer` and `Shape::seller`.
    let users = shape.users;
    let buyer = format!("(CASE WHEN n % 50 = 0 THEN {HEAVY_USER} ELSE 1 + n % ({users} - 1) END)");
    let seller = format!("(({buyer} + 1 + (n / 7) % ({users} - 1)) % {users})");
    let settled = shape.settled();
    let sql = format!(
        "INSERT INTO orders (id, listing_id, buyer_id, seller_id, source, amount, fee_amount, shipping_cost,
                             status, shipping_address, tracking_number, carrier, escrow_id, created_at,
                             paid_at, shipped_at, completed_at{ended_column})
         SELECT {order}, {listing}, {buyer_id}, {seller_id}, 'AUCTION', 100.00, 5.00, 10.00,
                CASE WHEN n <= {settled} THEN 'COMPLETED' ELSE 'PAID' END,
                '{{\"city\": \"Lyon\"}}',
                CASE WHEN n <= {settled} THEN 'TRK-' || n END,
                CASE WHEN n <= {settled} THEN 'UPS' END,
                {escrow},
                created,
                created + interval '1 minute',
                CASE WHEN n <= {settled} THEN created + interval '1 hour' END,
                CASE WHEN n <= {settled} THEN created + interval '2 days' END
                {ended_value}
         FROM (SELECT n, {start} + n * interval '1 second' AS created
               FROM generate_series(1, {orders}) AS n) AS series",
        // Recent enough that no order has passed the personal data's retention: the erasure
        // is measured on its own (`crate::erasure`), not behind the other scenarios.
        start = "date_trunc('second', now()) - interval '30 days'",
        order = sql_id(Kind::Order, "n"),
        listing = sql_id(Kind::Listing, "n"),
        buyer_id = sql_id(Kind::User, &buyer),
        seller_id = sql_id(Kind::User, &seller),
        escrow = sql_id(Kind::Escrow, "n"),
        orders = shape.total(),
        ended_column = if ended_at { ", ended_at" } else { "" },
        ended_value = if ended_at {
            format!(", CASE WHEN n <= {settled} THEN created + interval '2 days' END")
        } else {
            String::new()
        },
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("seeding orders: {e}"))?;
    conn.batch_execute("SET session_replication_role = DEFAULT; SELECT recount()")
        .await
        .map_err(|e| format!("counting: {e}"))?;
    conn.batch_execute("VACUUM ANALYZE orders")
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Whether `table` has `column` (a schema of an earlier release may not).
async fn has_column(
    conn: &mut AsyncPgConnection,
    table: &str,
    column: &str,
) -> Result<bool, String> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
         WHERE table_name = $1 AND column_name = $2) AS found",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .bind::<diesel::sql_types::Text, _>(column)
    .get_result::<Found>(conn)
    .await
    .map(|found| found.found)
    .map_err(|e| e.to_string())
}
