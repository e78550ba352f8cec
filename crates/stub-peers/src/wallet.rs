//! The Wallet service's contract: hold, release and refund escrow, each at most
//! once per idempotency key.

use actix_web::{web, HttpRequest, HttpResponse, Scope};
use order_domain::Money;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::control::{deliver, guard, read_one, Guarded};
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
    read_one(
        &req,
        &path,
        &state,
        &config,
        FaultTarget::Wallet,
        |book, id| book.escrows.get(&id).map(describe),
    )
    .await
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

/// A call to one of the Wallet's writes, as actix hands it over.
type Call = (
    HttpRequest,
    web::Json<Value>,
    web::Data<StubState>,
    web::Data<StubConfig>,
);

async fn hold(call: Call) -> HttpResponse {
    once_per_key(call, "hold", |book, hold: Hold| {
        let balance = book.balances.entry(hold.buyer_id).or_default();
        let amount = hold.amount.amount();
        if amount.is_zero() {
            let problem = json!({"amount": ["Ensure this value is greater than 0."]});
            return (400, problem);
        }
        if *balance < amount {
            let problem = json!({"detail": "Insufficient funds.", "code": "insufficient_funds"});
            return (402, problem);
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
    })
    .await
}

async fn release(call: Call) -> HttpResponse {
    once_per_key(call, "release", |book, r: Release| {
        let escrow = match payable(book, r.escrow_id, r.order_id) {
            Ok(escrow) => escrow,
            Err(refusal) => return refusal,
        };
        let payout = Payout {
            refund: (escrow.buyer_id, Decimal::ZERO),
            seller: (r.seller_id, r.seller_amount.amount()),
            fee: r.fee_amount.amount(),
        };
        settle(book, escrow, EscrowState::Released, "release", payout)
    })
    .await
}

async fn refund(call: Call) -> HttpResponse {
    once_per_key(call, "refund", |book, r: Refund| {
        let escrow = match payable(book, r.escrow_id, r.order_id) {
            Ok(escrow) => escrow,
            Err(refusal) => return refusal,
        };
        if escrow.buyer_id != r.buyer_id {
            let problem = json!({"buyer_id": ["This is not the escrow's buyer."]});
            return (400, problem);
        }
        let payout = Payout {
            refund: (r.buyer_id, r.refund_amount.amount()),
            seller: (r.seller_id, r.seller_amount.amount()),
            fee: r.fee_amount.amount(),
        };
        settle(book, escrow, EscrowState::Refunded, "refund", payout)
    })
    .await
}

/// The escrow, if it is held for this order.
fn payable(book: &Book, escrow_id: Uuid, order_id: Uuid) -> Result<Escrow, Outcome> {
    let Some(escrow) = book.escrows.get(&escrow_id) else {
        return Err((404, json!({"detail": "Not found."})));
    };
    if escrow.order_id != order_id {
        let problem = json!({"order_id": ["This is not the escrow's order."]});
        return Err((400, problem));
    }
    if escrow.state != EscrowState::Held {
        return Err((
            409,
            json!({"detail": "This escrow has already been paid out.", "code": "escrow_not_held"}),
        ));
    }
    Ok(escrow.clone())
}

/// Who an escrow's three parts go to, and how much each: the buyer's refund, the seller's
/// share, the platform's fee.
struct Payout {
    refund: (Uuid, Decimal),
    seller: (Uuid, Decimal),
    fee: Decimal,
}

/// Pays `escrow` out as `payout` says, if the parts add up to exactly its amount.
fn settle(
    book: &mut Book,
    escrow: Escrow,
    to: EscrowState,
    kind: &'static str,
    payout: Payout,
) -> Outcome {
    let Payout {
        refund: (buyer, refund),
        seller: (seller, share),
        fee,
    } = payout;
    if refund + share + fee != escrow.amount {
        let problem = format!("The parts must add up to the escrow's {}.", escrow.amount);
        return (400, json!({ "non_field_errors": [problem] }));
    }
    book.credit(kind, escrow.id, Account::User(buyer), refund);
    book.credit(kind, escrow.id, Account::User(seller), share);
    book.credit(kind, escrow.id, Account::Platform, fee);
    let paid = Escrow {
        state: to,
        refund_amount: Some(refund),
        seller_amount: Some(share),
        fee_amount: Some(fee),
        ..escrow
    };
    book.escrows.insert(paid.id, paid);
    (200, json!({"escrow_id": escrow.id, "status": to}))
}

/// Runs `operation` once per idempotency key: a retry with the same key and body gets the
/// first answer again; the same key with another body is refused with 422.
async fn once_per_key<T: DeserializeOwned>(
    (req, body, state, config): Call,
    endpoint: &str,
    operation: impl FnOnce(&mut Book, T) -> Outcome,
) -> HttpResponse {
    let body = body.into_inner();
    let (drop_answer, stall) = match guard(&req, &state, &config, FaultTarget::Wallet).await {
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
