//! "No change while a Wallet movement is pending", as a type.
//!
//! While the Wallet is asked to move an order's money, the answer is to be applied to the
//! order and dispute it was decided for; a change in between (a declined offer, new evidence,
//! an escalation) would leave the records contradicting the money. Order transitions check
//! this through [`Order::begin`]; a dispute's changes take an [`IdleOrder`], which only
//! [`Order::idle`] makes, so that a new one cannot be written without the check.

use super::Order;
use crate::error::DomainError;

/// An order with no Wallet movement pending, as [`Order::idle`] found it.
///
/// ```
/// use order_domain::fixtures::{acting_buyer, disputed_from, later, shipped, with_offer};
///
/// let (order, dispute) = disputed_from(shipped());
/// let offered = with_offer(&order, &dispute, "40.00");
/// let offer = offered.pending_offer().unwrap().id;
/// offered.decline_offer(order.idle()?, acting_buyer(), offer, later(9))?;
/// # Ok::<(), order_domain::DomainError>(())
/// ```
///
/// Handed the order itself, unchecked, the same change does not compile:
///
/// ```compile_fail
/// use order_domain::fixtures::{acting_buyer, disputed_from, later, shipped, with_offer};
///
/// let (order, dispute) = disputed_from(shipped());
/// let offered = with_offer(&order, &dispute, "40.00");
/// let offer = offered.pending_offer().unwrap().id;
/// offered.decline_offer(&order, acting_buyer(), offer, later(9))?;
/// # Ok::<(), order_domain::DomainError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct IdleOrder<'a>(&'a Order);

impl<'a> IdleOrder<'a> {
    /// The order itself.
    pub fn order(self) -> &'a Order {
        self.0
    }
}

impl Order {
    /// This order, if no Wallet movement of it is pending; otherwise
    /// [`DomainError::OperationInProgress`]. Only the pending movement itself carries on
    /// past it, through its own retry.
    pub fn idle(&self) -> Result<IdleOrder<'_>, DomainError> {
        match self.escrow_intent {
            Some(_) => Err(DomainError::OperationInProgress),
            None => Ok(IdleOrder(self)),
        }
    }
}
