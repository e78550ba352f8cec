//! The promise of `allowed_actions`, over every order status, pending money movement,
//! deadline, dispute state and caller: an action is in `allowed_actions` exactly when its
//! use case accepts it.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use order_app::{AppError, Caller};
use order_domain::dispute::{DisputeReason, DisputeStatus, DisputeUpdate, EvidenceUrl};
use order_domain::fixtures::*;
use order_domain::order::{CancellationReason, Carrier, IntentRequest, TrackingNumber};
use order_domain::{Dispute, OfferId, Order, UserId};
use support::{Found, World};

/// Every order state a front end can meet, with a name for the failure message.
fn orders() -> Vec<(&'static str, Order)> {
    let pending_release = match shipped()
        .request_completion(acting_buyer(), later(5), TimeDelta::minutes(2))
        .unwrap()
    {
        IntentRequest::Recorded(movement) | IntentRequest::Pending(movement) => movement.order,
    };
    let reason = CancellationReason::parse("Out of stock.").unwrap();
    let pending_refund = paid()
        .request_cancellation(acting(seller()), reason, later(5), TimeDelta::minutes(2))
        .unwrap()
        .order()
        .clone();
    let mut all: Vec<(&'static str, Order)> = order_domain::OrderStatus::ALL
        .into_iter()
        .map(|status| (status.as_str(), order_in(status)))
        .collect();
    all.push(("BUY_NOW pending", buy_now_placed()));
    all.push(("SHIPPED, release in flight", pending_release));
    all.push(("PAID, refund in flight", pending_refund));
    all.push(("disputed from SHIPPED", disputed_from(shipped()).0));
    all
}

/// Before and after the deadlines that matter: the seller's `ship_by`, the auto-completion.
fn moments() -> [(&'static str, DateTime<Utc>); 3] {
    let ship_by = paid().ship_by.unwrap();
    [
        ("before ship_by", ship_by - TimeDelta::hours(1)),
        ("after ship_by", ship_by + TimeDelta::hours(1)),
        ("a month on", later(24 * 30)),
    ]
}

fn callers() -> [(&'static str, Caller); 4] {
    [
        ("buyer", Caller::user(buyer())),
        ("seller", Caller::user(seller())),
        ("admin", Caller::admin(stranger())),
        (
            "stranger",
            Caller::user(UserId::from_uuid(uuid::Uuid::from_u128(99))),
        ),
    ]
}

fn reason() -> CancellationReason {
    CancellationReason::parse("No.").unwrap()
}

/// Whether the use case behind `action` accepts it from `caller` on `order` at `now`; a
/// refusal must be one of the rule refusals (403, 404, 409), never anything else.
async fn accepts(action: &str, order: &Order, caller: Caller, now: DateTime<Utc>) -> bool {
    let mut world = World::new()
        .then_finds(Found::order(order.clone()))
        .then_finds(Found::order(order.clone()))
        .then_finds(Found::order(order.clone()));
    world.wallet.expect_release_escrow().returning(|_| Ok(()));
    world.wallet.expect_refund_escrow().returning(|_| Ok(()));
    let (service, _) = world.service_at(now);
    let outcome = match action {
        "ship" => service
            .ship(
                caller,
                order.id,
                TrackingNumber::parse("1Z").unwrap(),
                Carrier::parse("UPS").unwrap(),
            )
            .await
            .map(drop),
        "complete" => service.complete(caller, order.id).await.map(drop),
        "dispute" => service
            .open_dispute(
                caller,
                order.id,
                DisputeReason::parse("It never arrived at all.").unwrap(),
                vec![],
            )
            .await
            .map(drop),
        "cancel" => service
            .cancel_by_user(caller, order.id, reason())
            .await
            .map(drop),
        "refund" => service.refund(caller, order.id, reason()).await.map(drop),
        "release" => service.release(caller, order.id, reason()).await.map(drop),
        "settle" => service
            .settle(caller, order.id, money("0.01"), reason())
            .await
            .map(drop),
        "extend" => {
            let later = |deadline: Option<DateTime<Utc>>| {
                deadline.map(|at| at.max(now) + TimeDelta::seconds(1))
            };
            let ship_by = service
                .extend(caller, order.id, later(order.ship_by), None, reason())
                .await;
            match ship_by {
                Ok(_) => Ok(()),
                Err(_) => service
                    .extend(
                        caller,
                        order.id,
                        None,
                        later(order.auto_complete_at),
                        reason(),
                    )
                    .await
                    .map(drop),
            }
        }
        other => unreachable!("{other}"),
    };
    accepted(action, outcome)
}

/// Whether the use case accepted `action`; a refusal must come from a rule, not a fault.
fn accepted(action: &str, outcome: Result<(), AppError>) -> bool {
    match outcome {
        Ok(()) => true,
        Err(AppError::Forbidden | AppError::NotFound | AppError::Domain(_)) => false,
        Err(other) => panic!("{action} refused for a reason that is not a rule: {other:?}"),
    }
}

#[tokio::test]
async fn an_order_action_is_listed_exactly_when_its_use_case_accepts_it() {
    let mut checked = 0;
    for (state, order) in orders() {
        for (moment, now) in moments() {
            for (who, caller) in callers() {
                let listed = match caller {
                    Caller::User { id, .. } => order.allowed_actions(id, caller.as_admin(), now),
                    Caller::Service => vec![],
                };
                for action in order_domain::order::ORDER_ACTIONS {
                    let accepted = accepts(action, &order, caller, now).await;
                    assert_eq!(
                        listed.contains(&action),
                        accepted,
                        "{action} by the {who} on an order {state}, {moment}: listed {listed:?}"
                    );
                    checked += 1;
                }
                let mut sorted = listed.clone();
                sorted.sort();
                assert_eq!(listed, sorted, "sorted");
            }
        }
    }
    assert_eq!(checked, 12 * 3 * 4 * 8);
}

async fn dispute_accepts(action: &str, order: &Order, dispute: &Dispute, caller: Caller) -> bool {
    let found = Found {
        order: Some(order.clone()),
        dispute: Some(dispute.clone()),
        ..Found::default()
    };
    let mut world = World::new()
        .knowing(dispute)
        .then_finds(found.clone())
        .then_finds(found);
    world.wallet.expect_refund_escrow().returning(|_| Ok(()));
    let (service, _) = world.service();
    let offer = dispute
        .pending_offer()
        .map_or(OfferId::from_uuid(uuid::Uuid::nil()), |offer| offer.id);
    let outcome = match action {
        "make_offer" => service
            .make_offer(caller, dispute.id, money("1.00"))
            .await
            .map(drop),
        "accept_offer" => service
            .accept_offer(caller, dispute.id, offer)
            .await
            .map(drop),
        "decline_offer" => service
            .decline_offer(caller, dispute.id, offer)
            .await
            .map(drop),
        "add_evidence" => {
            let url = EvidenceUrl::parse("https://img.example.com/1.jpg").unwrap();
            service
                .add_evidence(caller, dispute.id, vec![url])
                .await
                .map(drop)
        }
        "update" => {
            let notes = DisputeUpdate {
                admin_notes: Some("Looked at it.".into()),
                ..DisputeUpdate::default()
            };
            service
                .update_dispute(caller, dispute.id, notes)
                .await
                .map(drop)
        }
        other => unreachable!("{other}"),
    };
    accepted(action, outcome)
}

#[tokio::test]
async fn a_dispute_action_is_listed_exactly_when_its_use_case_accepts_it() {
    let mut disputes: Vec<(String, Order, Dispute)> = DisputeStatus::ALL
        .into_iter()
        .map(|status| {
            let (order, dispute) = dispute_in(status);
            (status.as_str().to_owned(), order, dispute)
        })
        .collect();
    for status in [DisputeStatus::Open, DisputeStatus::Review] {
        let (order, dispute) = dispute_in(status);
        let offered = with_offer(&order, &dispute, "10.00");
        disputes.push((format!("{} with an offer", status.as_str()), order, offered));
    }
    for (status, order, dispute) in disputes {
        for (who, caller) in callers() {
            let listed = match caller {
                Caller::User { id, is_staff } => dispute.allowed_actions(id, is_staff),
                Caller::Service => vec![],
            };
            for action in order_domain::order::DISPUTE_ACTIONS {
                let accepted = dispute_accepts(action, &order, &dispute, caller).await;
                assert_eq!(
                    listed.contains(&action),
                    accepted,
                    "{action} by the {who} on a dispute {status}: listed {listed:?}"
                );
            }
        }
    }
}
