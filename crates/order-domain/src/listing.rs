//! What the Listing service tells this service about a listing.

use crate::id::{ListingId, UserId};
use crate::money::Money;

/// A listing as the Listing service describes it, read before a Buy It Now purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub id: ListingId,
    pub seller_id: UserId,
    pub title: String,
    /// The Listing service's status word; only `ACTIVE` listings can be bought.
    pub status: String,
    pub buy_now_price: Option<Money>,
    pub shipping_cost: Money,
}

impl Listing {
    pub const ACTIVE: &'static str = "ACTIVE";

    pub fn is_active(&self) -> bool {
        self.status == Self::ACTIVE
    }
}
