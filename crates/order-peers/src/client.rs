use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use tracing::Instrument;

use crate::config::{InvalidPeerConfig, PeerConfig};

/// A peer's answer that is not a transport failure: any status but 5xx, with its body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body, shortened for an error message.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut excerpt: String = text.chars().take(200).collect();
        if excerpt.len() < text.len() {
            excerpt.push('…');
        }
        format!("HTTP {}: {excerpt}", self.status.as_u16())
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body)
            .map_err(|error| format!("unreadable answer ({error}) — {}", self.excerpt()))
    }
}

/// A JSON client of one peer: base URL, service token, timeouts and retries.
#[derive(Clone, Debug)]
pub struct PeerClient {
    /// Which peer this is (`wallet`, `listing`), as its calls' spans name it.
    peer: &'static str,
    http: reqwest::Client,
    base_url: String,
    service_token: String,
    max_retries: u32,
    backoff: Duration,
}

impl PeerClient {
    pub fn new(peer: &'static str, config: PeerConfig) -> Result<PeerClient, InvalidPeerConfig> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        match Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => return Err(InvalidPeerConfig::BaseUrl(config.base_url)),
        }
        if config.service_token.is_empty() {
            return Err(InvalidPeerConfig::EmptyToken);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|error| InvalidPeerConfig::Client(error.to_string()))?;
        Ok(PeerClient {
            peer,
            http,
            base_url,
            service_token: config.service_token,
            max_retries: config.max_retries,
            backoff: config.backoff,
        })
    }

    /// Sends `method path` (relative to the base URL) until the peer answers something
    /// other than 5xx, or the retries run out. Every attempt carries the same
    /// `idempotency_key`, so that the peer can tell a retry from a new request.
    ///
    /// `Err` says why the peer is unavailable; nothing is known about whether an attempt
    /// that timed out took effect, which is what the idempotency key is for.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + Sync)>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base_url);
        let mut attempt = 0;
        loop {
            // Each attempt a span of its own (exported when tracing is), whose context the
            // call carries, so that the peer's spans of it hang below this one.
            let span = tracing::debug_span!(
                "peer call",
                otel.kind = "client",
                otel.name = %format_args!("{} {method}", self.peer),
                peer.service = self.peer,
                http.request.method = %method,
                url.path = path,
                http.response.status_code = tracing::field::Empty,
                attempt,
            );
            let outcome = self
                .attempt(&method, &url, body, idempotency_key, &span)
                .instrument(span.clone())
                .await;
            let failure = match outcome {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            if attempt >= self.max_retries {
                return Err(failure);
            }
            tracing::debug!(%failure, attempt, "retrying peer call");
            tokio::time::sleep(self.backoff_before(attempt)).await;
            attempt += 1;
        }
    }

    /// One attempt of [`PeerClient::call`]: the answer, or why the peer is unavailable.
    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&(impl Serialize + Sync)>,
        idempotency_key: Option<&str>,
        span: &tracing::Span,
    ) -> Result<Answer, String> {
        let mut request = self
            .http
            .request(method.clone(), url)
            .header("X-Service-Token", &self.service_token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        // The request this call serves, so that the peer's logs and traces join ours.
        if let Some(context) = order_ports::trace::outgoing(span) {
            request = request.header("traceparent", context.traceparent());
        }
        if let Some(trace) = order_ports::trace::current() {
            request = request.header("X-Request-Id", trace.request_id);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Err(format!("{method} {url}: {}", describe(&error))),
        };
        let status = response.status();
        span.record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            return Err(format!("{method} {url} answered HTTP {}", status.as_u16()));
        }
        match response.bytes().await {
            Ok(body) => Ok(Answer {
                status,
                body: body.to_vec(),
            }),
            Err(error) => Err(format!(
                "{method} {url}: reading the answer failed: {error}"
            )),
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random, so that
    /// replicas retrying after one outage do not all come back at the same instant.
    fn backoff_before(&self, attempt: u32) -> Duration {
        let step = self.backoff.saturating_mul(2u32.saturating_pow(attempt));
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        format!("connection failed: {error}")
    } else {
        error.to_string()
    }
}
