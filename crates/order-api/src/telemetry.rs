//! Logs: one line per request with its id, route, status and latency; JSON or pretty.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use order_ports::trace::{RequestTrace, TraceContext};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::metrics::{method_label, RequestLabels, RouteLabels, UNMATCHED};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// W3C Trace Context's header: the caller's trace and span.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Installs the global log subscriber; `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
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
    let context = match (sent.next(), sent.next()) {
        (Some(header), None) => header.to_str().ok().and_then(TraceContext::parse),
        _ => None,
    }
    .map_or_else(TraceContext::start, |parent| parent.child());
    // The method as labelled, not as sent: an invented one may be kilobytes long.
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = %context.trace_id(),
        method
    );
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
