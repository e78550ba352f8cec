//! Each sweep's claim, and a carrier's lookup of a parcel, is served by the index made for
//! it in `migrations/`: were the query's filter and the index's expressions or predicate
//! to drift apart, PostgreSQL could no longer use the index, and at ten million orders
//! each would read the whole table.

use order_domain::fixtures::later;
use order_domain::order::{Carrier, ParcelKey, Sweep, TrackingNumber};
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
    for sweep in [
        Sweep::UnpaidAuction,
        Sweep::LateShipment,
        Sweep::DueCompletion,
    ] {
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
