use async_trait::async_trait;
use order_ports::{EventPublisher, OutboxMessage, PublishError};

/// The embedded default publisher: each event is one JSON line in the log (target
/// `order_events`), and nothing else changes. For development and for deployments that
/// ship logs rather than run a bus.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogPublisher;

#[async_trait]
impl EventPublisher for LogPublisher {
    async fn publish(&self, events: Vec<OutboxMessage>) -> Vec<Result<(), PublishError>> {
        events
            .iter()
            .map(|event| {
                tracing::info!(target: "order_events", event_type = event.event_type.as_str(), "{}", event.payload);
                Ok(())
            })
            .collect()
    }
}
