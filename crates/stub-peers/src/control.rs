//! What every contract request goes through (service token, injected faults), and the
//! `/_stub/` control API that tests and demos use to seed, inspect and break the stand-ins.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse, Scope};
use order_domain::Money;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::fault::{Fault, FaultMode, FaultTarget};
use crate::state::{Book, Call, EscrowState, Seed, StubState, KEPT_CALLS};
use crate::StubConfig;

pub(crate) enum Guarded {
    /// Answer this instead of serving the request.
    Refused(HttpResponse),
    /// Serve the request; then, if `drop_answer`, cut the connection instead of answering,
    /// or first wait `stall` before answering.
    Serve {
        drop_answer: bool,
        stall: Option<Duration>,
    },
}

/// Checks the service token, then applies the fault pending for `target`, if any.
pub(crate) async fn guard(
    req: &HttpRequest,
    state: &StubState,
    config: &StubConfig,
    target: FaultTarget,
) -> Guarded {
    record(req, state);
    match req.headers().get("X-Service-Token").map(|t| t.as_bytes()) {
        None => {
            return Guarded::Refused(
                HttpResponse::Unauthorized()
                    .json(json!({"detail": "Authentication credentials were not provided."})),
            )
        }
        Some(token) if token != config.service_token.as_bytes() => {
            return Guarded::Refused(
                HttpResponse::Forbidden().json(json!({"detail": "Invalid service token."})),
            )
        }
        Some(_) => {}
    }
    match state.take_fault(target) {
        None => Guarded::Serve {
            drop_answer: false,
            stall: None,
        },
        Some(FaultMode::Unavailable) => Guarded::Refused(
            HttpResponse::ServiceUnavailable()
                .json(json!({"detail": "Unavailable (injected fault)."})),
        ),
        Some(FaultMode::Delay { delay_ms }) => {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            Guarded::Serve {
                drop_answer: false,
                stall: None,
            }
        }
        Some(FaultMode::Drop) => Guarded::Serve {
            drop_answer: true,
            stall: None,
        },
        Some(FaultMode::Stall { delay_ms }) => Guarded::Serve {
            drop_answer: false,
            stall: Some(Duration::from_millis(delay_ms)),
        },
    }
}

/// Remembers `req` among the latest calls.
fn record(req: &HttpRequest, state: &StubState) {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let call = Call {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        traceparent: header("traceparent"),
        request_id: header("x-request-id"),
    };
    let mut book = state.book();
    if book.calls.len() == KEPT_CALLS {
        book.calls.pop_front();
    }
    book.calls.push_back(call);
}

/// A guarded read of the one record whose id is `id`: `describe` finds it in the book;
/// 404 for an id it does not find, or one that is no UUID.
pub(crate) async fn read_one(
    req: &HttpRequest,
    id: &str,
    state: &StubState,
    config: &StubConfig,
    target: FaultTarget,
    describe: impl FnOnce(&Book, Uuid) -> Option<serde_json::Value>,
) -> HttpResponse {
    let (drop_answer, stall) = match guard(req, state, config, target).await {
        Guarded::Refused(response) => return response,
        Guarded::Serve { drop_answer, stall } => (drop_answer, stall),
    };
    let found = Uuid::parse_str(id)
        .ok()
        .and_then(|id| describe(&state.book(), id));
    let response = match found {
        Some(record) => HttpResponse::Ok().json(record),
        None => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
    };
    deliver(drop_answer, stall, response).await
}

/// What a request that was served answers: `response`, unless its fault cuts the answer or
/// holds it back first.
pub(crate) async fn deliver(
    drop_answer: bool,
    stall: Option<Duration>,
    response: HttpResponse,
) -> HttpResponse {
    if drop_answer {
        return dropped_answer();
    }
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    response
}

/// A 200 whose body fails after the headers: the connection is cut mid-answer.
pub(crate) fn dropped_answer() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<web::Bytes, actix_web::Error>(actix_web::error::ErrorInternalServerError(
            "answer dropped (injected fault)",
        ))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(failing)
}

pub(crate) fn routes() -> Scope {
    web::scope("/_stub")
        .route("/seed/", web::post().to(seed))
        .route("/faults/", web::post().to(add_fault))
        .route("/faults/", web::delete().to(clear_faults))
        .route("/ledger/", web::get().to(ledger))
        .route("/calls/", web::get().to(calls))
        .route("/reset/", web::post().to(reset))
        .route("/escrows/{escrow_id}/drift/", web::post().to(drift))
}

/// A silent change to one escrow: what a restored backup or a hand fix in the Wallet's
/// database would do. No ledger entry is written and no balance moves, so that the Order
/// Service's reconciliation, not the stand-in, has to notice.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscrowDrift {
    state: Option<EscrowState>,
    amount: Option<Money>,
    seller_amount: Option<Money>,
    fee_amount: Option<Money>,
    refund_amount: Option<Money>,
    /// Forget the escrow altogether.
    #[serde(default)]
    forget: bool,
}

async fn drift(
    path: web::Path<Uuid>,
    body: web::Json<EscrowDrift>,
    state: web::Data<StubState>,
) -> HttpResponse {
    let change = body.into_inner();
    let mut book = state.book();
    let id = path.into_inner();
    if change.forget {
        return match book.escrows.remove(&id) {
            Some(_) => HttpResponse::NoContent().finish(),
            None => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
        };
    }
    let Some(escrow) = book.escrows.get_mut(&id) else {
        return HttpResponse::NotFound().json(json!({"detail": "Not found."}));
    };
    let amount = |money: Money| money.amount();
    if let Some(to) = change.state {
        escrow.state = to;
    }
    escrow.amount = change.amount.map(amount).unwrap_or(escrow.amount);
    for (part, value) in [
        (&mut escrow.seller_amount, change.seller_amount),
        (&mut escrow.fee_amount, change.fee_amount),
        (&mut escrow.refund_amount, change.refund_amount),
    ] {
        if let Some(value) = value {
            *part = Some(value.amount());
        }
    }
    HttpResponse::Ok().json(crate::wallet::describe(escrow))
}

/// Adds listings and deposits money into wallets.
async fn seed(body: web::Json<Seed>, state: web::Data<StubState>) -> HttpResponse {
    state.apply(body.into_inner());
    HttpResponse::NoContent().finish()
}

async fn add_fault(body: web::Json<Fault>, state: web::Data<StubState>) -> HttpResponse {
    state.book().faults.push(body.into_inner());
    HttpResponse::NoContent().finish()
}

async fn clear_faults(state: web::Data<StubState>) -> HttpResponse {
    state.book().faults.clear();
    HttpResponse::NoContent().finish()
}

async fn reset(state: web::Data<StubState>) -> HttpResponse {
    *state.book() = Default::default();
    HttpResponse::NoContent().finish()
}

/// The latest contract calls, oldest first, with the headers that tie them to the
/// caller's request and trace.
async fn calls(state: web::Data<StubState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.book().calls)
}

/// Where all the money is: `accounted` (balances + platform + held escrow) always equals
/// `deposits` unless money was created or lost.
async fn ledger(state: web::Data<StubState>) -> HttpResponse {
    let book = state.book();
    let balances: Decimal = book.balances.values().sum();
    let held = book.held();
    let per_user: std::collections::BTreeMap<_, _> = book
        .balances
        .iter()
        .map(|(user, amount)| (user, cents(*amount)))
        .collect();
    let mut escrows: Vec<_> = book.escrows.values().cloned().collect();
    escrows.sort_by_key(|escrow| escrow.id);
    HttpResponse::Ok().json(json!({
        "deposits": cents(book.deposits),
        "balances": per_user,
        "platform": cents(book.platform),
        "held": cents(held),
        "accounted": cents(balances + book.platform + held),
        "escrows": escrows,
        "entries": book.entries,
    }))
}

/// Amounts with two places, as money is written everywhere else.
pub(crate) fn cents(mut amount: Decimal) -> Decimal {
    amount.rescale(2);
    amount
}
