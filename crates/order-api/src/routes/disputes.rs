//! `/api/v1/disputes/`: reading disputes, evidence from the parties, admins' decisions.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::Money;
use order_ports::store::DisputeQuery;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{base_url, id};
use crate::auth::{idempotency_scope, User};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::openapi;
use crate::query::{Pagination, Params};
use crate::reply::{cacheable, idempotent, FieldErrors, Reply};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(detail)
        .service(update)
        .service(add_evidence);
}

/// Every dispute, for admins.
#[utoipa::path(
    tag = "disputes",
    params(
        ("status" = Option<Vec<openapi::DisputeStatus>>, Query, description = "Any of these statuses (repeatable)"),
        ("page" = Option<u64>, Query, minimum = 1),
        ("page_size" = Option<u32>, Query, minimum = 1, description = "Default 20, at most 100"),
        ("cursor" = Option<String>, Query, description = "Keyset pages: empty for the top, then the cursors of next/previous"),
    ),
    responses((status = 200, description = "A page of disputes", body = openapi::DisputePage)),
    security(("bearer" = []))
)]
#[get("/api/v1/disputes/")]
async fn list(
    state: web::Data<AppState>,
    user: User,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let statuses = params.all_parsed::<DisputeStatus>("status")?;
    let pagination = Pagination::from_params(&mut params)?;
    params.finish()?;
    let query = DisputeQuery {
        statuses,
        page: pagination.request,
    };
    let page = state.service.list_disputes(user.0, query).await?;
    let body = pagination.render(&base_url(&state, &req)?, &page, |dispute| {
        state.dispute_view(dispute, user.0)
    })?;
    Ok(HttpResponse::Ok().json(body))
}

/// One dispute, for admins and the order's buyer and seller.
#[utoipa::path(
    tag = "disputes",
    params(("id" = uuid::Uuid, Path, description = "The dispute")),
    responses((status = 200, description = "The dispute", body = openapi::Dispute)),
    security(("bearer" = []))
)]
#[get("/api/v1/disputes/{id}/")]
async fn detail(
    state: web::Data<AppState>,
    user: User,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let dispute = state.service.dispute(user.0, id(&path)?).await?;
    Ok(cacheable(&req, &state.dispute_view(&dispute, user.0)))
}

#[derive(Deserialize, ToSchema)]
struct UpdateBody {
    /// Forward only: OPEN → EVIDENCE → REVIEW → RESOLVED → CLOSED.
    #[serde(default)]
    #[schema(value_type = Option<openapi::DisputeStatus>)]
    status: Option<DisputeStatus>,
    /// Only with status RESOLVED, which requires it.
    #[serde(default)]
    #[schema(value_type = Option<openapi::Resolution>)]
    resolution: Option<Resolution>,
    /// Required with PARTIAL_REFUND, forbidden otherwise; strictly between 0 and the total.
    #[serde(default)]
    #[schema(value_type = Option<openapi::MoneyInput>)]
    refund_amount: Option<Money>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    admin_notes: Option<String>,
}

/// An admin's update: notes, status, and the resolution, whose effects (refund, release)
/// are applied once. Takes an `Idempotency-Key` like a POST: a resolution whose answer was
/// lost is retried with the same key and answered the same, not refused as a second one.
#[utoipa::path(
    tag = "disputes",
    params(("id" = uuid::Uuid, Path, description = "The dispute"), super::IdempotencyKey),
    request_body = UpdateBody,
    responses((status = 200, description = "The updated dispute", body = openapi::Dispute)),
    security(("bearer" = []))
)]
#[patch("/api/v1/disputes/{id}/")]
async fn update(
    state: web::Data<AppState>,
    user: User,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<UpdateBody>,
) -> HttpResponse {
    idempotent(
        &state,
        &req,
        idempotency_scope(&user.0, None),
        &body.raw,
        async {
            let update = DisputeUpdate {
                status: body.value.status,
                resolution: body.value.resolution,
                refund_amount: body.value.refund_amount,
                admin_notes: body.value.admin_notes.clone(),
            };
            let dispute = state
                .service
                .update_dispute(user.0, id(&path)?, update)
                .await?;
            Ok(Reply::ok(state.dispute_json(&dispute, user.0)))
        },
    )
    .await
}

#[derive(Deserialize, ToSchema)]
struct EvidenceBody {
    /// http(s) URLs; at most 20 per dispute in all.
    #[schema(min_items = 1, max_items = 20, value_type = Vec<openapi::EvidenceUrl>)]
    urls: Vec<String>,
}

/// Adds evidence, by the order's buyer or seller, while the dispute is OPEN or in EVIDENCE.
#[utoipa::path(
    tag = "disputes",
    params(("id" = uuid::Uuid, Path, description = "The dispute"), super::IdempotencyKey),
    request_body = EvidenceBody,
    responses((status = 200, description = "The dispute with its evidence", body = openapi::Dispute)),
    security(("bearer" = []))
)]
#[post("/api/v1/disputes/{id}/evidence/")]
async fn add_evidence(
    state: web::Data<AppState>,
    user: User,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody<EvidenceBody>,
) -> HttpResponse {
    idempotent(
        &state,
        &req,
        idempotency_scope(&user.0, None),
        &body.raw,
        async {
            let dispute_id = id(&path)?;
            let mut errors = FieldErrors::default();
            let urls: Vec<_> = body
                .value
                .urls
                .iter()
                .filter_map(|url| {
                    errors.check(EvidenceUrl::parse(url).map_err(|e| rename(e, "urls")))
                })
                .collect();
            errors.finish()?;
            let dispute = state.service.add_evidence(user.0, dispute_id, urls).await?;
            Ok(Reply::ok(state.dispute_json(&dispute, user.0)))
        },
    )
    .await
}

/// The same rule reported under this endpoint's field name.
fn rename(error: order_domain::DomainError, field: &'static str) -> order_domain::DomainError {
    match error {
        order_domain::DomainError::Invalid { message, .. } => {
            order_domain::DomainError::Invalid { field, message }
        }
        other => other,
    }
}
