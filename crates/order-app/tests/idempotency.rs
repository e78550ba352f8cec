//! Retried internal calls: the same content is answered with what exists and raises no
//! second event; other content conflicts and changes nothing.

mod support;

use order_app::{AppError, AuctionWin, Caller};
use order_domain::fixtures::*;
use order_domain::{DomainError, EscrowId, EventType, OrderStatus};
use order_memory::Moment;
use support::{conflict_code, win, Found, World};
use uuid::Uuid;

#[tokio::test]
async fn a_first_create_places_the_order_and_raises_order_created() {
    let (service, journal) = World::new().then_finds(Found::nothing()).service();
    let placed = service
        .create_auction_order(Caller::Service, win())
        .await
        .unwrap();
    assert!(placed.created);
    assert_eq!(placed.order.status, OrderStatus::PendingPayment);
    assert_eq!(placed.order.fee_amount, money("6.25"));
    assert_eq!(journal.orders(), vec![placed.order]);
    assert_eq!(journal.events(), [EventType::OrderCreated]);
}

#[tokio::test]
async fn a_retried_create_with_the_same_content_answers_the_existing_order() {
    let existing = placed();
    let found = Found {
        live: Some(existing.clone()),
        ..Found::default()
    };
    let (service, journal) = World::new().then_finds(found).service();
    let again = service
        .create_auction_order(Caller::Service, win())
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.order, existing);
    assert!(journal.is_empty(), "no second order, no second event");
}

#[tokio::test]
async fn a_create_with_other_content_for_the_same_listing_conflicts() {
    let found = Found {
        live: Some(placed()),
        ..Found::default()
    };
    let (service, journal) = World::new().then_finds(found).service();
    let other = AuctionWin {
        amount: money("130.00"),
        ..win()
    };
    let outcome = service.create_auction_order(Caller::Service, other).await;
    assert_eq!(conflict_code(&outcome), Some("order_exists"));
    assert!(journal.is_empty());
}

#[tokio::test]
async fn a_create_that_loses_an_insert_race_to_its_twin_answers_the_twin() {
    // Staged: the twin commits between this request's first look and its insert.
    let world = World::new();
    world
        .store
        .stage_write(Moment::BeforeOrderInsert, placed())
        .unwrap();
    let (service, journal) = world.service();
    let placed_order = service
        .create_auction_order(Caller::Service, win())
        .await
        .unwrap();
    assert!(!placed_order.created);
    assert_eq!(placed_order.order, placed());
    assert_eq!(journal.orders(), [placed()], "only the twin is stored");
    assert!(journal.events().is_empty());
}

#[tokio::test]
async fn mark_paid_again_with_the_same_escrow_changes_nothing() {
    let (service, journal) = World::holding(paid()).service();
    let order = service
        .mark_paid(Caller::Service, paid().id, escrow())
        .await
        .unwrap();
    assert_eq!(order, paid());
    assert!(journal.is_empty(), "no second order.paid");
}

#[tokio::test]
async fn mark_paid_with_another_escrow_conflicts() {
    let (service, journal) = World::holding(paid()).service();
    let other = EscrowId::from_uuid(Uuid::from_u128(77));
    let outcome = service.mark_paid(Caller::Service, paid().id, other).await;
    assert_eq!(outcome, Err(AppError::Domain(DomainError::EscrowMismatch)));
    assert!(journal.is_empty());
}

#[tokio::test]
async fn a_second_dispute_on_an_order_conflicts() {
    let (disputed, dispute) = disputed_from(shipped());
    let (service, journal) = World::new()
        .then_finds(Found {
            order: Some(disputed.clone()),
            dispute: Some(dispute),
            ..Found::default()
        })
        .service();
    let outcome = service
        .open_dispute(
            order_app::Caller::user(buyer()),
            disputed.id,
            reason(),
            vec![],
        )
        .await;
    assert_eq!(outcome, Err(AppError::Domain(DomainError::DisputeExists)));
    assert!(journal.is_empty());
}
