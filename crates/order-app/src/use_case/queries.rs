use order_domain::order::Party;
use order_domain::{Dispute, DisputeId, Order, OrderId};
use order_ports::store::{DisputeQuery, OrderQuery, OrderSelection, Page};

use crate::{AppError, Caller, OrderService};

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

    /// The orders the caller is party to (all orders for admins and services), as
    /// `role`'s side only when given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_orders(
        &self,
        caller: Caller,
        role: Option<Party>,
        selection: OrderSelection,
    ) -> Result<Page<Order>, AppError> {
        let query = OrderQuery {
            visibility: caller.visibility(role),
            selection,
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
