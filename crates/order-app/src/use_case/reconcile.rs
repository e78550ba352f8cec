//! The reconciliation: every order with an escrow compared with the Wallet's account of it.

use std::collections::BTreeMap;
use std::fmt;

use futures_util::stream::{self, StreamExt};
use order_domain::reconcile::{DriftKind, EscrowRecord, EscrowVerdict};
use order_domain::{EscrowId, OrderId};
use order_ports::store::{EscrowLine, EscrowScope};
use order_ports::WalletError;
use serde::{Deserialize, Serialize};

use crate::{AppError, OrderService};

/// Orders read from the store at a time: enough to keep the Wallet calls flowing, few
/// enough that memory stays flat however many orders there are.
pub const RECONCILE_BATCH: usize = 500;

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// The order and its escrow disagree.
    Drift(DriftKind),
    /// The order waits on a Wallet movement: not compared, not drift.
    InFlight,
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingKind::Drift(kind) => kind.fmt(f),
            FindingKind::InFlight => f.write_str("in_flight"),
        }
    }
}

/// As its name: `in_flight` or the drift's kind.
impl Serialize for FindingKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One line of a reconciliation's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub order_id: OrderId,
    pub escrow_id: EscrowId,
    pub kind: FindingKind,
    /// What the order says.
    pub expected: String,
    /// What the Wallet says.
    pub found: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order {} escrow {} {}: expected {}, found {}",
            self.order_id, self.escrow_id, self.kind, self.expected, self.found
        )
    }
}

/// What a whole reconciliation found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileSummary {
    /// Orders with an escrow read.
    pub checked: u64,
    /// Of them, those that agree with their escrow to the cent.
    pub agreeing: u64,
    /// Of them, those waiting on a Wallet movement, not compared.
    pub in_flight: u64,
    /// Of them, those that drift in at least one way.
    pub drifting: u64,
    /// Findings of each kind of drift (an order may drift in several ways).
    pub drift: BTreeMap<DriftKind, u64>,
}

impl ReconcileSummary {
    /// Whether every order compared agrees with its escrow.
    pub fn is_clean(&self) -> bool {
        self.drifting == 0
    }
}

/// Why a reconciliation could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The orders could not be read.
    #[error(transparent)]
    Store(#[from] AppError),
    /// The Wallet did not say what an escrow is: no clean bill can be given.
    #[error("the Wallet could not be read (escrow {escrow_id} of order {order_id}): {error}")]
    WalletUnreadable {
        order_id: OrderId,
        escrow_id: EscrowId,
        error: WalletError,
    },
}

/// What a running reconciliation tells its caller as it goes.
pub trait ReconcileProgress {
    /// Each finding, as soon as it is known.
    fn finding(&mut self, finding: &Finding);
    /// How many orders have been checked so far.
    fn checked(&mut self, count: u64);
}

impl OrderService {
    /// Compares every order in `scope` that has an escrow with the Wallet's account of it,
    /// with at most `concurrency` Wallet calls at a time, and stops at the first escrow the
    /// Wallet cannot say anything about (a Wallet that is down would otherwise be asked
    /// about every escrow in turn).
    ///
    /// A difference is looked at twice: if the order changed while its escrow was being read
    /// (a payout finishing between the two reads), it is compared again as it is now, so
    /// that only what persists is reported.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reconcile(
        &self,
        scope: EscrowScope,
        concurrency: usize,
        progress: &mut (dyn ReconcileProgress + Send),
    ) -> Result<ReconcileSummary, ReconcileError> {
        let mut summary = ReconcileSummary::default();
        let mut after = None;
        loop {
            let page = self
                .ports
                .store
                .escrow_lines(scope, after, RECONCILE_BATCH)
                .await
                .map_err(AppError::from)?;
            let mut verdicts = stream::iter(page.lines.into_iter().map(|line| self.judge(line)))
                .buffered(concurrency.max(1));
            while let Some(judged) = verdicts.next().await {
                let findings = judged?;
                summary.checked += 1;
                match findings.first().map(|finding| finding.kind) {
                    None => summary.agreeing += 1,
                    Some(FindingKind::InFlight) => summary.in_flight += 1,
                    Some(FindingKind::Drift(_)) => summary.drifting += 1,
                }
                for finding in &findings {
                    if let FindingKind::Drift(kind) = finding.kind {
                        *summary.drift.entry(kind).or_default() += 1;
                    }
                    progress.finding(finding);
                }
                progress.checked(summary.checked);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(summary),
            }
        }
    }

    /// The findings about one order: none when it agrees with its escrow.
    async fn judge(&self, line: EscrowLine) -> Result<Vec<Finding>, ReconcileError> {
        let (found, verdict) = self.compare(&line).await?;
        let (line, found, verdict) = match verdict {
            EscrowVerdict::Drifts(_) => {
                let again = self
                    .ports
                    .store
                    .escrow_lines(EscrowScope::Order(line.order.id), None, 1)
                    .await
                    .map_err(AppError::from)?
                    .lines
                    .pop();
                match again {
                    Some(now) if now != line => {
                        let (found, verdict) = self.compare(&now).await?;
                        (now, found, verdict)
                    }
                    _ => (line, found, verdict),
                }
            }
            _ => (line, found, verdict),
        };
        let Some(escrow_id) = line.order.escrow_id else {
            return Ok(Vec::new());
        };
        let finding = |kind, expected: String, found: String| Finding {
            order_id: line.order.id,
            escrow_id,
            kind,
            expected,
            found,
        };
        Ok(match verdict {
            EscrowVerdict::NoEscrow | EscrowVerdict::Agrees => Vec::new(),
            EscrowVerdict::InFlight => {
                let expected = line
                    .order
                    .expected_escrow(line.settlement.as_ref())
                    .map_or_else(String::new, |expected| expected.state.to_string());
                let found = found.map_or_else(
                    || "not read: a Wallet movement is pending".to_owned(),
                    |escrow| escrow.state.to_string(),
                );
                vec![finding(FindingKind::InFlight, expected, found)]
            }
            EscrowVerdict::Drifts(drifts) => drifts
                .into_iter()
                .map(|drift| finding(FindingKind::Drift(drift.kind), drift.expected, drift.found))
                .collect(),
        })
    }

    /// The order's verdict, with the Wallet's account of its escrow when it was needed.
    async fn compare(
        &self,
        line: &EscrowLine,
    ) -> Result<(Option<EscrowRecord>, EscrowVerdict), ReconcileError> {
        let order = &line.order;
        let settlement = line.settlement.as_ref();
        // Only an order that would be compared costs a Wallet call.
        match order.escrow_verdict(settlement, None) {
            verdict @ (EscrowVerdict::NoEscrow | EscrowVerdict::InFlight) => {
                return Ok((None, verdict))
            }
            EscrowVerdict::Agrees | EscrowVerdict::Drifts(_) => {}
        }
        let Some(escrow_id) = order.escrow_id else {
            return Ok((None, EscrowVerdict::NoEscrow));
        };
        let found = self.ports.wallet.escrow(escrow_id).await.map_err(|error| {
            ReconcileError::WalletUnreadable {
                order_id: order.id,
                escrow_id,
                error,
            }
        })?;
        let verdict = order.escrow_verdict(settlement, found.as_ref());
        Ok((found, verdict))
    }
}
