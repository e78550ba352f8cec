//! The W3C trace context a change is made under, and the request it came with: continued
//! from a caller's `traceparent` (or started at the service's edge), sent on to the Wallet
//! and the Listing service, and stored with every event the change writes, so that the
//! event's publication continues the same trace.
//!
//! It travels with the task handling a request ([`scope`], [`current`]) rather than through
//! every port's signature: the adapters that send it read it where they send.
//!
//! Where the service's spans are exported too (OpenTelemetry, installed by the binary at
//! start through [`export_spans_with`]), the ids it propagates are the exported spans' own:
//! the request's span continues the caller's trace, and a peer call carries the id of the
//! span that records it, so that the peer's spans hang below that one in the trace.

use std::fmt;
use std::future::Future;

/// A position in a distributed trace: the trace, and the span that made the change (or
/// the call).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
}

impl TraceContext {
    /// A new trace, sampled: the service is where it starts.
    pub fn start() -> TraceContext {
        let ids = *uuid::Uuid::new_v4().as_bytes();
        TraceContext {
            trace_id: u128::from_be_bytes(ids),
            span_id: new_span_id(),
            sampled: true,
        }
    }

    /// The context a `traceparent` header carries, if it is one (W3C Trace Context: version
    /// `00` exactly; a later version by its first four fields; all-zero ids are invalid).
    pub fn parse(header: &str) -> Option<TraceContext> {
        let mut fields = header.trim().split('-');
        let (version, trace, span, flags) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !hex(version, 2) || version == "ff" || (version == "00" && fields.next().is_some()) {
            return None;
        }
        if !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2) {
            return None;
        }
        TraceContext::from_ids(
            u128::from_str_radix(trace, 16).ok()?,
            u64::from_str_radix(span, 16).ok()?,
            u8::from_str_radix(flags, 16).ok()? & 1 == 1,
        )
    }

    /// The context of a span whose ids are known (an exported span's, a header's); all-zero
    /// ids mean "none" and make none.
    pub fn from_ids(trace_id: u128, span_id: u64, sampled: bool) -> Option<TraceContext> {
        (trace_id != 0 && span_id != 0).then_some(TraceContext {
            trace_id,
            span_id,
            sampled,
        })
    }

    /// The trace's id as a number, the span's, and whether the trace is sampled: what an
    /// exporter needs to continue it.
    pub fn ids(&self) -> (u128, u64, bool) {
        (self.trace_id, self.span_id, self.sampled)
    }

    /// A span of this trace below this one: what a call made under it carries.
    pub fn child(&self) -> TraceContext {
        TraceContext {
            span_id: new_span_id(),
            ..*self
        }
    }

    /// The trace's id, written as 32 lowercase hex digits (formatted only where it is
    /// written, so that a log line nobody records costs nothing).
    pub fn trace_id(&self) -> TraceId {
        TraceId(self.trace_id)
    }

    /// The `traceparent` header of this context.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }

    /// This context as AWS X-Ray writes it, which is what an EventBridge entry's
    /// `TraceHeader` takes: `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`, the
    /// same mapping the OpenTelemetry X-Ray propagator makes.
    pub fn xray_header(&self) -> String {
        let trace = self.trace_id().to_string();
        format!(
            "Root=1-{}-{};Parent={:016x};Sampled={}",
            &trace[..8],
            &trace[8..],
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

/// A trace's id, as W3C writes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceId(u128);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

fn new_span_id() -> u64 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    // Never zero, which the format reserves for "no span".
    u64::from_be_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
    .max(1)
}

/// What a request carries to every port it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestTrace {
    /// The request's own span: the peers' calls are its children, its events carry it.
    pub context: TraceContext,
    /// The request's `X-Request-Id`, sent on with every peer call.
    pub request_id: String,
}

tokio::task_local! {
    static CURRENT: RequestTrace;
}

/// Runs `work` as part of `trace`: [`current`] returns it anywhere inside.
pub async fn scope<F: Future>(trace: RequestTrace, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
}

/// The trace of the request being handled, if any (workers run outside one).
pub fn current() -> Option<RequestTrace> {
    CURRENT.try_with(RequestTrace::clone).ok()
}

/// [`current`]'s trace context alone, read without copying the request's id.
pub fn context() -> Option<TraceContext> {
    CURRENT.try_with(|trace| trace.context).ok()
}

/// The context an outgoing call recorded by `span` carries: the span's own when spans are
/// exported, else a new span below the request's. `None` outside a request.
pub fn outgoing(span: &tracing::Span) -> Option<TraceContext> {
    exporter()
        .and_then(|exporter| exporter.context_of(span))
        .or_else(|| context().map(|context| context.child()))
}

/// What the service's spans are exported through (OpenTelemetry's tracing layer, in the
/// binary): the bridge between its span ids and the contexts this module propagates.
pub trait SpanExporter: Send + Sync {
    /// Makes `span`, not yet entered, continue `parent` (a caller's trace) or start a
    /// trace of its own; the context it then has, if the exporter records it.
    fn begin(&self, span: &tracing::Span, parent: Option<TraceContext>) -> Option<TraceContext>;

    /// `span`'s context, if the exporter records it.
    fn context_of(&self, span: &tracing::Span) -> Option<TraceContext>;

    /// Records, before `span` is entered, that it carries on work done under `cause`: the
    /// relay's publication of events that requests wrote, each in its own trace.
    fn link(&self, span: &tracing::Span, cause: TraceContext);
}

static EXPORTER: std::sync::OnceLock<Box<dyn SpanExporter>> = std::sync::OnceLock::new();

/// Installs the process's span exporter; the first one stays (`Err` gives back a second).
pub fn export_spans_with(exporter: Box<dyn SpanExporter>) -> Result<(), Box<dyn SpanExporter>> {
    EXPORTER.set(exporter)
}

/// The process's span exporter, if spans are exported.
pub fn exporter() -> Option<&'static dyn SpanExporter> {
    EXPORTER.get().map(|exporter| &**exporter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_reads_back_as_written() {
        let context = TraceContext::parse(HEADER).unwrap();
        assert_eq!(context.traceparent(), HEADER);
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn a_child_keeps_the_trace_and_gets_a_span_of_its_own() {
        let parent = TraceContext::parse(HEADER).unwrap();
        let child = parent.child();
        assert!(child.trace_id() == parent.trace_id());
        assert_ne!(child.traceparent(), parent.traceparent());
        assert!(
            child.traceparent().ends_with("-01"),
            "sampling is inherited"
        );
    }

    #[test]
    fn malformed_headers_are_not_trace_contexts() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
        // A later version may add fields after the four it shares with 00.
        assert!(TraceContext::parse(&format!("01{}-more", &HEADER[2..])).is_some());
    }

    #[test]
    fn the_xray_header_splits_the_trace_id_as_the_x_ray_propagator_does() {
        let context = TraceContext::parse(HEADER).unwrap();
        assert_eq!(
            context.xray_header(),
            "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1"
        );
    }

    #[tokio::test]
    async fn the_current_trace_is_the_scopes_and_none_outside() {
        assert_eq!(current(), None);
        let trace = RequestTrace {
            context: TraceContext::start(),
            request_id: "r-1".into(),
        };
        let inside = scope(trace.clone(), async { current() }).await;
        assert_eq!(inside, Some(trace));
    }
}
