use async_trait::async_trait;
use order_domain::reconcile::EscrowRecord;
use order_domain::EscrowId;
use order_ports::{HoldEscrow, RefundEscrow, ReleaseEscrow, Wallet, WalletError};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::client::{Answer, PeerClient};
use crate::config::{InvalidPeerConfig, PeerConfig};

/// The Wallet service over HTTP (`WALLET_URL`).
#[derive(Clone, Debug)]
pub struct HttpWallet {
    client: PeerClient,
}

impl HttpWallet {
    pub fn new(config: PeerConfig) -> Result<HttpWallet, InvalidPeerConfig> {
        Ok(HttpWallet {
            client: PeerClient::new("wallet", config)?,
        })
    }

    async fn post(
        &self,
        path: &str,
        body: &(impl Serialize + Sync),
        key: &str,
    ) -> Result<Answer, WalletError> {
        let answer = self
            .client
            .call(Method::POST, path, Some(body), Some(key))
            .await
            .map_err(WalletError::Unavailable)?;
        match answer.status {
            StatusCode::PAYMENT_REQUIRED => Err(WalletError::InsufficientFunds),
            status if status.is_success() => Ok(answer),
            _ => Err(WalletError::Rejected(answer.excerpt())),
        }
    }
}

#[derive(Deserialize)]
struct Held {
    escrow_id: EscrowId,
}

#[derive(Serialize)]
struct HoldBody<'a> {
    order_id: &'a order_domain::OrderId,
    buyer_id: &'a order_domain::UserId,
    amount: &'a order_domain::Money,
}

#[derive(Serialize)]
struct ReleaseBody<'a> {
    escrow_id: &'a EscrowId,
    order_id: &'a order_domain::OrderId,
    seller_id: &'a order_domain::UserId,
    seller_amount: &'a order_domain::Money,
    fee_amount: &'a order_domain::Money,
}

#[derive(Serialize)]
struct RefundBody<'a> {
    escrow_id: &'a EscrowId,
    order_id: &'a order_domain::OrderId,
    buyer_id: &'a order_domain::UserId,
    refund_amount: &'a order_domain::Money,
    seller_id: &'a order_domain::UserId,
    seller_amount: &'a order_domain::Money,
    fee_amount: &'a order_domain::Money,
}

#[async_trait]
impl Wallet for HttpWallet {
    async fn hold_escrow(&self, request: HoldEscrow) -> Result<EscrowId, WalletError> {
        let body = HoldBody {
            order_id: &request.order_id,
            buyer_id: &request.buyer_id,
            amount: &request.amount,
        };
        let answer = self
            .post("/internal/hold-escrow/", &body, &request.idempotency_key)
            .await?;
        let held: Held = answer.json().map_err(WalletError::Rejected)?;
        Ok(held.escrow_id)
    }

    async fn release_escrow(&self, request: ReleaseEscrow) -> Result<(), WalletError> {
        let body = ReleaseBody {
            escrow_id: &request.escrow_id,
            order_id: &request.order_id,
            seller_id: &request.seller_id,
            seller_amount: &request.seller_amount,
            fee_amount: &request.fee_amount,
        };
        self.post("/internal/release-escrow/", &body, &request.idempotency_key)
            .await
            .map(drop)
    }

    async fn refund_escrow(&self, request: RefundEscrow) -> Result<(), WalletError> {
        let body = RefundBody {
            escrow_id: &request.escrow_id,
            order_id: &request.order_id,
            buyer_id: &request.buyer_id,
            refund_amount: &request.refund_amount,
            seller_id: &request.seller_id,
            seller_amount: &request.seller_amount,
            fee_amount: &request.fee_amount,
        };
        self.post("/internal/refund-escrow/", &body, &request.idempotency_key)
            .await
            .map(drop)
    }

    async fn escrow(&self, id: EscrowId) -> Result<Option<EscrowRecord>, WalletError> {
        let answer = self
            .client
            .call(
                Method::GET,
                &format!("/internal/escrows/{id}/"),
                None::<&()>,
                None,
            )
            .await
            .map_err(WalletError::Unavailable)?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(WalletError::Rejected(answer.excerpt())),
        }
        let record: EscrowRecord = answer.json().map_err(WalletError::Rejected)?;
        if record.escrow_id != id {
            return Err(WalletError::Rejected(format!(
                "asked for escrow {id}, got escrow {}",
                record.escrow_id
            )));
        }
        Ok(Some(record))
    }
}
