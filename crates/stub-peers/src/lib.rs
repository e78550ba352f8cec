//! Stand-ins for the Wallet and Listing services: real HTTP, their contract with this service,
//! everything in memory.
//!
//! They let the Order Service run, be demonstrated, tested and load-tested on a machine
//! where neither peer exists. Besides the contract they serve a control API under
//! `/_stub/` to seed listings and balances, read the money ledger (so a test can check
//! that money is conserved), read the latest calls with their trace headers, and inject
//! faults (delay, 503, dropped answers).
//!
//! They are not the real services: no persistence, no authentication beyond the
//! service token, one process.

mod control;
mod fault;
mod listing;
mod state;
mod wallet;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};

pub use fault::{Fault, FaultMode, FaultTarget};
pub use state::{Call, EscrowState, Seed, SeedEscrow, SeedWallet, StubListing, StubState};

/// The stand-ins' settings.
#[derive(Clone, Debug)]
pub struct StubConfig {
    /// What callers must send as `X-Service-Token` on contract endpoints.
    pub service_token: String,
}

/// Serves both stand-ins on `listener` until the returned server is stopped or dropped:
/// the Wallet under `/api/v1/wallet`, the Listing service under `/api/v1/listings`.
pub fn serve(
    listener: TcpListener,
    state: StubState,
    config: StubConfig,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let config = web::Data::new(config);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(config.clone())
            // Seeds for benchmarks hold tens of thousands of listings.
            .app_data(
                web::JsonConfig::default()
                    .limit(64 << 20)
                    .error_handler(|error, _| {
                        let detail = error.to_string();
                        actix_web::error::InternalError::from_response(
                            error,
                            HttpResponse::BadRequest().json(serde_json::json!({"detail": detail})),
                        )
                        .into()
                    }),
            )
            .route("/healthz", web::get().to(HttpResponse::Ok))
            .service(wallet::routes())
            .service(listing::routes())
            .service(control::routes())
    })
    .workers(2)
    .listen(listener)?
    .run();
    Ok(server)
}
