//! Chapter 10: the books — `order-api reconcile` proves every order agrees with its escrow
//! at the Wallet, and names the one a silent change in the Wallet made disagree.

use serde_json::json;

use order_domain::OrderId;

use crate::{sibling, Demo, Result, CREDENTIALS};

impl Demo {
    /// Chapter 10: a clean bill, a drift made on purpose and found, the drift mended.
    pub(super) async fn books(&self, database_url: &str, order_id: OrderId) -> Result<()> {
        println!(
            "\n10. The books: every order against its escrow at the Wallet (order-api reconcile)"
        );
        let (code, out) = self.reconcile(database_url, &[]).await?;
        if code != 0 {
            return Err(format!("reconcile exited {code} on agreeing books: {out}"));
        }
        println!("   order-api reconcile → exit 0: {}", first_line(&out));
        let order = self.order(order_id).await?;
        let escrow = order
            .escrow_id
            .ok_or("the keyboard's order has no escrow")?;
        let drift = format!("/_stub/escrows/{escrow}/drift/");
        let restore = json!({"amount": order.total});
        self.peers_post(&drift, json!({"amount": "0.01"}), None)
            .await?;
        let (code, out) = self
            .reconcile(database_url, &["--order", &order_id.to_string()])
            .await?;
        if code != 1 {
            return Err(format!(
                "reconcile exited {code} on a drifted escrow: {out}"
            ));
        }
        println!("   someone edits the keyboard's escrow in the Wallet's database by hand…");
        println!(
            "   order-api reconcile --order … → exit 1:\n     {}",
            first_line(&out)
        );
        self.peers_post(&drift, restore, None).await?;
        let (code, _) = self.reconcile(database_url, &[]).await?;
        if code != 0 {
            return Err(format!(
                "reconcile exited {code} once the escrow was mended"
            ));
        }
        println!("   mended at the Wallet → exit 0 again");
        Ok(())
    }

    /// Runs `order-api reconcile ARGS…` against the demo's database and stand-in Wallet;
    /// its exit code and what it printed.
    async fn reconcile(&self, database_url: &str, args: &[&str]) -> Result<(i32, String)> {
        let output = tokio::process::Command::new(sibling("order-api")?)
            .arg("reconcile")
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("WALLET_URL", format!("{}/api/v1/wallet", self.peers))
            .env("LISTING_URL", format!("{}/api/v1/listings", self.peers))
            .env("PEER_SERVICE_TOKEN", CREDENTIALS.peer_token)
            .output()
            .await
            .map_err(|e| format!("order-api reconcile: {e}"))?;
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        Ok((output.status.code().unwrap_or(-1), out))
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
