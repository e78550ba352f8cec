//! Port decorators that measure what the service does through its ports: peer calls
//! (latency, failures) and committed order transitions. The adapters stay unaware.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::order::{CarrierEventId, ParcelKey, Sweep};
use order_domain::personal::ErasureDue;
use order_domain::reconcile::EscrowRecord;
use order_domain::{
    Dispute, DisputeId, EscrowId, EventType, Listing, ListingId, Order, OrderId, OrderStatus,
    UserId,
};
use order_ports::store::{
    DisputeQuery, EscrowCursor, EscrowLines, EscrowScope, OrderQuery, Page, UserErasure,
};
use order_ports::{
    FeedEvent, HistoryEntry, HoldEscrow, IntentLease, IntentStats, ListingError, Listings,
    OrderStore, RecordedEvent, RefundEscrow, ReleaseEscrow, StoreError, StoredDocument, SweepClaim,
    SweepClaims, UnitOfWork, Wallet, WalletError,
};

use crate::metrics::{Metrics, PeerLabels, TransitionLabels};

/// The Wallet, measured.
pub struct MeasuredWallet {
    pub inner: Arc<dyn Wallet>,
    pub metrics: Arc<Metrics>,
}

/// The Listing service, measured.
pub struct MeasuredListings {
    pub inner: Arc<dyn Listings>,
    pub metrics: Arc<Metrics>,
}

impl Metrics {
    fn peer_call(
        &self,
        peer: &'static str,
        operation: &'static str,
        started: Instant,
        outcome: &'static str,
    ) {
        let labels = PeerLabels {
            peer,
            operation,
            outcome,
        };
        self.peer_requests.get_or_create(&labels).inc();
        self.peer_duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

fn wallet_outcome<T>(result: &Result<T, WalletError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(WalletError::InsufficientFunds) => "declined",
        Err(WalletError::Unavailable(_)) => "unavailable",
        Err(WalletError::Rejected(_)) => "rejected",
        Err(WalletError::Shed { .. }) => "shed",
    }
}

impl MeasuredWallet {
    /// `call`, the Wallet's `operation`, timed and counted by its outcome.
    async fn measured<T>(
        &self,
        operation: &'static str,
        call: impl std::future::Future<Output = Result<T, WalletError>>,
    ) -> Result<T, WalletError> {
        let started = Instant::now();
        let result = call.await;
        let outcome = wallet_outcome(&result);
        self.metrics
            .peer_call("wallet", operation, started, outcome);
        result
    }
}

#[async_trait]
impl Wallet for MeasuredWallet {
    async fn hold_escrow(&self, request: HoldEscrow) -> Result<EscrowId, WalletError> {
        let call = self.inner.hold_escrow(request);
        self.measured("hold_escrow", call).await
    }

    async fn release_escrow(&self, request: ReleaseEscrow) -> Result<(), WalletError> {
        let call = self.inner.release_escrow(request);
        self.measured("release_escrow", call).await
    }

    async fn refund_escrow(&self, request: RefundEscrow) -> Result<(), WalletError> {
        let call = self.inner.refund_escrow(request);
        self.measured("refund_escrow", call).await
    }

    async fn escrow(&self, id: EscrowId) -> Result<Option<EscrowRecord>, WalletError> {
        self.measured("read_escrow", self.inner.escrow(id)).await
    }
}

#[async_trait]
impl Listings for MeasuredListings {
    async fn listing(&self, id: ListingId) -> Result<Listing, ListingError> {
        let started = Instant::now();
        let result = self.inner.listing(id).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ListingError::NotFound) => "not_found",
            Err(ListingError::Unavailable(_)) => "unavailable",
            Err(ListingError::Protocol(_)) => "rejected",
        };
        self.metrics
            .peer_call("listing", "get_listing", started, outcome);
        result
    }
}

/// The store, counting the transitions its units of work commit (one per event written).
pub struct MeasuredStore {
    pub inner: Arc<dyn OrderStore>,
    pub metrics: Arc<Metrics>,
}

struct MeasuredUnitOfWork {
    inner: Box<dyn UnitOfWork>,
    events: Vec<EventType>,
    metrics: Arc<Metrics>,
}

#[async_trait]
impl OrderStore for MeasuredStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(MeasuredUnitOfWork {
            inner: self.inner.begin().await?,
            events: Vec::new(),
            metrics: self.metrics.clone(),
        }))
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.order(id).await
    }

    async fn list_orders(&self, query: OrderQuery) -> Result<Page<Order>, StoreError> {
        self.inner.list_orders(query).await
    }

    async fn dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        self.inner.dispute(id).await
    }

    async fn list_disputes(&self, query: DisputeQuery) -> Result<Page<Dispute>, StoreError> {
        self.inner.list_disputes(query).await
    }

    async fn claim_stale_intents(&self, lease: IntentLease) -> Result<Vec<Order>, StoreError> {
        self.inner.claim_stale_intents(lease).await
    }

    async fn intent_stats(&self) -> Result<IntentStats, StoreError> {
        self.inner.intent_stats().await
    }

    async fn oldest_due(
        &self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.oldest_due(sweep, now).await
    }

    async fn oldest_unanswered_dispute(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.inner.oldest_unanswered_dispute(now).await
    }

    async fn escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> Result<EscrowLines, StoreError> {
        self.inner.escrow_lines(scope, after, limit).await
    }

    async fn history(
        &self,
        order: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        self.inner.history(order, offset, limit).await
    }

    async fn assign_feed_positions(&self, limit: usize) -> Result<usize, StoreError> {
        self.inner.assign_feed_positions(limit).await
    }

    async fn feed(&self, after: u64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        self.inner.feed(after, limit).await
    }

    async fn forget_carrier_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.forget_carrier_events(before).await
    }

    async fn erasure_of(&self, user: UserId) -> Result<UserErasure, StoreError> {
        self.inner.erasure_of(user).await
    }

    async fn backfill_ended_at(&self, limit: usize) -> Result<u64, StoreError> {
        self.inner.backfill_ended_at(limit).await
    }
}

#[async_trait]
impl SweepClaims for MeasuredUnitOfWork {
    async fn claim_due_orders(
        &mut self,
        sweep: Sweep,
        claim: SweepClaim<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.claim_due_orders(sweep, claim).await
    }

    async fn claim_unanswered_disputes(
        &mut self,
        claim: SweepClaim<DisputeId>,
    ) -> Result<Vec<(Order, Dispute)>, StoreError> {
        self.inner.claim_unanswered_disputes(claim).await
    }

    async fn claim_erasable_orders(
        &mut self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.claim_erasable_orders(due, limit).await
    }
}

#[async_trait]
impl UnitOfWork for MeasuredUnitOfWork {
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.inner.lock_order(id).await
    }

    async fn lock_live_order_for_listing(
        &mut self,
        listing_id: ListingId,
    ) -> Result<Option<Order>, StoreError> {
        self.inner.lock_live_order_for_listing(listing_id).await
    }

    async fn lock_orders_by_parcel(
        &mut self,
        parcel: &ParcelKey,
    ) -> Result<Vec<Order>, StoreError> {
        self.inner.lock_orders_by_parcel(parcel).await
    }

    async fn record_carrier_event(
        &mut self,
        event_id: &CarrierEventId,
        orders: Vec<OrderId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.record_carrier_event(event_id, orders, at).await
    }

    async fn carrier_event(
        &mut self,
        event_id: &CarrierEventId,
    ) -> Result<Option<Vec<OrderId>>, StoreError> {
        self.inner.carrier_event(event_id).await
    }

    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        self.inner.insert_order(order).await
    }

    async fn update_order(
        &mut self,
        order: &Order,
        expected: OrderStatus,
    ) -> Result<(), StoreError> {
        self.inner.update_order(order, expected).await
    }

    async fn lock_dispute(&mut self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        self.inner.lock_dispute(id).await
    }

    async fn lock_dispute_with_order(
        &mut self,
        id: DisputeId,
    ) -> Result<Option<(Order, Dispute)>, StoreError> {
        self.inner.lock_dispute_with_order(id).await
    }

    async fn insert_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        self.inner.insert_dispute(dispute).await
    }

    async fn update_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        self.inner.update_dispute(dispute).await
    }

    async fn reserve_sequences(&mut self, order: OrderId, count: u64) -> Result<u64, StoreError> {
        self.inner.reserve_sequences(order, count).await
    }

    async fn append_outbox(&mut self, events: Vec<RecordedEvent>) -> Result<(), StoreError> {
        self.events
            .extend(events.iter().map(|e| e.message.event_type));
        self.inner.append_outbox(events).await
    }

    async fn order_documents(&mut self, order: OrderId) -> Result<Vec<StoredDocument>, StoreError> {
        self.inner.order_documents(order).await
    }

    async fn replace_document(&mut self, document: &StoredDocument) -> Result<(), StoreError> {
        self.inner.replace_document(document).await
    }

    async fn request_erasure(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.inner.request_erasure(user, now).await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.inner.commit().await?;
        for event in self.events.drain(..) {
            self.metrics
                .order_transitions
                .get_or_create(&TransitionLabels {
                    event: event.as_str(),
                })
                .inc();
        }
        Ok(())
    }
}
