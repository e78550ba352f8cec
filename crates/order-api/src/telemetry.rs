//! Logs: one line per request with its id, route, status and latency; JSON or pretty.
//! Traces: the request's span, continuing the caller's trace, exported with the spans below
//! it where an OTLP endpoint is set (`span_export`).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use opentelemetry_sdk::trace::SdkTracerProvider;
use order_ports::trace::{RequestTrace, TraceContext};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, OtlpSettings};
use crate::metrics::{method_label, RequestLabels, RouteLabels, UNMATCHED};
use crate::span_export::SpanExportError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The target of a probe's request span, which the span exporter leaves out.
pub(crate) const PROBE_TARGET: &str = "order_api::probe";

/// W3C Trace Context's header: the caller's trace and span.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The process's telemetry once installed: what must be flushed before it exits.
#[must_use = "spans still queued are lost unless `shutdown` is awaited"]
pub struct Telemetry {
    spans: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still queued, waiting at most the exporter's timeout.
    pub async fn shutdown(self) {
        if let Some(provider) = self.spans {
            // The SDK's shutdown blocks until its export thread has finished.
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(error)) = flushed {
                tracing::warn!(%error, "the last spans could not be exported");
            }
        }
    }
}

/// Installs the global subscriber: logs filtered by `RUST_LOG` (default `info`), and, with
/// `otlp`, the span exporter, which sees the service's spans at every level whatever the
/// logs show. Must run inside the Tokio runtime.
pub fn init(format: LogFormat, otlp: Option<&OtlpSettings>) -> Result<Telemetry, SpanExportError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_target(false)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).boxed(),
    }
    .with_filter(filter);
    let (spans, export) = match otlp {
        Some(settings) => {
            let (provider, layer) = crate::span_export::pipeline(settings)?;
            (Some(provider), Some(layer))
        }
        None => (None, None),
    };
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(export)
        .try_init()
        .is_ok();
    // The bridge only where this process's subscriber exports: a second `init` (tests)
    // leaves the first in place, and the provider it built is dropped, its thread with it.
    let spans = spans.filter(|_| installed);
    if spans.is_some() {
        let _ =
            order_ports::trace::export_spans_with(Box::new(crate::span_export::OpenTelemetryIds));
    }
    Ok(Telemetry { spans })
}

/// A request id a caller may hand us: short, printable, no spaces.
fn acceptable(id: &HeaderValue) -> Option<String> {
    let id = id.to_str().ok()?;
    let ok = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| id.to_owned())
}

/// Gives every request an id (the caller's `X-Request-Id`, or a new one) and a trace
/// context (the caller's `traceparent` continued, or a new trace), logs both with
/// everything the request logs, carries both to the peers and the events the request
/// writes (`order_ports::trace`), and returns the id in the response's `X-Request-Id`.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(acceptable)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // The caller's trace continued, or one started here: a malformed or repeated
    // `traceparent` is not the caller's trace, so a new one starts (as W3C asks).
    let mut sent = req.headers().get_all(&TRACEPARENT);
    let caller = match (sent.next(), sent.next()) {
        (Some(header), None) => header.to_str().ok().and_then(TraceContext::parse),
        _ => None,
    };
    // The method as labelled, not as sent: an invented one may be kilobytes long.
    let method = method_label(req.method());
    macro_rules! request_span {
        ($target:expr) => {
            tracing::info_span!(
                target: $target,
                "request",
                request_id = %id,
                trace_id = tracing::field::Empty,
                method,
                otel.kind = "server",
            )
        };
    }
    // Probes are logged like any request but not exported: every few seconds, about
    // nothing but the service itself, they would bury the traces worth reading.
    let probe = crate::admission::is_probe(req.path());
    let span = if probe {
        request_span!(PROBE_TARGET)
    } else {
        request_span!(module_path!())
    };
    // Where spans are exported, the request's span is the one the trace continues with;
    // elsewhere a span id is made up for it.
    let exporter = order_ports::trace::exporter().filter(|_| !probe);
    let context = exporter
        .and_then(|exporter| exporter.begin(&span, caller))
        .unwrap_or_else(|| caller.map_or_else(TraceContext::start, |parent| parent.child()));
    span.record("trace_id", tracing::field::display(context.trace_id()));
    let started = Instant::now();
    let trace = RequestTrace {
        context,
        request_id: id.clone(),
    };
    let mut response = order_ports::trace::scope(trace, next.call(req))
        .instrument(span.clone())
        .await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED.to_owned());
    if let Some(state) = response
        .request()
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
    {
        state
            .metrics
            .http_requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method,
                status: response.status().as_u16(),
            })
            .inc();
        state
            .metrics
            .http_duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(started.elapsed().as_secs_f64());
    }
    // The path's id, named for what it is: an order, a dispute, or (Buy It Now) a listing.
    let path_id = response.request().match_info().get("id").map(str::to_owned);
    let named = path_id.as_deref();
    let (order_id, dispute_id, listing_id) = match route.as_str() {
        _ if named.is_none() => (None, None, None),
        r if r.ends_with("/purchase/") => (None, None, named),
        r if r.starts_with("/api/v1/disputes/") => (None, named, None),
        _ => (named, None, None),
    };
    if exporter.is_some() {
        // Named for its route as the semantic conventions have it, once the route is
        // known, which is after the span started.
        crate::span_export::rename(&span, format!("{method} {route}"));
    }
    span.in_scope(|| {
        tracing::info!(
            order_id,
            dispute_id,
            listing_id,
            route = %route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request served"
        )
    });
    // The id is a caller's visible ASCII or a UUID: always a header value.
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}
