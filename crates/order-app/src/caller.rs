//! Who is asking, and the rules on what they may see and do.

use order_domain::order::Party;
use order_domain::{Admin, Dispute, Order, Parties, UserId};
use order_ports::store::Visibility;

use crate::error::AppError;

/// The authenticated identity behind a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A marketplace user, from a JWT; admins are users with `is_staff`.
    User { id: UserId, is_staff: bool },
    /// Another marketplace service, from an internal service token.
    Service,
}

impl Caller {
    pub fn user(id: UserId) -> Caller {
        Caller::User {
            id,
            is_staff: false,
        }
    }

    pub fn admin(id: UserId) -> Caller {
        Caller::User { id, is_staff: true }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Caller::User { id, .. } => Some(*id),
            Caller::Service => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::User { is_staff: true, .. })
    }

    /// Internal operations are for services; a user, even an admin, is refused (403).
    pub(crate) fn require_service(&self) -> Result<(), AppError> {
        match self {
            Caller::Service => Ok(()),
            Caller::User { .. } => Err(AppError::Forbidden),
        }
    }

    /// The caller as an admin, if their token says they are staff.
    pub fn as_admin(&self) -> Option<Admin> {
        match self {
            Caller::User { id, is_staff: true } => Some(Admin::vouched_for(*id)),
            _ => None,
        }
    }

    /// Admin-only operations: the admin acting, or 403 for anyone else.
    pub(crate) fn require_admin(&self) -> Result<Admin, AppError> {
        self.as_admin().ok_or(AppError::Forbidden)
    }

    /// The orders this caller sees, narrowed to those where it is `role` when it asks: the
    /// one rule behind reading an order and listing orders. Buyer and seller see an order,
    /// admins and services see all.
    pub fn visibility(&self, role: Option<Party>) -> Visibility {
        match (*self, role) {
            (Caller::Service, _) | (Caller::User { is_staff: true, .. }, None) => Visibility::All,
            (Caller::User { id, .. }, None) => Visibility::Participant(id),
            (Caller::User { id, .. }, Some(Party::Buyer)) => Visibility::Buyer(id),
            (Caller::User { id, .. }, Some(Party::Seller)) => Visibility::Seller(id),
        }
    }

    /// An order this caller may not see is one it is told does not exist, so that it
    /// cannot learn that it does.
    pub fn require_sees_order(&self, order: &Order) -> Result<(), AppError> {
        if self.visibility(None).admits(order) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The caller as the order's or the dispute's buyer, seller or either, as `role` makes
    /// them ([`Parties::buyer`], [`Parties::seller`], [`Parties::participant`]): 404 for
    /// those who cannot see it, 403 for those who can but are not that.
    pub(crate) fn acting_as<S: Guarded, T>(
        &self,
        subject: &S,
        role: impl FnOnce(&S, UserId) -> Option<T>,
    ) -> Result<T, AppError> {
        subject.require_seen_by(self)?;
        let acting = self.user_id().and_then(|id| role(subject, id));
        acting.ok_or(AppError::Forbidden)
    }

    /// Admins and the dispute's parties see a dispute; anyone else is told it does not exist.
    pub(crate) fn require_sees_dispute(&self, dispute: &Dispute) -> Result<(), AppError> {
        match self {
            Caller::User { is_staff: true, .. } => Ok(()),
            Caller::User { id, .. } if dispute.participant(*id).is_some() => Ok(()),
            _ => Err(AppError::NotFound),
        }
    }
}

/// What a caller acts on as one of its parties, and the rule on who may see it at all.
pub(crate) trait Guarded: Parties {
    /// Ok if `caller` may see this; 404 otherwise.
    fn require_seen_by(&self, caller: &Caller) -> Result<(), AppError>;
}

impl Guarded for Order {
    fn require_seen_by(&self, caller: &Caller) -> Result<(), AppError> {
        caller.require_sees_order(self)
    }
}

impl Guarded for Dispute {
    fn require_seen_by(&self, caller: &Caller) -> Result<(), AppError> {
        caller.require_sees_dispute(self)
    }
}
