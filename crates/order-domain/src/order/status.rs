use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an order is in its life. See `docs/architecture.md` for the state diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Created, waiting for the buyer's payment.
    PendingPayment,
    /// The escrow holds the total; the seller is to ship.
    Paid,
    /// On its way.
    Shipped,
    /// Delivered; waiting for the buyer's confirmation or the automatic completion.
    Delivered,
    /// The escrow was released: the seller is paid. Final.
    Completed,
    /// Ended before shipping; any escrow went back to the buyer. Final.
    Cancelled,
    /// A party opened a dispute; an admin will resolve it.
    Disputed,
    /// A resolution gave the buyer everything back. Final.
    Refunded,
}

impl OrderStatus {
    /// Every status, in the order of an order's life.
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Disputed,
        OrderStatus::Refunded,
    ];

    /// The wire name, such as `PENDING_PAYMENT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "PENDING_PAYMENT",
            OrderStatus::Paid => "PAID",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Completed => "COMPLETED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Disputed => "DISPUTED",
            OrderStatus::Refunded => "REFUNDED",
        }
    }

    /// The statuses an order ends in: nothing is left to deliver or pay.
    pub const ENDED: [OrderStatus; 3] = [
        OrderStatus::Completed,
        OrderStatus::Refunded,
        OrderStatus::Cancelled,
    ];

    /// Whether an order in this status has ended (one of [`OrderStatus::ENDED`]).
    pub const fn has_ended(self) -> bool {
        matches!(
            self,
            OrderStatus::Completed | OrderStatus::Refunded | OrderStatus::Cancelled
        )
    }

    /// Whether the order still holds its listing: every status but CANCELLED does, so a
    /// listing has at most one such order.
    pub const fn holds_listing(self) -> bool {
        !matches!(self, OrderStatus::Cancelled)
    }

    /// Whether the buyer's money sits in escrow waiting for the order's outcome.
    pub const fn is_in_escrow(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid
                | OrderStatus::Shipped
                | OrderStatus::Delivered
                | OrderStatus::Disputed
        )
    }
}

wire_name!(display OrderStatus);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a valid order status.")]
/// A status word that names no [`OrderStatus`]; it holds the word.
pub struct UnknownOrderStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownOrderStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownOrderStatus(s.to_owned()))
    }
}

/// Something that can be done to an order, as named in a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// Take the payment into escrow.
    MarkPaid,
    /// Record the shipment.
    Ship,
    /// Record the delivery.
    MarkDelivered,
    /// Release the escrow to the seller.
    Complete,
    /// Call off an unpaid order.
    Cancel,
    /// A paid order called off before shipping, its escrow refunded.
    CancelPaid,
    /// Open the order's dispute.
    OpenDispute,
    /// Apply a dispute's resolution to the order.
    SettleDispute,
    /// Give the buyer the whole escrow back outside a dispute (a seller or an admin).
    Refund,
    /// Release the escrow to the seller outside a dispute (an admin).
    Release,
    /// Split the escrow between buyer and seller outside a dispute (an admin).
    Settle,
    /// Move a running deadline later (an admin).
    Extend,
    /// Apply a carrier's tracking update.
    TrackParcel,
}

impl OrderAction {
    /// Every action.
    pub const ALL: [OrderAction; 13] = [
        OrderAction::MarkPaid,
        OrderAction::Ship,
        OrderAction::MarkDelivered,
        OrderAction::Complete,
        OrderAction::Cancel,
        OrderAction::CancelPaid,
        OrderAction::OpenDispute,
        OrderAction::SettleDispute,
        OrderAction::Refund,
        OrderAction::Release,
        OrderAction::Settle,
        OrderAction::Extend,
        OrderAction::TrackParcel,
    ];

    /// The statuses this action may start from. The one table every transition
    /// consults, so that the rules cannot drift apart between methods.
    ///
    /// ```
    /// use order_domain::order::OrderAction;
    /// use order_domain::OrderStatus;
    ///
    /// assert_eq!(OrderAction::Ship.allowed_from(), [OrderStatus::Paid]);
    /// assert!(OrderAction::OpenDispute.allowed_from().contains(&OrderStatus::Delivered));
    /// // Nothing leaves a final status.
    /// assert!(OrderAction::ALL
    ///     .iter()
    ///     .all(|action| !action.allowed_from().contains(&OrderStatus::Completed)));
    /// ```
    pub const fn allowed_from(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            OrderAction::MarkPaid => &[PendingPayment],
            OrderAction::Ship => &[Paid],
            OrderAction::MarkDelivered => &[Shipped],
            OrderAction::Complete => &[Shipped, Delivered],
            OrderAction::Cancel => &[PendingPayment],
            OrderAction::CancelPaid => &[Paid],
            OrderAction::OpenDispute => &[Paid, Shipped, Delivered],
            OrderAction::SettleDispute => &[Disputed],
            OrderAction::Refund | OrderAction::Extend => &[Paid, Shipped, Delivered],
            OrderAction::Release | OrderAction::Settle | OrderAction::TrackParcel => {
                &[Shipped, Delivered]
            }
        }
    }
}

impl fmt::Display for OrderAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderAction::MarkPaid => "mark as paid",
            OrderAction::Ship => "ship",
            OrderAction::MarkDelivered => "mark as delivered",
            OrderAction::Complete => "complete",
            OrderAction::Cancel | OrderAction::CancelPaid => "cancel",
            OrderAction::OpenDispute => "dispute",
            OrderAction::SettleDispute => "settle the dispute of",
            OrderAction::Refund => "refund",
            OrderAction::Release => "release the escrow of",
            OrderAction::Settle => "settle",
            OrderAction::Extend => "extend a deadline of",
            OrderAction::TrackParcel => "apply a carrier's update to",
        })
    }
}

/// How an order came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderSource {
    /// Won at the close of an auction; created by the Auction service.
    Auction,
    /// Bought at the listing's fixed price by the buyer.
    BuyNow,
}

impl OrderSource {
    /// Every source.
    pub const ALL: [OrderSource; 2] = [OrderSource::Auction, OrderSource::BuyNow];

    /// The wire name: `AUCTION` or `BUY_NOW`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderSource::Auction => "AUCTION",
            OrderSource::BuyNow => "BUY_NOW",
        }
    }
}

wire_name!(OrderSource, "a valid order source");
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_wire_names() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>().unwrap(), status);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert!("paid".parse::<OrderStatus>().is_err());
    }
}
