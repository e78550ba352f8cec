//! Carriers' tracking updates: a delivery shortens the buyer's window, a problem is
//! recorded and cleared, and a returned parcel stops the automatic completion until an
//! admin or a dispute's end starts it again.

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::dispute::{DisputeStatus, Resolution};
use order_domain::fixtures::*;
use order_domain::order::{
    ActionReason, Carrier, CarrierDetail, CarrierEventId, Deadlines, ParcelKey, ProblemStatus,
    Sweep, TrackingNumber, TrackingStatus, TrackingUpdate,
};
use order_domain::{DomainError, EventType, Order, OrderStatus};

/// `order` given the carrier's `status` that occurred `at`, as received at [`later`]`(10)`.
fn received(
    order: &Order,
    status: TrackingStatus,
    at: DateTime<Utc>,
) -> Result<Option<order_domain::order::Changed<Order>>, DomainError> {
    order.apply_tracking_update(&update(status, at), &Deadlines::default(), later(10))
}

fn update(status: TrackingStatus, at: DateTime<Utc>) -> TrackingUpdate {
    TrackingUpdate {
        event_id: CarrierEventId::parse("evt-1").unwrap(),
        carrier: Carrier::parse("ups").unwrap(),
        tracking_number: TrackingNumber::parse("1z999").unwrap(),
        status,
        occurred_at: at,
        detail: CarrierDetail::parse("Addressee not available").unwrap(),
    }
}

/// `order` after the carrier's `status` at `at`, seen at `at`.
fn after(order: &Order, status: TrackingStatus, at: DateTime<Utc>) -> Order {
    order
        .apply_tracking_update(&update(status, at), &Deadlines::default(), at)
        .unwrap()
        .expect("the update changes the order")
        .value
}

fn returned() -> Order {
    after(&shipped(), TrackingStatus::ReturnedToSender, later(20))
}

#[test]
fn a_delivery_shortens_the_buyers_window_to_three_days_after_it() {
    let delivered = shipped()
        .mark_delivered(Some(later(10)), &Deadlines::default(), later(12))
        .unwrap()
        .value;
    assert_eq!(
        delivered.auto_complete_at,
        Some(later(10) + TimeDelta::days(3))
    );
}

#[test]
fn a_late_delivery_never_lengthens_the_window_shipping_set() {
    let shipped = shipped();
    let late = later(2) + TimeDelta::days(6);
    let delivered = shipped
        .mark_delivered(Some(late), &Deadlines::default(), late)
        .unwrap()
        .value;
    assert_eq!(delivered.auto_complete_at, shipped.auto_complete_at);
}

#[test]
fn a_carriers_delivery_delivers_the_order_at_the_carriers_time() {
    let changed = shipped()
        .apply_tracking_update(
            &update(TrackingStatus::Delivered, later(10)),
            &Deadlines::default(),
            later(11),
        )
        .unwrap()
        .unwrap();
    assert_eq!(changed.value.status, OrderStatus::Delivered);
    assert_eq!(changed.value.delivered_at, Some(later(10)));
    assert_eq!(
        changed.value.auto_complete_at,
        Some(later(10) + TimeDelta::days(3))
    );
    assert_eq!(changed.events[0].event_type, EventType::OrderDelivered);
}

#[test]
fn a_failed_attempt_is_recorded_as_the_orders_delivery_problem() {
    let changed = received(&shipped(), TrackingStatus::FailedAttempt, later(10))
        .unwrap()
        .unwrap();
    let problem = changed.value.delivery_problem.clone().unwrap();
    assert_eq!(problem.status, ProblemStatus::FailedAttempt);
    assert_eq!(problem.occurred_at, later(10));
    assert_eq!(problem.detail.unwrap().as_str(), "Addressee not available");
    assert_eq!(changed.value.status, OrderStatus::Shipped);
    assert_eq!(
        changed.value.auto_complete_at,
        shipped().auto_complete_at,
        "a failed attempt leaves the clock running"
    );
    assert_eq!(
        changed.events[0].event_type,
        EventType::OrderDeliveryProblem
    );
}

#[test]
fn the_parcel_moving_again_clears_the_problem() {
    for status in [
        TrackingStatus::InTransit,
        TrackingStatus::OutForDelivery,
        TrackingStatus::Delivered,
    ] {
        let failed = after(&shipped(), TrackingStatus::Exception, later(10));
        let moving = after(&failed, status, later(11));
        assert_eq!(moving.delivery_problem, None, "{status:?}");
    }
}

#[test]
fn an_update_older_than_the_problem_changes_nothing() {
    let failed = after(&shipped(), TrackingStatus::FailedAttempt, later(10));
    let stale = failed.apply_tracking_update(
        &update(TrackingStatus::InTransit, later(9)),
        &Deadlines::default(),
        later(12),
    );
    assert_eq!(stale, Ok(None));
}

#[test]
fn an_update_that_changes_nothing_raises_nothing() {
    let moving = received(&shipped(), TrackingStatus::InTransit, later(10));
    assert_eq!(moving, Ok(None), "no problem to clear");
    let failed = after(&shipped(), TrackingStatus::FailedAttempt, later(10));
    let again = failed.apply_tracking_update(
        &update(TrackingStatus::FailedAttempt, later(10)),
        &Deadlines::default(),
        later(11),
    );
    assert_eq!(again, Ok(None), "the same problem again");
    let delivered_again = delivered().apply_tracking_update(
        &update(TrackingStatus::Delivered, later(10)),
        &Deadlines::default(),
        later(11),
    );
    assert_eq!(delivered_again, Ok(None));
}

#[test]
fn a_returned_parcel_stops_the_clock() {
    let returned = returned();
    assert_eq!(returned.auto_complete_at, None);
    assert_eq!(
        returned.delivery_problem.as_ref().unwrap().status,
        ProblemStatus::ReturnedToSender
    );
    let long_after = later(2) + TimeDelta::days(60);
    assert!(!returned.is_due(Sweep::DueCompletion, long_after));
    assert!(returned
        .request_auto_completion(long_after, TimeDelta::minutes(2))
        .is_err());
}

#[test]
fn a_later_delivery_clears_the_problem_but_not_the_stopped_clock() {
    let delivered = after(&returned(), TrackingStatus::Delivered, later(30));
    assert_eq!(delivered.status, OrderStatus::Delivered);
    assert_eq!(delivered.delivery_problem, None);
    assert_eq!(delivered.auto_complete_at, None);
}

#[test]
fn an_admins_extension_restarts_a_stopped_clock() {
    let returned = returned();
    let to = later(21) + TimeDelta::days(2);
    let reason = ActionReason::parse("Parcel re-sent.").unwrap();
    let extended = returned
        .extend(admin(), None, Some(to), reason.clone(), later(21))
        .unwrap();
    assert_eq!(extended.value.auto_complete_at, Some(to));
    let extension = extended.events[0].extension.unwrap();
    assert_eq!((extension.from, extension.to), (None, to));
    assert!(
        returned
            .extend(admin(), None, Some(later(20)), reason, later(21))
            .is_err(),
        "not in the past"
    );
}

#[test]
fn a_dispute_ending_in_no_action_restarts_a_stopped_clock() {
    let (disputed, dispute) = disputed_from(returned());
    let decision = moved_to(&disputed, &dispute, DisputeStatus::Closed, later(40));
    assert_eq!(dispute.resolution, None);
    assert_eq!(decision.dispute.resolution, Some(Resolution::NoAction));
    let order = decision.order.unwrap();
    assert_eq!(order.status, OrderStatus::Shipped);
    assert_eq!(order.auto_complete_at, Some(later(40) + TimeDelta::days(3)));
}

#[test]
fn updates_apply_only_to_shipped_or_delivered_orders() {
    for status in [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Disputed,
        OrderStatus::Refunded,
    ] {
        let order = order_in(status);
        let refused = received(&order, TrackingStatus::Delivered, later(10));
        assert!(
            matches!(refused, Err(DomainError::InvalidTransition { .. })),
            "{status}: {refused:?}"
        );
        assert_eq!(order.followed_parcel(), None, "{status}");
    }
}

#[test]
fn an_update_dated_in_the_future_is_refused_on_its_time() {
    let refused = received(&shipped(), TrackingStatus::FailedAttempt, later(11));
    assert!(matches!(
        refused,
        Err(DomainError::Invalid {
            field: "occurred_at",
            ..
        })
    ));
}

#[test]
fn a_delivery_dated_before_the_shipment_is_refused_on_its_time() {
    let refused = received(&shipped(), TrackingStatus::Delivered, later(1));
    assert!(matches!(
        refused,
        Err(DomainError::Invalid {
            field: "occurred_at",
            ..
        })
    ));
}

#[test]
fn a_parcel_is_found_by_carrier_and_tracking_number_whatever_their_case_and_spacing() {
    let key = ParcelKey::new(
        &Carrier::parse("  ups ").unwrap(),
        &TrackingNumber::parse(" 1z999\t").unwrap(),
    );
    assert_eq!(shipped().followed_parcel(), Some(key.clone()));
    assert_eq!(delivered().followed_parcel(), Some(key));
    let other = ParcelKey::new(
        &Carrier::parse("UPS").unwrap(),
        &TrackingNumber::parse("1Z998").unwrap(),
    );
    assert_ne!(shipped().followed_parcel(), Some(other));
}

#[test]
fn letters_outside_ascii_compare_exactly() {
    let upper = ParcelKey::new(
        &Carrier::parse("LA POSTÉ").unwrap(),
        &TrackingNumber::parse("A1").unwrap(),
    );
    let lower = ParcelKey::new(
        &Carrier::parse("la postÉ").unwrap(),
        &TrackingNumber::parse("a1").unwrap(),
    );
    let folded = ParcelKey::new(
        &Carrier::parse("la posté").unwrap(),
        &TrackingNumber::parse("a1").unwrap(),
    );
    assert_eq!(upper, lower);
    assert_ne!(upper, folded);
}

#[test]
fn event_ids_are_short_printable_ascii() {
    assert!(CarrierEventId::parse("evt_01J9-XYZ:1").is_ok());
    assert!(CarrierEventId::parse("").is_err());
    assert!(CarrierEventId::parse(" evt").is_err());
    assert!(CarrierEventId::parse("évt").is_err());
    assert!(CarrierEventId::parse("e\u{7}").is_err());
    assert!(CarrierEventId::parse(&"e".repeat(128)).is_ok());
    assert!(CarrierEventId::parse(&"e".repeat(129)).is_err());
}

#[test]
fn a_carriers_note_is_bounded_and_an_empty_one_is_none() {
    assert_eq!(CarrierDetail::parse("  ").unwrap(), None);
    assert!(CarrierDetail::parse(&"x".repeat(500)).unwrap().is_some());
    assert!(CarrierDetail::parse(&"x".repeat(501)).is_err());
    assert!(CarrierDetail::parse("a\0b").is_err());
}
