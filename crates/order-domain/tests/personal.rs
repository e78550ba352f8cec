//! Personal data: what is erased from an ended order and its dispute, and what is kept.

use std::collections::BTreeMap;

use order_domain::dispute::Resolution;
use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::fixtures::*;
use order_domain::order::{
    CancellationReason, CarrierDetail, DeliveryProblem, ProblemStatus, ShippingAddress,
};
use order_domain::personal::{Erased, Erasure, ErasureDue, PersonalField, ERASED_TEXT};
use order_domain::{EventType, Order, OrderStatus};

fn with_personal_data(order: Order) -> Order {
    let mut data = order.into_data();
    data.shipping_address = ShippingAddress::new(BTreeMap::from([
        ("name".to_owned(), "Alice Marker".to_owned()),
        ("street".to_owned(), "1 Marker Street".to_owned()),
    ]))
    .unwrap();
    data.delivery_problem = Some(DeliveryProblem {
        status: ProblemStatus::FailedAttempt,
        occurred_at: later(3),
        detail: CarrierDetail::parse("Left with the neighbour at no. 12").unwrap(),
    });
    Order::rehydrate(data)
}

/// Every status an order has not ended in.
fn open_statuses() -> impl Iterator<Item = OrderStatus> {
    OrderStatus::ALL
        .into_iter()
        .filter(|status| !OrderStatus::ENDED.contains(status))
}

fn erased(erasure: Erasure) -> (Order, Vec<order_domain::DomainEvent>) {
    match erasure {
        Erasure::Erased(changed) => (changed.value, changed.events),
        other => panic!("expected an erasure, got {other:?}"),
    }
}

#[test]
fn each_personal_field_has_one_place_in_the_json_and_an_erased_value() {
    let mut places: Vec<_> = PersonalField::ALL
        .iter()
        .map(|field| (field.json_key(), field.json_parent()))
        .collect();
    places.sort();
    places.dedup();
    assert_eq!(places.len(), PersonalField::ALL.len());
    assert_eq!(PersonalField::ShippingAddress.erased(), Erased::EmptyObject);
    assert_eq!(PersonalField::Evidence.erased(), Erased::EmptyList);
    assert_eq!(PersonalField::Reason.erased(), Erased::Text);
}

#[test]
fn a_key_is_personal_only_where_the_list_says() {
    assert_eq!(
        PersonalField::at("detail", Some("delivery_problem")),
        Some(PersonalField::DeliveryProblemDetail)
    );
    assert_eq!(PersonalField::at("detail", None), None);
    assert_eq!(PersonalField::at("detail", Some("dispute")), None);
    assert_eq!(
        PersonalField::at("reason", Some("dispute")),
        Some(PersonalField::Reason)
    );
    assert_eq!(PersonalField::at("amount", None), None);
}

#[test]
fn an_ended_order_loses_its_address_and_texts_and_keeps_its_money_record() {
    let completed = with_personal_data(order_in(OrderStatus::Completed));
    let (order, events) = erased(completed.erase_personal_data(later(100)));
    assert!(order.shipping_address.is_empty());
    assert_eq!(
        order.delivery_problem.as_ref().unwrap().detail,
        Some(CarrierDetail::erased())
    );
    assert_eq!(order.personal_data_erased_at, Some(later(100)));
    // Everything else is the record and stays as it was.
    let mut kept = order.clone().into_data();
    kept.shipping_address = completed.shipping_address.clone();
    kept.delivery_problem = completed.delivery_problem.clone();
    kept.personal_data_erased_at = None;
    assert_eq!(Order::rehydrate(kept), completed);

    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::OrderPersonalDataErased);
    assert!(events[0].order.shipping_address.is_empty());
}

#[test]
fn a_cancellations_reason_is_erased() {
    let cancelled = order_in(OrderStatus::Cancelled);
    assert!(cancelled.cancellation_reason.is_some());
    let (order, _) = erased(cancelled.erase_personal_data(later(100)));
    assert_eq!(
        order.cancellation_reason,
        Some(CancellationReason::erased())
    );
    assert_eq!(
        order.cancellation_reason.as_ref().unwrap().as_str(),
        ERASED_TEXT
    );
}

#[test]
fn a_refunded_order_is_ended_and_erased() {
    let refunded = with_personal_data(order_in(OrderStatus::Refunded));
    let (order, _) = erased(refunded.erase_personal_data(later(100)));
    assert!(order.shipping_address.is_empty());
}

#[test]
fn an_order_still_open_keeps_its_address_to_be_delivered() {
    for status in open_statuses() {
        let order = with_personal_data(order_in(status));
        assert!(!order.has_ended());
        assert_eq!(
            order.erase_personal_data(later(100)),
            Erasure::NotEnded,
            "{status:?}"
        );
    }
}

#[test]
fn an_order_is_erased_once() {
    let (order, _) = erased(order_in(OrderStatus::Completed).erase_personal_data(later(100)));
    assert_eq!(
        order.erase_personal_data(later(200)),
        Erasure::AlreadyErased
    );
}

#[test]
fn a_dispute_loses_its_reason_evidence_and_notes_and_keeps_its_decision() {
    let (_, dispute) = disputed_from(shipped());
    let mut data = dispute.into_data();
    data.evidence = vec![EvidenceUrl::parse("https://example.com/marker.jpg").unwrap()];
    data.admin_notes = "Called Alice Marker".to_owned();
    let dispute = order_domain::Dispute::rehydrate(data);
    let erased = dispute.erase_personal_data();
    assert_eq!(erased.reason, DisputeReason::erased());
    assert!(erased.evidence.is_empty());
    assert_eq!(erased.admin_notes, ERASED_TEXT);
    assert_eq!(
        (
            erased.status,
            erased.resolution,
            erased.created_at,
            &erased.offers
        ),
        (
            dispute.status,
            dispute.resolution,
            dispute.created_at,
            &dispute.offers
        )
    );
}

#[test]
fn notes_never_written_stay_empty() {
    let (_, dispute) = disputed_from(shipped());
    assert_eq!(dispute.erase_personal_data().admin_notes, "");
}

#[test]
fn an_erased_reason_reads_back_from_storage_but_cannot_be_written() {
    assert_eq!(
        DisputeReason::stored(ERASED_TEXT),
        Ok(DisputeReason::erased())
    );
    assert!(DisputeReason::parse(ERASED_TEXT).is_err());
}

#[test]
fn every_way_of_ending_records_when_the_order_ended() {
    assert_eq!(order_in(OrderStatus::Completed).ended_at, Some(later(4)));
    assert_eq!(order_in(OrderStatus::Cancelled).ended_at, Some(later(1)));
    assert_eq!(order_in(OrderStatus::Refunded).ended_at, Some(later(5)));
    let (disputed, dispute) = disputed_from(shipped());
    let (released, _) = resolve(&disputed, &dispute, Resolution::ReleaseSeller, None);
    assert_eq!(released.ended_at, Some(later(5)));
    let (split, _) = resolve(
        &disputed,
        &dispute,
        Resolution::PartialRefund,
        Some("10.00"),
    );
    assert_eq!(split.ended_at, Some(later(5)));
}

#[test]
fn an_open_order_has_not_ended() {
    for status in open_statuses() {
        assert_eq!(order_in(status).ended_at, None, "{status:?}");
    }
    let (disputed, dispute) = disputed_from(shipped());
    let (resumed, _) = resolve(&disputed, &dispute, Resolution::NoAction, None);
    assert_eq!(resumed.ended_at, None);
}

#[test]
fn retention_counts_from_the_end() {
    let completed = order_in(OrderStatus::Completed);
    let due = |hours| ErasureDue::RetentionPassed {
        ended_before: later(hours),
    };
    assert!(!completed.is_erasable(due(3)));
    assert!(completed.is_erasable(due(4)));
    assert!(completed.is_erasable(due(400)));
    assert!(!order_in(OrderStatus::Delivered).is_erasable(due(400)));
}

#[test]
fn a_request_makes_an_ended_order_due_at_once_and_an_open_one_once_it_ends() {
    let mut open = delivered().into_data();
    open.erasure_requested_at = Some(later(3));
    let open = Order::rehydrate(open);
    assert!(!open.is_erasable(ErasureDue::Requested));
    let ended = open.complete(later(4)).unwrap().value;
    assert!(ended.is_erasable(ErasureDue::Requested));
    assert!(!order_in(OrderStatus::Completed).is_erasable(ErasureDue::Requested));
}

#[test]
fn a_users_own_ended_orders_are_due_for_their_request() {
    let completed = order_in(OrderStatus::Completed);
    assert!(completed.is_erasable(ErasureDue::PartyIs(buyer())));
    assert!(completed.is_erasable(ErasureDue::PartyIs(seller())));
    assert!(!completed.is_erasable(ErasureDue::PartyIs(stranger())));
    assert!(!order_in(OrderStatus::Paid).is_erasable(ErasureDue::PartyIs(buyer())));
}

#[test]
fn an_erased_order_is_due_for_nothing() {
    let (erased, _) = erased(order_in(OrderStatus::Completed).erase_personal_data(later(100)));
    assert!(!erased.is_erasable(ErasureDue::PartyIs(buyer())));
    assert!(!erased.is_erasable(ErasureDue::RetentionPassed {
        ended_before: later(400)
    }));
}
