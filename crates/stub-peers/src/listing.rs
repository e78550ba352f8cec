//! The Listing service's contract: read one listing.

use actix_web::{web, HttpRequest, HttpResponse, Scope};
use serde_json::json;
use uuid::Uuid;

use crate::control::{guard, Guarded};
use crate::fault::FaultTarget;
use crate::state::StubState;
use crate::StubConfig;

pub(crate) fn routes() -> Scope {
    web::scope("/api/v1/listings").route("/{id}/", web::get().to(read))
}

async fn read(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<StubState>,
    config: web::Data<StubConfig>,
) -> HttpResponse {
    let (drop_answer, stall) = match guard(&req, &state, &config, FaultTarget::Listing).await {
        Guarded::Refused(response) => return response,
        Guarded::Serve { drop_answer, stall } => (drop_answer, stall),
    };
    let listing = Uuid::parse_str(&id)
        .ok()
        .and_then(|id| state.book().listings.get(&id).cloned());
    let response = match listing {
        Some(listing) => HttpResponse::Ok().json(listing),
        None => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
    };
    crate::control::deliver(drop_answer, stall, response).await
}
