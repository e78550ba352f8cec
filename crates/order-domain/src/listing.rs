//! What the Listing service tells this service about a listing.

use crate::id::{ListingId, UserId};
use crate::money::Money;

/// A listing as the Listing service describes it, read before a Buy It Now purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The listing's id.
    pub id: ListingId,
    /// Who sells it.
    pub seller_id: UserId,
    /// Its title, as shown to buyers.
    pub title: String,
    /// The Listing service's status word; only `ACTIVE` listings can be bought.
    pub status: String,
    /// The price that buys it at once, if the seller set one.
    pub buy_now_price: Option<Money>,
    /// What shipping costs the buyer on top of the price.
    pub shipping_cost: Money,
}

impl Listing {
    /// The status word of a listing that can be bought.
    pub const ACTIVE: &'static str = "ACTIVE";

    /// Whether it can be bought now.
    pub fn is_active(&self) -> bool {
        self.status == Self::ACTIVE
    }
}
