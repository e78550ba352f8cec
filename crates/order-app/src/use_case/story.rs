use order_domain::OrderId;
use order_ports::store::Page;
use order_ports::{FeedEvent, HistoryEntry};

use crate::{AppError, Caller, OrderService};

/// Events positioned in one step of the feed's sequencer at most.
const FEED_SEQUENCER_BATCH: usize = 1000;

impl OrderService {
    /// Rows `offset..offset + limit` of the order's history, oldest first: who did what,
    /// and what it changed. Its buyer, its seller and admins see it; anyone else gets 404.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn history(
        &self,
        caller: Caller,
        order_id: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, AppError> {
        // Read only to learn whether the caller may see it: 404 for anyone else.
        self.order(caller, order_id).await?;
        Ok(self.ports.store.history(order_id, offset, limit).await?)
    }

    /// Up to `limit` events of the replay feed after position `after`, for services: every
    /// event of every order, once, each order's in its sequence. Committed events get their
    /// positions first, so the feed is current even where no worker runs.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn feed(
        &self,
        caller: Caller,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, AppError> {
        caller.require_service()?;
        self.ports
            .store
            .assign_feed_positions(FEED_SEQUENCER_BATCH)
            .await?;
        Ok(self.ports.store.feed(after, limit).await?)
    }

    /// One step of the feed's sequencer, for the relay worker: positions for the events
    /// committed since the last step. No span of its own: a step every relay poll would
    /// bury the traces worth reading.
    pub async fn position_feed(&self) -> Result<usize, AppError> {
        Ok(self
            .ports
            .store
            .assign_feed_positions(FEED_SEQUENCER_BATCH)
            .await?)
    }
}
