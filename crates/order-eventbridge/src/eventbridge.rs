use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use order_ports::{EventPublisher, OutboxMessage, PublishError};

/// PutEvents takes at most this many entries per call.
pub const MAX_ENTRIES_PER_CALL: usize = 10;

/// The error codes EventBridge gives an entry of a successful PutEvents call for a reason
/// that passes: the entry is retried, never parked. Every other entry code (a malformed
/// detail, a bad argument, a refused KMS key…) is the entry's own fault, and retrying the
/// same entry cannot fix it.
const PASSING_ENTRY_ERRORS: [&str; 4] = [
    "InternalFailure",
    "InternalException",
    "ThrottlingException",
    "ServiceUnavailable",
];

/// Publishes events to an EventBridge bus: `Source` = the service's event source,
/// `DetailType` = the event name, `Detail` = the event document.
#[derive(Clone, Debug)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
    source: String,
}

impl EventBridgePublisher {
    /// A publisher configured the AWS way: credentials from the environment (or the
    /// SDK's other providers), the region from `AWS_REGION` or `AWS_DEFAULT_REGION`
    /// (default `us-east-1`, never looked up from instance metadata), and `endpoint`
    /// (`AWS_ENDPOINT_URL`) to send the calls to an emulator instead of AWS.
    pub async fn from_env(
        bus: impl Into<String>,
        source: impl Into<String>,
        endpoint: Option<String>,
    ) -> EventBridgePublisher {
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "us-east-1".into());
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region));
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        EventBridgePublisher::new(Client::new(&loader.load().await), bus, source)
    }

    pub fn new(
        client: Client,
        bus: impl Into<String>,
        source: impl Into<String>,
    ) -> EventBridgePublisher {
        EventBridgePublisher {
            client,
            bus: bus.into(),
            source: source.into(),
        }
    }

    fn entry(&self, event: &OutboxMessage) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&self.source)
            .detail_type(event.event_type.as_str())
            .detail(&event.payload)
            .time(DateTime::from_millis(event.occurred_at.timestamp_millis()))
            // The change's trace, continued by whatever EventBridge delivers the event to.
            .set_trace_header(event.trace.map(|trace| trace.xray_header()))
            .build()
    }

    /// Whether the bus answers, and exists: `DescribeEventBus`, for `order-api outbox
    /// status`.
    pub async fn probe(&self) -> Result<(), String> {
        self.client
            .describe_event_bus()
            .name(&self.bus)
            .send()
            .await
            .map(drop)
            .map_err(|error| match (error.code(), error.message()) {
                (Some(code), message) => format!("{code}: {}", message.unwrap_or("")),
                _ => DisplayErrorContext(&error).to_string(),
            })
    }

    pub fn bus(&self) -> &str {
        &self.bus
    }

    async fn put(&self, events: &[OutboxMessage]) -> Vec<Result<(), PublishError>> {
        let entries = events.iter().map(|event| self.entry(event)).collect();
        match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            // A successful call may still refuse some entries; each answer entry matches
            // the request entry at the same position.
            Ok(output) => {
                let answers = output.entries();
                (0..events.len())
                    .map(|i| match answers.get(i) {
                        Some(answer) => match answer.error_code() {
                            None => Ok(()),
                            Some(code) => {
                                let error =
                                    format!("{code}: {}", answer.error_message().unwrap_or(""));
                                Err(if PASSING_ENTRY_ERRORS.contains(&code) {
                                    PublishError::Unavailable(error)
                                } else {
                                    PublishError::Refused(error)
                                })
                            }
                        },
                        None => Err(PublishError::Unavailable(
                            "EventBridge answered no entry for this event".into(),
                        )),
                    })
                    .collect()
            }
            // A call that failed as a whole — unreachable, timed out, throttled, 5xx, or
            // refused outright (credentials, a missing bus) — says nothing against any one
            // entry: the events wait for the bus, never parked.
            Err(error) => {
                // The service's own code and message when it answered; the whole chain of
                // causes (connection refused, timeout…) when it did not.
                let message = match (error.code(), error.message()) {
                    (Some(code), message) => {
                        format!("PutEvents failed: {code}: {}", message.unwrap_or(""))
                    }
                    _ => format!("PutEvents failed: {}", DisplayErrorContext(&error)),
                };
                events
                    .iter()
                    .map(|_| Err(PublishError::Unavailable(message.clone())))
                    .collect()
            }
        }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: Vec<OutboxMessage>) -> Vec<Result<(), PublishError>> {
        let mut results = Vec::with_capacity(events.len());
        for chunk in events.chunks(MAX_ENTRIES_PER_CALL) {
            results.extend(self.put(chunk).await);
        }
        results
    }
}
