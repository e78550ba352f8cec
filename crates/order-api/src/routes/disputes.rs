//! `/api/v1/disputes/`: reading disputes, evidence from the parties, admins' decisions.

use actix_web::{get, patch, post, HttpRequest, HttpResponse};
use order_domain::dispute::{DisputeStatus, DisputeUpdate, EvidenceUrl, Resolution};
use order_domain::Money;
use order_ports::store::DisputeQuery;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{base_url, DisputePath, PathId, State};
use crate::auth::User;
use crate::command::{Command, FieldErrors, FromBody};
use crate::error::ApiError;
use crate::openapi;
use crate::query::{PageParams, Pagination, Params};
use crate::reply::{cacheable, Reply};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(detail)
        .service(update)
        .service(add_evidence);
}

/// List disputes.
///
/// Admins: every dispute, filtered by status (repeatable), paged. Changes nothing. Errors: 400
/// for a filter it cannot read, 403 for anyone but an admin.
#[utoipa::path(
    operation_id = "listDisputes",
    tag = "disputes",
    params(
        ("status" = Option<Vec<openapi::DisputeStatus>>, Query, description = "Any of these statuses (repeatable)"),
        PageParams,
    ),
    responses((status = 200, description = "A page of disputes", body = openapi::DisputePage))
)]
#[get("/api/v1/disputes/")]
async fn list(state: State, user: User, req: HttpRequest) -> Result<HttpResponse, ApiError> {
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

/// Read a dispute.
///
/// An admin, or the disputed order's buyer or seller (who read `admin_notes` as null): the
/// dispute with its offers, `allowed_actions` and an `ETag`. Changes nothing. Errors: 404 for
/// a dispute the caller may not see.
#[utoipa::path(
    operation_id = "getDispute",
    tag = "disputes",
    params(DisputePath),
    responses((status = 200, description = "The dispute", body = openapi::Dispute))
)]
#[get("/api/v1/disputes/{id}/")]
async fn detail(
    state: State,
    user: User,
    req: HttpRequest,
    PathId(dispute_id): DisputePath,
) -> Result<HttpResponse, ApiError> {
    let dispute = state.service.dispute(user.0, dispute_id).await?;
    cacheable(&req, &state.dispute_view(&dispute, user.0))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00", "admin_notes": "Refund the repair."}))]
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

struct Update(DisputeUpdate);

impl FromBody for Update {
    type Body = UpdateBody;

    fn from_body(body: UpdateBody) -> Result<Update, ApiError> {
        Ok(Update(DisputeUpdate {
            status: body.status,
            resolution: body.resolution,
            refund_amount: body.refund_amount,
            admin_notes: body.admin_notes,
        }))
    }
}

/// Move a dispute forward, or resolve it.
///
/// An admin: notes, a status (OPEN → EVIDENCE → REVIEW → RESOLVED → CLOSED, steps may be
/// skipped) and a resolution, whose money (REFUND_BUYER, RELEASE_SELLER, PARTIAL_REFUND) moves
/// once; NO_ACTION returns the order to where it was. Takes an `Idempotency-Key` like a POST.
/// Raises `dispute.updated` or `dispute.resolved` with the order's `order.refunded` or
/// `order.completed`. Errors: 400, 403, 409 `invalid_transition` or `operation_in_progress`,
/// 503 if the Wallet fails (nothing changes; a retry moves the money once).
#[utoipa::path(
    operation_id = "updateDispute",
    tag = "disputes",
    params(DisputePath),
    request_body = UpdateBody,
    responses((status = 200, description = "The updated dispute", body = openapi::Dispute))
)]
#[patch("/api/v1/disputes/{id}/")]
async fn update(
    state: State,
    user: User,
    PathId(dispute_id): DisputePath,
    command: Command<Update>,
) -> Result<Reply, ApiError> {
    let Command(Update(update)) = command;
    let dispute = state
        .service
        .update_dispute(user.0, dispute_id, update)
        .await?;
    Ok(Reply::ok(state.dispute_json(&dispute, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"urls": ["https://img.example.com/box.jpg"]}))]
struct EvidenceBody {
    /// http(s) URLs; at most 20 per dispute in all.
    #[schema(min_items = 1, max_items = 20, value_type = Vec<openapi::EvidenceUrl>)]
    urls: Vec<String>,
}

struct AddEvidence {
    urls: Vec<EvidenceUrl>,
}

impl FromBody for AddEvidence {
    type Body = EvidenceBody;

    fn from_body(body: EvidenceBody) -> Result<AddEvidence, ApiError> {
        let mut errors = FieldErrors::default();
        let urls: Option<Vec<_>> = body
            .urls
            .iter()
            .map(|url| errors.check_as("urls", EvidenceUrl::parse(url)))
            .collect();
        errors.finish(urls.map(|urls| AddEvidence { urls }))
    }
}

/// Add evidence to a dispute.
///
/// The disputed order's buyer or seller, while the dispute is OPEN or in EVIDENCE: http(s)
/// URLs appended, at most 20 in all; the respondent's first evidence is its answer. Raises
/// `dispute.evidence_added`. Errors: 400 for the URLs, 403, 409 when the dispute no longer
/// takes evidence, or `operation_in_progress` while a resolution's payout is in flight.
#[utoipa::path(
    operation_id = "addDisputeEvidence",
    tag = "disputes",
    params(DisputePath),
    request_body = EvidenceBody,
    responses((status = 200, description = "The dispute with its evidence", body = openapi::Dispute))
)]
#[post("/api/v1/disputes/{id}/evidence/")]
async fn add_evidence(
    state: State,
    user: User,
    PathId(dispute_id): DisputePath,
    command: Command<AddEvidence>,
) -> Result<Reply, ApiError> {
    let Command(evidence) = command;
    let dispute = state
        .service
        .add_evidence(user.0, dispute_id, evidence.urls)
        .await?;
    Ok(Reply::ok(state.dispute_json(&dispute, user.0)?))
}
