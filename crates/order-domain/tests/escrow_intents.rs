//! Money in flight: an order with a recorded Wallet movement refuses every other change,
//! carries the same movement on, and applies the Wallet's answer once.

use chrono::TimeDelta;
use order_domain::dispute::{DisputeStatus, DisputeUpdate, Resolution};
use order_domain::fixtures::*;
use order_domain::order::Terms;
use order_domain::order::{
    Carrier, Deadlines, DisputeChange, EscrowPurpose, IntentRequest, Movement, TrackingNumber,
    WalletAnswer, WalletCall,
};
use order_domain::{DomainError, EventType, FeeRate, Order, OrderStatus};

fn wait() -> TimeDelta {
    TimeDelta::minutes(2)
}

/// The movement `order` waits on, as a retry finds it pending.
fn pending(order: &Order) -> Movement {
    Movement {
        order: order.clone(),
        intent: order.escrow_intent.clone().expect("a recorded intent"),
    }
}

fn recorded(request: IntentRequest) -> Order {
    match request {
        IntentRequest::Recorded(movement) => movement.order,
        IntentRequest::Pending(_) => panic!("expected a new intent"),
    }
}

fn completing() -> Order {
    recorded(
        shipped()
            .request_completion(acting_buyer(), later(5), wait())
            .unwrap(),
    )
}

/// The admin's `update` of `dispute`, as decided on `order` at [`later`]`(9)`.
fn decide(
    order: &Order,
    dispute: &order_domain::Dispute,
    update: DisputeUpdate,
) -> Result<DisputeChange, DomainError> {
    order.request_resolution(
        dispute,
        update,
        admin(),
        &Terms::default(),
        later(9),
        wait(),
    )
}

/// `order` as an admin's resolution of `dispute` that moves money leaves it: its payout
/// recorded, waiting on the Wallet.
fn paying_out(order: &Order, dispute: &order_domain::Dispute, resolved: Resolution) -> Order {
    match decide(order, dispute, resolution(resolved)).unwrap() {
        DisputeChange::Movement(request) => recorded(request),
        DisputeChange::Decided(_) => panic!("{resolved:?} moves money"),
    }
}

fn resolution(resolution: Resolution) -> DisputeUpdate {
    DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(resolution),
        refund_amount: (resolution == Resolution::PartialRefund).then(|| money("20.00")),
        admin_notes: None,
    }
}

#[test]
fn a_completion_records_the_release_with_its_key_amounts_and_takeover_time() {
    let order = completing();
    assert_eq!(
        order.status,
        OrderStatus::Shipped,
        "the status waits for the Wallet"
    );
    let intent = order.escrow_intent.as_ref().unwrap();
    assert_eq!(
        intent.idempotency_key,
        format!("order-{}-release", order.id)
    );
    assert_eq!(intent.requested_at, later(5));
    assert_eq!(intent.resume_at, later(5) + wait());
    let WalletCall::Release(settlement) = intent.purpose.wallet_call() else {
        panic!("a completion releases");
    };
    assert_eq!(settlement.seller_amount(), money("128.75"));
    assert_eq!(settlement.fee_amount(), money("6.25"));
}

#[test]
fn a_pending_movement_refuses_every_other_change() {
    let order = completing();
    let refused = Err(DomainError::OperationInProgress);
    assert_eq!(
        order
            .ship(
                acting_seller(),
                TrackingNumber::parse("1Z").unwrap(),
                Carrier::parse("UPS").unwrap(),
                &Deadlines::default(),
                later(6)
            )
            .map(|_| ()),
        refused
    );
    assert_eq!(
        order
            .mark_delivered(None, &Deadlines::default(), later(6))
            .map(|_| ()),
        refused
    );
    assert_eq!(order.complete(later(6)).map(|_| ()), refused);
    assert_eq!(
        open_dispute(&order, acting(buyer()), 9, later(6)).map(|_| ()),
        refused
    );
}

#[test]
fn the_same_movement_while_its_requester_still_waits_on_the_wallet_is_in_progress() {
    let order = completing();
    assert_eq!(
        order.request_completion(acting_buyer(), later(5) + TimeDelta::seconds(1), wait()),
        Err(DomainError::OperationInProgress)
    );
    let let_go = order.let_go_of_intent(later(5) + TimeDelta::seconds(3));
    assert_eq!(
        let_go.request_completion(acting_buyer(), later(5) + TimeDelta::seconds(4), wait()),
        Ok(IntentRequest::Pending(pending(&let_go))),
        "once the requester gave up, the retry carries it on"
    );
}

#[test]
fn the_same_movement_again_is_carried_on_not_recorded_twice() {
    let order = completing();
    let again = order
        .request_completion(acting_buyer(), later(7), wait())
        .unwrap();
    assert_eq!(again, IntentRequest::Pending(pending(&order)));
    let automatic = order
        .request_auto_completion(later(24 * 30), wait())
        .unwrap();
    assert_eq!(
        automatic,
        IntentRequest::Pending(pending(&order)),
        "the worker's release is the buyer's release: one key, one call"
    );
}

#[test]
fn the_wallets_answer_completes_the_order_and_clears_the_intent() {
    let finished = completing()
        .finish_intent(WalletAnswer::Done, None, &Terms::default(), later(6))
        .unwrap();
    assert_eq!(finished.order.status, OrderStatus::Completed);
    assert_eq!(finished.order.completed_at, Some(later(6)));
    assert_eq!(finished.order.escrow_intent, None);
    assert_eq!(finished.events.len(), 1);
    assert_eq!(finished.events[0].event_type, EventType::OrderCompleted);
}

#[test]
fn an_answer_that_does_not_fit_the_movement_is_refused() {
    let held = completing().finish_intent(
        WalletAnswer::Held(escrow()),
        None,
        &Terms::default(),
        later(6),
    );
    assert!(matches!(held, Err(DomainError::Invalid { .. })));
    let nothing_pending =
        shipped().finish_intent(WalletAnswer::Done, None, &Terms::default(), later(6));
    assert!(nothing_pending.is_err());
}

#[test]
fn an_abandoned_intent_leaves_the_order_as_it_was() {
    assert_eq!(completing().abandon_intent(), shipped());
}

#[test]
fn a_buy_it_now_payment_holds_the_total_then_pays_or_cancels() {
    let paying = recorded(buy_now_placed().request_payment(t0(), wait()).unwrap());
    let intent = paying.escrow_intent.as_ref().unwrap();
    assert_eq!(intent.idempotency_key, format!("order-{}-hold", paying.id));
    assert_eq!(
        intent.purpose,
        EscrowPurpose::Payment {
            amount: money("135.00")
        }
    );
    let paid = paying
        .finish_intent(WalletAnswer::Held(escrow()), None, &Terms::default(), t0())
        .unwrap();
    assert_eq!(paid.order.status, OrderStatus::Paid);
    assert_eq!(paid.order.escrow_id, Some(escrow()));
    let declined = paying
        .finish_intent(WalletAnswer::Declined, None, &Terms::default(), t0())
        .unwrap();
    assert_eq!(declined.order.status, OrderStatus::Cancelled);
    assert_eq!(declined.events[0].event_type, EventType::OrderCancelled);
}

#[test]
fn an_auction_order_is_not_paid_through_an_intent() {
    assert!(placed().request_payment(t0(), wait()).is_err());
}

#[test]
fn a_refunding_resolution_is_recorded_keyed_by_the_dispute_and_decided_again_on_the_answer() {
    let (order, dispute) = disputed_from(shipped());
    let change = decide(&order, &dispute, resolution(Resolution::PartialRefund)).unwrap();
    let DisputeChange::Movement(request) = change else {
        panic!("a partial refund moves money");
    };
    let pending = recorded(request);
    let intent = pending.escrow_intent.as_ref().unwrap();
    assert_eq!(
        intent.idempotency_key,
        format!("dispute-{}-refund", dispute.id)
    );
    let WalletCall::Refund(settlement) = intent.purpose.wallet_call() else {
        panic!("a partial refund refunds");
    };
    assert_eq!(settlement.buyer_refund(), money("20.00"));
    assert_eq!(settlement.total(), money("135.00"));

    let finished = pending
        .finish_intent(
            WalletAnswer::Done,
            Some(&dispute),
            &Terms::default(),
            later(10),
        )
        .unwrap();
    assert_eq!(finished.order.status, OrderStatus::Completed);
    let resolved = finished.dispute.unwrap();
    assert_eq!(resolved.status, DisputeStatus::Resolved);
    assert_eq!(resolved.resolution, Some(Resolution::PartialRefund));
    assert_eq!(
        event_types(&finished.events),
        [EventType::OrderCompleted, EventType::DisputeResolved]
    );
}

#[test]
fn a_resolution_decided_again_at_another_fee_rate_is_not_applied() {
    let (order, dispute) = disputed_from(shipped());
    let other_rate: FeeRate = "0.10".parse().unwrap();
    let outcome = paying_out(&order, &dispute, Resolution::PartialRefund).finish_intent(
        WalletAnswer::Done,
        Some(&dispute),
        &Terms {
            fee_rate: other_rate,
            ..Terms::default()
        },
        later(10),
    );
    assert!(matches!(outcome, Err(DomainError::Invalid { .. })));
}

#[test]
fn a_resolution_without_money_is_decided_at_once_and_refused_while_money_moves() {
    let (order, dispute) = disputed_from(shipped());
    let no_action = decide(&order, &dispute, resolution(Resolution::NoAction)).unwrap();
    assert!(matches!(no_action, DisputeChange::Decided(_)));

    let refunding = paying_out(&order, &dispute, Resolution::RefundBuyer);
    let notes = DisputeUpdate {
        admin_notes: Some("Called the buyer.".into()),
        ..DisputeUpdate::default()
    };
    assert_eq!(
        decide(&refunding, &dispute, notes),
        Err(DomainError::OperationInProgress)
    );
    assert_eq!(
        decide(&refunding, &dispute, resolution(Resolution::ReleaseSeller)),
        Err(DomainError::OperationInProgress),
        "another payout while one is moving"
    );
}

#[test]
fn an_order_whose_payout_is_in_flight_is_not_idle_so_its_dispute_cannot_change() {
    // Every change of a dispute (an offer, its decline, evidence, an update, an
    // escalation) takes the idle order, so this refusal covers each of them: the Wallet may
    // already have moved the money of the decision in flight.
    let (order, dispute) = disputed_from(shipped());
    let offered = with_offer(&order, &dispute, "40.00");
    let offer = offered.pending_offer().unwrap().id;
    let accepting = recorded(
        order
            .request_offer_acceptance(
                &offered,
                acting_buyer(),
                offer,
                &Terms::default(),
                later(8),
                wait(),
            )
            .unwrap(),
    );
    let refunding = paying_out(&order, &dispute, Resolution::RefundBuyer);
    for in_flight in [&accepting, &refunding] {
        assert_eq!(
            in_flight.idle().map(|_| ()),
            Err(DomainError::OperationInProgress)
        );
    }
    let idle = order.idle().unwrap();
    assert!(
        offered
            .decline_offer(idle, acting_buyer(), offer, later(9))
            .is_ok(),
        "with no payout in flight the buyer may decline"
    );
}
