//! Rows as stored, and their conversion to and from the domain's aggregates.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_domain::dispute::{DisputeData, DisputeReason, DisputeSummary, EvidenceUrl};
use order_domain::order::{
    CancellationReason, Carrier, EscrowIntent, EscrowPurpose, OrderData, ShippingAddress,
    TrackingNumber,
};
use order_domain::{Dispute, Money, Order};
use order_ports::StoreError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::corrupt;
use crate::schema::{disputes, orders};

#[derive(
    Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Insertable, AsChangeset,
)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct OrderRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub buyer_id: Uuid,
    pub seller_id: Uuid,
    pub source: String,
    pub amount: Decimal,
    pub fee_amount: Decimal,
    pub shipping_cost: Decimal,
    pub status: String,
    pub shipping_address: serde_json::Value,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub escrow_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    pub status_before_dispute: Option<String>,
    pub escrow_intent: Option<serde_json::Value>,
    pub escrow_intent_resume_at: Option<DateTime<Utc>>,
    pub pay_by: Option<DateTime<Utc>>,
    pub ship_by: Option<DateTime<Utc>>,
    pub ship_overdue_at: Option<DateTime<Utc>>,
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub delivery_problem: Option<serde_json::Value>,
    pub personal_data_erased_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub erasure_requested_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = disputes, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct DisputeRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub opened_by: Uuid,
    pub buyer_id: Uuid,
    pub seller_id: Uuid,
    pub reason: String,
    pub evidence: Vec<String>,
    pub status: String,
    pub resolution: Option<String>,
    pub refund_amount: Option<Decimal>,
    pub admin_notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub respond_by: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub offers: serde_json::Value,
}

/// The columns of an order that differ between two versions of its row, and nothing else:
/// an UPDATE that sets only those writes less, and fires no trigger of an unchanged column.
macro_rules! order_changes {
    ($($column:ident: $type:ty),* $(,)?) => {
        #[derive(Debug, Default, AsChangeset)]
        #[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
        pub(crate) struct OrderChanges {
            $($column: Option<$type>,)*
            pub event_sequence: Option<i64>,
        }

        impl OrderChanges {
            pub fn between(stored: &OrderRow, changed: &OrderRow) -> OrderChanges {
                OrderChanges {
                    $($column: (stored.$column != changed.$column)
                        .then(|| changed.$column.clone()),)*
                    event_sequence: None,
                }
            }

            pub fn is_empty(&self) -> bool {
                $(self.$column.is_none() &&)* self.event_sequence.is_none()
            }
        }
    };
}

order_changes!(
    listing_id: Uuid,
    buyer_id: Uuid,
    seller_id: Uuid,
    source: String,
    amount: Decimal,
    fee_amount: Decimal,
    shipping_cost: Decimal,
    status: String,
    shipping_address: serde_json::Value,
    tracking_number: Option<String>,
    carrier: Option<String>,
    escrow_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    shipped_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    cancellation_reason: Option<String>,
    status_before_dispute: Option<String>,
    escrow_intent: Option<serde_json::Value>,
    escrow_intent_resume_at: Option<DateTime<Utc>>,
    pay_by: Option<DateTime<Utc>>,
    ship_by: Option<DateTime<Utc>>,
    ship_overdue_at: Option<DateTime<Utc>>,
    auto_complete_at: Option<DateTime<Utc>>,
    delivery_problem: Option<serde_json::Value>,
    personal_data_erased_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    erasure_requested_at: Option<DateTime<Utc>>,
);

/// What an order shows of its dispute: `(id, status, resolution)`.
pub(crate) type SummaryRow = (Uuid, Uuid, String, Option<String>);

impl From<&Order> for OrderRow {
    fn from(order: &Order) -> OrderRow {
        OrderRow {
            id: (*order.id.as_uuid()),
            listing_id: *order.listing_id.as_uuid(),
            buyer_id: *order.buyer_id.as_uuid(),
            seller_id: *order.seller_id.as_uuid(),
            source: order.source.as_str().to_owned(),
            amount: order.amount.amount(),
            fee_amount: order.fee_amount.amount(),
            shipping_cost: order.shipping_cost.amount(),
            status: order.status.as_str().to_owned(),
            shipping_address: serde_json::to_value(&order.shipping_address)
                .expect("an address is a JSON object"),
            tracking_number: order
                .tracking_number
                .as_ref()
                .map(|t| t.as_str().to_owned()),
            carrier: order.carrier.as_ref().map(|c| c.as_str().to_owned()),
            escrow_id: order.escrow_id.map(Into::into),
            created_at: order.created_at,
            paid_at: order.paid_at,
            shipped_at: order.shipped_at,
            delivered_at: order.delivered_at,
            completed_at: order.completed_at,
            cancelled_at: order.cancelled_at,
            cancellation_reason: order
                .cancellation_reason
                .as_ref()
                .map(|r| r.as_str().to_owned()),
            status_before_dispute: order.status_before_dispute.map(|s| s.as_str().to_owned()),
            escrow_intent: order.escrow_intent.as_ref().map(|intent| {
                serde_json::to_value(StoredIntent::from(intent))
                    .expect("an escrow intent is a JSON object")
            }),
            escrow_intent_resume_at: order.escrow_intent.as_ref().map(|i| i.resume_at),
            pay_by: order.pay_by,
            ship_by: order.ship_by,
            ship_overdue_at: order.ship_overdue_at,
            auto_complete_at: order.auto_complete_at,
            delivery_problem: order.delivery_problem.as_ref().map(|problem| {
                serde_json::to_value(problem).expect("a delivery problem is a JSON object")
            }),
            personal_data_erased_at: order.personal_data_erased_at,
            ended_at: order.ended_at,
            erasure_requested_at: order.erasure_requested_at,
        }
    }
}

/// An escrow intent as its JSON column holds it; when a worker may take it over is a
/// column of its own, for the sweep's index.
#[derive(Serialize, Deserialize)]
struct StoredIntent {
    purpose: EscrowPurpose,
    idempotency_key: String,
    requested_at: DateTime<Utc>,
}

impl From<&EscrowIntent> for StoredIntent {
    fn from(intent: &EscrowIntent) -> StoredIntent {
        StoredIntent {
            purpose: intent.purpose.clone(),
            idempotency_key: intent.idempotency_key.clone(),
            requested_at: intent.requested_at,
        }
    }
}

impl StoredIntent {
    fn into_intent(self, resume_at: DateTime<Utc>) -> EscrowIntent {
        EscrowIntent {
            purpose: self.purpose,
            idempotency_key: self.idempotency_key,
            requested_at: self.requested_at,
            resume_at,
        }
    }
}

fn money(value: Decimal) -> Result<Money, StoreError> {
    Money::new(value).map_err(|e| corrupt("amount", e))
}

fn parsed<T, E: std::fmt::Display>(what: &str, value: Result<T, E>) -> Result<T, StoreError> {
    value.map_err(|e| corrupt(what, e))
}

impl OrderRow {
    pub fn into_order(self, dispute: Option<DisputeSummary>) -> Result<Order, StoreError> {
        Ok(Order::rehydrate(OrderData {
            id: self.id.into(),
            listing_id: self.listing_id.into(),
            buyer_id: self.buyer_id.into(),
            seller_id: self.seller_id.into(),
            source: parsed("order source", self.source.parse())?,
            amount: money(self.amount)?,
            fee_amount: money(self.fee_amount)?,
            shipping_cost: money(self.shipping_cost)?,
            status: parsed("order status", self.status.parse())?,
            shipping_address: parsed(
                "shipping address",
                serde_json::from_value::<ShippingAddress>(self.shipping_address),
            )?,
            tracking_number: self
                .tracking_number
                .map(|t| parsed("tracking number", TrackingNumber::parse(&t)))
                .transpose()?,
            carrier: self
                .carrier
                .map(|c| parsed("carrier", Carrier::parse(&c)))
                .transpose()?,
            escrow_id: self.escrow_id.map(Into::into),
            created_at: self.created_at,
            paid_at: self.paid_at,
            shipped_at: self.shipped_at,
            delivered_at: self.delivered_at,
            completed_at: self.completed_at,
            cancelled_at: self.cancelled_at,
            cancellation_reason: self
                .cancellation_reason
                .map(|r| parsed("cancellation reason", CancellationReason::parse(&r)))
                .transpose()?,
            pay_by: self.pay_by,
            ship_by: self.ship_by,
            ship_overdue_at: self.ship_overdue_at,
            auto_complete_at: self.auto_complete_at,
            delivery_problem: self
                .delivery_problem
                .map(|problem| parsed("delivery problem", serde_json::from_value(problem)))
                .transpose()?,
            personal_data_erased_at: self.personal_data_erased_at,
            ended_at: self.ended_at,
            erasure_requested_at: self.erasure_requested_at,
            status_before_dispute: self
                .status_before_dispute
                .map(|s| parsed("order status", s.parse()))
                .transpose()?,
            dispute,
            escrow_intent: match (self.escrow_intent, self.escrow_intent_resume_at) {
                (Some(stored), Some(resume_at)) => Some(
                    parsed(
                        "escrow intent",
                        serde_json::from_value::<StoredIntent>(stored),
                    )?
                    .into_intent(resume_at),
                ),
                _ => None,
            },
        }))
    }
}

pub(crate) fn summary(row: &SummaryRow) -> Result<DisputeSummary, StoreError> {
    let (id, _, status, resolution) = row;
    Ok(DisputeSummary {
        id: (*id).into(),
        status: parsed("dispute status", status.parse())?,
        resolution: resolution
            .as_deref()
            .map(|r| parsed("resolution", r.parse()))
            .transpose()?,
    })
}

impl From<&Dispute> for DisputeRow {
    fn from(dispute: &Dispute) -> DisputeRow {
        DisputeRow {
            id: *dispute.id.as_uuid(),
            order_id: *dispute.order_id.as_uuid(),
            opened_by: *dispute.opened_by.as_uuid(),
            buyer_id: *dispute.buyer_id.as_uuid(),
            seller_id: *dispute.seller_id.as_uuid(),
            reason: dispute.reason.as_str().to_owned(),
            evidence: dispute
                .evidence
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
            status: dispute.status.as_str().to_owned(),
            resolution: dispute.resolution.map(|r| r.as_str().to_owned()),
            refund_amount: dispute.refund_amount.map(Money::amount),
            admin_notes: dispute.admin_notes.clone(),
            created_at: dispute.created_at,
            updated_at: dispute.updated_at,
            resolved_at: dispute.resolved_at,
            respond_by: dispute.respond_by,
            responded_at: dispute.responded_at,
            escalated_at: dispute.escalated_at,
            offers: serde_json::to_value(&dispute.offers).unwrap_or_default(),
        }
    }
}

impl TryFrom<DisputeRow> for Dispute {
    type Error = StoreError;

    fn try_from(row: DisputeRow) -> Result<Dispute, StoreError> {
        Ok(Dispute::rehydrate(DisputeData {
            id: row.id.into(),
            order_id: row.order_id.into(),
            opened_by: row.opened_by.into(),
            buyer_id: row.buyer_id.into(),
            seller_id: row.seller_id.into(),
            reason: parsed("dispute reason", DisputeReason::stored(&row.reason))?,
            evidence: row
                .evidence
                .iter()
                .map(|url| parsed("evidence", EvidenceUrl::parse(url)))
                .collect::<Result<_, _>>()?,
            status: parsed("dispute status", row.status.parse())?,
            resolution: row
                .resolution
                .map(|r| parsed("resolution", r.parse()))
                .transpose()?,
            refund_amount: row.refund_amount.map(money).transpose()?,
            admin_notes: row.admin_notes,
            created_at: row.created_at,
            updated_at: row.updated_at,
            resolved_at: row.resolved_at,
            respond_by: row.respond_by,
            responded_at: row.responded_at,
            escalated_at: row.escalated_at,
            offers: serde_json::from_value(row.offers)
                .map_err(|error| StoreError::Internal(format!("unreadable offers: {error}")))?,
        }))
    }
}
