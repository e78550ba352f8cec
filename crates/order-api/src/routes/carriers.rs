//! `/api/v1/orders/carrier-events/`: carriers' tracking updates, pushed by a carrier
//! aggregator and authenticated by their signature instead of a token.

use actix_web::http::StatusCode;
use actix_web::{dev::Payload, post, FromRequest, HttpRequest};
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::future::LocalBoxFuture;
use order_app::TrackingReceipt;
use order_domain::order::{
    Carrier, CarrierDetail, CarrierEventId, TrackingNumber, TrackingStatus, TrackingUpdate,
};
use order_domain::OrderId;
use serde::{Deserialize, Serialize};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::State;
use crate::carrier_signature::{SignatureError, HEADER};
use crate::command::{FieldErrors, FromBody};
use crate::error::ApiError;
use crate::json::{self, JsonBytes};
use crate::reply::Reply;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(receive);
}

/// A tracking update as the aggregator sends it. Fields this version does not know are
/// ignored: aggregators add them.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "event_id": "evt_01JC8Z5K",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "status": "DELIVERED",
    "occurred_at": "2026-12-04T09:30:00Z",
    "detail": "Left at front door"
}))]
struct CarrierEventBody {
    /// The aggregator's id of this update, 1–128 printable ASCII characters; an update is
    /// applied once however often it is sent.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[!-~]([ -~]{0,126}[!-~])?$"
    )]
    event_id: String,
    /// The carrier, as the seller gave it when shipping.
    #[schema(schema_with = <Carrier as PartialSchema>::schema)]
    carrier: String,
    /// The tracking number, as the seller gave it.
    #[schema(schema_with = <TrackingNumber as PartialSchema>::schema)]
    tracking_number: String,
    /// Where the parcel is.
    status: TrackingStatus,
    /// When that happened, by the carrier; not in the future.
    occurred_at: DateTime<Utc>,
    /// The carrier's note; an empty one is none.
    #[serde(default)]
    #[schema(value_type = Option<CarrierDetail>, inline)]
    detail: Option<String>,
}

/// The update a body makes, every refused field named at once.
struct CarrierUpdate(TrackingUpdate);

impl FromBody for CarrierUpdate {
    type Body = CarrierEventBody;

    fn from_body(body: CarrierEventBody) -> Result<CarrierUpdate, ApiError> {
        let mut errors = FieldErrors::default();
        let event_id = errors.check(CarrierEventId::parse(&body.event_id));
        let carrier = errors.check(Carrier::parse(&body.carrier));
        let tracking_number = errors.check(TrackingNumber::parse(&body.tracking_number));
        let detail = errors.check(
            body.detail
                .as_deref()
                .map(CarrierDetail::parse)
                .transpose()
                .map(Option::flatten),
        );
        // Kept to the microsecond, as every other time of an order is stored and shown.
        let (status, occurred_at) = (body.status, body.occurred_at.trunc_subsecs(6));
        let parts = event_id.zip(carrier).zip(tracking_number).zip(detail).map(
            |(((event_id, carrier), tracking_number), detail)| {
                CarrierUpdate(TrackingUpdate {
                    event_id,
                    carrier,
                    tracking_number,
                    status,
                    occurred_at,
                    detail,
                })
            },
        );
        errors.finish(parts)
    }
}

/// What became of an update.
#[derive(Serialize, ToSchema)]
struct CarrierEventReceipt {
    /// The update's id, as sent.
    event_id: String,
    /// `applied` (now), `repeat` (applied before: nothing changed now) or `no_order` (no
    /// SHIPPED or DELIVERED order has this parcel: recorded nowhere).
    #[schema(pattern = "^(applied|repeat|no_order)$")]
    result: &'static str,
    /// The orders it applied to: several when a seller shipped them as one parcel.
    #[schema(value_type = Vec<uuid::Uuid>)]
    order_ids: Vec<OrderId>,
}

/// The body of a request whose `Carrier-Signature` matched it. Answers 404 before reading
/// anything when no secret is configured, so an unconfigured service shows no endpoint.
struct SignedBody(actix_web::web::Bytes);

impl FromRequest for SignedBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<State>().cloned();
        let header = crate::auth::single(req, HEADER)
            .map(|value| value.map(|value| value.to_str().map(str::to_owned).unwrap_or_default()));
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no application state".into()))?;
            let secret = state.carrier_secret.as_ref().ok_or(ApiError::NotFound)?;
            let header = header.map_err(ApiError::AmbiguousCredentials)?;
            let body = body.await?.0;
            secret
                .verify(header.as_deref(), &body, state.clock.now())
                .map_err(|refused| match refused {
                    SignatureError::Missing => ApiError::NotAuthenticated,
                    SignatureError::OutsideTolerance => {
                        ApiError::AuthenticationFailed("The carrier signature has expired.")
                    }
                    SignatureError::Malformed | SignatureError::Mismatch => {
                        ApiError::AuthenticationFailed("Invalid carrier signature.")
                    }
                })?;
            Ok(SignedBody(body))
        })
    }
}

/// Receive a carrier's tracking update.
///
/// A carrier aggregator, signed with `Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
/// of "<t>.<raw body>">`, about the SHIPPED or DELIVERED orders sent as one parcel (found by
/// `carrier` and `tracking_number` as the seller gave them when shipping, compared ignoring
/// ASCII case and surrounding spaces), applied once per `event_id`: DELIVERED delivers them
/// (and shortens the buyer's window to `AUTO_COMPLETE_AFTER_DELIVERY`), FAILED_ATTEMPT and
/// EXCEPTION record their `delivery_problem`, RETURNED_TO_SENDER also stops the automatic
/// completion, IN_TRANSIT and OUT_FOR_DELIVERY clear a problem. Raises `order.delivered` or `order.delivery_problem`.
/// Errors: 400, 401 for a missing, wrong or stale signature, 404 when the service has no
/// `CARRIER_WEBHOOK_SECRET`, 409 while a payout of the order is in flight.
#[utoipa::path(
    operation_id = "receiveCarrierUpdate",
    tag = "carriers",
    request_body = CarrierEventBody,
    responses(
        (status = 200, description = "Applied now, or a repeat of an update applied before", body = CarrierEventReceipt),
        (status = 202, description = "No SHIPPED or DELIVERED order has this parcel: nothing changed, nothing recorded", body = CarrierEventReceipt),
        (status = 400, description = "A field is invalid, or the update is dated in the future"),
        (status = 401, description = "The signature is missing, wrong or outside 300 s of now"),
        (status = 404, description = "No CARRIER_WEBHOOK_SECRET is configured"),
        (status = 409, description = "A payout of the order is in flight; send the update again later"),
        (status = 413, description = "The body is over 64 KiB"),
    )
)]
#[post("/api/v1/orders/carrier-events/")]
async fn receive(state: State, body: SignedBody) -> Result<Reply, ApiError> {
    let CarrierUpdate(update) = CarrierUpdate::from_body(json::parse(&body.0)?)?;
    let event_id = update.event_id.as_str().to_owned();
    let receipt = state.service.receive_tracking_update(update).await?;
    let (status, result, order_ids) = match receipt {
        TrackingReceipt::Applied(ids) => (StatusCode::OK, "applied", ids),
        TrackingReceipt::Repeat(ids) => (StatusCode::OK, "repeat", ids),
        TrackingReceipt::NoOrder => (StatusCode::ACCEPTED, "no_order", Vec::new()),
    };
    let receipt = CarrierEventReceipt {
        event_id,
        result,
        order_ids,
    };
    let body = serde_json::to_value(&receipt).map_err(ApiError::serializing)?;
    Ok(Reply { status, body })
}
