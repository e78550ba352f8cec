//! Each sweep's claim (the deadlines' and the erasure's), and a carrier's lookup of a
//! parcel, is served by the index made for it in `migrations/`: were the query's filter and
//! the index's expressions or predicate to drift apart, PostgreSQL could no longer use the
//! index, and at ten million orders each would read the whole table.

use order_domain::fixtures::later;
use order_domain::order::{Carrier, ParcelKey, Sweep, TrackingNumber};
use order_domain::personal::ErasureDue;
use order_domain::UserId;
use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;

/// The partial index each sweep was given.
fn index_of(sweep: Sweep) -> &'static str {
    match sweep {
        Sweep::UnpaidAuction => "orders_awaiting_payment",
        Sweep::LateShipment => "orders_awaiting_shipment",
        Sweep::DueCompletion => "orders_awaiting_completion",
    }
}

#[tokio::test]
async fn every_sweep_reads_only_its_partial_index() {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    for sweep in Sweep::ALL {
        let plan = store.explain_claim(sweep, later(24)).await.unwrap();
        assert!(
            plan.contains(&format!(" on {}", index_of(sweep)))
                || plan.contains(&format!(" using {}", index_of(sweep))),
            "{sweep:?} is not served by {}:\n{plan}",
            index_of(sweep)
        );
        assert!(
            !plan.contains("Seq Scan"),
            "{sweep:?} reads the table:\n{plan}"
        );
    }
}

#[tokio::test]
async fn a_carriers_lookup_reads_only_its_index() {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let parcel = ParcelKey::new(
        &Carrier::parse("UPS").unwrap(),
        &TrackingNumber::parse("1Z-999").unwrap(),
    );
    let plan = store.explain_parcel(&parcel).await.unwrap();
    assert!(plan.contains("orders_by_parcel"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

/// 20,000 ended orders of 200 users, analyzed: a user's claim is planned as on a real
/// table, where the ended statuses are most of it and one user's orders a sliver.
async fn ended_orders_of_many_users(db: &TestDatabase) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(
        "INSERT INTO orders (id, listing_id, buyer_id, seller_id, source, amount, fee_amount,
                             shipping_cost, status, shipping_address, escrow_id, created_at,
                             paid_at, completed_at, ended_at)
         SELECT gen_random_uuid(), gen_random_uuid(),
                ('00000000-0000-4000-8000-' || lpad(to_hex(n % 200), 12, '0'))::uuid,
                ('00000000-0000-4000-8000-' || lpad(to_hex((n + 1) % 200), 12, '0'))::uuid,
                'AUCTION', 10, 1, 0, 'COMPLETED', '{}', gen_random_uuid(), now(), now(), now(),
                now()
         FROM generate_series(1, 20000) AS n;
         ANALYZE orders;",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_erasure_claim_reads_only_its_index() {
    let db = TestDatabase::new();
    ended_orders_of_many_users(&db).await;
    let store = PgStore::new(db.pool());
    let user = UserId::from_uuid("00000000-0000-4000-8000-000000000007".parse().unwrap());
    for (due, indexes) in [
        (
            ErasureDue::RetentionPassed {
                ended_before: later(24),
            },
            &["orders_erasable_by_age"][..],
        ),
        (ErasureDue::Requested, &["orders_erasure_requested"][..]),
        (
            ErasureDue::PartyIs(user),
            &["orders_by_buyer", "orders_by_seller"][..],
        ),
    ] {
        let plan = store.explain_erasure_claim(due).await.unwrap();
        for index in indexes {
            assert!(
                plan.contains(index),
                "{due:?} is not served by {index}:\n{plan}"
            );
        }
        assert!(
            !plan.contains("Seq Scan"),
            "{due:?} reads the table:\n{plan}"
        );
    }
}
