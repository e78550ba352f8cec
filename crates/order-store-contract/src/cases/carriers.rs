//! Carriers' updates: the orders a parcel follows, each update recorded once, and a
//! delivery problem read back.

use super::*;

/// `order` (SHIPPED or DELIVERED) as sent with `carrier` under `tracking`.
fn sent_as(order: Order, carrier: &str, tracking: &str) -> Order {
    let mut data = order.into_data();
    data.carrier = Some(Carrier::parse(carrier).unwrap());
    data.tracking_number = Some(TrackingNumber::parse(tracking).unwrap());
    Order::rehydrate(data)
}

fn parcel(carrier: &str, tracking: &str) -> ParcelKey {
    ParcelKey::new(
        &Carrier::parse(carrier).unwrap(),
        &TrackingNumber::parse(tracking).unwrap(),
    )
}

pub async fn a_parcel_finds_exactly_the_orders_the_domain_says_it_follows<S: OrderStore>(
    store: Arc<S>,
) {
    let orders = [
        nth(sent_as(shipped(), "UPS", "1Z-AB"), 1),
        nth(sent_as(delivered(), "ups", "1z-ab"), 2),
        nth(sent_as(order_in(OrderStatus::Completed), "UPS", "1Z-AB"), 3),
        nth(sent_as(shipped(), "UPS", "1Z-AC"), 4),
        nth(sent_as(shipped(), "DHL", "1Z-AB"), 5),
        nth(sent_as(shipped(), "LA POSTÉ", "1Z-AB"), 6),
    ];
    insert(store.as_ref(), &orders).await;
    for key in [
        parcel(" Ups ", "1z-Ab "),
        parcel("dhl", "1Z-AB"),
        parcel("la postÉ", "1z-ab"),
        parcel("la posté", "1z-ab"),
        parcel("UPS", "nothing"),
    ] {
        let expected: Vec<OrderId> = orders
            .iter()
            .filter(|order| order.followed_parcel().as_ref() == Some(&key))
            .map(|order| order.id)
            .collect();
        let mut uow = store.begin().await.unwrap();
        let found: Vec<OrderId> = uow
            .lock_orders_by_parcel(&key)
            .await
            .unwrap()
            .iter()
            .map(|order| order.id)
            .collect();
        assert_eq!(found, expected, "{key:?}");
    }
    let mut uow = store.begin().await.unwrap();
    let two = uow
        .lock_orders_by_parcel(&parcel("UPS", "1Z-AB"))
        .await
        .unwrap();
    assert_eq!(
        two.len(),
        2,
        "a parcel shared by two orders finds both, in id order"
    );
}

pub async fn a_carrier_event_is_recorded_once_and_only_when_committed<S: OrderStore>(
    store: Arc<S>,
) {
    let id = CarrierEventId::parse("evt-1").unwrap();
    let order = shipped().id;
    let mut dropped = store.begin().await.unwrap();
    assert!(dropped
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    drop(dropped);
    let mut uow = store.begin().await.unwrap();
    assert_eq!(uow.carrier_event(&id).await.unwrap(), None, "rolled back");
    assert!(uow
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    uow.commit().await.unwrap();
    let mut again = store.begin().await.unwrap();
    assert!(!again
        .record_carrier_event(&id, vec![order], later(11))
        .await
        .unwrap());
    assert_eq!(again.carrier_event(&id).await.unwrap(), Some(vec![order]));
}

pub async fn a_carrier_event_recorded_concurrently_waits_and_is_refused<S: OrderStore + 'static>(
    store: Arc<S>,
) {
    let id = CarrierEventId::parse("evt-race").unwrap();
    let order = shipped().id;
    let mut first = store.begin().await.unwrap();
    assert!(first
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    let racing = store.clone();
    let racing_id = id.clone();
    let second = tokio::spawn(async move {
        let mut uow = racing.begin().await.unwrap();
        uow.record_carrier_event(&racing_id, vec![order], later(10))
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second waits for the first");
    first.commit().await.unwrap();
    assert!(!second.await.unwrap(), "and finds it recorded");
}

pub async fn carrier_events_are_forgotten_after_their_time<S: OrderStore>(store: Arc<S>) {
    let (old, new) = (
        CarrierEventId::parse("old").unwrap(),
        CarrierEventId::parse("new").unwrap(),
    );
    let mut uow = store.begin().await.unwrap();
    uow.record_carrier_event(&old, vec![], later(1))
        .await
        .unwrap();
    uow.record_carrier_event(&new, vec![], later(5))
        .await
        .unwrap();
    uow.commit().await.unwrap();
    assert_eq!(store.forget_carrier_events(later(3)).await.unwrap(), 1);
    let mut uow = store.begin().await.unwrap();
    assert_eq!(uow.carrier_event(&old).await.unwrap(), None);
    assert_eq!(uow.carrier_event(&new).await.unwrap(), Some(vec![]));
}

pub async fn a_delivery_problem_reads_back<S: OrderStore>(store: Arc<S>) {
    let shipped = shipped();
    insert(store.as_ref(), std::slice::from_ref(&shipped)).await;
    let returned_to_sender = TrackingUpdate {
        event_id: CarrierEventId::parse("evt-p").unwrap(),
        carrier: shipped.carrier.clone().unwrap(),
        tracking_number: shipped.tracking_number.clone().unwrap(),
        status: TrackingStatus::ReturnedToSender,
        occurred_at: later(10),
        detail: CarrierDetail::parse("Refused by the addressee").unwrap(),
    };
    let returned = shipped
        .apply_tracking_update(&returned_to_sender, &Deadlines::default(), later(10))
        .unwrap()
        .unwrap()
        .value;
    update(store.as_ref(), &shipped, &returned).await;
    assert_eq!(store.order(shipped.id).await.unwrap(), Some(returned));
}
