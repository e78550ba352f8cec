//! Settling an order outside a dispute: who may, from which status, with which money.

use chrono::TimeDelta;
use order_domain::fixtures::*;
use order_domain::money::{FeeRate, Money};
use order_domain::order::Terms;
use order_domain::order::{
    ActionReason, AdminCancellation, Deadlines, ExtendedDeadline, IntentRequest, NewOrder,
    WalletAnswer, WalletCall, MAX_EXTENSION,
};
use order_domain::{DomainError, EventType, Order, OrderId, OrderStatus, SellerOrAdmin};
use proptest::prelude::*;
use uuid::Uuid;

fn wait() -> TimeDelta {
    TimeDelta::minutes(2)
}

fn reason() -> ActionReason {
    ActionReason::parse("Lost in the post.").unwrap()
}

fn recorded(request: IntentRequest) -> Order {
    match request {
        IntentRequest::Recorded(movement) => movement.order,
        IntentRequest::Pending(_) => panic!("expected a new intent"),
    }
}

/// `order`'s pending movement, answered `Done` by the Wallet.
fn finished(order: &Order) -> (Order, order_domain::DomainEvent) {
    let done = order
        .finish_intent(WalletAnswer::Done, None, &Terms::default(), later(9))
        .unwrap();
    assert_eq!(done.events.len(), 1);
    (done.order, done.events[0].clone())
}

#[test]
fn an_admin_who_is_no_party_is_offered_the_operator_actions_that_apply() {
    let admin = Some(admin());
    let who = stranger();
    assert_eq!(placed().allowed_actions(who, admin, later(1)), ["cancel"]);
    assert_eq!(
        paid().allowed_actions(who, admin, later(2)),
        ["cancel", "extend", "refund"]
    );
    assert_eq!(
        shipped().allowed_actions(who, admin, later(3)),
        ["extend", "refund", "release", "settle"]
    );
    assert_eq!(
        disputed_from(shipped())
            .0
            .allowed_actions(who, admin, later(5)),
        Vec::<&str>::new()
    );
    assert_eq!(
        order_in(OrderStatus::Completed).allowed_actions(who, admin, later(9)),
        Vec::<&str>::new()
    );
}

#[test]
fn the_seller_may_refund_and_the_buyer_may_not() {
    assert!(paid()
        .allowed_actions(seller(), None, later(2))
        .contains(&"refund"));
    assert!(!paid()
        .allowed_actions(buyer(), None, later(2))
        .contains(&"refund"));
}

#[test]
fn a_refund_returns_the_whole_escrow_and_ends_refunded_with_its_reason() {
    let by = SellerOrAdmin::Seller(acting_seller());
    let pending = recorded(
        shipped()
            .request_refund(by, reason(), later(4), wait())
            .unwrap(),
    );
    let intent = pending.escrow_intent.clone().unwrap();
    assert_eq!(
        intent.idempotency_key,
        format!("order-{}-refund", pending.id)
    );
    let WalletCall::Refund(settlement) = intent.purpose.wallet_call() else {
        panic!("a refund refunds");
    };
    assert_eq!(settlement.buyer_refund(), shipped().total());
    let (order, event) = finished(&pending);
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.auto_complete_at, None);
    assert_eq!(event.event_type, EventType::OrderRefunded);
    assert_eq!(event.settlement, Some(settlement));
    assert_eq!(event.reason, Some(reason()));
}

#[test]
fn a_release_is_the_orders_one_release_and_ends_completed() {
    let pending = recorded(
        delivered()
            .request_release(admin(), reason(), later(4), wait())
            .unwrap(),
    );
    let intent = pending.escrow_intent.clone().unwrap();
    assert_eq!(
        intent.idempotency_key,
        format!("order-{}-release", pending.id)
    );
    assert_eq!(
        intent.purpose.wallet_call(),
        WalletCall::Release(delivered().release_settlement())
    );
    let (order, event) = finished(&pending);
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.completed_at, Some(later(9)));
    assert_eq!(event.event_type, EventType::OrderCompleted);
}

#[test]
fn a_settlement_splits_strictly_inside_the_total() {
    let order = shipped();
    for refund in ["0.00", "135.00", "200.00"] {
        let outcome = order.request_settlement(
            admin(),
            money(refund),
            reason(),
            FeeRate::default(),
            later(4),
            wait(),
        );
        assert!(
            matches!(
                outcome,
                Err(DomainError::Invalid {
                    field: "refund_amount",
                    ..
                })
            ),
            "{refund}: {outcome:?}"
        );
    }
    let pending = recorded(
        order
            .request_settlement(
                admin(),
                money("35.00"),
                reason(),
                FeeRate::default(),
                later(4),
                wait(),
            )
            .unwrap(),
    );
    assert_eq!(
        pending.escrow_intent.as_ref().unwrap().idempotency_key,
        format!("order-{}-settle", order.id)
    );
    let (order, event) = finished(&pending);
    assert_eq!(order.status, OrderStatus::Completed);
    let settlement = event.settlement.unwrap();
    assert_eq!(settlement.buyer_refund(), money("35.00"));
    assert_eq!(settlement.total(), order.total());
}

#[test]
fn nothing_settles_an_order_whose_dispute_is_open() {
    let (disputed, _) = disputed_from(shipped());
    let refused = Err(DomainError::OrderDisputed);
    let seller = SellerOrAdmin::Admin(admin());
    assert_eq!(
        disputed
            .request_refund(seller, reason(), later(5), wait())
            .map(drop),
        refused
    );
    assert_eq!(
        disputed
            .request_release(admin(), reason(), later(5), wait())
            .map(drop),
        refused
    );
    assert_eq!(
        disputed
            .request_settlement(
                admin(),
                money("1.00"),
                reason(),
                FeeRate::default(),
                later(5),
                wait()
            )
            .map(drop),
        refused
    );
    assert_eq!(
        disputed
            .cancel_as_admin(admin(), reason(), later(5), wait())
            .map(drop),
        refused
    );
    let later_completion = disputed.auto_complete_at.map(|at| at + TimeDelta::days(1));
    assert_eq!(
        disputed
            .extend(admin(), None, later_completion, reason(), later(5))
            .map(drop),
        refused
    );
}

#[test]
fn the_wrong_status_is_an_invalid_transition() {
    let completed = order_in(OrderStatus::Completed);
    let refund =
        completed.request_refund(SellerOrAdmin::Admin(admin()), reason(), later(9), wait());
    assert!(matches!(refund, Err(DomainError::InvalidTransition { .. })));
    let release = paid().request_release(admin(), reason(), later(2), wait());
    assert!(matches!(
        release,
        Err(DomainError::InvalidTransition { .. })
    ));
    let cancel = shipped().cancel_as_admin(admin(), reason(), later(3), wait());
    assert!(matches!(cancel, Err(DomainError::InvalidTransition { .. })));
}

#[test]
fn an_admin_cancels_an_unpaid_order_at_once_and_a_paid_one_by_refunding_it() {
    let AdminCancellation::Cancelled(cancelled) = placed()
        .cancel_as_admin(admin(), reason(), later(1), wait())
        .unwrap()
    else {
        panic!("an unpaid order has no escrow to refund");
    };
    assert_eq!(cancelled.value.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.events[0].reason, Some(reason()));

    let AdminCancellation::Refunding(request) = paid()
        .cancel_as_admin(admin(), reason(), later(2), wait())
        .unwrap()
    else {
        panic!("a paid order's escrow goes back first");
    };
    let pending = recorded(request);
    assert_eq!(
        pending
            .escrow_intent
            .as_ref()
            .unwrap()
            .purpose
            .requester(&pending),
        order_domain::Actor::Admin(admin().id())
    );
    let (order, event) = finished(&pending);
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(event.reason, Some(reason()));
    assert_eq!(event.settlement.unwrap().buyer_refund(), paid().total());
}

#[test]
fn an_extension_moves_only_the_running_deadline_later_and_not_too_far() {
    let order = paid();
    let ship_by = order.ship_by.unwrap();
    let now = later(2);
    let invalid = |outcome: Result<_, DomainError>, on: &str| match outcome {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field, on),
        other => panic!("expected 400 on {on}: {other:?}"),
    };
    invalid(
        order.extend(admin(), None, None, reason(), now),
        "non_field_errors",
    );
    invalid(
        order.extend(
            admin(),
            None,
            Some(ship_by + TimeDelta::days(1)),
            reason(),
            now,
        ),
        "auto_complete_at",
    );
    invalid(
        order.extend(admin(), Some(ship_by), None, reason(), now),
        "ship_by",
    );
    invalid(
        order.extend(
            admin(),
            Some(now + MAX_EXTENSION + TimeDelta::seconds(1)),
            None,
            reason(),
            now,
        ),
        "ship_by",
    );

    let to = ship_by + TimeDelta::days(2);
    let extended = order
        .extend(admin(), Some(to), None, reason(), now)
        .unwrap();
    assert_eq!(extended.value.ship_by, Some(to));
    assert_eq!(extended.value.status, OrderStatus::Paid);
    let event = &extended.events[0];
    assert_eq!(event.event_type, EventType::OrderDeadlineExtended);
    let extension = event.extension.unwrap();
    assert_eq!(
        (extension.deadline, extension.from, extension.to),
        (ExtendedDeadline::ShipBy, Some(ship_by), to)
    );
}

#[test]
fn a_late_shipment_extended_is_announced_again_if_the_new_deadline_passes() {
    let ship_by = paid().ship_by.unwrap();
    let overdue = paid().flag_ship_overdue(ship_by).unwrap().value;
    assert!(overdue.ship_overdue_at.is_some());
    let to = ship_by + TimeDelta::days(1);
    let extended = overdue
        .extend(
            admin(),
            Some(to),
            None,
            reason(),
            ship_by + TimeDelta::hours(1),
        )
        .unwrap()
        .value;
    assert_eq!(extended.ship_overdue_at, None);
    assert!(extended.is_due(order_domain::order::Sweep::LateShipment, to));
}

fn shipped_for(amount: u64, shipping: u64) -> Order {
    let new = NewOrder {
        amount: Money::from_cents(amount).unwrap(),
        shipping_cost: Money::from_cents(shipping).unwrap(),
        ..new_order()
    };
    let placed = Order::place(
        OrderId::from_uuid(Uuid::from_u128(5)),
        new,
        &Terms::default(),
        t0(),
    )
    .unwrap()
    .value;
    let paid = placed
        .mark_paid(escrow(), &Deadlines::default(), later(1))
        .unwrap()
        .unwrap()
        .value;
    paid.ship(
        acting_seller(),
        order_domain::order::TrackingNumber::parse("1Z").unwrap(),
        order_domain::order::Carrier::parse("UPS").unwrap(),
        &Deadlines::default(),
        later(2),
    )
    .unwrap()
    .value
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn every_settlement_outside_a_dispute_pays_out_the_total_to_the_cent(
        (amount, shipping, refund) in (1u64..=99_999_999, 0u64..=9_999_999)
            .prop_filter("a split needs a total of 2 cents", |(a, s)| a + s >= 2)
            .prop_flat_map(|(a, s)| (Just(a), Just(s), 1..(a + s)))
    ) {
        let order = shipped_for(amount, shipping);
        let requests = [
            order.request_refund(SellerOrAdmin::Admin(admin()), reason(), later(3), wait()),
            order.request_release(admin(), reason(), later(3), wait()),
            order.request_settlement(
                admin(),
                Money::from_cents(refund).unwrap(),
                reason(),
                FeeRate::default(),
                later(3),
                wait(),
            ),
        ];
        for request in requests {
            let (settled, event) = finished(&recorded(request.unwrap()));
            let settlement = event.settlement.unwrap();
            prop_assert_eq!(settlement.total(), order.total());
            prop_assert!(matches!(settled.status, OrderStatus::Completed | OrderStatus::Refunded));
        }
    }
}
