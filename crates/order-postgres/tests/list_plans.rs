//! Every documented list filter reads through an index, in the list's order: PostgreSQL's
//! plan of each list statement, on a seeded and analyzed table with sequential scans and
//! sorts priced out, holds neither — so an index serves the filter and gives the keyset
//! order, and a first page reads about one page of index entries. A new filter without an
//! index fails here, not in production.

use chrono::{TimeZone, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use order_domain::dispute::DisputeStatus;
use order_domain::{ListingId, OrderStatus, UserId};
use order_ports::store::{
    DisputeQuery, OrderQuery, OrderSelection, PageRequest, Position, SortOrder, Visibility,
};
use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;
use serde_json::Value;
use uuid::Uuid;

const ORDERS: u32 = 20_000;
const USERS: u32 = 200;

fn id(kind: u32, n: u32) -> Uuid {
    Uuid::from_u128((u128::from(kind) << 96) | u128::from(n))
}

/// The SQL of `id` for `n` an SQL expression.
fn sql_id(kind: u32, n: &str) -> String {
    format!(
        "(lpad(to_hex({kind}), 8, '0') || '-0000-0000-0000-' || lpad(to_hex({n}), 12, '0'))::uuid"
    )
}

/// 20,000 orders in every status among 200 users, a dispute on every disputed one.
async fn seeded() -> (TestDatabase, PgStore) {
    let db = TestDatabase::new();
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let statuses = "(ARRAY['PENDING_PAYMENT','PAID','SHIPPED','DELIVERED','COMPLETED','CANCELLED','DISPUTED','REFUNDED'])[1 + n % 8]";
    let sql = format!(
        "INSERT INTO orders (id, listing_id, buyer_id, seller_id, source, amount, fee_amount, shipping_cost,
                             status, escrow_id, created_at)
         SELECT {order}, {listing}, {buyer}, {seller}, 'AUCTION', 100.00, 5.00, 10.00, {statuses},
                {escrow}, timestamptz '2026-01-01 00:00:00+00' + n * interval '1 minute'
         FROM generate_series(1, {ORDERS}) AS n;
         INSERT INTO disputes (id, order_id, opened_by, buyer_id, seller_id, reason, status, created_at, updated_at)
         SELECT {dispute}, o.id, o.buyer_id, o.buyer_id, o.seller_id, 'It never arrived.',
                (ARRAY['OPEN','EVIDENCE','REVIEW'])[1 + (row_number() OVER ()) % 3], o.created_at, o.created_at
         FROM orders o WHERE o.status = 'DISPUTED';",
        order = sql_id(1, "n"),
        listing = sql_id(2, "n"),
        buyer = sql_id(3, &format!("n % {USERS}")),
        seller = sql_id(3, &format!("(n + 1) % {USERS}")),
        escrow = sql_id(4, "n"),
        dispute = sql_id(5, "(row_number() OVER ())::int"),
    );
    conn.batch_execute(&sql).await.unwrap();
    conn.batch_execute("ANALYZE orders").await.unwrap();
    conn.batch_execute("ANALYZE disputes").await.unwrap();
    let store = PgStore::new(db.pool());
    (db, store)
}

/// Every node of a plan, depth first.
fn nodes(plan: &Value) -> Vec<&Value> {
    let mut found = vec![plan];
    for child in plan["Plans"].as_array().into_iter().flatten() {
        found.extend(nodes(child));
    }
    found
}

/// What is wrong with a statement's plan, if anything: a sequential scan of the big tables,
/// a sort, or (unless `filter_allowed`) an index scan that reads rows only to throw them
/// away by a filter, which no index serves.
fn faults(explained: &Value, filter_allowed: bool) -> Vec<String> {
    let root = &explained[0]["Plan"];
    nodes(root)
        .into_iter()
        .filter_map(|node| {
            let kind = node["Node Type"].as_str().unwrap_or_default();
            let relation = node["Relation Name"].as_str().unwrap_or_default();
            if !["orders", "disputes"].contains(&relation) {
                return (kind == "Sort").then(|| "a sort".to_owned());
            }
            if kind == "Seq Scan" {
                return Some(format!("a sequential scan of {relation}"));
            }
            let filter = node["Filter"].as_str().filter(|_| !filter_allowed);
            filter.map(|filter| format!("{relation} read through a filter: {filter}"))
        })
        .collect()
}

fn user(n: u32) -> UserId {
    UserId::from_uuid(id(3, n))
}

/// Every filter the order list documents, alone and with the others that make sense
/// together, for each kind of caller.
fn order_queries() -> Vec<(String, OrderQuery)> {
    let mut queries = Vec::new();
    let visibilities = [
        ("admin", Visibility::All),
        ("participant", Visibility::Participant(user(7))),
        ("buyer", Visibility::Buyer(user(7))),
        ("seller", Visibility::Seller(user(7))),
    ];
    let after = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
    let before = Utc.with_ymd_and_hms(2026, 1, 11, 0, 0, 0).unwrap();
    type Filter = Box<dyn Fn(&mut OrderSelection)>;
    let filters: Vec<(&str, Filter)> = vec![
        ("no filter", Box::new(|_| {})),
        (
            "status",
            Box::new(|q| q.statuses = vec![OrderStatus::Completed]),
        ),
        (
            "empty status",
            Box::new(|q| q.statuses = vec![OrderStatus::Refunded]),
        ),
        (
            "statuses",
            Box::new(|q| q.statuses = vec![OrderStatus::Paid, OrderStatus::Shipped]),
        ),
        (
            "listing",
            Box::new(|q| q.listing_id = Some(ListingId::from_uuid(id(2, 77)))),
        ),
        (
            "created_after",
            Box::new(move |q| q.created_after = Some(after)),
        ),
        (
            "created_before",
            Box::new(move |q| q.created_before = Some(before)),
        ),
        (
            "created range",
            Box::new(move |q| {
                q.created_after = Some(after);
                q.created_before = Some(before);
            }),
        ),
        (
            "status and created range",
            Box::new(move |q| {
                q.statuses = vec![OrderStatus::Completed];
                q.created_after = Some(after);
                q.created_before = Some(before);
            }),
        ),
        (
            "status and listing",
            Box::new(|q| {
                q.statuses = vec![OrderStatus::Completed];
                q.listing_id = Some(ListingId::from_uuid(id(2, 77)));
            }),
        ),
    ];
    let pages = [
        (
            "first numbered page",
            PageRequest::Offset {
                offset: 0,
                limit: 20,
            },
        ),
        (
            "deep numbered page",
            PageRequest::Offset {
                offset: 9_980,
                limit: 20,
            },
        ),
        (
            "cursor top",
            PageRequest::After {
                after: None,
                limit: 20,
            },
        ),
        (
            "cursor",
            PageRequest::After {
                after: Some(Position {
                    created_at: Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(),
                    id: id(1, 5000),
                }),
                limit: 20,
            },
        ),
    ];
    for (who, visibility) in visibilities {
        for (filter, apply) in &filters {
            for (page_name, page) in pages {
                for sort in [SortOrder::NewestFirst, SortOrder::OldestFirst] {
                    let mut query = order_store_contract::cases::query(visibility, page, sort);
                    apply(&mut query.selection);
                    queries.push((format!("{who}, {filter}, {page_name}, {sort:?}"), query));
                }
            }
        }
    }
    queries
}

#[tokio::test]
async fn every_order_list_filter_reads_through_an_index() {
    let (_db, store) = seeded().await;
    let mut wrong = Vec::new();
    for (name, query) in order_queries() {
        // A filter may remain where its rows are few whatever the table's size: a user's own
        // orders (read through the buyer or seller index), a listing's. Past a cursor the
        // planner may also walk the time index and filter by status, when that status is
        // common; the first pages prove an index serves each filter.
        let past_a_cursor = matches!(
            query.selection.page,
            PageRequest::After { after: Some(_), .. } | PageRequest::Before { .. }
        );
        let filter_allowed = query.visibility != Visibility::All
            || query.selection.listing_id.is_some()
            || past_a_cursor;
        for explained in store.explain_list_orders(&query).await.unwrap() {
            for fault in faults(&explained, filter_allowed) {
                wrong.push(format!("{name}: {fault}\n{explained:#}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[tokio::test]
async fn every_dispute_list_filter_reads_through_an_index() {
    let (_db, store) = seeded().await;
    let filters = [
        vec![],
        vec![DisputeStatus::Open],
        vec![DisputeStatus::Closed],
        vec![DisputeStatus::Open, DisputeStatus::Review],
    ];
    let mut wrong = Vec::new();
    for statuses in filters {
        for page in [
            PageRequest::Offset {
                offset: 0,
                limit: 20,
            },
            PageRequest::After {
                after: None,
                limit: 20,
            },
        ] {
            let query = DisputeQuery {
                statuses: statuses.clone(),
                page,
            };
            let explained = store.explain_list_disputes(&query).await.unwrap();
            for fault in faults(&explained, false) {
                wrong.push(format!("{statuses:?} {page:?}: {fault}\n{explained:#}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
