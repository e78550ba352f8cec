//! Money moves in three steps: the intent is recorded, the wallet is called with nothing
//! locked, then its answer is applied. When the wallet fails, the order keeps only the
//! recorded intent: its status, the dispute and the events stay as they were.

mod support;

use chrono::TimeDelta;
use mockall::predicate::eq;
use order_app::{AppError, Caller, OrderService, Peer, Placed, Purchase};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, Resolution};
use order_domain::fixtures::*;
use order_domain::order::{DisputeChange, NewOrder, ShippingAddress, Terms};
use order_domain::{EscrowId, EventType, Order, OrderId, OrderStatus};
use order_memory::Moment;
use order_ports::{HoldEscrow, ReleaseEscrow, WalletError};
use support::{conflict_code, Found, Journal, World};
use uuid::Uuid;

fn unavailable() -> WalletError {
    WalletError::Unavailable("connection refused".into())
}

/// The statuses the order was stored with, and whether each version waited on the wallet.
fn stored(journal: &support::Journal) -> Vec<(OrderStatus, bool)> {
    journal
        .orders()
        .iter()
        .map(|order| (order.status, order.escrow_intent.is_some()))
        .collect()
}

/// The shipped order with the buyer's completion recorded at t0 and not yet carried out:
/// its release pending, resumable two minutes on.
fn completion_recorded() -> Order {
    shipped()
        .request_completion(acting_buyer(), t0(), TimeDelta::minutes(2))
        .unwrap()
        .order()
        .clone()
}

/// The buyer completes the fixtures' shipped order.
async fn buyer_completes(service: &OrderService) -> Result<Order, AppError> {
    service.complete(Caller::user(buyer()), shipped().id).await
}

#[tokio::test]
async fn complete_records_the_release_then_releases_total_less_fee_then_completes() {
    let mut world = World::holding(shipped());
    world
        .wallet
        .expect_release_escrow()
        .with(eq(ReleaseEscrow {
            escrow_id: escrow(),
            order_id: shipped().id,
            seller_id: seller(),
            seller_amount: money("128.75"),
            fee_amount: money("6.25"),
            idempotency_key: format!("order-{}-release", shipped().id),
        }))
        .times(1)
        .returning(|_| Ok(()));
    let (service, journal) = world.service();
    let completed = buyer_completes(&service).await.unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(completed.escrow_intent, None);
    assert_eq!(stored(&journal), [(OrderStatus::Completed, false)]);
    assert_eq!(journal.events(), [EventType::OrderCompleted]);
}

#[tokio::test]
async fn a_failing_wallet_on_complete_leaves_only_the_recorded_release() {
    let mut world = World::holding(shipped());
    world
        .wallet
        .expect_release_escrow()
        .returning(|_| Err(unavailable()));
    let (service, journal) = world.service();
    let outcome = buyer_completes(&service).await;
    assert_eq!(outcome, Err(AppError::PeerUnavailable(Peer::Wallet)));
    assert_eq!(
        stored(&journal),
        [(OrderStatus::Shipped, true)],
        "the release stays recorded, let go of for the retry"
    );
    let let_go = journal.orders()[0].escrow_intent.clone().unwrap();
    assert!(let_go.resume_at <= let_go.requested_at);
    assert!(journal.events().is_empty());
}

#[tokio::test]
async fn a_wallet_refusing_the_release_for_good_drops_the_intent() {
    let mut world = World::holding(shipped());
    world
        .wallet
        .expect_release_escrow()
        .returning(|_| Err(WalletError::Rejected("HTTP 404: no such escrow".into())));
    let (service, journal) = world.service();
    let outcome = buyer_completes(&service).await;
    assert!(matches!(outcome, Err(AppError::PeerFailed { .. })));
    assert!(
        journal.is_empty(),
        "the intent dropped: the order as it was"
    );
}

#[tokio::test]
async fn a_retried_completion_carries_the_pending_release_on_with_the_same_key() {
    let recorded = completion_recorded();
    let mut world = World::holding(recorded);
    world
        .wallet
        .expect_release_escrow()
        .times(1)
        .returning(|request| {
            assert_eq!(
                request.idempotency_key,
                format!("order-{}-release", shipped().id)
            );
            Ok(())
        });
    let (service, journal) = world.service();
    let completed = buyer_completes(&service).await.unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(stored(&journal), [(OrderStatus::Completed, false)]);
}

#[tokio::test]
async fn the_intent_worker_finishes_a_release_whose_requester_went_silent() {
    let (service, journal) = World::holding(completion_recorded()).releasing(1).service();
    let sweep = service.resume_intents(10).await.unwrap();
    assert_eq!(sweep.applied, vec![shipped().id]);
    assert_eq!(stored(&journal), [(OrderStatus::Completed, false)]);
    assert_eq!(journal.events(), [EventType::OrderCompleted]);
}

#[tokio::test]
async fn an_intent_the_domain_refuses_to_finish_is_left_recorded_and_the_next_is_finished() {
    // A refund recorded for a dispute the store does not hold: the domain cannot finish it.
    // Recorded first, it is claimed first, and must not stop the intent behind it.
    let (order, dispute) = disputed_from(shipped());
    let refund = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::RefundBuyer),
        refund_amount: None,
        admin_notes: None,
    };
    let change = order
        .request_resolution(
            &dispute,
            refund,
            admin(),
            &Terms::default(),
            later(9),
            TimeDelta::minutes(2),
        )
        .unwrap();
    let DisputeChange::Movement(request) = change else {
        panic!("a refund moves money");
    };
    let orphaned = request.order().clone();
    // Recorded later than the refund, so claimed after it.
    let completion = shipped().request_completion(acting_buyer(), later(20), TimeDelta::minutes(2));
    let completing = renumbered(completion.unwrap().order().clone(), 2);
    let world = World::holding(orphaned.clone())
        .and(completing.clone())
        .refunding(1)
        .releasing(1);
    let (service, journal) = world.service();

    let sweep = service.resume_intents(10).await.unwrap();

    assert_eq!(sweep.refused, vec![orphaned.id]);
    assert_eq!(sweep.applied, vec![completing.id]);
    let completed = journal.latest_order(completing.id).unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    let left = journal.latest_order(orphaned.id).unwrap();
    assert_eq!(left.status, OrderStatus::Disputed);
    let key = |order: &Order| {
        order
            .escrow_intent
            .as_ref()
            .map(|i| i.idempotency_key.clone())
    };
    assert_eq!(
        key(&left),
        key(&orphaned),
        "its refund stays recorded for a later try"
    );
}

#[tokio::test]
async fn a_failing_wallet_on_a_resolution_leaves_order_and_dispute_unchanged() {
    for resolution in [
        Resolution::RefundBuyer,
        Resolution::ReleaseSeller,
        Resolution::PartialRefund,
    ] {
        let (order, dispute) = disputed_from(shipped());
        let mut world = World::new().knowing(&dispute);
        world
            .wallet
            .expect_release_escrow()
            .returning(|_| Err(unavailable()));
        world
            .wallet
            .expect_refund_escrow()
            .returning(|_| Err(unavailable()));
        let world = world.then_finds(Found {
            order: Some(order),
            dispute: Some(dispute.clone()),
            ..Found::default()
        });
        let (service, journal) = world.service();
        let update = DisputeUpdate {
            status: Some(DisputeStatus::Resolved),
            resolution: Some(resolution),
            refund_amount: (resolution == Resolution::PartialRefund).then(|| money("20.00")),
            admin_notes: Some("decided".into()),
        };
        let outcome = service
            .update_dispute(Caller::admin(stranger()), dispute.id, update)
            .await;
        assert_eq!(
            outcome,
            Err(AppError::PeerUnavailable(Peer::Wallet)),
            "{resolution}"
        );
        assert_eq!(
            stored(&journal),
            [(OrderStatus::Disputed, true)],
            "{resolution}"
        );
        assert!(journal.disputes().is_empty(), "{resolution}");
        assert!(journal.events().is_empty(), "{resolution}");
    }
}

#[tokio::test]
async fn a_partial_refund_sends_the_split_keyed_by_the_dispute() {
    let (order, dispute) = disputed_from(delivered());
    let mut world = World::new().knowing(&dispute);
    let dispute_id = dispute.id;
    world
        .wallet
        .expect_refund_escrow()
        .times(1)
        .returning(move |request| {
            assert_eq!(
                request.idempotency_key,
                format!("dispute-{dispute_id}-refund")
            );
            assert_eq!(request.refund_amount, money("25.00"));
            assert_eq!(request.fee_amount, money("5.00"));
            assert_eq!(request.seller_amount, money("105.00"));
            Ok(())
        });
    let found = Found {
        order: Some(order),
        dispute: Some(dispute.clone()),
        ..Found::default()
    };
    let world = world.then_finds(found);
    let (service, journal) = world.service();
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::PartialRefund),
        refund_amount: Some(money("25.00")),
        admin_notes: None,
    };
    let decided = service
        .update_dispute(Caller::admin(stranger()), dispute.id, update)
        .await
        .unwrap();
    assert_eq!(decided.resolution, Some(Resolution::PartialRefund));
    assert_eq!(journal.last_status(), OrderStatus::Completed);
    assert_eq!(
        journal.events(),
        [EventType::OrderCompleted, EventType::DisputeResolved]
    );
}

fn purchase() -> Purchase {
    Purchase {
        listing_id: listing_id(),
        buyer_id: None,
        shipping_address: ShippingAddress::default(),
    }
}

fn world_selling_the_listing() -> World {
    let mut world = World::new();
    world.listings.expect_listing().returning(|_| Ok(listing()));
    world
}

/// The listing for sale, and a Wallet whose hold answers `refusal`; the buyer buys it.
async fn buy_it_now_held_back_by(
    refusal: fn() -> WalletError,
) -> (Result<Placed, AppError>, Journal) {
    let mut world = world_selling_the_listing();
    world
        .wallet
        .expect_hold_escrow()
        .returning(move |_| Err(refusal()));
    let (service, journal) = world.then_finds(Found::nothing()).service();
    let outcome = service.purchase(Caller::user(buyer()), purchase()).await;
    (outcome, journal)
}

#[tokio::test]
async fn a_buy_it_now_holds_the_total_and_ends_paid() {
    let mut world = world_selling_the_listing();
    world
        .wallet
        .expect_hold_escrow()
        .times(1)
        .returning(|request| {
            assert_eq!(request.amount, money("135.00"));
            assert_eq!(request.buyer_id, buyer());
            Ok(EscrowId::from_uuid(Uuid::from_u128(41)))
        });
    let (service, journal) = world.then_finds(Found::nothing()).service();
    let bought = service
        .purchase(Caller::user(buyer()), purchase())
        .await
        .unwrap();
    assert!(bought.created);
    assert_eq!(bought.order.status, OrderStatus::Paid);
    assert_eq!(
        journal.events(),
        [EventType::OrderCreated, EventType::OrderPaid]
    );
}

#[tokio::test]
async fn a_declined_buy_it_now_cancels_the_order() {
    let (outcome, journal) = buy_it_now_held_back_by(|| WalletError::InsufficientFunds).await;
    assert_eq!(outcome, Err(AppError::PaymentDeclined));
    assert_eq!(journal.last_status(), OrderStatus::Cancelled);
    assert_eq!(
        journal.events(),
        [EventType::OrderCreated, EventType::OrderCancelled]
    );
}

#[tokio::test]
async fn a_buy_it_now_with_the_wallet_down_leaves_the_order_pending_payment() {
    let (outcome, journal) = buy_it_now_held_back_by(unavailable).await;
    assert_eq!(outcome, Err(AppError::PeerUnavailable(Peer::Wallet)));
    assert_eq!(
        stored(&journal),
        [(OrderStatus::PendingPayment, true)],
        "the payment stays recorded for the retry or the worker"
    );
    assert_eq!(
        journal.events(),
        [EventType::OrderCreated],
        "no order.paid, no order.cancelled"
    );
}

#[tokio::test]
async fn a_retried_buy_it_now_resumes_the_pending_order_with_the_same_hold_key() {
    let new = NewOrder::buy_now(&listing(), buyer(), ShippingAddress::default()).unwrap();
    let pending = Order::place(
        OrderId::from_uuid(Uuid::from_u128(22)),
        new,
        &order_domain::order::Terms::default(),
        t0(),
    )
    .unwrap()
    .value;
    let mut world = world_selling_the_listing();
    let expected = HoldEscrow {
        order_id: pending.id,
        buyer_id: buyer(),
        amount: money("135.00"),
        idempotency_key: format!("order-{}-hold", pending.id),
    };
    world
        .wallet
        .expect_hold_escrow()
        .with(eq(expected))
        .times(1)
        .returning(|_| Ok(EscrowId::from_uuid(Uuid::from_u128(41))));
    let resumed = Found {
        live: Some(pending.clone()),
        ..Found::default()
    };
    let (service, journal) = world.then_finds(resumed).service();
    let bought = service
        .purchase(Caller::user(buyer()), purchase())
        .await
        .unwrap();
    assert_eq!(
        bought.order.id, pending.id,
        "the same order, not a second one"
    );
    assert_eq!(bought.order.status, OrderStatus::Paid);
    assert_eq!(
        journal.events(),
        [EventType::OrderPaid],
        "no second order.created"
    );
}

#[tokio::test]
async fn a_second_buyer_of_a_bought_listing_conflicts() {
    let mut world = world_selling_the_listing();
    world.wallet.expect_hold_escrow().never();
    let taken = Found {
        live: Some(paid()),
        ..Found::default()
    };
    let (service, journal) = world.then_finds(taken).service();
    let outcome = service.purchase(Caller::user(stranger()), purchase()).await;
    assert_eq!(conflict_code(&outcome), Some("listing_sold"));
    assert!(journal.is_empty());
}

#[tokio::test]
async fn the_seller_cannot_buy_their_own_listing() {
    let (service, journal) = world_selling_the_listing().service();
    let outcome = service.purchase(Caller::user(seller()), purchase()).await;
    assert!(matches!(
        outcome,
        Err(AppError::Domain(order_domain::DomainError::Invalid {
            field: "buyer_id",
            ..
        }))
    ));
    assert!(journal.is_empty());
}

#[tokio::test]
async fn auto_completion_skips_an_order_the_wallet_fails_on_and_completes_the_next() {
    let first = shipped();
    let second = renumbered(shipped(), 21);
    let mut world = World::new();
    let failing = first.id;
    world
        .wallet
        .expect_release_escrow()
        .returning(move |request| {
            if request.order_id == failing {
                Err(unavailable())
            } else {
                Ok(())
            }
        });
    let due = Found {
        due: vec![first.clone(), second.clone()],
        ..Found::default()
    };
    let world = world.then_finds(due);
    let (service, journal) = world.service();
    let sweep = service.complete_due(10).await.unwrap();
    assert_eq!(sweep.failed, vec![first.id]);
    assert_eq!(sweep.completed, vec![second.id]);
    assert_eq!(
        journal
            .orders()
            .iter()
            .map(|o| (o.id, o.status, o.escrow_intent.is_some()))
            .collect::<Vec<_>>(),
        [
            (first.id, OrderStatus::Shipped, true),
            (second.id, OrderStatus::Completed, false)
        ],
        "the failed release stays recorded for the intent worker"
    );
    assert_eq!(journal.events(), [EventType::OrderCompleted]);
}

#[tokio::test]
async fn an_intent_whose_resume_time_moved_meanwhile_is_still_applied_once() {
    let recorded = completion_recorded();
    // The requester let go of it after the worker claimed it: only `resume_at` differs.
    let let_go = recorded.let_go_of_intent(t0() + chrono::TimeDelta::seconds(1));
    assert_ne!(let_go.escrow_intent, recorded.escrow_intent);
    // Staged: the claim hands over the version it leased, then the requester's let-go
    // commits.
    let mut world = World::holding(recorded);
    world
        .store
        .stage_write(Moment::AfterIntentClaim, let_go)
        .unwrap();
    world.wallet.expect_release_escrow().returning(|_| Ok(()));
    let (service, journal) = world.service();
    let sweep = service.resume_intents(10).await.unwrap();
    assert_eq!(sweep.applied, vec![shipped().id]);
    let stored: Vec<_> = journal
        .orders()
        .iter()
        .map(|order| (order.status, order.escrow_intent.is_some()))
        .collect();
    assert_eq!(stored, [(OrderStatus::Completed, false)]);
}
