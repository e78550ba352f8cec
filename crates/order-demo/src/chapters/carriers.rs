//! Chapter 9: the carrier's own word — signed tracking updates deliver an order and shorten
//! the buyer's window.

use order_domain::OrderStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::sales::shown;
use crate::{listing, sibling, text, Cast, Demo, Result, CARRIER_SECRET};

impl Demo {
    /// Chapter 9: the carrier reports a failed attempt, then the delivery.
    pub(super) async fn carrier_updates(&self) -> Result<()> {
        println!(
            "\n9. Carriers: UPS tells the service itself where Alice's parcel is (signed updates)"
        );
        let id = self.paid_auction(listing(10), Cast::ALICE, "30.00").await?;
        let shipped = self.ship(id, "1Z-DEMO-9", "UPS").await?;
        println!(
            "   Sam ships a desk lamp with UPS 1Z-DEMO-9: it completes by itself at {} unless Alice acts",
            shown(shipped.auto_complete_at)
        );
        let failed = self
            .carrier_update(json!({
                "event_id": "ups-demo-1",
                "carrier": "ups",
                "tracking_number": "1z-demo-9",
                "status": "FAILED_ATTEMPT",
                "occurred_at": chrono::Utc::now(),
                "detail": "Nobody home; card left",
            }))
            .await?;
        let order = self.order(id).await?;
        let problem = order
            .delivery_problem
            .as_ref()
            .map(|problem| json!(problem).to_string())
            .unwrap_or_default();
        println!(
            "   UPS: FAILED_ATTEMPT → HTTP 200 {}; the order shows delivery_problem {problem}",
            text(&failed["result"]),
        );
        let update = json!({
            "event_id": "ups-demo-2",
            "carrier": "UPS",
            "tracking_number": "1Z-DEMO-9",
            "status": "DELIVERED",
            "occurred_at": chrono::Utc::now(),
        });
        self.carrier_update(update.clone()).await?;
        let delivered = self.order(id).await?;
        println!(
            "   UPS: DELIVERED → {} at {}; the problem is cleared and the window shortens to {} (delivery + 2 s)",
            delivered.status,
            shown(delivered.delivered_at),
            shown(delivered.auto_complete_at)
        );
        let repeat = self.carrier_update(update).await?;
        println!(
            "   UPS sends the delivery again → HTTP 200 {}: applied once",
            text(&repeat["result"])
        );
        let completed = self
            .wait_for_status(id, OrderStatus::Completed, "the completion after delivery")
            .await?;
        println!(
            "   COMPLETED at {}, before the 4 s shipping gave: Sam gets 28.50, the platform 1.50",
            shown(completed.completed_at)
        );
        Ok(())
    }

    /// Sends `update` as the carrier aggregator would, signed by `order-api carrier-sign`
    /// (the operator's own tool); the receipt.
    async fn carrier_update(&self, update: Value) -> Result<Value> {
        let body = serde_json::to_vec(&update).map_err(|e| e.to_string())?;
        let mut signer = tokio::process::Command::new(sibling("order-api")?)
            .arg("carrier-sign")
            .env("CARRIER_WEBHOOK_SECRET", CARRIER_SECRET)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("order-api carrier-sign: {e}"))?;
        let mut stdin = signer.stdin.take().ok_or("carrier-sign has no stdin")?;
        stdin.write_all(&body).await.map_err(|e| e.to_string())?;
        drop(stdin);
        let signed = signer.wait_with_output().await.map_err(|e| e.to_string())?;
        let signature = String::from_utf8_lossy(&signed.stdout).trim().to_owned();
        let response = self
            .http
            .post(format!("{}/api/v1/orders/carrier-events/", self.api))
            .header("Content-Type", "application/json")
            .header("Carrier-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let receipt: Value = response.json().await.unwrap_or(Value::Null);
        if status != StatusCode::OK {
            return Err(format!("the carrier's update answered {status}: {receipt}"));
        }
        Ok(receipt)
    }
}
