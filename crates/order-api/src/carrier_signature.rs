//! Carriers' updates are authenticated by a signature instead of a token: the aggregator
//! sends `Carrier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`,
//! keyed with the secret both sides hold (`CARRIER_WEBHOOK_SECRET`).
//!
//! The signature covers the bytes as sent, so it is checked before the body is parsed:
//! a parser never sees an unauthenticated body. `t` binds the signature to a moment, so a
//! captured request replayed more than [`TOLERANCE_SECONDS`] later is refused (a replay
//! within the window is a repeat of the update's `event_id`, applied once anyway).

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The request header that carries the signature.
pub const HEADER: &str = "Carrier-Signature";

/// How far `t` may be from the service's clock, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature is refused (each a 401, all alike to the sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Carrier-Signature header is missing")]
    Missing,
    #[error("the Carrier-Signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    #[error("the signature's time is more than 300 s from now")]
    OutsideTolerance,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The shared secret. Its `Debug` shows nothing of it, so a logged configuration leaks
/// nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct CarrierSecret(Vec<u8>);

impl fmt::Debug for CarrierSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CarrierSecret([redacted])")
    }
}

impl CarrierSecret {
    pub fn new(secret: impl Into<Vec<u8>>) -> CarrierSecret {
        CarrierSecret(secret.into())
    }

    // HMAC accepts a key of any length (a long one is hashed first), so `new_from_slice`
    // cannot fail here; its `Result` exists for MACs with fixed key sizes.
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The header value that signs `body` at `timestamp` (unix seconds).
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(timestamp, body).finalize().into_bytes();
        format!("t={timestamp},v1={}", hex::encode(tag))
    }

    /// Checks `header` (the `Carrier-Signature` value, if sent) against `body` at `now`.
    /// Several `v1` are accepted, any one matching, so that a sender can sign with an old
    /// and a new secret while the secret is changed. The tags are compared in constant
    /// time (`Mac::verify_slice`).
    pub fn verify(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let mut timestamp = None;
        let mut tags = Vec::new();
        for part in header.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or(SignatureError::Malformed)?;
            match key {
                "t" if timestamp.is_none() => {
                    let seconds = value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?;
                    timestamp = Some(seconds);
                }
                "v1" => tags.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
                // Schemes this version does not know are skipped, as senders add them.
                "t" => return Err(SignatureError::Malformed),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if tags.is_empty() {
            return Err(SignatureError::Malformed);
        }
        if now.timestamp().abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
            return Err(SignatureError::OutsideTolerance);
        }
        let mac = self.mac(timestamp, body);
        if tags.iter().any(|tag| mac.clone().verify_slice(tag).is_ok()) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
    }

    fn secret() -> CarrierSecret {
        CarrierSecret::new("whsec-test")
    }

    const BODY: &[u8] = br#"{"event_id":"e1"}"#;

    #[test]
    fn a_body_signed_with_the_secret_is_accepted() {
        let header = secret().sign(now().timestamp(), BODY);
        assert_eq!(secret().verify(Some(&header), BODY, now()), Ok(()));
    }

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_time_a_dot_and_the_body() {
        // Computed independently: printf '1764849600.{"event_id":"e1"}' |
        //   openssl dgst -sha256 -hmac whsec-test
        let header = secret().sign(1_764_849_600, BODY);
        assert_eq!(
            header,
            "t=1764849600,v1=cb00fb7faf1f4526c643b356036e3a62a868bf58ac9a17e924df46c48c20143b"
        );
    }

    #[test]
    fn another_body_or_secret_does_not_match() {
        let header = secret().sign(now().timestamp(), BODY);
        let other_body = br#"{"event_id":"e2"}"#;
        assert_eq!(
            secret().verify(Some(&header), other_body, now()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            CarrierSecret::new("other").verify(Some(&header), BODY, now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_time_more_than_five_minutes_away_is_refused_either_way() {
        for offset in [-301, 301] {
            let header = secret().sign(now().timestamp() + offset, BODY);
            assert_eq!(
                secret().verify(Some(&header), BODY, now()),
                Err(SignatureError::OutsideTolerance),
                "{offset}"
            );
        }
        for offset in [-300, 300] {
            let header = secret().sign(now().timestamp() + offset, BODY);
            assert_eq!(secret().verify(Some(&header), BODY, now()), Ok(()));
        }
    }

    #[test]
    fn malformed_headers_are_refused_as_such() {
        for header in [
            "",
            "t=1",
            "v1=00",
            "t=abc,v1=00",
            "t=1,v1=zz",
            "t=1,t=2,v1=00",
            "garbage",
        ] {
            assert_eq!(
                secret().verify(Some(header), BODY, now()),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
        assert_eq!(
            secret().verify(None, BODY, now()),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn any_of_several_tags_may_match() {
        let good = secret().sign(now().timestamp(), BODY);
        let tag = good.split_once(",v1=").unwrap().1;
        let header = format!(
            "t={},v1={},v1={tag},v0=legacy",
            now().timestamp(),
            "00".repeat(32)
        );
        assert_eq!(secret().verify(Some(&header), BODY, now()), Ok(()));
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        assert!(!format!("{:?}", secret()).contains("whsec"));
    }
}
