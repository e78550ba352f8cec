//! Peers on a real HTTP server (wiremock) that answer as a test needs.
#![allow(dead_code)]

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A peer that answers every `verb` request with `answer`.
pub async fn answering(verb: &str, answer: ResponseTemplate) -> MockServer {
    peer([Mock::given(method(verb)).respond_with(answer)]).await
}

/// [`answering`], and checks when dropped that exactly `calls` requests came: how a test
/// sees that an answer was retried, or was not.
pub async fn answering_exactly(verb: &str, answer: ResponseTemplate, calls: u64) -> MockServer {
    peer([Mock::given(method(verb)).respond_with(answer).expect(calls)]).await
}

/// A peer that answers the first `verb` request 503, and every later one with `answer`.
pub async fn unavailable_once_then(verb: &str, answer: ResponseTemplate) -> MockServer {
    let unavailable = ResponseTemplate::new(503);
    peer([
        Mock::given(method(verb))
            .respond_with(unavailable)
            .up_to_n_times(1),
        Mock::given(method(verb)).respond_with(answer),
    ])
    .await
}

/// A server with `mocks` mounted, the first mounted answering first.
async fn peer<const N: usize>(mocks: [Mock; N]) -> MockServer {
    let server = MockServer::start().await;
    for mock in mocks {
        mock.mount(&server).await;
    }
    server
}
