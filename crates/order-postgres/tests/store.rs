//! What only PostgreSQL shows of the store, each test on a fresh database: storage that
//! keeps every field, the schema's own guards, pipelined writes, lock timeouts. The rules
//! every store keeps are the contract suite's (`tests/contract.rs`).

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, Resolution};
use order_domain::fixtures::*;
use order_domain::order::Terms;
use order_domain::{Order, OrderStatus};
use order_ports::{OrderStore, StoreError};
use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;
use uuid::Uuid;

fn store(db: &TestDatabase) -> PgStore {
    PgStore::new(db.pool())
}

async fn insert(store: &PgStore, order: &Order) {
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(order).await.unwrap();
    uow.commit().await.unwrap();
}

async fn sql(db: &TestDatabase, statement: &str) -> Result<(), diesel::result::Error> {
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(statement).await
}

#[tokio::test]
async fn every_field_of_a_shipped_disputed_order_survives_storage() {
    let db = TestDatabase::new();
    let store = store(&db);
    let order = delivered();
    insert(&store, &placed()).await;
    let mut uow = store.begin().await.unwrap();
    uow.update_order(&order, OrderStatus::PendingPayment)
        .await
        .unwrap();
    let (disputed, dispute) = disputed_from(order.clone());
    uow.insert_dispute(&dispute).await.unwrap();
    uow.update_order(&disputed, OrderStatus::Delivered)
        .await
        .unwrap();
    uow.commit().await.unwrap();
    assert_eq!(store.order(order.id).await.unwrap(), Some(disputed));
    assert_eq!(store.dispute(dispute.id).await.unwrap(), Some(dispute));
}

/// A second order of the fixtures' listing, which the listing's live order refuses.
fn another_order_of_the_same_listing() -> Order {
    placed_as(77)
}

#[tokio::test]
async fn a_dispute_update_is_stored_and_shows_on_its_order() {
    let db = TestDatabase::new();
    let store = store(&db);
    insert(&store, &placed()).await;
    let (disputed, dispute) = disputed_from(shipped());
    let mut uow = store.begin().await.unwrap();
    uow.update_order(&disputed, OrderStatus::PendingPayment)
        .await
        .unwrap();
    uow.insert_dispute(&dispute).await.unwrap();
    uow.commit().await.unwrap();

    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::PartialRefund),
        refund_amount: Some(money("10.00")),
        admin_notes: Some("half the box was missing".into()),
    };
    let decision = dispute
        .update(
            disputed.idle().unwrap(),
            update,
            &Terms::default(),
            later(9),
        )
        .unwrap();
    let mut uow = store.begin().await.unwrap();
    assert_eq!(
        uow.lock_dispute(dispute.id).await.unwrap(),
        Some(dispute.clone())
    );
    uow.update_dispute(&decision.dispute).await.unwrap();
    uow.update_order(decision.order.as_ref().unwrap(), OrderStatus::Disputed)
        .await
        .unwrap();
    uow.commit().await.unwrap();

    assert_eq!(
        store.dispute(dispute.id).await.unwrap(),
        Some(decision.dispute.clone())
    );
    let order = store.order(disputed.id).await.unwrap().unwrap();
    assert_eq!(order.dispute, Some(decision.dispute.summary()));
    assert_eq!(order.status, OrderStatus::Completed);
}

#[tokio::test]
async fn outbox_messages_commit_with_their_change_or_not_at_all() {
    let db = TestDatabase::new();
    let store = store(&db);
    let placed_order = Order::place(placed().id, new_order(), &Terms::default(), t0()).unwrap();
    let message = |n: u128| order_ports::RecordedEvent {
        message: order_ports::OutboxMessage {
            event_id: order_domain::EventId::from_uuid(Uuid::from_u128(n)),
            event_type: order_domain::EventType::OrderCreated,
            order_id: placed().id,
            occurred_at: t0(),
            payload: format!("{{\"n\": {n}}}"),
            trace: None,
        },
        story: order_ports::StoryLine {
            sequence: n as u64,
            actor: order_domain::Actor::Service,
            from_status: OrderStatus::PendingPayment,
            to_status: OrderStatus::PendingPayment,
            details: serde_json::json!({}),
        },
    };
    {
        let mut uow = store.begin().await.unwrap();
        uow.insert_order(&placed_order.value).await.unwrap();
        uow.append_outbox(vec![message(1)]).await.unwrap();
    }
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(&placed_order.value).await.unwrap();
    uow.append_outbox(vec![message(2), message(3)])
        .await
        .unwrap();
    uow.commit().await.unwrap();
    let count = |filter: &'static str| {
        let url = db.url().to_owned();
        async move {
            use diesel_async::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
            diesel::sql_query(format!("SELECT count(*) AS n FROM outbox WHERE {filter}"))
                .get_result::<N>(&mut conn)
                .await
                .unwrap()
                .n
        }
    };
    assert_eq!(count("true").await, 2);
    assert_eq!(
        count("payload = '{\"n\": 1}'").await,
        0,
        "the rolled-back event is gone"
    );
    assert_eq!(count("published_at IS NULL").await, 2);
}

#[tokio::test]
async fn the_schema_refuses_orders_the_domain_could_not_make() {
    let db = TestDatabase::new();
    let row = |overrides: &str| {
        let mut columns = vec![
            ("id", "gen_random_uuid()"),
            ("listing_id", "gen_random_uuid()"),
            ("buyer_id", "'00000000-0000-0000-0000-000000000001'"),
            ("seller_id", "'00000000-0000-0000-0000-000000000002'"),
            ("source", "'AUCTION'"),
            ("amount", "10.00"),
            ("fee_amount", "0.50"),
            ("shipping_cost", "0"),
            ("status", "'PENDING_PAYMENT'"),
            ("created_at", "now()"),
        ];
        for pair in overrides.split(';').filter(|p| !p.is_empty()) {
            let (column, value) = pair.split_once('=').unwrap();
            columns.iter_mut().find(|(c, _)| *c == column).unwrap().1 = value;
        }
        let (names, values): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
        format!(
            "INSERT INTO orders ({}) VALUES ({})",
            names.join(", "),
            values.join(", ")
        )
    };
    sql(&db, &row("")).await.expect("the baseline row is valid");
    for bad in [
        "seller_id='00000000-0000-0000-0000-000000000001'",
        "amount=0",
        "amount=-1",
        "shipping_cost=-0.01",
        "fee_amount=11",
        "amount=9999999999.99;shipping_cost=1",
        "status='SHIPPED_MAYBE'",
        "source='GIFT'",
        "status='PAID'",
    ] {
        assert!(sql(&db, &row(bad)).await.is_err(), "{bad} must be refused");
    }
}

#[tokio::test]
async fn a_conflict_sent_in_a_pipeline_is_the_answer_not_the_aborted_statements_behind_it() {
    let db = TestDatabase::new();
    let store = store(&db);
    insert(&store, &placed()).await;
    let second = another_order_of_the_same_listing();
    let event = order_ports::RecordedEvent {
        message: order_ports::OutboxMessage {
            event_id: order_domain::EventId::from_uuid(Uuid::from_u128(78)),
            event_type: order_domain::EventType::OrderCreated,
            order_id: second.id,
            occurred_at: t0(),
            payload: "{}".into(),
            trace: None,
        },
        story: order_ports::StoryLine {
            sequence: 1,
            actor: order_domain::Actor::Service,
            from_status: OrderStatus::PendingPayment,
            to_status: OrderStatus::PendingPayment,
            details: serde_json::json!({}),
        },
    };
    // The order's insert and the outbox row go out together: the insert fails on the
    // listing, and the outbox row behind it fails only because its transaction did.
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(&second).await.unwrap();
    let sent = uow.append_outbox(vec![event]).await;
    let outcome = match sent {
        Ok(()) => uow.commit().await,
        failed => failed,
    };
    assert_eq!(
        outcome,
        Err(StoreError::Conflict("orders_one_live_per_listing".into()))
    );
}

#[tokio::test]
async fn a_lock_that_times_out_is_busy_not_an_internal_error() {
    let db = TestDatabase::new();
    let mut config = order_postgres::PoolConfig::new(db.url());
    config.lock_timeout = std::time::Duration::from_millis(100);
    let store = PgStore::new(order_postgres::build_pool(&config).unwrap());
    insert(&store, &placed()).await;
    let mut holder = AsyncPgConnection::establish(db.url()).await.unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM orders WHERE id = '{}' FOR UPDATE",
            placed().id
        ))
        .await
        .unwrap();
    // The order's lock times out; the dispute's read sent with it is refused only because
    // its transaction already failed. The answer is the timeout's: busy, try again.
    for _ in 0..5 {
        let mut uow = store.begin().await.unwrap();
        assert!(
            matches!(
                uow.lock_order(placed().id).await,
                Err(StoreError::Unavailable(_))
            ),
            "a lock timeout must read as unavailable"
        );
    }
}
