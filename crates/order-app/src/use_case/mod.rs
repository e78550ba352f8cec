//! One module per operation of the API.

pub mod auto_complete;
pub mod cancel;
pub mod complete;
pub mod create;
pub mod deadlines;
pub mod deliver;
pub mod dispute_open;
pub mod dispute_update;
pub mod evidence;
pub mod mark_paid;
pub mod offers;
pub mod operator;
pub mod personal_data;
pub mod purchase;
pub mod queries;
pub mod reconcile;
pub mod resume;
pub mod ship;
pub mod story;
pub mod tracking;

use order_domain::Order;

/// An order a create or purchase answered with: made now, or found already made by an
/// earlier identical request (HTTP 201 vs 200).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub order: Order,
    pub created: bool,
}

/// What one batch loop of a sweep did: the rows it changed, and those it left alone because
/// the domain refused them although the store claimed them.
pub(crate) struct Swept<Id> {
    pub done: Vec<Id>,
    pub refused: Vec<Id>,
}
