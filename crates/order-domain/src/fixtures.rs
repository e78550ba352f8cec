//! Orders and disputes in any status, reached only through the domain's own transitions,
//! for the tests of this crate and of the crates built on it (feature `fixtures`).
//!
//! Every order is the same sale: listing 10 sold by user 2 to user 1 for 125.00 plus
//! 10.00 shipping at the default 5 % fee, placed at [`t0`] and moved along an hour a step.

use crate::dispute::{Dispute, DisputeReason, DisputeStatus, DisputeUpdate, Resolution};
use crate::order::Terms;
use crate::order::{
    CancellationReason, Carrier, Deadlines, NewOrder, OrderSource, ShippingAddress, TrackingNumber,
};
use crate::{Admin, Buyer, Participant, Parties, Seller};
use crate::{DisputeId, EscrowId, ListingId, Money, Order, OrderId, OrderStatus, UserId};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

/// The moment every fixture order is placed: 2026-11-25 10:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

/// `hours` after [`t0`].
pub fn later(hours: i64) -> DateTime<Utc> {
    t0() + TimeDelta::hours(hours)
}

/// Money from a literal such as `"125.00"`; panics on a bad one.
pub fn money(s: &str) -> Money {
    s.parse().unwrap()
}

/// The fixtures' buyer, user 1.
pub fn buyer() -> UserId {
    UserId::from_uuid(Uuid::from_u128(1))
}

/// The fixtures' seller, user 2.
pub fn seller() -> UserId {
    UserId::from_uuid(Uuid::from_u128(2))
}

/// User 3: neither buyer nor seller.
pub fn stranger() -> UserId {
    UserId::from_uuid(Uuid::from_u128(3))
}

/// [`buyer`], acting as the buyer of a fixture order (they all have the same parties).
pub fn acting_buyer() -> Buyer {
    placed().buyer(buyer()).unwrap()
}

/// [`seller`], acting as the seller of a fixture order.
pub fn acting_seller() -> Seller {
    placed().seller(seller()).unwrap()
}

/// `user`, [`buyer`] or [`seller`], acting as that party of a fixture order.
pub fn acting(user: UserId) -> Participant {
    placed().participant(user).unwrap()
}

/// An admin who is neither party.
pub fn admin() -> Admin {
    Admin::vouched_for(UserId::from_uuid(Uuid::from_u128(4)))
}

/// The escrow that pays every fixture order.
pub fn escrow() -> EscrowId {
    EscrowId::from_uuid(Uuid::from_u128(40))
}

/// The auction win every fixture order starts from.
pub fn new_order() -> NewOrder {
    NewOrder {
        listing_id: listing_id(),
        buyer_id: buyer(),
        seller_id: seller(),
        source: OrderSource::Auction,
        amount: money("125.00"),
        shipping_cost: money("10.00"),
        shipping_address: ShippingAddress::default(),
    }
}

/// A dispute reason that passes the rules.
pub fn reason() -> DisputeReason {
    DisputeReason::parse("The item never arrived.").unwrap()
}

/// The order, just placed: PENDING_PAYMENT.
pub fn placed() -> Order {
    placed_as(20)
}

/// An order of [`new_order`] with the id `n`, just placed.
pub fn placed_as(n: u128) -> Order {
    Order::place(
        OrderId::from_uuid(Uuid::from_u128(n)),
        new_order(),
        &Terms::default(),
        t0(),
    )
    .unwrap()
    .value
}

/// `order` under the id `n`: a second order in the same state, for tests that need two.
pub fn renumbered(order: Order, n: u128) -> Order {
    Order::rehydrate(crate::order::OrderData {
        id: OrderId::from_uuid(Uuid::from_u128(n)),
        ..order.into_data()
    })
}

/// A Buy It Now order of the listing, just placed: PENDING_PAYMENT, no payment deadline.
pub fn buy_now_placed() -> Order {
    let new = NewOrder::buy_now(&listing(), buyer(), ShippingAddress::default()).unwrap();
    Order::place(
        OrderId::from_uuid(Uuid::from_u128(77)),
        new,
        &Terms::default(),
        t0(),
    )
    .unwrap()
    .value
}

/// The order, paid into [`escrow`] an hour after [`t0`].
pub fn paid() -> Order {
    placed()
        .mark_paid(escrow(), &Deadlines::default(), later(1))
        .unwrap()
        .unwrap()
        .value
}

/// The paid order, shipped with UPS two hours after [`t0`].
pub fn shipped() -> Order {
    let paid = paid();
    paid.ship(
        paid.seller(seller()).unwrap(),
        TrackingNumber::parse("1Z999").unwrap(),
        Carrier::parse("UPS").unwrap(),
        &Deadlines::default(),
        later(2),
    )
    .unwrap()
    .value
}

/// The shipped order, delivered three hours after [`t0`].
pub fn delivered() -> Order {
    shipped()
        .mark_delivered(None, &Deadlines::default(), later(3))
        .unwrap()
        .value
}

/// `order` disputed by the buyer, with its new OPEN dispute.
pub fn disputed_from(order: Order) -> (Order, Dispute) {
    let opened = open_dispute(&order, acting(buyer()), 30, later(4)).unwrap();
    (opened.order, opened.dispute)
}

/// `dispute` (of `order`) once its seller offered `refund`, a money literal, as offer 70
/// at [`later`]`(6)`: the offer PENDING.
pub fn with_offer(order: &Order, dispute: &Dispute, refund: &str) -> Dispute {
    let id = crate::OfferId::from_uuid(Uuid::from_u128(70));
    dispute
        .make_offer(
            order.idle().unwrap(),
            acting_seller(),
            id,
            money(refund),
            later(6),
        )
        .unwrap()
        .value
}

/// `by` opens a dispute with the id `n` on `order` at `at`, for the fixtures' reason and
/// with no evidence.
pub fn open_dispute(
    order: &Order,
    by: Participant,
    n: u128,
    at: DateTime<Utc>,
) -> Result<crate::dispute::DisputeOpened, crate::DomainError> {
    let id = DisputeId::from_uuid(Uuid::from_u128(n));
    order.open_dispute(id, by, reason(), vec![], &Deadlines::default(), at)
}

/// The types of `events`, in their order.
pub fn event_types(events: &[crate::DomainEvent]) -> Vec<crate::EventType> {
    events.iter().map(|event| event.event_type).collect()
}

/// An admin's move of `dispute` (of `order`) to `status` at `at`, nothing else changed:
/// the decision.
pub fn moved_to(
    order: &Order,
    dispute: &Dispute,
    status: DisputeStatus,
    at: DateTime<Utc>,
) -> crate::dispute::DisputeDecision {
    let update = DisputeUpdate {
        status: Some(status),
        ..DisputeUpdate::default()
    };
    dispute
        .update(order.idle().unwrap(), update, &Terms::default(), at)
        .unwrap()
}

/// The order and dispute once an admin resolved it with `resolution` (and `refund`, a
/// money literal, for a partial refund).
pub fn resolve(
    order: &Order,
    dispute: &Dispute,
    resolution: Resolution,
    refund: Option<&str>,
) -> (Order, Dispute) {
    let update = DisputeUpdate {
        status: Some(DisputeStatus::Resolved),
        resolution: Some(resolution),
        refund_amount: refund.map(money),
        admin_notes: None,
    };
    let decision = dispute
        .update(order.idle().unwrap(), update, &Terms::default(), later(5))
        .unwrap();
    (decision.order.unwrap(), decision.dispute)
}

/// An order in `status`, reached by the ordinary path to it.
pub fn order_in(status: OrderStatus) -> Order {
    match status {
        OrderStatus::PendingPayment => placed(),
        OrderStatus::Paid => paid(),
        OrderStatus::Shipped => shipped(),
        OrderStatus::Delivered => delivered(),
        OrderStatus::Completed => delivered().complete(later(4)).unwrap().value,
        OrderStatus::Cancelled => {
            placed()
                .cancel(CancellationReason::parse("unpaid").unwrap(), later(1))
                .unwrap()
                .value
        }
        OrderStatus::Disputed => disputed_from(paid()).0,
        OrderStatus::Refunded => {
            let (order, dispute) = disputed_from(paid());
            resolve(&order, &dispute, Resolution::RefundBuyer, None).0
        }
    }
}

/// A dispute in `status` with its order as that status leaves it.
pub fn dispute_in(status: DisputeStatus) -> (Order, Dispute) {
    let (order, dispute) = disputed_from(shipped());
    if status == DisputeStatus::Open {
        return (order, dispute);
    }
    let resolution = (status == DisputeStatus::Resolved).then_some(Resolution::ReleaseSeller);
    let update = DisputeUpdate {
        status: Some(status),
        resolution,
        ..Default::default()
    };
    let decision = dispute
        .update(order.idle().unwrap(), update, &Terms::default(), later(5))
        .unwrap();
    (decision.order.unwrap_or(order), decision.dispute)
}

/// The fixtures' listing id.
pub fn listing_id() -> ListingId {
    ListingId::from_uuid(Uuid::from_u128(10))
}

/// The fixtures' listing, ACTIVE, for sale at 125.00 plus 10.00 shipping.
pub fn listing() -> crate::Listing {
    crate::Listing {
        id: listing_id(),
        seller_id: seller(),
        title: "Vintage camera".into(),
        status: crate::Listing::ACTIVE.into(),
        buy_now_price: Some(money("125.00")),
        shipping_cost: money("10.00"),
    }
}
