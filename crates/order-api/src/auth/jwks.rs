//! The identity provider's JSON Web Key Set (`JWT_JWKS_URL`): the public keys user tokens
//! name by `kid`. Fetched at start, and again when a token names a `kid` the set does not
//! hold, so that a provider's key rotation needs no restart — at most once per interval
//! (`JWT_JWKS_REFETCH_INTERVAL`, 30 s by default), so that tokens with made-up `kid`s cannot
//! turn the service into a flood of requests to the provider. A fetch that fails keeps the
//! keys already held: the provider being unreachable signs nobody out.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// The longest a fetch may take: a request naming a new `kid` waits for it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A key a token may be signed with, and the one algorithm it verifies: a token whose
/// header names another algorithm is refused, whatever its signature.
#[derive(Clone)]
pub struct SigningKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

pub struct Jwks {
    url: String,
    /// The least time between two fetches.
    refetch_after: Duration,
    client: reqwest::Client,
    /// The keys of the last set fetched, by `kid`; swapped whole, never edited. Each key
    /// shared, so that a request verifying with it copies a pointer, not the key.
    keys: RwLock<Arc<HashMap<String, Arc<SigningKey>>>>,
    /// When a fetch was last started. An async lock, so that one fetch runs at a time and
    /// the requests that queued behind it read what it found instead of fetching again.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    /// A set at `url`, fetched no more often than every `refetch_after`; nothing fetched
    /// yet.
    pub fn new(url: String, refetch_after: Duration) -> Result<Jwks, String> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("JWT_JWKS_URL: {e}"))?;
        Ok(Jwks {
            url,
            refetch_after,
            client,
            keys: RwLock::new(Arc::default()),
            fetched: tokio::sync::Mutex::new(None),
        })
    }

    /// Whether no key is held: none fetched yet, or the provider's set holds none this
    /// service can use.
    pub fn is_empty(&self) -> bool {
        self.held().is_empty()
    }

    /// The key `kid` names: held already, or in the set fetched again now (if the last
    /// fetch started long enough ago).
    pub async fn key(&self, kid: &str) -> Option<Arc<SigningKey>> {
        if let Some(key) = self.held().get(kid) {
            return Some(Arc::clone(key));
        }
        self.refresh().await;
        self.held().get(kid).cloned()
    }

    /// Fetches the set again, unless a fetch started within the interval. On failure the
    /// keys held stay.
    pub async fn refresh(&self) {
        let mut fetched = self.fetched.lock().await;
        if fetched.is_some_and(|at| at.elapsed() < self.refetch_after) {
            return;
        }
        *fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "signing keys fetched");
                *self
                    .keys
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keys);
            }
            Err(error) => tracing::warn!(
                url = %self.url,
                %error,
                "the signing key set could not be fetched; the keys held stay in use"
            ),
        }
    }

    fn held(&self) -> Arc<HashMap<String, Arc<SigningKey>>> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<SigningKey>>, reqwest::Error> {
        let set: KeySet = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .filter_map(|jwk| signing_key(&jwk))
            .map(|(kid, key)| (kid, Arc::new(key)))
            .collect())
    }
}

/// A key set read a key at a time: a key of a type this service does not know (a
/// provider may add one any day) is skipped, not a reason to refuse the whole set.
#[derive(serde::Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// The key of `jwk` with its `kid`, if it is one this service verifies tokens with: an
/// RSA key for RS256 or a P-256 key for ES256, meant for signatures. Anything else in the
/// set (encryption keys, HMAC secrets, other curves) is left out, so that no token can be
/// verified with it.
fn signing_key(jwk: &Jwk) -> Option<(String, SigningKey)> {
    let kid = jwk.common.key_id.clone()?;
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|used_for| *used_for != PublicKeyUse::Signature)
    {
        return None;
    }
    let algorithm = match (jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256) | None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (Some(KeyAlgorithm::ES256) | None, AlgorithmParameters::EllipticCurve(params))
            if params.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, SigningKey { key, algorithm }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: serde_json::Value) -> Jwk {
        serde_json::from_value(json).unwrap()
    }

    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    #[test]
    fn an_rsa_key_verifies_rs256_and_a_p256_key_es256() {
        let (kid, rsa) = signing_key(&jwk(
            serde_json::json!({"kty": "RSA", "kid": "a", "n": N, "e": "AQAB"}),
        ))
        .unwrap();
        assert_eq!((kid.as_str(), rsa.algorithm), ("a", Algorithm::RS256));
        let (_, ec) = signing_key(&jwk(serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "b", "use": "sig",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        })))
        .unwrap();
        assert_eq!(ec.algorithm, Algorithm::ES256);
    }

    #[test]
    fn keys_a_token_must_not_be_verified_with_are_left_out() {
        for refused in [
            // No kid: no token could name it.
            serde_json::json!({"kty": "RSA", "n": N, "e": "AQAB"}),
            // An encryption key.
            serde_json::json!({"kty": "RSA", "kid": "e", "use": "enc", "n": N, "e": "AQAB"}),
            // An RSA key its provider meant for another algorithm.
            serde_json::json!({"kty": "RSA", "kid": "p", "alg": "PS256", "n": N, "e": "AQAB"}),
            // A shared secret: the HMAC family is never verified from the set.
            serde_json::json!({"kty": "oct", "kid": "h", "alg": "HS256", "k": "c2VjcmV0"}),
        ] {
            assert!(signing_key(&jwk(refused.clone())).is_none(), "{refused}");
        }
    }
}
