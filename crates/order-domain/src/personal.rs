//! Personal data: which parts of what the service keeps are about a person, and what each
//! becomes once erased.
//!
//! Orders are financial records: their ids, parties' ids, amounts, statuses, times and
//! settlements are kept for as long as the books must be. What is erased is what a person
//! wrote or what locates them — listed once here, in [`PersonalField::ALL`], for the
//! erasure and for the tests that prove nothing of it is left anywhere.

use chrono::{DateTime, Utc};

use crate::dispute::{Dispute, DisputeReason};
use crate::event::EventType;
use crate::id::UserId;
use crate::order::{
    CancellationReason, CarrierDetail, Changed, DeliveryProblem, Order, ShippingAddress,
};

/// What an erased free text reads.
pub const ERASED_TEXT: &str = "[erased]";

/// One kind of personal data, wherever it is kept (the order, its dispute, the stored event
/// documents, the history's details, saved answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonalField {
    /// The order's shipping address: a name and a street.
    ShippingAddress,
    /// Why an order was cancelled, in its canceller's words.
    CancellationReason,
    /// What the carrier wrote about a failed delivery ("left with the neighbour at no. 12").
    DeliveryProblemDetail,
    /// Why a dispute was opened, in its opener's words; and the reason given with an
    /// action (a refund, a release, a split, an extension), kept with its event. Both are
    /// `reason` in the service's JSON.
    Reason,
    /// The links the parties gave as evidence.
    Evidence,
    /// The admin's notes on a dispute.
    AdminNotes,
}

/// What a personal field becomes once erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erased {
    /// An empty object (`{}`): the address.
    EmptyObject,
    /// An empty list (`[]`): the evidence.
    EmptyList,
    /// [`ERASED_TEXT`]: a free text.
    Text,
}

impl PersonalField {
    /// Every kind of personal data the service keeps.
    pub const ALL: [PersonalField; 6] = [
        PersonalField::ShippingAddress,
        PersonalField::CancellationReason,
        PersonalField::DeliveryProblemDetail,
        PersonalField::Reason,
        PersonalField::Evidence,
        PersonalField::AdminNotes,
    ];

    /// Its key in the service's JSON: the API's representations, the event documents and
    /// the history's details.
    pub const fn json_key(self) -> &'static str {
        match self {
            PersonalField::ShippingAddress => "shipping_address",
            PersonalField::CancellationReason => "cancellation_reason",
            PersonalField::DeliveryProblemDetail => "detail",
            PersonalField::Reason => "reason",
            PersonalField::Evidence => "evidence",
            PersonalField::AdminNotes => "admin_notes",
        }
    }

    /// The key of the object that holds it, where its own key means other things elsewhere
    /// (`detail` is personal only inside a `delivery_problem`).
    pub const fn json_parent(self) -> Option<&'static str> {
        match self {
            PersonalField::DeliveryProblemDetail => Some("delivery_problem"),
            _ => None,
        }
    }

    /// What it becomes once erased.
    pub const fn erased(self) -> Erased {
        match self {
            PersonalField::ShippingAddress => Erased::EmptyObject,
            PersonalField::Evidence => Erased::EmptyList,
            _ => Erased::Text,
        }
    }

    /// The field `key` names inside an object held under `parent` (`None` at the top of a
    /// document or in a list), if it is personal.
    pub fn at(key: &str, parent: Option<&str>) -> Option<PersonalField> {
        PersonalField::ALL.into_iter().find(|field| {
            field.json_key() == key && field.json_parent().map_or(true, |p| Some(p) == parent)
        })
    }
}

/// What asking to erase an order's personal data came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erasure {
    /// Erased now: the order without its personal data, and the event announcing it.
    Erased(Box<Changed<Order>>),
    /// Erased before: nothing more to do.
    AlreadyErased,
    /// The order has not ended: its address is still needed to deliver it.
    NotEnded,
}

/// Which orders an erasure sweep takes: each a rule over ended orders whose personal data is
/// still kept, stated once here for every store's claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErasureDue {
    /// Ended at or before `ended_before`: the retention period has passed.
    RetentionPassed {
        /// Now, less the retention period.
        ended_before: DateTime<Utc>,
    },
    /// A party asked for their personal data to be erased (see
    /// [`OrderData::erasure_requested_at`](crate::order::OrderData::erasure_requested_at)).
    Requested,
    /// The user is the buyer or the seller: their request, answered at once.
    PartyIs(UserId),
}

impl Order {
    /// Whether the order is due for erasure under `due`: ended, its personal data still
    /// kept, and `due`'s own condition met. [`Order::erase_personal_data`] erases every
    /// order due, and every store's claim takes exactly these.
    pub fn is_erasable(&self, due: ErasureDue) -> bool {
        self.personal_data_erased_at.is_none()
            && self.has_ended()
            && match due {
                ErasureDue::RetentionPassed { ended_before } => {
                    self.ended_at.is_some_and(|at| at <= ended_before)
                }
                ErasureDue::Requested => self.erasure_requested_at.is_some(),
                ErasureDue::PartyIs(user) => self.buyer_id == user || self.seller_id == user,
            }
    }

    /// The order marked at `now` as one a party asked to have erased, so that it is erased
    /// as soon as it has ended ([`ErasureDue::Requested`]); `None` when there is nothing to
    /// mark: erased already, or asked before (the first request's time is kept). No event:
    /// the request changes nothing anyone else reads.
    pub fn request_erasure(&self, now: DateTime<Utc>) -> Option<Order> {
        if self.personal_data_erased_at.is_some() || self.erasure_requested_at.is_some() {
            return None;
        }
        let mut data = self.clone().into_data();
        data.erasure_requested_at = Some(now);
        Some(Order::rehydrate(data))
    }

    /// Whether the order has ended: COMPLETED, REFUNDED or CANCELLED, nothing left to
    /// deliver or pay.
    pub fn has_ended(&self) -> bool {
        self.status.has_ended()
    }

    /// The order with its personal data erased at `now` — the address emptied, the
    /// cancellation's reason and the carrier's note replaced by [`ERASED_TEXT`] — and the
    /// event `order.personal_data_erased`, which carries none of it. Only an ended order is
    /// erased, and only once.
    pub fn erase_personal_data(&self, now: DateTime<Utc>) -> Erasure {
        if self.personal_data_erased_at.is_some() {
            return Erasure::AlreadyErased;
        }
        if !self.has_ended() {
            return Erasure::NotEnded;
        }
        let mut data = self.clone().into_data();
        data.shipping_address = ShippingAddress::default();
        data.cancellation_reason = data
            .cancellation_reason
            .map(|_| CancellationReason::erased());
        data.delivery_problem = data.delivery_problem.map(|problem| DeliveryProblem {
            detail: problem.detail.map(|_| CarrierDetail::erased()),
            ..problem
        });
        data.personal_data_erased_at = Some(now);
        Erasure::Erased(Box::new(
            Order::rehydrate(data).announce(EventType::OrderPersonalDataErased, now),
        ))
    }
}

impl Dispute {
    /// The dispute with its personal data erased: its reason and the admin's notes replaced
    /// by [`ERASED_TEXT`] (notes never written stay empty), its evidence emptied. Its
    /// statuses, resolution, amounts, offers and times are kept.
    pub fn erase_personal_data(&self) -> Dispute {
        let mut data = self.clone().into_data();
        data.reason = DisputeReason::erased();
        data.evidence.clear();
        if !data.admin_notes.is_empty() {
            data.admin_notes = ERASED_TEXT.to_owned();
        }
        Dispute::rehydrate(data)
    }
}
