//! The service's business settings, as one value for the rules that need several of them.

use super::Deadlines;
use crate::money::FeeRate;

/// The fee and the deadline windows in force: what a dispute's resolution needs to decide
/// both the money (the fee on a seller's share) and the clock (a deadline given back).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    /// The platform's fee on a seller's share.
    pub fee_rate: FeeRate,
    /// How long each party has.
    pub deadlines: Deadlines,
}
