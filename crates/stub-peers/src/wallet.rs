//! The Wallet service's contract: hold, release and refund escrow, each at most
//! once per idempotency key.

use actix_web::{web, HttpRequest, HttpResponse, Scope};
use order_domain::Money;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::control::{deliver, guard, Guarded};
use crate::fault::FaultTarget;
use crate::state::{Account, Book, Escrow, EscrowState, Reply, StubState};
use crate::StubConfig;

pub(crate) fn routes() -> Scope {
    web::scope("/api/v1/wallet/internal")
        .route("/hold-escrow/", web::post().to(hold))
        .route("/release-escrow/", web::post().to(release))
        .route("/refund-escrow/", web::post().to(refund))
        .route("/escrows/{escrow_id}/", web::get().to(read_escrow))
}

/// One escrow as the Wallet describes it: the three parts null while it is held.
async fn read_escrow(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<StubState>,
    config: web::Data<StubConfig>,
) -> HttpResponse {
    let (drop_answer, stall) = match guard(&req, &state, &config, FaultTarget::Wallet).await {
        Guarded::Refused(response) => return response,
        Guarded::Serve { drop_answer, stall } => (drop_answer, stall),
    };
    let found = Uuid::parse_str(&path)
        .ok()
        .and_then(|id| state.book().escrows.get(&id).cloned());
    let response = match found {
        Some(escrow) => HttpResponse::Ok().json(describe(&escrow)),
        None => HttpResponse::NotFound().json(json!({"detail": "Not found."})),
    };
    deliver(drop_answer, stall, response).await
}

pub(crate) fn describe(escrow: &Escrow) -> Value {
    let money = |amount: Option<Decimal>| amount.map(crate::control::cents);
    json!({
        "escrow_id": escrow.id,
        "order_id": escrow.order_id,
        "state": escrow.state,
        "amount": crate::control::cents(escrow.amount),
        "seller_amount": money(escrow.seller_amount),
        "fee_amount": money(escrow.fee_amount),
        "refund_amount": money(escrow.refund_amount),
    })
}

#[derive(Deserialize)]
struct Hold {
    order_id: Uuid,
    buyer_id: Uuid,
    amount: Money,
}

#[derive(Deserialize)]
struct Release {
    escrow_id: Uuid,
    order_id: Uuid,
    seller_id: Uuid,
    seller_amount: Money,
    fee_amount: Money,
}

#[derive(Deserialize)]
struct Refund {
    escrow_id: Uuid,
    order_id: Uuid,
    buyer_id: Uuid,
    refund_amount: Money,
    seller_id: Uuid,
    seller_amount: Money,
    fee_amount: Money,
}

type Outcome = (u16, Value);

async fn hold(
    req: HttpRequest,
    body: web::Json<Value>,
    state: web::Data<StubState>,
    config: web::Data<StubConfig>,
) -> HttpResponse {
    once_per_key(
        req,
        body.into_inner(),
        &state,
        &config,
        "hold",
        |book, hold: Hold| {
            let balance = book.balances.entry(hold.buyer_id).or_default();
            let amount = hold.amount.amount();
            if amount.is_zero() {
                return (
                    400,
                    json!({"amount": ["Ensure this value is greater than 0."]}),
                );
            }
            if *balance < amount {
                return (
                    402,
                    json!({"detail": "Insufficient funds.", "code": "insufficient_funds"}),
                );
            }
            *balance -= amount;
            let id = Uuid::new_v4();
            book.escrows.insert(
                id,
                Escrow {
                    id,
                    order_id: hold.order_id,
                    buyer_id: hold.buyer_id,
                    amount,
                    state: EscrowState::Held,
                    seller_amount: None,
                    fee_amount: None,
                    refund_amount: None,
                },
            );
            book.entries.push(crate::state::Entry {
                kind: "hold",
                escrow_id: Some(id),
                account: hold.buyer_id.to_string(),
                amount: -amount,
            });
            (201, json!({"escrow_id": id}))
        },
    )
    .await
}

async fn release(
    req: HttpRequest,
    body: web::Json<Value>,
    state: web::Data<StubState>,
    config: web::Data<StubConfig>,
) -> HttpResponse {
    once_per_key(
        req,
        body.into_inner(),
        &state,
        &config,
        "release",
        |book, r: Release| {
            let parts = [r.seller_amount.amount(), r.fee_amount.amount()];
            let escrow = match payable(book, r.escrow_id, r.order_id, &parts) {
                Ok(escrow) => escrow,
                Err(refusal) => return refusal,
            };
            let escrow_buyer = escrow.buyer_id;
            settle(
                book,
                escrow,
                EscrowState::Released,
                "release",
                [
                    (Part::Refund, Account::User(escrow_buyer), Decimal::ZERO),
                    (
                        Part::Seller,
                        Account::User(r.seller_id),
                        r.seller_amount.amount(),
                    ),
                    (Part::Fee, Account::Platform, r.fee_amount.amount()),
                ],
            )
        },
    )
    .await
}

async fn refund(
    req: HttpRequest,
    body: web::Json<Value>,
    state: web::Data<StubState>,
    config: web::Data<StubConfig>,
) -> HttpResponse {
    once_per_key(
        req,
        body.into_inner(),
        &state,
        &config,
        "refund",
        |book, r: Refund| {
            let parts = [
                r.refund_amount.amount(),
                r.seller_amount.amount(),
                r.fee_amount.amount(),
            ];
            let escrow = match payable(book, r.escrow_id, r.order_id, &parts) {
                Ok(escrow) => escrow,
                Err(refusal) => return refusal,
            };
            if escrow.buyer_id != r.buyer_id {
                return (
                    400,
                    json!({"buyer_id": ["This is not the escrow's buyer."]}),
                );
            }
            settle(
                book,
                escrow,
                EscrowState::Refunded,
                "refund",
                [
                    (
                        Part::Refund,
                        Account::User(r.buyer_id),
                        r.refund_amount.amount(),
                    ),
                    (
                        Part::Seller,
                        Account::User(r.seller_id),
                        r.seller_amount.amount(),
                    ),
                    (Part::Fee, Account::Platform, r.fee_amount.amount()),
                ],
            )
        },
    )
    .await
}

/// The escrow, if it is held for this order and the parts pay out exactly its amount.
fn payable(
    book: &Book,
    escrow_id: Uuid,
    order_id: Uuid,
    parts: &[Decimal],
) -> Result<Escrow, Outcome> {
    let Some(escrow) = book.escrows.get(&escrow_id) else {
        return Err((404, json!({"detail": "Not found."})));
    };
    if escrow.order_id != order_id {
        return Err((
            400,
            json!({"order_id": ["This is not the escrow's order."]}),
        ));
    }
    if escrow.state != EscrowState::Held {
        return Err((
            409,
            json!({"detail": "This escrow has already been paid out.", "code": "escrow_not_held"}),
        ));
    }
    if parts.iter().sum::<Decimal>() != escrow.amount {
        return Err((
            400,
            json!({"non_field_errors": [format!("The parts must add up to the escrow's {}.", escrow.amount)]}),
        ));
    }
    Ok(escrow.clone())
}

/// Which of an escrow's three parts a credit pays.
enum Part {
    Refund,
    Seller,
    Fee,
}

fn settle(
    book: &mut Book,
    escrow: Escrow,
    to: EscrowState,
    kind: &'static str,
    credits: [(Part, Account, Decimal); 3],
) -> Outcome {
    let mut paid = escrow.clone();
    paid.state = to;
    for (part, account, amount) in credits {
        book.credit(kind, escrow.id, account, amount);
        *match part {
            Part::Refund => &mut paid.refund_amount,
            Part::Seller => &mut paid.seller_amount,
            Part::Fee => &mut paid.fee_amount,
        } = Some(amount);
    }
    book.escrows.insert(escrow.id, paid);
    (200, json!({"escrow_id": escrow.id, "status": to}))
}

/// Runs `operation` once per idempotency key: a retry with the same key and body gets the
/// first answer again; the same key with another body is refused with 422.
async fn once_per_key<T: DeserializeOwned>(
    req: HttpRequest,
    body: Value,
    state: &StubState,
    config: &StubConfig,
    endpoint: &str,
    operation: impl FnOnce(&mut Book, T) -> Outcome,
) -> HttpResponse {
    let (drop_answer, stall) = match guard(&req, state, config, FaultTarget::Wallet).await {
        Guarded::Refused(response) => return response,
        Guarded::Serve { drop_answer, stall } => (drop_answer, stall),
    };
    let Some(key) = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|key| key.to_str().ok())
        .filter(|key| !key.is_empty())
    else {
        return HttpResponse::BadRequest()
            .json(json!({"detail": "An Idempotency-Key header is required."}));
    };
    let (status, answer) = {
        let mut book = state.book();
        let slot = (endpoint.to_owned(), key.to_owned());
        match book.replies.get(&slot) {
            Some(reply) if reply.request == body => (reply.status, reply.body.clone()),
            Some(_) => (
                422,
                json!({"detail": "This Idempotency-Key was used with another request."}),
            ),
            None => {
                let (status, answer) = match serde_json::from_value::<T>(body.clone()) {
                    Ok(request) => operation(&mut book, request),
                    Err(error) => (400, json!({"detail": error.to_string()})),
                };
                book.replies.insert(
                    slot,
                    Reply {
                        request: body,
                        status,
                        body: answer.clone(),
                    },
                );
                (status, answer)
            }
        }
    };
    let status = actix_web::http::StatusCode::from_u16(status).expect("a valid status");
    deliver(drop_answer, stall, HttpResponse::build(status).json(answer)).await
}
