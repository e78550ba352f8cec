//! Each successful change raises exactly its event, carrying the order as the
//! change left it; changes the spec announces nothing for raise nothing.

mod support;

use order_app::Caller;
use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::fixtures::*;
use order_domain::order::{CancellationReason, Carrier, TrackingNumber};
use order_domain::{EventType, OrderStatus, UserId};
use support::{payload, Found, World};
use uuid::Uuid;

fn admin() -> Caller {
    Caller::admin(UserId::from_uuid(Uuid::from_u128(99)))
}

#[tokio::test]
async fn ship_raises_order_shipped_with_the_order_as_shipped() {
    let (service, journal) = World::holding(paid()).service();
    let tracking = TrackingNumber::parse("1Z999").unwrap();
    let shipped = service
        .ship(
            Caller::user(seller()),
            placed().id,
            tracking,
            Carrier::parse("UPS").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(journal.events(), [EventType::OrderShipped]);
    let message = &journal.outbox()[0];
    assert_eq!(message.order_id, paid().id);
    let detail = payload(message);
    assert_eq!(detail["event_id"], message.event_id.to_string());
    assert_eq!(detail["event_type"], "order.shipped");
    assert_eq!(detail["version"], 1);
    assert_eq!(detail["order"]["status"], "SHIPPED");
    assert_eq!(detail["order"]["tracking_number"], "1Z999");
    assert_eq!(detail["order"]["total"], "135.00");
    let shipped_at = shipped.shipped_at.unwrap();
    assert_eq!(
        detail["order"]["shipped_at"],
        serde_json::to_value(shipped_at).unwrap()
    );
    let due = shipped_at + chrono::TimeDelta::days(7);
    assert_eq!(
        detail["order"]["auto_complete_at"],
        serde_json::to_value(due).unwrap()
    );
    assert!(detail.get("dispute").is_none());
}

#[tokio::test]
async fn mark_paid_raises_order_paid() {
    let (service, journal) = World::holding(placed()).service();
    service
        .mark_paid(Caller::Service, placed().id, escrow())
        .await
        .unwrap();
    assert_eq!(journal.events(), [EventType::OrderPaid]);
    assert_eq!(
        payload(&journal.outbox()[0])["order"]["escrow_id"],
        escrow().to_string()
    );
}

#[tokio::test]
async fn mark_delivered_raises_order_delivered() {
    let (service, journal) = World::holding(shipped()).service();
    service
        .mark_delivered(Caller::Service, shipped().id, None)
        .await
        .unwrap();
    assert_eq!(journal.events(), [EventType::OrderDelivered]);
}

#[tokio::test]
async fn cancel_raises_order_cancelled() {
    let (service, journal) = World::holding(placed()).service();
    let reason = CancellationReason::parse("Payment window expired").unwrap();
    service
        .cancel(Caller::Service, placed().id, reason)
        .await
        .unwrap();
    assert_eq!(journal.events(), [EventType::OrderCancelled]);
}

#[tokio::test]
async fn opening_a_dispute_raises_order_disputed_with_the_dispute() {
    let (service, journal) = World::holding(delivered()).service();
    let dispute = service
        .open_dispute(Caller::user(buyer()), delivered().id, reason(), vec![])
        .await
        .unwrap();
    assert_eq!(journal.events(), [EventType::OrderDisputed]);
    let detail = payload(&journal.outbox()[0]);
    assert_eq!(detail["order"]["status"], "DISPUTED");
    assert_eq!(detail["order"]["dispute"]["id"], dispute.id.to_string());
    assert_eq!(detail["dispute"]["status"], "OPEN");
    assert_eq!(detail["order"]["auto_complete_at"], serde_json::Value::Null);
}

async fn resolve(resolution: Resolution) -> Vec<EventType> {
    let (order, dispute) = disputed_from(shipped());
    let mut world = World::new().knowing(&dispute);
    world.wallet.expect_release_escrow().returning(|_| Ok(()));
    world.wallet.expect_refund_escrow().returning(|_| Ok(()));
    let found = Found {
        order: Some(order),
        dispute: Some(dispute.clone()),
        ..Found::default()
    };
    // A resolution that moves money records it, then applies the wallet's answer.
    let (service, journal) = world.then_finds(found).service();
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(resolution),
        refund_amount: (resolution == Resolution::PartialRefund).then(|| money("1.00")),
        admin_notes: None,
    };
    service
        .update_dispute(admin(), dispute.id, update)
        .await
        .unwrap();
    journal.events()
}

#[tokio::test]
async fn each_resolution_raises_its_order_event_then_dispute_resolved() {
    use EventType::*;
    assert_eq!(
        resolve(Resolution::RefundBuyer).await,
        [OrderRefunded, DisputeResolved]
    );
    assert_eq!(
        resolve(Resolution::ReleaseSeller).await,
        [OrderCompleted, DisputeResolved]
    );
    assert_eq!(
        resolve(Resolution::PartialRefund).await,
        [OrderCompleted, DisputeResolved]
    );
    assert_eq!(resolve(Resolution::NoAction).await, [DisputeResolved]);
}

#[tokio::test]
async fn evidence_and_admin_notes_raise_their_dispute_events_numbered_after_the_orders() {
    let (order, dispute) = disputed_from(shipped());
    let world = World::new().knowing(&dispute);
    let found = Found {
        order: Some(order),
        dispute: Some(dispute.clone()),
        ..Found::default()
    };
    let (service, journal) = world.then_finds(found).service();
    let url = EvidenceUrl::parse("https://img.example.com/box.jpg").unwrap();
    service
        .add_evidence(Caller::user(buyer()), dispute.id, vec![url])
        .await
        .unwrap();
    let notes = DisputeUpdate {
        admin_notes: Some("Asked for photos".into()),
        ..DisputeUpdate::default()
    };
    service
        .update_dispute(admin(), dispute.id, notes)
        .await
        .unwrap();
    let stored = journal.latest_dispute(dispute.id).unwrap();
    assert_eq!(
        (stored.evidence.len(), stored.admin_notes.as_str()),
        (1, "Asked for photos"),
        "both changes are stored"
    );
    assert_eq!(
        journal.events(),
        [EventType::DisputeEvidenceAdded, EventType::DisputeUpdated]
    );
    let stories: Vec<_> = journal.recorded().into_iter().map(|r| r.story).collect();
    assert_eq!(
        stories.iter().map(|s| s.sequence).collect::<Vec<_>>(),
        [1, 2],
        "numbered in the order's sequence"
    );
    assert_eq!(stories[0].actor, order_domain::Actor::Buyer(buyer()));
    assert_eq!(
        stories[0].details["urls"],
        serde_json::json!(["https://img.example.com/box.jpg"])
    );
    assert_eq!(stories[1].actor.kind(), "admin");
    assert!(
        !stories[1].details.to_string().contains("Asked for photos"),
        "never an admin's notes: {}",
        stories[1].details
    );
    assert_eq!(
        (stories[1].from_status, stories[1].to_status),
        (OrderStatus::Disputed, OrderStatus::Disputed)
    );
}

#[tokio::test]
async fn every_event_gets_its_own_id() {
    let (service, journal) = World::holding(placed()).service();
    service
        .mark_paid(Caller::Service, placed().id, escrow())
        .await
        .unwrap();
    let tracking = TrackingNumber::parse("1Z999").unwrap();
    service
        .ship(
            Caller::user(seller()),
            placed().id,
            tracking,
            Carrier::parse("UPS").unwrap(),
        )
        .await
        .unwrap();
    let ids: Vec<_> = journal.outbox().iter().map(|m| m.event_id).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}
