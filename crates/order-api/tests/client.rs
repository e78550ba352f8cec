//! order-client against the running service: every endpoint once, a write retried after a
//! 503 that moves the money once, and each error shape the service answers read into the
//! client's typed error.

mod support;

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use order_client::{
    CarrierResult, CarrierSigningKey, CarrierUpdate, Dispute, DisputeChange, DisputeFilter, Error,
    ErrorCode, Extension, NewAuctionOrder, NewDispute, Order, OrderClient, OrderFilter, Purchase,
    RetryPolicy, Role, Shipment, Split,
};
use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::order::{
    ActionReason, CancellationReason, Carrier, CarrierEventId, ShippingAddress, TrackingNumber,
    TrackingStatus,
};
use order_domain::{DisputeStatus, ListingId, Money, OrderId, OrderStatus, UserId};
use serde_json::json;
use support::*;

fn listing_id(n: u128) -> ListingId {
    ListingId::from_uuid(listing(n))
}

fn money(amount: &str) -> Money {
    amount.parse().unwrap()
}

fn reason(text: &str) -> ActionReason {
    CancellationReason::parse(text).unwrap()
}

fn shipment(tracking: &str) -> Shipment {
    Shipment {
        tracking_number: TrackingNumber::parse(tracking).unwrap(),
        carrier: Carrier::parse("UPS").unwrap(),
    }
}

fn address() -> Purchase {
    Purchase {
        shipping_address: Some(
            ShippingAddress::new([("city".to_owned(), "Lyon".to_owned())].into()).unwrap(),
        ),
        buyer_id: None,
    }
}

/// The cast, each as a client of `app`.
struct Callers {
    anonymous: OrderClient,
    service: OrderClient,
    buyer: OrderClient,
    seller: OrderClient,
    admin: OrderClient,
}

impl Callers {
    fn of(app: &TestApp) -> Callers {
        Callers {
            anonymous: app.client(&As::Nobody),
            service: app.client(&As::Service),
            buyer: app.client(&As::buyer()),
            seller: app.client(&As::seller()),
            admin: app.client(&As::admin()),
        }
    }

    /// The buyer's Buy It Now order of listing `n`, shipped as `tracking` when given.
    async fn bought(&self, n: u128, tracking: Option<&str>) -> Order {
        let order = self.buyer.buy_now(listing_id(n), &address()).await.unwrap();
        assert_eq!(order.status, OrderStatus::Paid);
        match tracking {
            Some(tracking) => self
                .seller
                .ship(order.id, &shipment(tracking))
                .await
                .unwrap(),
            None => order,
        }
    }

    /// The buyer's dispute of `order`, for `reason`.
    async fn disputed(&self, order: OrderId, reason: &str) -> Dispute {
        let dispute = NewDispute {
            reason: DisputeReason::parse(reason).unwrap(),
            evidence: vec![],
        };
        self.buyer.open_dispute(order, &dispute).await.unwrap()
    }

    /// The auction order of listing `n`, won at `amount`.
    async fn won(&self, n: u128, amount: &str) -> Order {
        self.service
            .create_auction_order(&NewAuctionOrder {
                listing_id: listing_id(n),
                buyer_id: UserId::from_uuid(Cast::buyer()),
                seller_id: UserId::from_uuid(Cast::seller()),
                amount: money(amount),
                shipping_cost: Some(money("10.00")),
                shipping_address: None,
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_client_drives_every_endpoint_of_the_service() {
    let app = TestApp::spawn(seed(8, "5000.00")).await;
    let who = Callers::of(&app);

    // An auction's order, from the win to the buyer's confirmation.
    let won = who.won(1, "125.00").await;
    assert_eq!(won.status, OrderStatus::PendingPayment);
    let escrow = app.hold_escrow(&won.id.to_string(), "135.00").await;
    let paid = who.service.mark_paid(won.id, escrow.into()).await.unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    let shipped = who
        .seller
        .ship(won.id, &shipment("1Z-CLIENT-A"))
        .await
        .unwrap();
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert!(
        !shipped.allows("complete"),
        "the seller does not confirm receipt"
    );
    assert!(who
        .buyer
        .get_order(won.id)
        .await
        .unwrap()
        .allows("complete"));
    let receipt = who
        .anonymous
        .carrier_update(
            &CarrierSigningKey::new(CARRIER_SECRET.as_bytes()),
            &CarrierUpdate {
                event_id: CarrierEventId::parse("evt-client-1").unwrap(),
                carrier: Carrier::parse("UPS").unwrap(),
                tracking_number: TrackingNumber::parse("1Z-CLIENT-A").unwrap(),
                status: TrackingStatus::InTransit,
                occurred_at: Utc::now(),
                detail: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (receipt.result, receipt.order_ids),
        (CarrierResult::Applied, vec![won.id])
    );
    let delivered = who.service.mark_delivered(won.id, None).await.unwrap();
    assert_eq!(delivered.status, OrderStatus::Delivered);
    let completed = who.buyer.complete(won.id).await.unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(who.buyer.get_order(won.id).await.unwrap(), completed);
    let history = who.buyer.order_history(won.id, 1).await.unwrap();
    let sequences: Vec<u64> = history.results.iter().map(|entry| entry.sequence).collect();
    assert_eq!(sequences, (1..=sequences.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        history.results.last().unwrap().to_status,
        OrderStatus::Completed
    );

    // Buy It Now, an admin's extension, then the seller's refund.
    let bought = who.bought(2, None).await;
    let ship_by = bought.ship_by.unwrap() + TimeDelta::days(2);
    let extended = who
        .admin
        .extend_deadline(
            bought.id,
            &Extension {
                ship_by: Some(ship_by),
                auto_complete_at: None,
                reason: reason("The seller is travelling."),
            },
        )
        .await
        .unwrap();
    assert_eq!(extended.ship_by, Some(ship_by));
    let refunded = who
        .seller
        .refund(bought.id, &reason("Out of stock."))
        .await
        .unwrap();
    assert_eq!(refunded.status, OrderStatus::Refunded);

    // An unpaid auction order, cancelled by the auction service.
    let unpaid = who.won(3, "80.00").await;
    let cancelled = who
        .service
        .cancel_unpaid(unpaid.id, &reason("The winner did not pay."))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);

    // A dispute ended by the seller's second offer.
    let disputed = who.bought(4, Some("1Z-CLIENT-D")).await;
    let dispute = who.disputed(disputed.id, "The lens is scratched.").await;
    let with_evidence = who
        .buyer
        .add_evidence(
            dispute.id,
            &[EvidenceUrl::parse("https://img.example/lens.jpg").unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(with_evidence.evidence.len(), 1);
    let low = who
        .seller
        .make_offer(dispute.id, money("10.00"))
        .await
        .unwrap();
    who.buyer.decline_offer(dispute.id, low.id).await.unwrap();
    let fair = who
        .seller
        .make_offer(dispute.id, money("20.00"))
        .await
        .unwrap();
    let settled = who.buyer.accept_offer(dispute.id, fair.id).await.unwrap();
    assert_eq!(settled.status, DisputeStatus::Resolved);
    assert_eq!(settled.refund_amount, Some(money("20.00")));

    // A dispute an admin takes notes on.
    let reviewed = who.bought(5, Some("1Z-CLIENT-E")).await;
    let open = who.disputed(reviewed.id, "The parcel never arrived.").await;
    let noted = who
        .admin
        .update_dispute(
            open.id,
            &DisputeChange {
                admin_notes: Some("Asked the carrier.".into()),
                ..DisputeChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(noted.admin_notes.as_deref(), Some("Asked the carrier."));
    assert_eq!(
        who.buyer.get_dispute(open.id).await.unwrap().admin_notes,
        None
    );
    let disputes = who
        .admin
        .list_disputes(&DisputeFilter::default())
        .await
        .unwrap();
    assert_eq!(disputes.count, Some(2));

    // An admin's release, an admin's split, the seller's cancellation.
    let released = who.bought(6, Some("1Z-CLIENT-F")).await;
    let released = who
        .admin
        .release(released.id, &reason("Delivered per carrier."))
        .await
        .unwrap();
    assert_eq!(released.status, OrderStatus::Completed);
    let split = who.bought(7, Some("1Z-CLIENT-G")).await;
    let split = who
        .admin
        .settle(
            split.id,
            &Split {
                refund_amount: money("50.00"),
                reason: reason("Arrived damaged."),
            },
        )
        .await
        .unwrap();
    assert_eq!(split.status, OrderStatus::Completed);
    let called_off = who.bought(8, None).await;
    let called_off = who
        .seller
        .cancel(called_off.id, &reason("Sold elsewhere."))
        .await
        .unwrap();
    assert_eq!(called_off.status, OrderStatus::Cancelled);

    // The lists, the feed, an erasure, and the operational endpoints.
    let mine = who
        .buyer
        .list_orders(&OrderFilter {
            role: Some(Role::Buyer),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.count, Some(8));
    assert_eq!(who.buyer.next_page(&mine).await.unwrap(), None);
    let feed = who.service.event_feed(0, Some(500)).await.unwrap();
    let positions: Vec<u64> = feed.results.iter().map(|event| event.position).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(feed.next_after, *positions.last().unwrap());
    assert!(feed.results.iter().any(|event| event.order_id == won.id));
    let erasure = who
        .service
        .erase_user(UserId::from_uuid(Cast::stranger()))
        .await
        .unwrap();
    assert_eq!((erasure.erased, erasure.pending), (0, 0));
    who.anonymous.liveness().await.unwrap();
    who.anonymous.readiness().await.unwrap();
    assert!(who.anonymous.metrics().await.unwrap().contains("# TYPE"));
    let document = who.anonymous.api_document().await.unwrap();
    assert_eq!(document["info"]["title"], "Order Service");
    assert!(who
        .anonymous
        .api_docs_page()
        .await
        .unwrap()
        .contains("<html"));
    app.ledger().await;
}

#[tokio::test]
async fn a_completion_retried_after_a_503_releases_the_escrow_once() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let who = Callers::of(&app);
    let order = who.bought(1, Some("1Z-RETRY")).await;
    // Every attempt of the service's call to the Wallet releases the escrow and loses the
    // answer, until the service gives up and answers 503 with its Retry-After.
    app.fault(json!({"target": "wallet", "mode": "drop", "times": 3}))
        .await;

    let started = Instant::now();
    let completed = who.buyer.complete(order.id).await.unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the client waited out the 503's Retry-After"
    );
    assert_eq!(completed.status, OrderStatus::Completed);
    let ledger = app.ledger().await;
    assert_eq!(ledger["held"], "0.00");
    assert_eq!(
        app.balance(Cast::seller()).await,
        "128.75",
        "135.00 − 6.25 fee, once"
    );
    assert_eq!(app.balance(Cast::buyer()).await, "865.00");
}

#[tokio::test]
async fn each_error_shape_of_the_service_reaches_the_caller_typed() {
    let app = TestApp::spawn(seed(2, "1000.00")).await;
    let who = Callers::of(&app);
    let order = who.bought(1, None).await;

    // 409 with the order's status.
    let early = who.buyer.complete(order.id).await.unwrap_err();
    match &early {
        Error::Refused(refusal) => {
            assert_eq!(refusal.code, ErrorCode::InvalidTransition);
            assert_eq!(refusal.current_status.as_deref(), Some("PAID"));
            assert_eq!(refusal.status, 409);
        }
        other => panic!("a refusal, not {other:?}"),
    }

    who.seller
        .ship(order.id, &shipment("1Z-KEY"))
        .idempotency_key("one-key")
        .await
        .unwrap();

    // 400 with fields: a split above the order's total.
    let too_much = who
        .admin
        .settle(
            order.id,
            &Split {
                refund_amount: money("500.00"),
                reason: reason("Goodwill."),
            },
        )
        .await
        .unwrap_err();
    match &too_much {
        Error::Invalid(fields) => {
            assert_eq!(fields.fields().collect::<Vec<_>>(), ["refund_amount"])
        }
        other => panic!("field errors, not {other:?}"),
    }

    let code = |error: Error| error.code().cloned();
    let unknown = OrderId::from_uuid(uuid(0xDEAD));
    assert_eq!(
        code(who.buyer.get_order(unknown).await.unwrap_err()),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        code(
            who.buyer
                .refund(order.id, &reason("Mine."))
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::PermissionDenied)
    );
    assert_eq!(
        code(who.anonymous.get_order(order.id).await.unwrap_err()),
        Some(ErrorCode::NotAuthenticated)
    );
    assert_eq!(
        code(
            who.anonymous
                .as_user("not-a-token")
                .get_order(order.id)
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::AuthenticationFailed)
    );
    let penniless = app.client(&As::User(uuid(0x99)));
    assert_eq!(
        code(
            penniless
                .buy_now(listing_id(2), &address())
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::InsufficientFunds)
    );
    assert_eq!(
        code(
            who.seller
                .refund(order.id, &reason("Changed my mind."))
                .idempotency_key("one-key")
                .await
                .unwrap_err()
        ),
        Some(ErrorCode::IdempotencyKeyReused)
    );

    // 503 with its Retry-After, for a caller that does not retry.
    app.fault(json!({"target": "wallet", "mode": "unavailable"}))
        .await;
    let away = who
        .buyer
        .clone()
        .with_retry(RetryPolicy::never())
        .complete(order.id)
        .await
        .unwrap_err();
    match &away {
        Error::Refused(refusal) => {
            assert_eq!(refusal.code, ErrorCode::ServiceUnavailable);
            assert!(refusal
                .retry_after
                .is_some_and(|wait| wait >= Duration::from_secs(1)));
        }
        other => panic!("a refusal, not {other:?}"),
    }
}
