//! The demo's parts: the stand-in peers and the service it starts, and the calls it makes.

use std::time::{Duration, Instant};

use order_client::{Dispute, NewAuctionOrder, Order, OrderClient, Shipment};
use order_domain::order::{ActionReason, Carrier, ShippingAddress, TrackingNumber};
use order_domain::{DisputeId, EscrowId, ListingId, Money, OrderId, OrderStatus, UserId};
use order_events::OrderView;
use reqwest::Client;
use serde_json::Value;
use uuid::Uuid;

use order_testkit::processes;

use crate::{unbuilt, Cast, Demo, Result, Told, CARRIER_SECRET, CREDENTIALS};

impl Demo {
    pub(crate) async fn start(database_url: &str, port: u16, peers_port: u16) -> Result<Demo> {
        let peers = format!("http://127.0.0.1:{peers_port}");
        let api = format!("http://127.0.0.1:{port}");
        let stub = processes::stub_peers(peers_port, &CREDENTIALS)
            .map_err(unbuilt)?
            .spawn()
            .map_err(|e| format!("cannot start stub-peers: {e}"))?;
        let service = processes::order_api(database_url, port, &peers, &CREDENTIALS)
            .map_err(unbuilt)?
            .env("AUTO_COMPLETE_AFTER", "4s")
            .env("AUTO_COMPLETE_AFTER_DELIVERY", "2s")
            .env("CARRIER_WEBHOOK_SECRET", CARRIER_SECRET)
            .env("AUTO_COMPLETE_INTERVAL", "1s")
            // Deadlines of seconds instead of days, so that the story can show them pass.
            .env("PAYMENT_WINDOW", "3s")
            .env("SHIP_WITHIN", "3s")
            .env("DISPUTE_RESPONSE_WINDOW", "4s")
            .env("DEADLINE_INTERVAL", "500ms")
            .env("OUTBOX_POLL_INTERVAL", "200ms")
            .spawn()
            .map_err(|e| format!("cannot start order-api: {e}"))?;
        let http = Client::new();
        let mut demo = Demo {
            orders: OrderClient::with_http(http.clone(), &api),
            http,
            children: vec![
                ("stub-peers", peers.clone(), stub),
                ("order-api", api.clone(), service),
            ],
            api,
            peers,
        };
        let ready = demo.wait_ready(&format!("{}/healthz", demo.peers)).await;
        let ready = match ready {
            Ok(()) => demo.wait_ready(&format!("{}/readyz", demo.api)).await,
            failed => failed,
        };
        if let Err(error) = ready {
            demo.stop().await;
            return Err(error);
        }
        Ok(demo)
    }

    /// Waits until `url` answers 2xx. A part that stops meanwhile stops the demo: an answer
    /// on its port would come from someone else's server.
    pub(crate) async fn wait_ready(&mut self, url: &str) -> Result<()> {
        let children = &mut self.children;
        processes::wait_ready(&self.http, url, || {
            for (name, address, child) in children.iter_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "{name} stopped as it started ({status}): is {address} already taken \
                         (by a `make run`, say)? Set DEMO_PORT / DEMO_PEERS_PORT, or leave them \
                         unset for free ports"
                    ));
                }
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn stop(&mut self) {
        for (_, _, child) in &mut self.children {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub(crate) fn token(user: Uuid, is_staff: bool) -> String {
        order_testkit::user_token(
            CREDENTIALS.jwt_secret,
            user,
            is_staff,
            chrono::TimeDelta::hours(1),
        )
    }

    /// The service as the Auction service calls it.
    pub(crate) fn service(&self) -> OrderClient {
        self.orders.as_service(CREDENTIALS.service_token)
    }

    /// The service as `user` calls it.
    pub(crate) fn user(&self, user: Uuid) -> OrderClient {
        self.orders.as_user(Demo::token(user, false))
    }

    /// The service as the admin calls it.
    pub(crate) fn admin(&self) -> OrderClient {
        self.orders.as_user(Demo::token(Cast::ADMIN, true))
    }

    pub(crate) async fn peers_post(
        &self,
        path: &str,
        body: Value,
        key: Option<String>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.peers))
            .header("X-Service-Token", CREDENTIALS.peer_token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        Ok(response.json().await.unwrap_or(Value::Null))
    }

    /// The stand-in Wallet's ledger; an error if it shows a cent lost or made.
    pub(crate) async fn ledger(&self) -> Result<Value> {
        order_testkit::conserved_ledger(&self.http, &self.peers).await
    }

    pub(crate) async fn balance(&self, user: Uuid) -> Result<String> {
        Ok(self.ledger().await?["balances"][user.to_string()]
            .as_str()
            .unwrap_or("0.00")
            .to_owned())
    }

    /// The order as an admin reads it now.
    pub(crate) async fn order(&self, id: OrderId) -> Result<Order> {
        self.admin().get_order(id).await.told()
    }

    /// The order of `buyer`'s win of `listing_id` at `amount`, created by the Auction
    /// service, with its shipping cost and address when given.
    pub(crate) async fn won(
        &self,
        listing_id: Uuid,
        buyer: Uuid,
        amount: &str,
        shipping: Option<(&str, ShippingAddress)>,
    ) -> Result<Order> {
        let (shipping_cost, shipping_address) = match shipping {
            Some((cost, address)) => (Some(money(cost)?), Some(address)),
            None => (None, None),
        };
        self.service()
            .create_auction_order(&NewAuctionOrder {
                listing_id: ListingId::from_uuid(listing_id),
                buyer_id: UserId::from_uuid(buyer),
                seller_id: UserId::from_uuid(Cast::SAM),
                amount: money(amount)?,
                shipping_cost,
                shipping_address,
            })
            .await
            .told()
    }

    /// `order` held in escrow by the stand-in Wallet and marked paid by the payment flow.
    pub(crate) async fn pay(&self, order: &OrderView) -> Result<Order> {
        let escrow = order_testkit::hold_escrow(
            &self.http,
            &self.peers,
            CREDENTIALS.peer_token,
            order.id.into(),
            order.buyer_id.into(),
            &order.total.to_string(),
        )
        .await?;
        self.service()
            .mark_paid(order.id, EscrowId::from_uuid(escrow))
            .await
            .told()
    }

    /// An auction order held in escrow for `buyer` and marked paid; its id.
    pub(crate) async fn paid_auction(
        &self,
        listing_id: Uuid,
        buyer: Uuid,
        amount: &str,
    ) -> Result<OrderId> {
        let won = self.won(listing_id, buyer, amount, None).await?;
        Ok(self.pay(&won).await?.id)
    }

    /// Sam ships `order` with `carrier` under `tracking`.
    pub(crate) async fn ship(
        &self,
        order: OrderId,
        tracking: &str,
        carrier: &str,
    ) -> Result<Order> {
        let shipment = Shipment {
            tracking_number: TrackingNumber::parse(tracking).map_err(|e| e.to_string())?,
            carrier: Carrier::parse(carrier).map_err(|e| e.to_string())?,
        };
        self.user(Cast::SAM).ship(order, &shipment).await.told()
    }

    /// Reads the order (as an admin) until it is in `status`; the last answer.
    pub(crate) async fn wait_for_status(
        &self,
        order: OrderId,
        status: OrderStatus,
        what: &str,
    ) -> Result<Order> {
        self.wait_for_order(order, what, |order| order.status == status)
            .await
    }

    /// Reads the order (as an admin) until `done` holds for it; the last answer.
    pub(crate) async fn wait_for_order(
        &self,
        order: OrderId,
        what: &str,
        done: impl Fn(&Order) -> bool,
    ) -> Result<Order> {
        self.wait_until(what, || self.order(order), done).await
    }

    /// Reads the dispute (as an admin) until `done` holds for it; the last answer.
    pub(crate) async fn wait_for_dispute(
        &self,
        dispute: DisputeId,
        what: &str,
        done: impl Fn(&Dispute) -> bool,
    ) -> Result<Dispute> {
        let admin = self.admin();
        self.wait_until(
            what,
            || async { admin.get_dispute(dispute).await.told() },
            done,
        )
        .await
    }

    async fn wait_until<T: std::fmt::Debug, F: std::future::Future<Output = Result<T>>>(
        &self,
        what: &str,
        read: impl Fn() -> F,
        done: impl Fn(&T) -> bool,
    ) -> Result<T> {
        let started = Instant::now();
        loop {
            let answer = read().await?;
            if done(&answer) {
                return Ok(answer);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{what} did not happen: {answer:?}"));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Money from a literal of the story.
pub(crate) fn money(amount: &str) -> Result<Money> {
    amount
        .parse()
        .map_err(|e: order_domain::money::MoneyError| e.to_string())
}

/// A reason of the story, checked as the service checks it.
pub(crate) fn reason(text: &str) -> Result<ActionReason> {
    ActionReason::parse(text).map_err(|e| e.to_string())
}

/// A buyer's complaint of the story with no evidence, checked as the service checks it.
pub(crate) fn complaint(text: &str) -> Result<order_client::NewDispute> {
    Ok(order_client::NewDispute {
        reason: order_domain::dispute::DisputeReason::parse(text).map_err(|e| e.to_string())?,
        evidence: vec![],
    })
}
