//! What carriers say about a parcel once it has left the seller: delivered, on its way,
//! or in trouble.
//!
//! A carrier's update applies to the SHIPPED or DELIVERED order whose carrier and tracking
//! number it names ([`ParcelKey`]). A delivery moves the order to DELIVERED as the internal
//! mark-delivered does; a failed attempt or an exception is recorded as the order's
//! [`DeliveryProblem`]; a parcel returned to its sender also stops the automatic completion,
//! so that a buyer never pays for a parcel that came back. The clock runs again only when an
//! admin sets a new `auto_complete_at` ([`Order::extend`]) or a dispute ends in NO_ACTION.
//!
//! Carriers retry and reorder their updates: an update that happened before the recorded
//! problem never clears it, and an update that changes nothing raises nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Carrier, Changed, Deadlines, Order, OrderAction, OrderStatus, TrackingNumber};
use crate::error::DomainError;
use crate::event::EventType;

/// Where a parcel is, as a carrier reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackingStatus {
    /// Moving between the carrier's sites.
    InTransit,
    /// With the courier for delivery today.
    OutForDelivery,
    /// Handed over at the address.
    Delivered,
    /// The courier could not deliver it this time.
    FailedAttempt,
    /// The parcel went back to the seller.
    ReturnedToSender,
    /// Anything else the carrier calls a problem: damaged, lost, held at customs.
    Exception,
}

impl TrackingStatus {
    /// The problem this status reports, if it reports one.
    pub const fn problem(self) -> Option<ProblemStatus> {
        match self {
            TrackingStatus::FailedAttempt => Some(ProblemStatus::FailedAttempt),
            TrackingStatus::ReturnedToSender => Some(ProblemStatus::ReturnedToSender),
            TrackingStatus::Exception => Some(ProblemStatus::Exception),
            TrackingStatus::InTransit
            | TrackingStatus::OutForDelivery
            | TrackingStatus::Delivered => None,
        }
    }
}

/// The tracking statuses that report a problem with the delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProblemStatus {
    /// The courier could not deliver it this time.
    FailedAttempt,
    /// The parcel went back to the seller: the automatic completion stops.
    ReturnedToSender,
    /// Anything else the carrier calls a problem.
    Exception,
}

/// The last problem a carrier reported about an order's parcel, until a later update says
/// the parcel is moving again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryProblem {
    /// What went wrong.
    pub status: ProblemStatus,
    /// When it happened, by the carrier.
    pub occurred_at: DateTime<Utc>,
    /// The carrier's own words about it, if it gave any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 500))]
    pub detail: Option<CarrierDetail>,
}

/// A carrier's note on an update ("Addressee not available"): up to 500 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CarrierDetail(String);

impl CarrierDetail {
    /// The longest note taken, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Trims `value` and takes it if it has at most [`Self::MAX_CHARS`] characters and no
    /// NUL; an empty note is no note.
    pub fn parse(value: &str) -> Result<Option<Self>, DomainError> {
        crate::text::no_null_characters("detail", value)?;
        let value = value.trim();
        if value.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "detail",
                format!(
                    "Ensure this field has no more than {} characters.",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok((!value.is_empty()).then(|| CarrierDetail(value.to_owned())))
    }

    /// A note whose text was erased: [`crate::personal::ERASED_TEXT`].
    pub fn erased() -> Self {
        CarrierDetail(crate::personal::ERASED_TEXT.to_owned())
    }

    /// The note's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CarrierDetail {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CarrierDetail::parse(&value)?
            .ok_or_else(|| DomainError::invalid("detail", "This field may not be blank."))
    }
}

impl From<CarrierDetail> for String {
    fn from(detail: CarrierDetail) -> String {
        detail.0
    }
}

/// The carrier aggregator's id of one update, by which a repeat is known: 1–128 printable
/// ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CarrierEventId(String);

impl CarrierEventId {
    /// The longest id taken, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Takes `value` if it is 1–128 printable ASCII characters (no spaces at its ends).
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let printable = value.chars().all(|c| c.is_ascii_graphic() || c == ' ');
        if value.is_empty() || value.len() > Self::MAX_CHARS || !printable || value.trim() != value
        {
            return Err(DomainError::invalid(
                "event_id",
                "Enter 1 to 128 printable ASCII characters.",
            ));
        }
        Ok(CarrierEventId(value.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_newtype_conversions!(CarrierEventId);

/// How a carrier's update finds its order: the carrier and the tracking number, trimmed
/// and compared without regard to ASCII case ("dhl" and " DHL " are one carrier). Letters
/// outside ASCII compare exactly, so that every store agrees on the rule whatever its
/// locale.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParcelKey {
    carrier: String,
    tracking_number: String,
}

impl ParcelKey {
    /// The key of a parcel sent with `carrier` under `tracking_number`.
    pub fn new(carrier: &Carrier, tracking_number: &TrackingNumber) -> ParcelKey {
        ParcelKey {
            carrier: carrier.as_str().to_ascii_lowercase(),
            tracking_number: tracking_number.as_str().to_ascii_lowercase(),
        }
    }

    /// The carrier, ASCII letters in lower case.
    pub fn carrier(&self) -> &str {
        &self.carrier
    }

    /// The tracking number, ASCII letters in lower case.
    pub fn tracking_number(&self) -> &str {
        &self.tracking_number
    }
}

/// One tracking update from a carrier, as its aggregator sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingUpdate {
    /// The aggregator's id of the update; each is applied once.
    pub event_id: CarrierEventId,
    /// The carrier.
    pub carrier: Carrier,
    /// The parcel's tracking number.
    pub tracking_number: TrackingNumber,
    /// Where the parcel is.
    pub status: TrackingStatus,
    /// When that happened, by the carrier.
    pub occurred_at: DateTime<Utc>,
    /// The carrier's note, if any.
    pub detail: Option<CarrierDetail>,
}

impl TrackingUpdate {
    /// Which parcel it is about.
    pub fn parcel(&self) -> ParcelKey {
        ParcelKey::new(&self.carrier, &self.tracking_number)
    }

    /// Refuses, on `occurred_at`, an update dated after `now`: whether or not it finds
    /// an order, a carrier's clock ahead of the service's is a bad update.
    pub fn check_date(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.occurred_at > now {
            return Err(DomainError::invalid(
                "occurred_at",
                "An update cannot be dated in the future.",
            ));
        }
        Ok(())
    }
}

impl Order {
    /// The key a carrier's update finds this order by, while a carrier's updates apply to
    /// it (SHIPPED or DELIVERED); `None` otherwise. Every store's lookup agrees with this.
    pub fn followed_parcel(&self) -> Option<ParcelKey> {
        match (&self.carrier, &self.tracking_number) {
            (Some(carrier), Some(tracking_number))
                if OrderAction::TrackParcel
                    .allowed_from()
                    .contains(&self.status) =>
            {
                Some(ParcelKey::new(carrier, tracking_number))
            }
            _ => None,
        }
    }

    /// Applies a carrier's update to this SHIPPED or DELIVERED order, at `now`:
    ///
    /// - DELIVERED: SHIPPED → DELIVERED at the update's time, as [`Order::mark_delivered`]
    ///   (`order.delivered`, any problem cleared); an already delivered order only loses
    ///   its problem.
    /// - FAILED_ATTEMPT, EXCEPTION: the problem is recorded (`order.delivery_problem`).
    /// - RETURNED_TO_SENDER: the same, and `auto_complete_at` cleared: the clock stops.
    /// - IN_TRANSIT, OUT_FOR_DELIVERY: a recorded problem is cleared
    ///   (`order.delivery_problem`, the order's `delivery_problem` null).
    ///
    /// `Ok(None)` when the update changes nothing: no problem to clear, the same problem
    /// again, or an update older than the recorded problem. Refused with
    /// [`DomainError::InvalidTransition`] from any other status, with
    /// [`DomainError::OperationInProgress`] while money moves, and on `occurred_at` when the
    /// update is dated in the future, or a delivery before the shipment.
    pub fn apply_tracking_update(
        &self,
        update: &TrackingUpdate,
        deadlines: &Deadlines,
        now: DateTime<Utc>,
    ) -> Result<Option<Changed<Order>>, DomainError> {
        let mut order = self.begin(OrderAction::TrackParcel)?;
        update.check_date(now)?;
        let delivered = update.status == TrackingStatus::Delivered;
        if delivered
            && self
                .shipped_at
                .is_some_and(|shipped| update.occurred_at < shipped)
        {
            return Err(DomainError::invalid(
                "occurred_at",
                "A delivery cannot be dated before the shipment.",
            ));
        }
        let older_than_problem = self
            .delivery_problem
            .as_ref()
            .is_some_and(|problem| update.occurred_at < problem.occurred_at);
        if older_than_problem {
            return Ok(None);
        }
        if let Some(status) = update.status.problem() {
            let problem = DeliveryProblem {
                status,
                occurred_at: update.occurred_at,
                detail: update.detail.clone(),
            };
            let stops_clock = status == ProblemStatus::ReturnedToSender;
            if self.delivery_problem.as_ref() == Some(&problem)
                && (!stops_clock || self.auto_complete_at.is_none())
            {
                return Ok(None);
            }
            let data = order.data_mut();
            data.delivery_problem = Some(problem);
            if stops_clock {
                data.auto_complete_at = None;
            }
            return Ok(Some(order.announce(EventType::OrderDeliveryProblem, now)));
        }
        if delivered && self.status == OrderStatus::Shipped {
            return order
                .mark_delivered(Some(update.occurred_at), deadlines, now)
                .map(Some);
        }
        if self.delivery_problem.is_none() {
            return Ok(None);
        }
        order.data_mut().delivery_problem = None;
        Ok(Some(order.announce(EventType::OrderDeliveryProblem, now)))
    }
}
