//! Comparing an order with the Wallet's account of its escrow.

use order_domain::fixtures::*;
use order_domain::order::{EscrowIntent, EscrowPurpose};
use order_domain::reconcile::{
    DriftKind, EscrowRecord, EscrowState, EscrowVerdict, ExpectedEscrow,
};
use order_domain::{EscrowId, FeeRate, Order, OrderId, OrderStatus, Resolution, Settlement};
use uuid::Uuid;

/// The Wallet's account of the fixtures' escrow, as it should be for `order`.
fn held(order: &Order) -> EscrowRecord {
    EscrowRecord {
        escrow_id: escrow(),
        order_id: order.id,
        state: EscrowState::Held,
        amount: order.total(),
        seller_amount: None,
        fee_amount: None,
        refund_amount: None,
    }
}

fn paid_out(order: &Order, state: EscrowState, split: Settlement) -> EscrowRecord {
    EscrowRecord {
        state,
        seller_amount: Some(split.seller_amount()),
        fee_amount: Some(split.fee_amount()),
        refund_amount: Some(split.buyer_refund()),
        ..held(order)
    }
}

fn kinds(verdict: EscrowVerdict) -> Vec<DriftKind> {
    match verdict {
        EscrowVerdict::Drifts(drifts) => drifts.into_iter().map(|d| d.kind).collect(),
        other => panic!("expected drift, got {other:?}"),
    }
}

/// The one drift of `verdict`, as (kind, expected, found).
fn only_drift(verdict: EscrowVerdict) -> (DriftKind, String, String) {
    match verdict {
        EscrowVerdict::Drifts(drifts) if drifts.len() == 1 => {
            let drift = drifts.into_iter().next().unwrap();
            (drift.kind, drift.expected, drift.found)
        }
        other => panic!("expected one drift, got {other:?}"),
    }
}

fn with_status(order: Order, status: OrderStatus) -> Order {
    let mut data = order.into_data();
    data.status = status;
    Order::rehydrate(data)
}

#[test]
fn an_order_in_every_holding_status_expects_its_total_held() {
    for status in [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Disputed,
    ] {
        let order = order_in(status);
        assert_eq!(
            order.expected_escrow(None),
            Some(ExpectedEscrow {
                escrow_id: escrow(),
                state: EscrowState::Held,
                amount: money("135.00"),
                split: None,
            }),
            "{status:?}"
        );
        assert_eq!(
            order.escrow_verdict(None, Some(&held(&order))),
            EscrowVerdict::Agrees
        );
    }
}

#[test]
fn an_order_never_paid_has_nothing_to_compare() {
    for status in [OrderStatus::PendingPayment, OrderStatus::Cancelled] {
        let order = order_in(status);
        assert_eq!(order.escrow_verdict(None, None), EscrowVerdict::NoEscrow);
    }
}

#[test]
fn a_completed_order_expects_a_release_of_total_less_fee() {
    let order = order_in(OrderStatus::Completed);
    let release = order.release_settlement();
    let expected = order.expected_escrow(Some(&release)).unwrap();
    assert_eq!(expected.state, EscrowState::Released);
    assert_eq!(expected.split, Some(release));
    let found = paid_out(&order, EscrowState::Released, release);
    assert_eq!(
        order.escrow_verdict(Some(&release), Some(&found)),
        EscrowVerdict::Agrees
    );
    // Without a recorded settlement the order's own fee decides.
    assert_eq!(
        order.escrow_verdict(None, Some(&found)),
        EscrowVerdict::Agrees
    );
}

#[test]
fn a_completed_order_with_a_partial_refund_expects_the_escrow_refunded_in_that_split() {
    let (order, dispute) = disputed_from(shipped());
    let (order, _) = resolve(&order, &dispute, Resolution::PartialRefund, Some("40.00"));
    assert_eq!(order.status, OrderStatus::Completed);
    let split = Settlement::partial_refund(
        money("125.00"),
        money("10.00"),
        money("40.00"),
        FeeRate::default(),
    )
    .unwrap();
    let expected = order.expected_escrow(Some(&split)).unwrap();
    assert_eq!(expected.state, EscrowState::Refunded);
    let found = paid_out(&order, EscrowState::Refunded, split);
    assert_eq!(
        order.escrow_verdict(Some(&split), Some(&found)),
        EscrowVerdict::Agrees
    );
    // The Wallet releasing it instead is a state mismatch, not also a split mismatch.
    let released = paid_out(&order, EscrowState::Released, order.release_settlement());
    assert_eq!(
        kinds(order.escrow_verdict(Some(&split), Some(&released))),
        [DriftKind::StateMismatch]
    );
}

#[test]
fn refunded_and_paid_cancelled_orders_expect_the_whole_total_back() {
    let refunded = order_in(OrderStatus::Refunded);
    let cancelled = with_status(paid(), OrderStatus::Cancelled);
    for order in [refunded, cancelled] {
        let full = Settlement::full_refund(order.total());
        assert_eq!(order.expected_escrow(None).unwrap().split, Some(full));
        let found = paid_out(&order, EscrowState::Refunded, full);
        assert_eq!(
            order.escrow_verdict(None, Some(&found)),
            EscrowVerdict::Agrees
        );
    }
}

#[test]
fn an_escrow_the_wallet_does_not_know_is_escrow_unknown() {
    let order = order_in(OrderStatus::Shipped);
    assert_eq!(
        kinds(order.escrow_verdict(None, None)),
        [DriftKind::EscrowUnknown]
    );
}

#[test]
fn an_escrow_held_for_another_order_is_escrow_unknown() {
    let order = order_in(OrderStatus::Shipped);
    let elsewhere = EscrowRecord {
        order_id: OrderId::from_uuid(Uuid::from_u128(999)),
        ..held(&order)
    };
    assert_eq!(
        kinds(order.escrow_verdict(None, Some(&elsewhere))),
        [DriftKind::EscrowUnknown]
    );
    let other_escrow = EscrowRecord {
        escrow_id: EscrowId::from_uuid(Uuid::from_u128(41)),
        ..held(&order)
    };
    assert_eq!(
        kinds(order.escrow_verdict(None, Some(&other_escrow))),
        [DriftKind::EscrowUnknown]
    );
}

#[test]
fn an_escrow_released_while_the_order_still_holds_it_is_a_state_mismatch() {
    let order = order_in(OrderStatus::Delivered);
    let released = paid_out(&order, EscrowState::Released, order.release_settlement());
    assert_eq!(
        only_drift(order.escrow_verdict(None, Some(&released))),
        (DriftKind::StateMismatch, "HELD".into(), "RELEASED".into())
    );
}

#[test]
fn a_cent_less_in_escrow_is_an_amount_mismatch() {
    let order = order_in(OrderStatus::Paid);
    let short = EscrowRecord {
        amount: money("134.99"),
        ..held(&order)
    };
    assert_eq!(
        only_drift(order.escrow_verdict(None, Some(&short))),
        (DriftKind::AmountMismatch, "135.00".into(), "134.99".into())
    );
}

#[test]
fn a_payout_in_other_parts_is_a_split_mismatch() {
    let order = order_in(OrderStatus::Completed);
    let release = order.release_settlement();
    let skewed = Settlement::from_parts(
        money("0.00"),
        release.seller_amount().checked_add(money("0.01")).unwrap(),
        release.fee_amount().checked_sub(money("0.01")).unwrap(),
    );
    let found = paid_out(&order, EscrowState::Released, skewed);
    let (kind, expected, found) = only_drift(order.escrow_verdict(Some(&release), Some(&found)));
    assert_eq!(kind, DriftKind::SplitMismatch);
    assert_eq!(expected, "refund 0.00, seller 128.75, fee 6.25");
    assert_eq!(found, "refund 0.00, seller 128.76, fee 6.24");
}

#[test]
fn an_order_waiting_on_the_wallet_is_in_flight_whatever_the_wallet_says() {
    let order = order_in(OrderStatus::Delivered);
    let mut data = order.into_data();
    data.escrow_intent = Some(EscrowIntent {
        purpose: EscrowPurpose::Completion {
            settlement: Settlement::release(money("135.00"), money("6.25")),
            automatic: false,
        },
        idempotency_key: "order-complete".into(),
        requested_at: later(4),
        resume_at: later(5),
    });
    let order = Order::rehydrate(data);
    let released = paid_out(&order, EscrowState::Released, order.release_settlement());
    assert_eq!(
        order.escrow_verdict(None, Some(&released)),
        EscrowVerdict::InFlight
    );
    assert_eq!(order.escrow_verdict(None, None), EscrowVerdict::InFlight);
}
