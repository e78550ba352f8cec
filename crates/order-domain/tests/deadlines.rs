//! Every deadline: when it is set and cleared, what the worker does once it has
//! passed, and who may cancel a paid order when.

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::fixtures::*;
use order_domain::order::Terms;
use order_domain::order::{
    CancellationReason, Deadlines, IntentRequest, Movement, NewOrder, OrderSource, Sweep,
    WalletAnswer, WalletCall,
};
use order_domain::{DomainError, EventType, Money, Order, OrderStatus};
use proptest::prelude::*;

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

fn wait() -> TimeDelta {
    TimeDelta::minutes(2)
}

#[test]
fn each_deadline_is_set_by_its_transition_and_cleared_by_the_next() {
    // (order, pay_by, ship_by, auto_complete_at)
    type Deadline = Option<DateTime<Utc>>;
    let table: [(Order, Deadline, Deadline, Deadline); 5] = [
        (placed(), Some(t0() + days(4)), None, None),
        (buy_now_placed(), None, None, None),
        (paid(), None, Some(later(1) + days(4)), None),
        (shipped(), None, None, Some(later(2) + days(7))),
        (delivered(), None, None, Some(later(3) + days(3))),
    ];
    for (order, pay_by, ship_by, auto_complete_at) in table {
        let status = order.status;
        assert_eq!(order.pay_by, pay_by, "pay_by when {status}");
        assert_eq!(order.ship_by, ship_by, "ship_by when {status}");
        assert_eq!(
            order.auto_complete_at, auto_complete_at,
            "auto_complete_at when {status}"
        );
    }
    let completed = shipped().complete(later(9)).unwrap().value;
    assert_eq!(completed.auto_complete_at, None);
    let cancelled = placed()
        .cancel(CancellationReason::parse("unpaid").unwrap(), later(9))
        .unwrap()
        .value;
    assert_eq!(cancelled.pay_by, None);
}

#[test]
fn a_deadline_is_fixed_by_the_settings_in_force_when_it_is_set() {
    let short = Deadlines {
        ship_within: TimeDelta::hours(1),
        ..Deadlines::default()
    };
    let paid = placed()
        .mark_paid(escrow(), &short, later(1))
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(paid.ship_by, Some(later(2)));
    assert_eq!(paid.pay_by, None);
}

#[test]
fn an_unpaid_auction_expires_only_after_pay_by() {
    let order = placed();
    let pay_by = order.pay_by.unwrap();
    assert_eq!(
        order.expire_payment(pay_by - TimeDelta::seconds(1)),
        Err(DomainError::NotYetOverdue)
    );
    let expired = order.expire_payment(pay_by).unwrap();
    assert_eq!(expired.value.status, OrderStatus::Cancelled);
    assert_eq!(
        expired.value.cancellation_reason.as_ref().unwrap().as_str(),
        "payment window expired"
    );
    assert_eq!(expired.events[0].event_type, EventType::OrderCancelled);
    assert_eq!(
        buy_now_placed().expire_payment(later(24 * 30)),
        Err(DomainError::NotYetOverdue),
        "a Buy It Now is resumed, never expired"
    );
}

#[test]
fn a_late_payment_of_a_cancelled_order_is_named_as_such() {
    let expired = placed().expire_payment(later(24 * 5)).unwrap().value;
    assert_eq!(
        expired.mark_paid(escrow(), &Deadlines::default(), later(24 * 5)),
        Err(DomainError::OrderCancelled)
    );
}

#[test]
fn a_late_shipment_is_announced_once() {
    let order = paid();
    let ship_by = order.ship_by.unwrap();
    assert_eq!(
        order.flag_ship_overdue(ship_by - TimeDelta::seconds(1)),
        Err(DomainError::NotYetOverdue)
    );
    let flagged = order.flag_ship_overdue(ship_by).unwrap();
    assert_eq!(flagged.value.status, OrderStatus::Paid);
    assert_eq!(flagged.value.ship_overdue_at, Some(ship_by));
    assert_eq!(flagged.events[0].event_type, EventType::OrderShipOverdue);
    assert_eq!(
        flagged.value.flag_ship_overdue(ship_by + days(1)),
        Err(DomainError::NotYetOverdue),
        "once per order"
    );
}

#[test]
fn a_dispute_gives_the_other_party_until_respond_by() {
    let (_, dispute) = disputed_from(shipped());
    assert_eq!(dispute.respond_by, Some(later(4) + days(3)));
    assert_eq!(dispute.respondent(), seller(), "the buyer opened it");
    assert_eq!((dispute.responded_at, dispute.escalated_at), (None, None));
}

#[test]
fn the_respondents_first_evidence_is_its_answer_and_the_openers_is_not() {
    let (order, dispute) = disputed_from(shipped());
    let url = || vec![EvidenceUrl::parse("https://img.example.com/1.jpg").unwrap()];
    let from_opener = dispute
        .add_evidence(order.idle().unwrap(), url(), acting(buyer()), later(5))
        .unwrap()
        .value;
    assert_eq!(from_opener.respond_by, dispute.respond_by);
    assert_eq!(from_opener.responded_at, None);
    let answered = from_opener
        .add_evidence(order.idle().unwrap(), url(), acting(seller()), later(6))
        .unwrap();
    assert_eq!(
        answered.events[0].event_type,
        EventType::DisputeEvidenceAdded
    );
    assert_eq!(answered.events[0].new_evidence, url());
    let answered = answered.value;
    assert_eq!(answered.respond_by, None);
    assert_eq!(answered.responded_at, Some(later(6)));
    let again = answered
        .add_evidence(order.idle().unwrap(), url(), acting(seller()), later(7))
        .unwrap()
        .value;
    assert_eq!(
        again.responded_at,
        Some(later(6)),
        "the first answer counts"
    );
}

#[test]
fn a_dispute_leaving_open_or_evidence_has_no_answer_deadline() {
    let (order, dispute) = disputed_from(shipped());
    let decision = moved_to(&order, &dispute, DisputeStatus::Review, later(5));
    assert_eq!(decision.dispute.respond_by, None);
    let decision = moved_to(&order, &dispute, DisputeStatus::Evidence, later(5));
    assert_eq!(decision.dispute.respond_by, dispute.respond_by);
}

#[test]
fn an_unanswered_dispute_is_escalated_to_review_once_respond_by_passed() {
    let (order, dispute) = disputed_from(shipped());
    let respond_by = dispute.respond_by.unwrap();
    assert_eq!(
        dispute
            .escalate(order.idle().unwrap(), respond_by - TimeDelta::seconds(1))
            .map(|_| ()),
        Err(DomainError::NotYetOverdue)
    );
    let (escalated, order_now, events) =
        dispute.escalate(order.idle().unwrap(), respond_by).unwrap();
    assert_eq!(escalated.status, DisputeStatus::Review);
    assert_eq!(escalated.escalated_at, Some(respond_by));
    assert_eq!(escalated.respond_by, None);
    assert_eq!(order_now.status, OrderStatus::Disputed);
    assert_eq!(order_now.dispute.unwrap().status, DisputeStatus::Review);
    assert_eq!(events[0].event_type, EventType::DisputeEscalated);
    assert!(
        escalated
            .escalate(order.idle().unwrap(), respond_by + days(1))
            .is_err(),
        "escalated once"
    );
    let answered = dispute
        .add_evidence(
            order.idle().unwrap(),
            vec![EvidenceUrl::parse("https://img.example.com/1.jpg").unwrap()],
            acting(seller()),
            later(5),
        )
        .unwrap()
        .value;
    assert!(answered
        .escalate(order.idle().unwrap(), respond_by + days(1))
        .is_err());
}

fn no_action(order: &Order, dispute: &order_domain::Dispute, at: DateTime<Utc>) -> Order {
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(Resolution::NoAction),
        ..DisputeUpdate::default()
    };
    dispute
        .update(order.idle().unwrap(), update, &Terms::default(), at)
        .unwrap()
        .order
        .unwrap()
}

#[test]
fn a_dispute_pauses_the_buyers_protection_and_no_action_gives_back_what_was_left() {
    // Shipped at later(2), due at later(2) + 7d; disputed at later(4): 7d − 2h were left.
    let (order, dispute) = disputed_from(shipped());
    let back = no_action(&order, &dispute, later(100));
    assert_eq!(back.status, OrderStatus::Shipped);
    assert_eq!(
        back.auto_complete_at,
        Some(later(100) + days(7) - TimeDelta::hours(2))
    );
}

#[test]
fn a_dispute_opened_in_the_last_minutes_still_leaves_an_hour() {
    let late = shipped().auto_complete_at.unwrap() - TimeDelta::minutes(5);
    let opened = open_dispute(&shipped(), acting(buyer()), 31, late).unwrap();
    let resolved_at = late + days(2);
    let back = no_action(&opened.order, &opened.dispute, resolved_at);
    assert_eq!(
        back.auto_complete_at,
        Some(resolved_at + TimeDelta::hours(1))
    );
}

#[test]
fn a_dispute_of_a_paid_order_pauses_the_sellers_shipping_deadline_too() {
    // Paid at later(1), ship_by later(1) + 4d; disputed at later(4): 4d − 3h were left.
    let (order, dispute) = disputed_from(paid());
    let back = no_action(&order, &dispute, later(50));
    assert_eq!(back.status, OrderStatus::Paid);
    assert_eq!(
        back.ship_by,
        Some(later(50) + days(4) - TimeDelta::hours(3))
    );
}

/// Who asks to cancel, and when.
#[derive(Clone, Copy, Debug)]
enum Canceller {
    Seller,
    BuyerBeforeShipBy,
    BuyerAfterShipBy,
}

/// The seller may cancel while PAID; the buyer only while PAID and past ship_by.
fn expected(status: OrderStatus, who: Canceller) -> Result<(), &'static str> {
    match (status, who) {
        (OrderStatus::Paid, Canceller::BuyerBeforeShipBy) => Err("not_yet_overdue"),
        (OrderStatus::Paid, _) => Ok(()),
        _ => Err("invalid_transition"),
    }
}

#[test]
fn every_status_and_party_of_the_cancel_action() {
    let ship_by = paid().ship_by.unwrap();
    for status in OrderStatus::ALL {
        let order = order_in(status);
        for who in [
            Canceller::Seller,
            Canceller::BuyerBeforeShipBy,
            Canceller::BuyerAfterShipBy,
        ] {
            let (party, at) = match who {
                Canceller::Seller => (acting(seller()), later(2)),
                Canceller::BuyerBeforeShipBy => (acting(buyer()), ship_by - TimeDelta::minutes(1)),
                Canceller::BuyerAfterShipBy => (acting(buyer()), ship_by),
            };
            let reason = CancellationReason::parse("Out of stock.").unwrap();
            let outcome = order
                .request_cancellation(party, reason, at, wait())
                .map(|_| ())
                .map_err(|error| match error {
                    DomainError::NotYetOverdue => "not_yet_overdue",
                    DomainError::InvalidTransition { .. } => "invalid_transition",
                    other => panic!("{status} {who:?}: {other:?}"),
                });
            assert_eq!(outcome, expected(status, who), "{status} by {who:?}");
        }
    }
}

#[test]
fn a_cancellation_refunds_the_whole_escrow_then_cancels() {
    let reason = CancellationReason::parse("Out of stock.").unwrap();
    let IntentRequest::Recorded(Movement {
        order: pending,
        intent,
    }) = paid()
        .request_cancellation(acting(seller()), reason, later(2), wait())
        .unwrap()
    else {
        panic!("a new intent");
    };
    assert_eq!(pending.escrow_intent.as_ref(), Some(&intent));
    assert_eq!(
        intent.idempotency_key,
        format!("order-{}-cancel-refund", pending.id)
    );
    let finished = pending
        .finish_intent(WalletAnswer::Done, None, &Terms::default(), later(3))
        .unwrap();
    assert_eq!(finished.order.status, OrderStatus::Cancelled);
    assert_eq!(finished.order.cancelled_at, Some(later(3)));
    assert_eq!(finished.order.ship_by, None);
    assert_eq!(
        finished
            .order
            .cancellation_reason
            .as_ref()
            .unwrap()
            .as_str(),
        "Out of stock."
    );
    assert_eq!(finished.events[0].event_type, EventType::OrderCancelled);
}

proptest! {
    #[test]
    fn a_refund_on_cancel_always_returns_exactly_the_total_to_the_buyer(
        amount_cents in 1u64..=99_999_999_999,
        shipping_cents in 0u64..=99_999_999,
    ) {
        let amount = Money::from_cents(amount_cents).unwrap();
        let shipping = Money::from_cents(shipping_cents).unwrap();
        prop_assume!(amount.checked_add(shipping).is_ok());
        let new = NewOrder {
            amount,
            shipping_cost: shipping,
            source: OrderSource::Auction,
            ..new_order()
        };
        let order = Order::place(placed().id, new, &Terms::default(), t0())
            .unwrap()
            .value
            .mark_paid(escrow(), &Deadlines::default(), later(1))
            .unwrap()
            .unwrap()
            .value;
        let reason = CancellationReason::parse("Out of stock.").unwrap();
        let request = order.request_cancellation(acting(seller()), reason, later(2), wait()).unwrap();
        let intent = request.order().escrow_intent.clone().unwrap();
        let WalletCall::Refund(settlement) = intent.purpose.wallet_call() else {
            panic!("a cancellation refunds");
        };
        prop_assert_eq!(settlement.buyer_refund(), order.total());
        prop_assert_eq!(settlement.seller_amount(), Money::ZERO);
        prop_assert_eq!(settlement.fee_amount(), Money::ZERO);
        prop_assert_eq!(settlement.total(), order.total());
    }
}

/// Orders in every status, a Buy It Now one, and one waiting on the Wallet.
fn every_kind_of_order() -> Vec<Order> {
    let mut orders: Vec<Order> = OrderStatus::ALL
        .iter()
        .map(|status| order_in(*status))
        .collect();
    orders.push(buy_now_placed());
    let waiting = shipped()
        .request_completion(acting_buyer(), later(5), TimeDelta::minutes(2))
        .unwrap()
        .into_movement()
        .order;
    orders.push(waiting);
    orders
}

#[test]
fn an_order_is_due_for_a_sweep_exactly_when_the_sweeps_transition_accepts_it() {
    let times = [0, 1, 24 * 4, 24 * 5, 24 * 8, 24 * 30].map(later);
    for order in every_kind_of_order() {
        for now in times {
            let at = format!("{} at {now}", order.status);
            assert_eq!(
                order.is_due(Sweep::UnpaidAuction, now),
                order.expire_payment(now).is_ok(),
                "unpaid auction: {at}"
            );
            assert_eq!(
                order.is_due(Sweep::LateShipment, now),
                order.flag_ship_overdue(now).is_ok(),
                "late shipment: {at}"
            );
            if order.is_due(Sweep::DueCompletion, now) {
                assert!(
                    order
                        .request_auto_completion(now, TimeDelta::minutes(2))
                        .is_ok(),
                    "due completion: {at}"
                );
            }
        }
    }
}
