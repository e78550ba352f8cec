//! What the caller sends: each write's body and each list's filters, built from the
//! domain's own checked values, so that a value the service would refuse for its form (a
//! blank reason, a malformed tracking number, a negative amount) cannot be sent at all.
//! What only the order can tell — a refund above its total, a deadline before it was
//! paid — is still the service's to refuse ([`crate::Error::Invalid`]).

use chrono::{DateTime, Utc};
use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::order::{
    ActionReason, Carrier, CarrierDetail, CarrierEventId, ShippingAddress, TrackingNumber,
    TrackingStatus,
};
use order_domain::{DisputeStatus, ListingId, Money, OrderStatus, Resolution, UserId};
use serde::Serialize;

/// An auction's win, as the auction service reports it: the order to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewAuctionOrder {
    /// The listing won.
    pub listing_id: ListingId,
    /// The winner.
    pub buyer_id: UserId,
    /// The listing's seller.
    pub seller_id: UserId,
    /// The winning bid.
    pub amount: Money,
    /// What shipping costs the buyer; the listing's when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_cost: Option<Money>,
    /// Where the item goes, if the winner gave it already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<ShippingAddress>,
}

/// A Buy It Now purchase of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Purchase {
    /// Where the item goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<ShippingAddress>,
    /// The buyer, when a service buys on a user's behalf; a user buys for themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<UserId>,
}

/// The seller's shipment of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shipment {
    /// The parcel's tracking number.
    pub tracking_number: TrackingNumber,
    /// The carrier that has it.
    pub carrier: Carrier,
}

/// A dispute, as its opener writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewDispute {
    /// Why: 10–5000 characters.
    pub reason: DisputeReason,
    /// Links to evidence, at most 20.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceUrl>,
}

/// An admin's change to a dispute: only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DisputeChange {
    /// The next status: forward only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DisputeStatus>,
    /// The decision, with status RESOLVED (which requires it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// What goes back to the buyer, with PARTIAL_REFUND (which requires it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Money>,
    /// The admin's notes, which only admins read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_notes: Option<String>,
}

/// A split of an order's escrow outside a dispute: part back to the buyer, the rest to the
/// seller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Split {
    /// What goes back to the buyer: more than 0, less than the order's total.
    pub refund_amount: Money,
    /// Why, for the order's history.
    pub reason: ActionReason,
}

/// A deadline moved by an admin: give the one the order's status runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// The seller's new shipping deadline, while PAID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_by: Option<DateTime<Utc>>,
    /// The new automatic completion, while SHIPPED or DELIVERED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_complete_at: Option<DateTime<Utc>>,
    /// Why, for the order's history.
    pub reason: ActionReason,
}

/// A carrier's tracking update, as a carrier aggregator sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CarrierUpdate {
    /// The aggregator's id of the update: sent twice, it is applied once.
    pub event_id: CarrierEventId,
    /// The carrier, as the seller named it when shipping.
    pub carrier: Carrier,
    /// The parcel's tracking number.
    pub tracking_number: TrackingNumber,
    /// Where the parcel is.
    pub status: TrackingStatus,
    /// When it got there, by the carrier.
    pub occurred_at: DateTime<Utc>,
    /// The carrier's note, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<CarrierDetail>,
}

/// Which side of their orders a user lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The orders they buy.
    Buyer,
    /// The orders they sell.
    Seller,
}

/// The order of a list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ordering {
    /// Newest first, the default.
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// Which page of a list: numbered (with a count) or by cursor (for deep, fast paging).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PageOf {
    /// The first numbered page, the default.
    #[default]
    First,
    /// Numbered page `page` (from 1) of `size` rows (at most 100).
    Number {
        /// The page, from 1.
        page: u64,
        /// Rows a page: 1–100.
        size: u32,
    },
    /// Keyset pages of `size` rows, from the top: follow [`crate::Page::next`] from there.
    Cursor {
        /// Rows a page: 1–100.
        size: u32,
    },
}

impl PageOf {
    fn params(&self, params: &mut Vec<(&'static str, String)>) {
        match self {
            PageOf::First => {}
            PageOf::Number { page, size } => {
                params.push(("page", page.to_string()));
                params.push(("page_size", size.to_string()));
            }
            PageOf::Cursor { size } => {
                params.push(("cursor", String::new()));
                params.push(("page_size", size.to_string()));
            }
        }
    }
}

/// The orders to list: the caller's own, or any for an admin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only orders in one of these statuses (any, when empty).
    pub status: Vec<OrderStatus>,
    /// Only the caller's purchases, or only their sales.
    pub role: Option<Role>,
    /// Only orders of this listing.
    pub listing_id: Option<ListingId>,
    /// Only orders created at or after this.
    pub created_after: Option<DateTime<Utc>>,
    /// Only orders created before this.
    pub created_before: Option<DateTime<Utc>>,
    /// Newest or oldest first.
    pub ordering: Ordering,
    /// Which page.
    pub page: PageOf,
}

impl OrderFilter {
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = self
            .status
            .iter()
            .map(|status| ("status", status.as_str().to_owned()))
            .collect();
        if let Some(role) = self.role {
            params.push(("role", wire_name(&role)));
        }
        if let Some(listing) = self.listing_id {
            params.push(("listing_id", listing.to_string()));
        }
        if let Some(after) = self.created_after {
            params.push(("created_after", after.to_rfc3339()));
        }
        if let Some(before) = self.created_before {
            params.push(("created_before", before.to_rfc3339()));
        }
        if self.ordering == Ordering::OldestFirst {
            params.push(("ordering", "created_at".to_owned()));
        }
        self.page.params(&mut params);
        params
    }
}

/// The disputes to list: the caller's own, or any for an admin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisputeFilter {
    /// Only disputes in one of these statuses (any, when empty).
    pub status: Vec<DisputeStatus>,
    /// Which page.
    pub page: PageOf,
}

impl DisputeFilter {
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = self
            .status
            .iter()
            .map(|status| ("status", wire_name(status)))
            .collect();
        self.page.params(&mut params);
        params
    }
}

/// The name a value has on the wire, for a query string.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_names_each_status_and_the_chosen_page() {
        let filter = OrderFilter {
            status: vec![OrderStatus::Paid, OrderStatus::Shipped],
            role: Some(Role::Seller),
            ordering: Ordering::OldestFirst,
            page: PageOf::Cursor { size: 50 },
            ..OrderFilter::default()
        };
        assert_eq!(
            filter.params(),
            [
                ("status", "PAID".to_owned()),
                ("status", "SHIPPED".to_owned()),
                ("role", "seller".to_owned()),
                ("ordering", "created_at".to_owned()),
                ("cursor", String::new()),
                ("page_size", "50".to_owned()),
            ]
        );
    }

    #[test]
    fn the_default_filter_sends_no_parameter() {
        assert!(OrderFilter::default().params().is_empty());
        assert!(DisputeFilter::default().params().is_empty());
    }

    #[test]
    fn a_dispute_status_is_sent_by_its_wire_name() {
        let filter = DisputeFilter {
            status: vec![DisputeStatus::Review],
            page: PageOf::Number { page: 2, size: 10 },
        };
        assert_eq!(
            filter.params(),
            [
                ("status", "REVIEW".to_owned()),
                ("page", "2".to_owned()),
                ("page_size", "10".to_owned()),
            ]
        );
    }
}
