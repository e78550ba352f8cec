//! Peers on a real HTTP server (wiremock) that answer as a test needs.
#![allow(dead_code)]

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A peer that answers every `verb` request with `answer`.
pub async fn answering(verb: &str, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// [`answering`], and checks when dropped that exactly `calls` requests came: how a test
/// sees that an answer was retried, or was not.
pub async fn answering_exactly(verb: &str, answer: ResponseTemplate, calls: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .respond_with(answer)
        .expect(calls)
        .mount(&server)
        .await;
    server
}

/// A peer that answers the first `verb` request 503, and every later one with `answer`.
pub async fn unavailable_once_then(verb: &str, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method(verb))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}
