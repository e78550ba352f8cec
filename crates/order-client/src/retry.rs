//! When a call is sent again, and after how long.
//!
//! Every write carries an Idempotency-Key, so sending it again — with the same key — is
//! safe whatever became of the first attempt: the service does it once and answers each
//! attempt alike. The client therefore retries exactly the answers the service documents as
//! "come back": a 503 (after its `Retry-After`), a 409 saying the order or the key is busy
//! or was changed meanwhile, and an answer that never arrived.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{Error, ErrorCode};

/// How often and how patiently a call is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 sends each call once.
    pub max_attempts: u32,
    /// The wait before the second attempt when the service named none; it doubles for
    /// each attempt after that (with jitter, so that many clients do not return together).
    pub backoff: Duration,
    /// The longest the client waits between two attempts. A 503 asking for a longer
    /// wait is returned to the caller instead of being slept through.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, from 200 ms apart, waiting at most 30 s at a time.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Every call sent once: each failure goes straight to the caller.
    pub const fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            backoff: Duration::ZERO,
            max_wait: Duration::ZERO,
        }
    }

    /// How long to wait before attempt `attempt + 1` after `error` ended attempt `attempt`,
    /// or `None` when the error goes to the caller.
    pub(crate) fn wait_after(&self, attempt: u32, error: &Error) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = match error {
            Error::Refused(refusal) if refusal.status == 503 => refusal
                .retry_after
                .unwrap_or_else(|| self.backoff_for(attempt)),
            Error::Refused(refusal) if busy(&refusal.code) => self.backoff_for(attempt),
            Error::Transport(_) => self.backoff_for(attempt),
            _ => return None,
        };
        (wait <= self.max_wait).then_some(wait)
    }

    /// `backoff · 2^(attempt-1)`, between half of it and all of it, at most `max_wait`.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let full = self
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_wait);
        full / 2 + full.mul_f64(fastrand::f64() / 2.0)
    }
}

/// The refusals of a 409 that say "not now" rather than "no".
fn busy(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::IdempotencyInProgress
            | ErrorCode::OperationInProgress
            | ErrorCode::ConcurrentUpdate
    )
}

/// The `Retry-After` of an answer, in whole seconds (the form the service sends); an
/// HTTP date is not read, and the policy's own backoff applies instead.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable(retry_after: Option<u64>) -> Error {
        Error::from_answer(
            503,
            br#"{"detail": "Away.", "code": "service_unavailable"}"#,
            retry_after.map(Duration::from_secs),
        )
    }

    #[test]
    fn a_503_waits_as_long_as_it_asks() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.wait_after(1, &unavailable(Some(5))),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_503_asking_for_longer_than_the_longest_wait_goes_to_the_caller() {
        let policy = RetryPolicy {
            max_wait: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.wait_after(1, &unavailable(Some(5))), None);
    }

    #[test]
    fn the_last_attempt_is_not_followed_by_another() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.wait_after(4, &unavailable(Some(1))), None);
        assert_eq!(
            RetryPolicy::never().wait_after(1, &unavailable(Some(1))),
            None
        );
    }

    #[test]
    fn a_refusal_of_the_request_itself_is_not_retried() {
        let policy = RetryPolicy::default();
        let transition = Error::from_answer(
            409,
            br#"{"detail": "No.", "code": "invalid_transition", "status": "PAID"}"#,
            None,
        );
        assert_eq!(policy.wait_after(1, &transition), None);
        let busy = Error::from_answer(
            409,
            br#"{"detail": "Busy.", "code": "operation_in_progress"}"#,
            None,
        );
        let wait = policy
            .wait_after(1, &busy)
            .expect("a busy order is retried");
        assert!(wait <= policy.backoff && wait >= policy.backoff / 2);
    }

    #[test]
    fn backoff_doubles_and_stops_growing_at_the_longest_wait() {
        let policy = RetryPolicy {
            max_attempts: 30,
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
        };
        let third = policy.backoff_for(3);
        assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
        assert!(policy.backoff_for(25) <= Duration::from_secs(1));
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_a_date_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
