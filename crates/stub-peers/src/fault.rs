//! Faults the stand-ins can be told to show, so that tests and demos can watch the
//! Order Service survive them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    Wallet,
    Listing,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum FaultMode {
    /// Answer 503 without doing anything.
    Unavailable,
    /// Wait this long, then serve the request normally.
    Delay { delay_ms: u64 },
    /// Do the work, then cut the connection before the answer's body: the caller cannot
    /// tell whether anything happened, which is what idempotency keys are for.
    Drop,
    /// Do the work, then wait this long before answering: the money has moved while the
    /// caller still waits, the window in which a caller's crash must lose nothing.
    Stall { delay_ms: u64 },
}

/// A fault for the next `times` requests to `target` (every request when `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub target: FaultTarget,
    #[serde(flatten)]
    pub mode: FaultMode,
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    pub(crate) fn applies_to(&self, target: FaultTarget) -> bool {
        self.target == FaultTarget::All || self.target == target
    }
}
