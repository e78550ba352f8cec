//! What each resolution of a dispute does to the order, the dispute and the escrow.

use order_domain::dispute::{DisputeStatus, DisputeUpdate, Payout, Resolution};
use order_domain::fixtures::*;
use order_domain::order::Terms;
use order_domain::{DomainError, EventType, OrderStatus};

fn resolved(
    resolution: Resolution,
    refund: Option<&str>,
) -> order_domain::dispute::DisputeDecision {
    let (order, dispute) = disputed_from(delivered());
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(resolution),
        refund_amount: refund.map(money),
        admin_notes: None,
    };
    dispute
        .update(order.idle().unwrap(), update, &Terms::default(), later(10))
        .unwrap()
}

#[test]
fn refund_buyer_returns_the_whole_total_and_ends_the_order_refunded() {
    let decision = resolved(Resolution::RefundBuyer, None);
    let Some(Payout::Refund(settlement)) = decision.payout else {
        panic!("a refund is due")
    };
    assert_eq!(settlement.buyer_refund(), money("135.00"));
    assert_eq!(settlement.seller_amount(), money("0.00"));
    assert_eq!(settlement.fee_amount(), money("0.00"));
    assert_eq!(
        decision.order.as_ref().unwrap().status,
        OrderStatus::Refunded
    );
    assert_eq!(
        event_types(&decision.events),
        [EventType::OrderRefunded, EventType::DisputeResolved]
    );
}

#[test]
fn release_seller_pays_the_seller_total_less_fee_and_completes_the_order() {
    let decision = resolved(Resolution::ReleaseSeller, None);
    let Some(Payout::Release(settlement)) = decision.payout else {
        panic!("a release is due")
    };
    // 125.00 + 10.00 shipping; fee 5 % of 125.00 = 6.25.
    assert_eq!(settlement.seller_amount(), money("128.75"));
    assert_eq!(settlement.fee_amount(), money("6.25"));
    let order = decision.order.as_ref().unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(order.completed_at, Some(later(10)));
    assert_eq!(
        event_types(&decision.events),
        [EventType::OrderCompleted, EventType::DisputeResolved]
    );
}

#[test]
fn partial_refund_splits_the_total_with_the_fee_on_what_the_seller_keeps() {
    let decision = resolved(Resolution::PartialRefund, Some("25.00"));
    let Some(Payout::Refund(settlement)) = decision.payout else {
        panic!("a refund is due")
    };
    assert_eq!(settlement.buyer_refund(), money("25.00"));
    // Fee: 5 % of (125.00 − 25.00) = 5.00; seller: 135.00 − 25.00 − 5.00.
    assert_eq!(settlement.fee_amount(), money("5.00"));
    assert_eq!(settlement.seller_amount(), money("105.00"));
    assert_eq!(decision.dispute.refund_amount, Some(money("25.00")));
    assert_eq!(
        decision.order.as_ref().unwrap().status,
        OrderStatus::Completed
    );
    assert_eq!(
        event_types(&decision.events),
        [EventType::OrderCompleted, EventType::DisputeResolved]
    );
}

#[test]
fn no_action_returns_the_order_to_the_status_it_had_before_the_dispute() {
    for before in [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        let (order, dispute) = disputed_from(order_in(before));
        let update = DisputeUpdate {
            status: Some(DisputeStatus::Resolved),
            resolution: Some(Resolution::NoAction),
            ..Default::default()
        };
        let decision = dispute
            .update(order.idle().unwrap(), update, &Terms::default(), later(10))
            .unwrap();
        assert_eq!(decision.order.as_ref().unwrap().status, before);
        assert_eq!(decision.payout, None);
        assert_eq!(event_types(&decision.events), [EventType::DisputeResolved]);
    }
}

#[test]
fn closing_an_unresolved_dispute_resolves_it_as_no_action() {
    let (order, dispute) = disputed_from(shipped());
    let decision = moved_to(&order, &dispute, DisputeStatus::Closed, later(10));
    assert_eq!(decision.dispute.status, DisputeStatus::Closed);
    assert_eq!(decision.dispute.resolution, Some(Resolution::NoAction));
    assert_eq!(
        decision.order.as_ref().unwrap().status,
        OrderStatus::Shipped
    );
    assert_eq!(event_types(&decision.events), [EventType::DisputeResolved]);
}

#[test]
fn closing_a_resolved_dispute_moves_no_money_again() {
    let (order, dispute) = dispute_in(DisputeStatus::Resolved);
    let decision = moved_to(&order, &dispute, DisputeStatus::Closed, later(11));
    assert_eq!(decision.dispute.status, DisputeStatus::Closed);
    assert_eq!(decision.dispute.resolution, Some(Resolution::ReleaseSeller));
    assert!(decision.payout.is_none() && decision.order.is_none());
    assert_eq!(decision.events.len(), 1);
    assert_eq!(
        decision.events[0].event_type,
        order_domain::EventType::DisputeUpdated,
        "the status move is announced, with no money"
    );
    assert_eq!(decision.events[0].settlement, None);
}

fn refused_field(update: DisputeUpdate) -> &'static str {
    let (order, dispute) = disputed_from(shipped());
    match dispute.update(order.idle().unwrap(), update, &Terms::default(), later(10)) {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn resolved_requires_a_resolution() {
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        ..Default::default()
    };
    assert_eq!(refused_field(update), "resolution");
}

#[test]
fn a_resolution_comes_only_with_status_resolved() {
    for status in [
        None,
        Some(DisputeStatus::Review),
        Some(DisputeStatus::Closed),
    ] {
        let update = DisputeUpdate {
            status,
            resolution: Some(Resolution::RefundBuyer),
            ..Default::default()
        };
        assert_eq!(refused_field(update), "resolution");
    }
}

#[test]
fn partial_refund_requires_a_refund_amount_and_nothing_else_takes_one() {
    let missing = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::PartialRefund),
        ..Default::default()
    };
    assert_eq!(refused_field(missing), "refund_amount");
    let unexpected = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::RefundBuyer),
        refund_amount: Some(money("1.00")),
        ..Default::default()
    };
    assert_eq!(refused_field(unexpected), "refund_amount");
}

#[test]
fn a_partial_refund_lies_strictly_between_zero_and_the_total() {
    for refund in ["0.00", "135.00", "135.01"] {
        let update = DisputeUpdate {
            status: Some(DisputeStatus::Resolved),
            resolution: Some(Resolution::PartialRefund),
            refund_amount: Some(money(refund)),
            ..Default::default()
        };
        assert_eq!(refused_field(update), "refund_amount", "refund {refund}");
    }
}

#[test]
fn admin_notes_change_without_moving_the_status() {
    let (order, dispute) = disputed_from(shipped());
    let update = DisputeUpdate {
        admin_notes: Some("Asked for photos.".into()),
        ..Default::default()
    };
    let decision = dispute
        .update(order.idle().unwrap(), update, &Terms::default(), later(10))
        .unwrap();
    assert_eq!(decision.dispute.admin_notes, "Asked for photos.");
    assert_eq!(decision.dispute.status, DisputeStatus::Open);
    assert_eq!(decision.dispute.updated_at, later(10));
    assert_eq!(
        event_types(&decision.events),
        [order_domain::EventType::DisputeUpdated],
        "every change raises an event"
    );
    assert_eq!(decision.order, None, "the order itself is unchanged");
}
