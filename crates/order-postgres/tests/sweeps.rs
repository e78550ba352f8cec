//! Each sweep's claim is served by the partial index made for it in `migrations/`: were the
//! claim's filter and the index's predicate to drift apart, PostgreSQL could no longer use
//! the index, and at ten million orders every sweep would read the whole table.

use order_domain::fixtures::later;
use order_domain::order::Sweep;
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
