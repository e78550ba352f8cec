//! Who may do what. A refused caller changes nothing, and a caller who may not
//! see an order cannot tell it exists.

mod support;

use order_app::{AppError, Caller, Purchase};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::fixtures::*;
use order_domain::order::{CancellationReason, Carrier, ShippingAddress, TrackingNumber};
use order_domain::{EscrowId, OrderId, UserId};
use order_ports::store::{DisputeQuery, PageRequest};
use support::{win, Found, World};
use uuid::Uuid;

fn admin() -> UserId {
    UserId::from_uuid(Uuid::from_u128(99))
}

fn tracking() -> (TrackingNumber, Carrier) {
    (
        TrackingNumber::parse("1Z999").unwrap(),
        Carrier::parse("UPS").unwrap(),
    )
}

async fn ship_as(caller: Caller) -> Result<(), AppError> {
    let (service, journal) = World::holding(paid()).service();
    let (number, carrier) = tracking();
    let outcome = service
        .ship(caller, paid().id, number, carrier)
        .await
        .map(drop);
    if outcome.is_err() {
        assert!(journal.is_empty(), "a refused ship stores nothing");
    }
    outcome
}

#[tokio::test]
async fn only_the_seller_ships() {
    assert_eq!(ship_as(Caller::user(seller())).await, Ok(()));
    assert_eq!(
        ship_as(Caller::user(buyer())).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        ship_as(Caller::admin(admin())).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(ship_as(Caller::Service).await, Err(AppError::Forbidden));
}

#[tokio::test]
async fn a_stranger_cannot_tell_an_order_exists() {
    assert_eq!(
        ship_as(Caller::user(stranger())).await,
        Err(AppError::NotFound)
    );

    let (service, _) = World::holding(paid()).service();
    assert_eq!(
        service.order(Caller::user(stranger()), paid().id).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        service.order(Caller::user(buyer()), paid().id).await,
        Ok(paid())
    );
    assert_eq!(
        service.order(Caller::admin(admin()), paid().id).await,
        Ok(paid())
    );
}

#[tokio::test]
async fn a_missing_order_is_not_found() {
    let (service, _) = World::new().then_finds(Found::nothing()).service();
    let (number, carrier) = tracking();
    let outcome = service
        .ship(
            Caller::user(seller()),
            OrderId::from_uuid(Uuid::nil()),
            number,
            carrier,
        )
        .await;
    assert_eq!(outcome, Err(AppError::NotFound));
}

#[tokio::test]
async fn only_the_buyer_completes() {
    for (caller, expected) in [
        (Caller::user(seller()), AppError::Forbidden),
        (Caller::admin(admin()), AppError::Forbidden),
        (Caller::user(stranger()), AppError::NotFound),
    ] {
        let (service, journal) = World::holding(shipped()).service();
        assert_eq!(service.complete(caller, shipped().id).await, Err(expected));
        assert!(journal.is_empty());
    }
}

#[tokio::test]
async fn buyer_or_seller_disputes_nobody_else() {
    for (caller, expected) in [
        (Caller::admin(admin()), Err(AppError::Forbidden)),
        (Caller::user(stranger()), Err(AppError::NotFound)),
        (Caller::user(seller()), Ok(())),
        (Caller::user(buyer()), Ok(())),
    ] {
        let (service, journal) = World::holding(shipped()).service();
        let outcome = service
            .open_dispute(caller, shipped().id, reason(), vec![])
            .await
            .map(drop);
        assert_eq!(outcome, expected, "{caller:?}");
        assert_eq!(journal.is_empty(), expected.is_err());
    }
}

#[tokio::test]
async fn users_are_refused_internal_operations_even_admins() {
    for caller in [Caller::user(buyer()), Caller::admin(admin())] {
        let (service, journal) = World::new().service();
        let id = placed().id;
        let escrow = EscrowId::from_uuid(Uuid::from_u128(40));
        let reason = CancellationReason::parse("unpaid").unwrap();
        assert_eq!(
            service.create_auction_order(caller, win()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            service.mark_paid(caller, id, escrow).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            service.cancel(caller, id, reason).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            service.mark_delivered(caller, id, None).await,
            Err(AppError::Forbidden)
        );
        assert!(journal.is_empty());
    }
}

#[tokio::test]
async fn a_user_cannot_buy_for_someone_else() {
    let (service, journal) = World::new().service();
    let purchase = Purchase {
        listing_id: listing_id(),
        buyer_id: Some(stranger()),
        shipping_address: ShippingAddress::default(),
    };
    assert_eq!(
        service.purchase(Caller::user(buyer()), purchase).await,
        Err(AppError::Forbidden)
    );
    assert!(journal.is_empty());
}

fn world_with_dispute() -> World {
    let (order, dispute) = disputed_from(shipped());
    let world = World::new().knowing(&dispute);
    world.then_finds(Found {
        order: Some(order),
        dispute: Some(dispute),
        ..Found::default()
    })
}

#[tokio::test]
async fn only_admins_decide_disputes() {
    let resolve = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::NoAction),
        ..DisputeUpdate::default()
    };
    let (_, dispute) = disputed_from(shipped());
    for (caller, expected) in [
        (Caller::user(buyer()), AppError::Forbidden),
        (Caller::user(seller()), AppError::Forbidden),
        (Caller::user(stranger()), AppError::NotFound),
        (Caller::Service, AppError::NotFound),
    ] {
        let (service, journal) = world_with_dispute().service();
        let outcome = service
            .update_dispute(caller, dispute.id, resolve.clone())
            .await;
        assert_eq!(outcome, Err(expected), "{caller:?}");
        assert!(journal.is_empty());
    }
    let (service, journal) = world_with_dispute().service();
    let decided = service
        .update_dispute(Caller::admin(admin()), dispute.id, resolve)
        .await
        .unwrap();
    assert_eq!(decided.status, DisputeStatus::Resolved);
    assert!(!journal.is_empty());
}

#[tokio::test]
async fn parties_add_evidence_admins_and_strangers_do_not() {
    let (_, dispute) = disputed_from(shipped());
    let url = EvidenceUrl::parse("https://img.example.com/box.jpg").unwrap();
    for (caller, expected) in [
        (Caller::user(buyer()), Ok(())),
        (Caller::user(seller()), Ok(())),
        (Caller::admin(admin()), Err(AppError::Forbidden)),
        (Caller::user(stranger()), Err(AppError::NotFound)),
    ] {
        let (service, journal) = world_with_dispute().service();
        let outcome = service
            .add_evidence(caller, dispute.id, vec![url.clone()])
            .await;
        assert_eq!(outcome.map(drop), expected, "{caller:?}");
        assert_eq!(journal.is_empty(), expected.is_err());
    }
}

#[tokio::test]
async fn disputes_are_read_by_admins_and_parties_and_listed_by_admins_only() {
    let (_, dispute) = disputed_from(shipped());
    let world = World::new().knowing(&dispute);
    let (service, _) = world.service();
    for caller in [
        Caller::user(buyer()),
        Caller::user(seller()),
        Caller::admin(admin()),
    ] {
        assert_eq!(
            service.dispute(caller, dispute.id).await,
            Ok(dispute.clone())
        );
    }
    assert_eq!(
        service.dispute(Caller::user(stranger()), dispute.id).await,
        Err(AppError::NotFound)
    );
    let query = DisputeQuery {
        statuses: vec![],
        page: PageRequest::Offset {
            offset: 0,
            limit: 20,
        },
    };
    assert_eq!(
        service.list_disputes(Caller::user(buyer()), query).await,
        Err(AppError::Forbidden)
    );
}
