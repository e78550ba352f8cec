use async_trait::async_trait;
use order_domain::{Listing, ListingId, Money, UserId};
use order_ports::{ListingError, Listings};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::client::PeerClient;
use crate::config::{InvalidPeerConfig, PeerConfig};

/// The Listing service over HTTP (`LISTING_URL`).
#[derive(Clone, Debug)]
pub struct HttpListings {
    client: PeerClient,
}

impl HttpListings {
    pub fn new(config: PeerConfig) -> Result<HttpListings, InvalidPeerConfig> {
        Ok(HttpListings {
            client: PeerClient::new("listing", config)?,
        })
    }
}

/// The Listing service's representation; fields this service does not use are ignored.
#[derive(Deserialize)]
struct ListingBody {
    id: ListingId,
    seller_id: UserId,
    title: String,
    status: String,
    buy_now_price: Option<Money>,
    /// Absent or null means free shipping.
    #[serde(default)]
    shipping_cost: Option<Money>,
}

#[async_trait]
impl Listings for HttpListings {
    async fn listing(&self, id: ListingId) -> Result<Listing, ListingError> {
        let answer = self
            .client
            .call(Method::GET, &format!("/{id}/"), None::<&()>, None)
            .await
            .map_err(ListingError::Unavailable)?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(ListingError::NotFound),
            _ => return Err(ListingError::Protocol(answer.excerpt())),
        }
        let body: ListingBody = answer.json().map_err(ListingError::Protocol)?;
        if body.id != id {
            return Err(ListingError::Protocol(format!(
                "asked for listing {id}, got listing {}",
                body.id
            )));
        }
        Ok(Listing {
            id: body.id,
            seller_id: body.seller_id,
            title: body.title,
            status: body.status,
            buy_now_price: body.buy_now_price,
            shipping_cost: body.shipping_cost.unwrap_or(Money::ZERO),
        })
    }
}
