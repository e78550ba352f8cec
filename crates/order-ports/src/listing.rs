//! The Listing service, which knows what is for sale and at what price.

use async_trait::async_trait;
use order_domain::{Listing, ListingId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    /// The Listing service does not know this listing.
    #[error("listing not found")]
    NotFound,
    /// The Listing service could not be reached or kept failing after retries.
    #[error("listing service unavailable: {0}")]
    Unavailable(String),
    /// The Listing service answered something this service cannot use.
    #[error("listing service answered unexpectedly: {0}")]
    Protocol(String),
}

/// Reads listings from the Listing service.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Listings: Send + Sync {
    /// The listing as the Listing service has it now.
    ///
    /// MUST return [`ListingError::NotFound`] when the service answers 404, and
    /// [`ListingError::Unavailable`] when it cannot be reached, times out or answers 5xx.
    async fn listing(&self, id: ListingId) -> Result<Listing, ListingError>;
}
