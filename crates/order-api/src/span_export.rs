//! Exporting the service's spans over OTLP/HTTP, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set:
//! OpenTelemetry's SDK and OTLP exporter, fed by `tracing-opentelemetry` from the spans the
//! service already opens (the request, each use case, each database round trip, each peer
//! call, each relay publication).
//!
//! The ids the service propagates (`order_ports::trace`) are the exported spans' own: the
//! request's span continues the caller's `traceparent`, and a peer call carries its span's
//! id. Unset, nothing here is built, and those spans stay disabled at the cost of a check.

use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use order_ports::trace::TraceContext;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::OtlpSettings;

/// The crates whose spans are exported: the service's own, at every level (their debug
/// spans exist for this alone), but for probes' requests.
const SERVICE_CRATES: [&str; 5] = [
    "order_api",
    "order_app",
    "order_postgres",
    "order_peers",
    "order_eventbridge",
];

/// How long one export may take: a collector that hangs must not hold spans forever.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the OTLP span exporter: {0}")]
pub struct SpanExportError(String);

/// The exporter's provider, and the `tracing` layer that feeds it: to be installed once,
/// inside the Tokio runtime (exports are sent on it).
pub fn pipeline<S>(
    settings: &OtlpSettings,
) -> Result<(SdkTracerProvider, impl Layer<S> + Send + Sync), SpanExportError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    let http = reqwest::Client::builder()
        .timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|error| SpanExportError(error.to_string()))?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|error| SpanExportError(error.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OnTokio { http, runtime })
        .with_endpoint(format!(
            "{}/v1/traces",
            settings.endpoint.trim_end_matches('/')
        ))
        .with_protocol(if settings.json {
            Protocol::HttpJson
        } else {
            Protocol::HttpBinary
        })
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|error| SpanExportError(error.to_string()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("order-api"))
        .with_filter(
            SERVICE_CRATES
                .iter()
                .fold(Targets::new(), |targets, target| {
                    targets.with_target(*target, LevelFilter::DEBUG)
                })
                .with_target(crate::telemetry::PROBE_TARGET, LevelFilter::OFF),
        );
    Ok((provider, layer))
}

/// OTLP's HTTP client: the service's reqwest, run on its Tokio runtime. The SDK's batch
/// processor exports from a thread of its own, which only waits for the answer here.
#[derive(Debug)]
struct OnTokio {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnTokio {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let (parts, body) = request.into_parts();
        let sent = async move {
            let answer = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut response = Response::builder().status(answer.status());
            if let Some(headers) = response.headers_mut() {
                *headers = answer.headers().clone();
            }
            Ok::<_, HttpError>(response.body(answer.bytes().await?)?)
        };
        self.runtime.spawn(sent).await?
    }
}

/// The bridge `order_ports::trace` asks for the exported spans' ids.
pub struct OpenTelemetryIds;

impl order_ports::trace::SpanExporter for OpenTelemetryIds {
    fn begin(&self, span: &tracing::Span, parent: Option<TraceContext>) -> Option<TraceContext> {
        if let Some(parent) = parent {
            // Fails only for a span already started or not exported: then it has its own.
            let _ = span.set_parent(
                opentelemetry::Context::new().with_remote_span_context(span_context(parent)),
            );
        }
        self.context_of(span)
    }

    fn context_of(&self, span: &tracing::Span) -> Option<TraceContext> {
        let context = span.context();
        let ids = context.span().span_context().clone();
        if !ids.is_valid() {
            return None;
        }
        TraceContext::from_ids(
            u128::from_be_bytes(ids.trace_id().to_bytes()),
            u64::from_be_bytes(ids.span_id().to_bytes()),
            ids.is_sampled(),
        )
    }

    fn link(&self, span: &tracing::Span, cause: TraceContext) {
        span.add_link(span_context(cause));
    }
}

/// Renames an exported span already started, which `otel.name` can no longer do.
pub(crate) fn rename(span: &tracing::Span, name: String) {
    span.context().span().update_name(name);
}

/// A propagated context as OpenTelemetry's remote parent.
fn span_context(context: TraceContext) -> SpanContext {
    let (trace_id, span_id, sampled) = context.ids();
    SpanContext::new(
        TraceId::from_bytes(trace_id.to_be_bytes()),
        SpanId::from_bytes(span_id.to_be_bytes()),
        if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        },
        true,
        TraceState::default(),
    )
}
