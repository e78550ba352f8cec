//! The Listing service's contract: read one listing.

use actix_web::{web, HttpRequest, HttpResponse, Scope};

use crate::control::read_one;
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
    read_one(
        &req,
        &id,
        &state,
        &config,
        FaultTarget::Listing,
        |book, id| {
            let listing = book.listings.get(&id)?;
            serde_json::to_value(listing).ok()
        },
    )
    .await
}
