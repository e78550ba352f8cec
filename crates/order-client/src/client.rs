//! The client itself: who it calls as, how a call is sent and retried, and how its answer
//! is read. The endpoints are in [`crate::endpoints`].

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::carrier::CarrierSigningKey;
use crate::error::Error;
use crate::retry::{self, RetryPolicy};

/// The header that makes a write safe to send again.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// A client of one Order Service, as one caller. Cloning it is cheap and shares its
/// connections; [`OrderClient::as_user`] and [`OrderClient::as_service`] give clones that
/// call as someone else.
#[derive(Clone, Debug)]
pub struct OrderClient {
    http: reqwest::Client,
    /// The service's root, without a trailing slash (`http://orders:8005`).
    base: Arc<str>,
    credentials: Credentials,
    retry: RetryPolicy,
}

/// Who the calls are made as.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nobody: only the open endpoints (health, the API document) answer.
    Anonymous,
    /// A user (or an admin) with the identity provider's token, sent as `Bearer`.
    User(String),
    /// A service of the platform with its token, sent as `X-Service-Token`.
    Service(String),
}

impl std::fmt::Debug for Credentials {
    // A logged client shows who it calls as, never the secret it calls with.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::Anonymous => "Anonymous",
            Credentials::User(_) => "User([redacted])",
            Credentials::Service(_) => "Service([redacted])",
        })
    }
}

impl OrderClient {
    /// A client of the service at `base_url` (`http://orders:8005`), calling as nobody,
    /// with a 30-second timeout per attempt and the default [`RetryPolicy`].
    pub fn new(base_url: &str) -> Result<OrderClient, Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(Error::Transport)?;
        Ok(OrderClient::with_http(http, base_url))
    }

    /// A client that sends its calls through `http` (for its own timeouts, proxies or
    /// TLS settings).
    pub fn with_http(http: reqwest::Client, base_url: &str) -> OrderClient {
        OrderClient {
            http,
            base: base_url.trim_end_matches('/').into(),
            credentials: Credentials::Anonymous,
            retry: RetryPolicy::default(),
        }
    }

    /// This client, calling as the user or admin whose token this is.
    pub fn as_user(&self, token: impl Into<String>) -> OrderClient {
        self.with_credentials(Credentials::User(token.into()))
    }

    /// This client, calling as a service of the platform with its token.
    pub fn as_service(&self, token: impl Into<String>) -> OrderClient {
        self.with_credentials(Credentials::Service(token.into()))
    }

    /// This client, calling with `credentials`.
    pub fn with_credentials(&self, credentials: Credentials) -> OrderClient {
        OrderClient {
            credentials,
            ..self.clone()
        }
    }

    /// This client, retrying as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> OrderClient {
        self.retry = retry;
        self
    }

    /// The service's root URL, as given.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A read of `path` (with `query`), retried as the policy says.
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<T, Error> {
        let url = self.url(path, query)?;
        let answer = self.send(Method::GET, url, None, &[]).await?;
        answer.json()
    }

    /// A read of `path` as text, sent once: the operational endpoints report on the service
    /// now, and a retry would hide what they report.
    pub(crate) async fn read_text(&self, path: &str) -> Result<String, Error> {
        let url = self.url(path, &[])?;
        let answer = self
            .clone()
            .with_retry(RetryPolicy::never())
            .send(Method::GET, url, None, &[])
            .await?;
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    /// A write of `body` to `path`: sent with a fresh Idempotency-Key unless the caller
    /// sets one on the returned [`Write`].
    pub(crate) fn write<T, B: Serialize>(
        &self,
        method: Method,
        path: String,
        body: &B,
    ) -> Write<'_, T> {
        Write {
            client: self,
            method,
            path,
            body: encode(body),
            key: None,
            answer: PhantomData,
        }
    }

    /// A carrier's signed update: signed anew for each attempt, so that a retry after a
    /// long wait still falls within the service's tolerance.
    pub(crate) async fn signed<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
        key: &CarrierSigningKey,
    ) -> Result<T, Error> {
        let body = encode(body)?;
        let url = self.url(path, &[])?;
        self.send_signed(Method::POST, url, Some(&body), &[], Some(key))
            .await?
            .json()
    }

    /// Follows a page's `next` link, through this client's base URL whatever host the link
    /// names (the service names the host it was reached by, which behind a proxy may not
    /// be the one this client uses); `None` on the last page.
    pub async fn next_page<T: DeserializeOwned>(
        &self,
        page: &crate::Page<T>,
    ) -> Result<Option<crate::Page<T>>, Error> {
        let Some(next) = &page.next else {
            return Ok(None);
        };
        let link = Url::parse(next).map_err(|error| {
            Error::unexpected(200, format!("a next link ({error})"), next.as_bytes())
        })?;
        let mut url = self.url(link.path(), &[])?;
        url.set_query(link.query());
        let answer = self.send(Method::GET, url, None, &[]).await?;
        answer.json().map(Some)
    }

    fn url(&self, path: &str, query: &[(&'static str, String)]) -> Result<Url, Error> {
        let mut url = Url::parse(&format!("{}{path}", self.base)).map_err(|error| {
            Error::InvalidRequest(format!("\"{}\" does not make a URL ({error})", self.base))
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&[u8]>,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<Answer, Error> {
        self.send_signed(method, url, body, headers, None).await
    }

    /// Sends the request until it succeeds or the policy gives up, each attempt alike
    /// (the same headers, so the same Idempotency-Key), a carrier's update signed anew for
    /// each.
    async fn send_signed(
        &self,
        method: Method,
        url: Url,
        body: Option<&[u8]>,
        headers: &[(HeaderName, HeaderValue)],
        signing_key: Option<&CarrierSigningKey>,
    ) -> Result<Answer, Error> {
        let mut attempt = 1;
        loop {
            let mut request = self.http.request(method.clone(), url.clone());
            request = match &self.credentials {
                Credentials::Anonymous => request,
                Credentials::User(token) => request.bearer_auth(token),
                Credentials::Service(token) => request.header("X-Service-Token", token),
            };
            for (name, value) in headers {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
                if let Some(key) = signing_key {
                    let now = chrono::Utc::now().timestamp();
                    request = request.header(crate::carrier::HEADER, key.sign(now, body));
                }
            }
            let error = match attempt_once(request).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            match self.retry.wait_after(attempt, &error) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
            attempt += 1;
        }
    }
}

/// A request's JSON body.
fn encode<B: Serialize>(body: &B) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|error| Error::InvalidRequest(format!("the body does not serialize: {error}")))
}

/// One attempt: the answer when it succeeded, its error otherwise.
async fn attempt_once(request: reqwest::RequestBuilder) -> Result<Answer, Error> {
    let response = request.send().await.map_err(Error::Transport)?;
    let status = response.status().as_u16();
    let retry_after = retry::retry_after(response.headers());
    // A body cut off midway is an answer that never arrived.
    let body = response.bytes().await.map_err(Error::Transport)?.to_vec();
    if (200..300).contains(&status) {
        Ok(Answer { status, body })
    } else {
        Err(Error::from_answer(status, &body, retry_after))
    }
}

/// A successful answer's status and body.
pub(crate) struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|error| Error::unexpected(self.status, error, &self.body))
    }
}

/// A write about to be sent: `.await` it to send it with a fresh Idempotency-Key, or name
/// the key first with [`Write::idempotency_key`].
#[must_use = "a write does nothing until it is awaited"]
pub struct Write<'a, T> {
    client: &'a OrderClient,
    method: Method,
    path: String,
    body: Result<Vec<u8>, Error>,
    key: Option<String>,
    answer: PhantomData<fn() -> T>,
}

impl<T> Write<'_, T> {
    /// Sends the write under `key` instead of a fresh one: a caller that may itself crash
    /// and start over derives the key from what it does (`auction-42-close`), so that its
    /// second try is the same request to the service. A key may be reused only with the
    /// same request (otherwise: 422 `idempotency_key_reused`).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl<T: DeserializeOwned> Write<'_, T> {
    /// Sends the write, every attempt under the same Idempotency-Key.
    pub async fn send(self) -> Result<T, Error> {
        let body = self.body?;
        let key = self.key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let key = HeaderValue::from_str(&key).map_err(|_| {
            Error::InvalidRequest(format!(
                "the Idempotency-Key {key:?} is not printable ASCII"
            ))
        })?;
        let url = self.client.url(&self.path, &[])?;
        self.client
            .send(self.method, url, Some(&body), &[(IDEMPOTENCY_KEY, key)])
            .await?
            .json()
    }
}

impl<'a, T: DeserializeOwned + 'a> IntoFuture for Write<'a, T> {
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
