//! Every (status, action) pair of the API, for orders and for disputes, against a table
//! written from the spec rather than from the code.

use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::fixtures::*;
use order_domain::order::Terms;
use order_domain::order::{CancellationReason, Carrier, Deadlines, OrderStatus, TrackingNumber};
use order_domain::{DomainError, EscrowId, EventType, Order};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    MarkPaid,
    Ship,
    MarkDelivered,
    Complete,
    Cancel,
    OpenDispute,
    Resolve(Resolution),
}

/// Which statuses each action may start from, and where it leads.
fn spec(action: Action) -> (&'static [OrderStatus], Option<EventType>) {
    use OrderStatus::*;
    match action {
        Action::MarkPaid => (&[PendingPayment], Some(EventType::OrderPaid)),
        Action::Ship => (&[Paid], Some(EventType::OrderShipped)),
        Action::MarkDelivered => (&[Shipped], Some(EventType::OrderDelivered)),
        Action::Complete => (&[Shipped, Delivered], Some(EventType::OrderCompleted)),
        Action::Cancel => (&[PendingPayment], Some(EventType::OrderCancelled)),
        Action::OpenDispute => (&[Paid, Shipped, Delivered], Some(EventType::OrderDisputed)),
        Action::Resolve(Resolution::RefundBuyer) => (&[Disputed], Some(EventType::OrderRefunded)),
        Action::Resolve(Resolution::NoAction) => (&[Disputed], None),
        Action::Resolve(_) => (&[Disputed], Some(EventType::OrderCompleted)),
    }
}

fn expected_status(action: Action, from: OrderStatus) -> OrderStatus {
    match action {
        Action::MarkPaid => OrderStatus::Paid,
        Action::Ship => OrderStatus::Shipped,
        Action::MarkDelivered => OrderStatus::Delivered,
        Action::Complete => OrderStatus::Completed,
        Action::Cancel => OrderStatus::Cancelled,
        Action::OpenDispute => OrderStatus::Disputed,
        Action::Resolve(Resolution::RefundBuyer) => OrderStatus::Refunded,
        Action::Resolve(Resolution::NoAction) => {
            // Every disputed order of `order_in` was disputed from PAID.
            assert_eq!(from, OrderStatus::Disputed);
            OrderStatus::Paid
        }
        Action::Resolve(_) => OrderStatus::Completed,
    }
}

/// Runs `action` on `order`: the changed order and the event types raised.
fn apply(order: &Order, action: Action) -> Result<(Order, Vec<EventType>), DomainError> {
    let now = later(100);
    match action {
        Action::MarkPaid => {
            let fresh = EscrowId::from_uuid(Uuid::from_u128(41));
            let changed = order
                .mark_paid(fresh, &Deadlines::default(), now)?
                .expect("a fresh escrow is never a replay");
            Ok((changed.value.clone(), event_types(&changed.events)))
        }
        Action::Ship => {
            let changed = order.ship(
                acting_seller(),
                TrackingNumber::parse("TRACK-1").unwrap(),
                Carrier::parse("DHL").unwrap(),
                &Deadlines::default(),
                now,
            )?;
            Ok((changed.value.clone(), event_types(&changed.events)))
        }
        Action::MarkDelivered => {
            let changed = order.mark_delivered(None, &Deadlines::default(), now)?;
            Ok((changed.value.clone(), event_types(&changed.events)))
        }
        Action::Complete => {
            let changed = order.complete(now)?;
            Ok((changed.value.clone(), event_types(&changed.events)))
        }
        Action::Cancel => {
            let changed = order.cancel(CancellationReason::parse("unpaid").unwrap(), now)?;
            Ok((changed.value.clone(), event_types(&changed.events)))
        }
        Action::OpenDispute => {
            let opened = open_dispute(order, acting(seller()), 31, now)?;
            Ok((opened.order.clone(), event_types(&opened.events)))
        }
        Action::Resolve(resolution) => {
            // The dispute of an order disputed from PAID; deciding it must still be refused
            // by the order's own rule whenever the order is not DISPUTED.
            let (_, dispute) = disputed_from(paid());
            let update = DisputeUpdate {
                status: Some(DisputeStatus::Resolved),
                resolution: Some(resolution),
                refund_amount: (resolution == Resolution::PartialRefund).then(|| money("20.00")),
                admin_notes: None,
            };
            let decision = dispute.update(order.idle()?, update, &Terms::default(), now)?;
            let mut raised: Vec<EventType> = event_types(&decision.events);
            assert_eq!(raised.pop(), Some(EventType::DisputeResolved));
            Ok((decision.order.unwrap(), raised))
        }
    }
}

#[test]
fn every_order_action_is_allowed_exactly_from_the_statuses_the_spec_gives() {
    let actions = [
        Action::MarkPaid,
        Action::Ship,
        Action::MarkDelivered,
        Action::Complete,
        Action::Cancel,
        Action::OpenDispute,
        Action::Resolve(Resolution::RefundBuyer),
        Action::Resolve(Resolution::ReleaseSeller),
        Action::Resolve(Resolution::PartialRefund),
        Action::Resolve(Resolution::NoAction),
    ];
    for status in OrderStatus::ALL {
        let order = order_in(status);
        assert_eq!(order.status, status);
        for action in actions {
            let (allowed_from, event) = spec(action);
            let outcome = apply(&order, action);
            if allowed_from.contains(&status) {
                let (changed, events) = outcome
                    .unwrap_or_else(|e| panic!("{action:?} from {status} must be allowed: {e}"));
                assert_eq!(
                    changed.status,
                    expected_status(action, status),
                    "{action:?} from {status}"
                );
                assert_eq!(
                    events,
                    event.into_iter().collect::<Vec<_>>(),
                    "{action:?} from {status}"
                );
            } else {
                match outcome {
                    Err(DomainError::InvalidTransition {
                        status: reported, ..
                    }) => {
                        assert_eq!(reported, status, "{action:?} names the current status")
                    }
                    Err(DomainError::EscrowMismatch | DomainError::DisputeExists) => {}
                    // A cancelled order's late payment is named as such.
                    Err(DomainError::OrderCancelled) => {
                        assert_eq!((status, action), (OrderStatus::Cancelled, Action::MarkPaid))
                    }
                    other => panic!("{action:?} from {status} must be refused, got {other:?}"),
                }
            }
        }
    }
}

#[test]
fn mark_paid_again_with_the_same_escrow_changes_nothing_and_raises_nothing() {
    assert_eq!(
        paid().mark_paid(escrow(), &Deadlines::default(), later(9)),
        Ok(None)
    );
}

#[test]
fn mark_paid_with_another_escrow_conflicts() {
    let other = EscrowId::from_uuid(Uuid::from_u128(99));
    assert_eq!(
        paid().mark_paid(other, &Deadlines::default(), later(9)),
        Err(DomainError::EscrowMismatch)
    );
}

#[test]
fn an_order_is_disputed_at_most_once() {
    let (disputed, dispute) = disputed_from(shipped());
    let back = moved_to(&disputed, &dispute, DisputeStatus::Closed, later(6));
    let order = back.order.unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    let again = open_dispute(&order, acting(buyer()), 32, later(7));
    assert_eq!(again.unwrap_err(), DomainError::DisputeExists);
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    MovesTo,
    Unchanged,
    Refused,
}

/// OPEN → EVIDENCE → REVIEW → RESOLVED → CLOSED, forward only, steps may be
/// skipped, a resolution is applied once. Asking for the current status is a no-op.
fn dispute_spec(from: DisputeStatus, to: DisputeStatus) -> Expect {
    let rank = |s| DisputeStatus::ALL.iter().position(|x| *x == s).unwrap();
    if rank(to) > rank(from) {
        Expect::MovesTo
    } else if to == from && to != DisputeStatus::Resolved {
        Expect::Unchanged
    } else {
        Expect::Refused
    }
}

#[test]
fn every_dispute_status_change_is_allowed_exactly_as_the_spec_says() {
    for from in DisputeStatus::ALL {
        for to in DisputeStatus::ALL {
            let (order, dispute) = dispute_in(from);
            assert_eq!(dispute.status, from);
            let update = DisputeUpdate {
                status: Some(to),
                resolution: (to == DisputeStatus::Resolved).then_some(Resolution::RefundBuyer),
                ..Default::default()
            };
            let outcome =
                dispute.update(order.idle().unwrap(), update, &Terms::default(), later(8));
            match dispute_spec(from, to) {
                Expect::MovesTo => assert_eq!(outcome.unwrap().dispute.status, to, "{from} → {to}"),
                Expect::Unchanged => {
                    let decision = outcome.unwrap();
                    assert_eq!(decision.dispute, dispute, "{from} → {to}");
                    assert!(decision.events.is_empty() && decision.payout.is_none());
                }
                Expect::Refused => assert_eq!(
                    outcome.unwrap_err(),
                    DomainError::InvalidDisputeTransition { from, to },
                    "{from} → {to}"
                ),
            }
        }
    }
}

#[test]
fn evidence_is_accepted_only_while_open_or_collecting_evidence() {
    let url = EvidenceUrl::parse("https://img.example.com/box.jpg").unwrap();
    for status in DisputeStatus::ALL {
        let (_, dispute) = dispute_in(status);
        let outcome = dispute
            .add_evidence(
                shipped().idle().unwrap(),
                vec![url.clone()],
                acting(buyer()),
                later(9),
            )
            .map(|added| added.value);
        if matches!(status, DisputeStatus::Open | DisputeStatus::Evidence) {
            assert_eq!(outcome.unwrap().evidence, vec![url.clone()], "{status}");
        } else {
            assert_eq!(outcome.unwrap_err(), DomainError::EvidenceClosed { status });
        }
    }
}

#[test]
fn a_dispute_holds_at_most_twenty_evidence_urls() {
    let (_, dispute) = dispute_in(DisputeStatus::Open);
    let urls: Vec<_> = (0..20)
        .map(|i| EvidenceUrl::parse(&format!("https://e.example/{i}")).unwrap())
        .collect();
    let full = dispute
        .add_evidence(shipped().idle().unwrap(), urls, acting(buyer()), later(9))
        .unwrap()
        .value;
    let one_more = vec![EvidenceUrl::parse("https://e.example/21").unwrap()];
    assert!(matches!(
        full.add_evidence(
            shipped().idle().unwrap(),
            one_more,
            acting(buyer()),
            later(9)
        ),
        Err(DomainError::Invalid {
            field: "evidence",
            ..
        })
    ));
}
