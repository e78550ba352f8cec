//! Who acts on an order, as types. A transition only the seller may make takes a
//! [`Seller`], and only [`Parties::seller`] makes one, from a user who is that order's seller;
//! so who may do what is stated once, by the transitions' signatures, and a use case cannot
//! forget to ask. (Who a user *is* — their token — is the edge's business, not this crate's.)

use crate::dispute::Dispute;
use crate::event::Actor;
use crate::id::UserId;
use crate::order::{Order, Party};

/// An order's buyer: made by [`Parties::buyer`] or [`Parties::participant`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buyer(UserId);

/// An order's seller: made by [`Parties::seller`] or [`Parties::participant`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seller(UserId);

/// Either party of an order (or of its dispute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Participant {
    /// The buyer.
    Buyer(Buyer),
    /// The seller.
    Seller(Seller),
}

/// The seller or an admin: who may refund an order outside a dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SellerOrAdmin {
    /// The order's seller.
    Seller(Seller),
    /// An admin.
    Admin(Admin),
}

/// A marketplace admin: a user the identity provider vouches for as staff. This crate
/// cannot check that claim; the edge that verified the token makes the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admin(UserId);

impl Buyer {
    /// The user.
    pub fn id(self) -> UserId {
        self.0
    }
}

impl Seller {
    /// The user.
    pub fn id(self) -> UserId {
        self.0
    }
}

impl Participant {
    /// The user.
    pub fn id(self) -> UserId {
        match self {
            Participant::Buyer(buyer) => buyer.id(),
            Participant::Seller(seller) => seller.id(),
        }
    }

    /// Which side of the order the user is on.
    pub fn party(self) -> Party {
        match self {
            Participant::Buyer(_) => Party::Buyer,
            Participant::Seller(_) => Party::Seller,
        }
    }
}

impl Admin {
    /// The admin `id`, on the word of a verified token that says the user is staff.
    pub fn vouched_for(id: UserId) -> Admin {
        Admin(id)
    }

    /// The user.
    pub fn id(self) -> UserId {
        self.0
    }
}

/// An order or its dispute, as far as who its two parties are. Whether a user is the buyer
/// or the seller is decided here, once, for both; a dispute names the same two users as its
/// order. Sealed: a `Buyer` or a `Seller` comes only from a real order or dispute, never
/// from a type made elsewhere to name any user:
///
/// ```compile_fail
/// use order_domain::{Parties, UserId};
///
/// struct Anyone(UserId);
///
/// impl Parties for Anyone {
///     fn buyer_id(&self) -> UserId {
///         self.0
///     }
///
///     fn seller_id(&self) -> UserId {
///         self.0
///     }
/// }
/// ```
pub trait Parties: sealed::Sealed {
    /// The buyer's user id.
    fn buyer_id(&self) -> UserId;

    /// The seller's user id.
    fn seller_id(&self) -> UserId;

    /// `user` as the buyer, if they are.
    fn buyer(&self, user: UserId) -> Option<Buyer> {
        (user == self.buyer_id()).then_some(Buyer(user))
    }

    /// `user` as the seller, if they are.
    fn seller(&self, user: UserId) -> Option<Seller> {
        (user == self.seller_id()).then_some(Seller(user))
    }

    /// `user` as either party, if they are one.
    fn participant(&self, user: UserId) -> Option<Participant> {
        self.buyer(user)
            .map(Participant::Buyer)
            .or_else(|| self.seller(user).map(Participant::Seller))
    }
}

mod sealed {
    /// Only this crate's aggregates have parties.
    pub trait Sealed {}
    impl Sealed for crate::order::Order {}
    impl Sealed for crate::dispute::Dispute {}
}

impl Parties for Order {
    fn buyer_id(&self) -> UserId {
        self.buyer_id
    }

    fn seller_id(&self) -> UserId {
        self.seller_id
    }
}

impl Parties for Dispute {
    fn buyer_id(&self) -> UserId {
        self.buyer_id
    }

    fn seller_id(&self) -> UserId {
        self.seller_id
    }
}

impl From<Buyer> for Actor {
    fn from(buyer: Buyer) -> Actor {
        Actor::Buyer(buyer.id())
    }
}

impl From<Seller> for Actor {
    fn from(seller: Seller) -> Actor {
        Actor::Seller(seller.id())
    }
}

impl From<Participant> for Actor {
    fn from(participant: Participant) -> Actor {
        match participant {
            Participant::Buyer(buyer) => buyer.into(),
            Participant::Seller(seller) => seller.into(),
        }
    }
}

impl From<SellerOrAdmin> for Actor {
    fn from(by: SellerOrAdmin) -> Actor {
        match by {
            SellerOrAdmin::Seller(seller) => seller.into(),
            SellerOrAdmin::Admin(admin) => admin.into(),
        }
    }
}

impl From<Admin> for Actor {
    fn from(admin: Admin) -> Actor {
        Actor::Admin(admin.id())
    }
}
