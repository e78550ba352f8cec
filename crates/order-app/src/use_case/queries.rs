use chrono::{DateTime, Utc};
use order_domain::order::Party;
use order_domain::{Dispute, DisputeId, ListingId, Order, OrderId, OrderStatus};
use order_ports::store::{DisputeQuery, OrderQuery, Page, PageRequest, SortOrder};

use crate::{AppError, Caller, OrderService};

/// What a caller asks of the order list; whose orders it covers follows from the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderListRequest {
    /// Only orders where the caller is this party; both sides when `None`.
    pub role: Option<Party>,
    pub statuses: Vec<OrderStatus>,
    pub listing_id: Option<ListingId>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub sort: SortOrder,
    pub page: PageRequest,
}

impl OrderService {
    /// One order, for its buyer, its seller, admins and services; anyone else is told it
    /// does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order(&self, caller: Caller, id: OrderId) -> Result<Order, AppError> {
        let order = self
            .ports
            .store
            .order(id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_order(&order)?;
        Ok(order)
    }

    /// The orders the caller is party to (all orders for admins and services).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_orders(
        &self,
        caller: Caller,
        request: OrderListRequest,
    ) -> Result<Page<Order>, AppError> {
        let query = OrderQuery {
            visibility: caller.visibility(request.role),
            statuses: request.statuses,
            listing_id: request.listing_id,
            created_after: request.created_after,
            created_before: request.created_before,
            sort: request.sort,
            page: request.page,
        };
        Ok(self.ports.store.list_orders(query).await?)
    }

    /// One dispute, for admins and the order's parties.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dispute(&self, caller: Caller, id: DisputeId) -> Result<Dispute, AppError> {
        let dispute = self
            .ports
            .store
            .dispute(id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_dispute(&dispute)?;
        Ok(dispute)
    }

    /// Every dispute, for admins.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_disputes(
        &self,
        caller: Caller,
        query: DisputeQuery,
    ) -> Result<Page<Dispute>, AppError> {
        caller.require_admin()?;
        Ok(self.ports.store.list_disputes(query).await?)
    }
}
