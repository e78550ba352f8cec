use std::time::Duration;

/// How to reach one peer service, and how patient to be with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// The peer's API root, e.g. `http://wallet:8006/api/v1/wallet`.
    pub base_url: String,
    /// Sent as `X-Service-Token` on every call.
    pub service_token: String,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// How long one attempt may take from sending to the end of the answer.
    pub timeout: Duration,
    /// Attempts after the first one, on transport errors, timeouts and 5xx answers.
    pub max_retries: u32,
    /// The first retry waits about this long; each further retry about twice as long.
    pub backoff: Duration,
}

impl PeerConfig {
    /// A config with the default patience: 2 s to connect, 5 s an attempt, 2 retries
    /// starting at 100 ms. A call fails at worst after about 3 × 5 s + 0.3 s.
    pub fn new(base_url: impl Into<String>, service_token: impl Into<String>) -> PeerConfig {
        PeerConfig {
            base_url: base_url.into(),
            service_token: service_token.into(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_retries: 2,
            backoff: Duration::from_millis(100),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPeerConfig {
    #[error("\"{0}\" is not an absolute http(s) URL")]
    BaseUrl(String),
    #[error("the peer service token is empty")]
    EmptyToken,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
