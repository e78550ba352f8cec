//! The signature a carrier aggregator puts on its updates: `Carrier-Signature:
//! t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the secret it shares
//! with the service. The service refuses a signature more than five minutes from its clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The request header that carries the signature.
pub(crate) const HEADER: &str = "carrier-signature";

/// The secret an aggregator signs its updates with (the service's
/// `CARRIER_WEBHOOK_SECRET`). Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct CarrierSigningKey(Hmac<Sha256>);

impl std::fmt::Debug for CarrierSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CarrierSigningKey([redacted])")
    }
}

impl CarrierSigningKey {
    /// The key of `secret`.
    pub fn new(secret: &[u8]) -> CarrierSigningKey {
        // HMAC takes a key of any length (a long one is hashed first): `new_from_slice`
        // fails only for MACs with a fixed key size, so the empty MAC below is never used.
        CarrierSigningKey(
            Hmac::new_from_slice(secret).unwrap_or_else(|_| Hmac::new(&Default::default())),
        )
    }

    /// The header value that signs `body` at `timestamp` (unix seconds).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!(
            "t={timestamp},v1={}",
            hex::encode(mac.finalize().into_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_of_the_time_and_the_body() {
        // The reference value: `printf '1700000000.{}' | openssl dgst -sha256 -hmac secret`.
        assert_eq!(
            CarrierSigningKey::new(b"secret").sign(1_700_000_000, b"{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
