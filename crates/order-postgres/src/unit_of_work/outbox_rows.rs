//! The outbox rows of a unit of work's events.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use order_ports::RecordedEvent;
use uuid::Uuid;

use crate::schema::outbox;

/// The outbox rows of `events`, each with its history line.
#[allow(clippy::type_complexity)]
pub(super) fn outbox_rows(
    events: &[RecordedEvent],
) -> Vec<(
    (
        diesel::dsl::Eq<outbox::event_id, Uuid>,
        diesel::dsl::Eq<outbox::event_type, &'static str>,
        diesel::dsl::Eq<outbox::order_id, Uuid>,
        diesel::dsl::Eq<outbox::occurred_at, DateTime<Utc>>,
        diesel::dsl::Eq<outbox::next_attempt_at, DateTime<Utc>>,
        diesel::dsl::Eq<outbox::payload, &str>,
        diesel::dsl::Eq<outbox::traceparent, Option<String>>,
    ),
    (
        diesel::dsl::Eq<outbox::sequence, i64>,
        diesel::dsl::Eq<outbox::actor_type, &'static str>,
        diesel::dsl::Eq<outbox::actor_id, Option<Uuid>>,
        diesel::dsl::Eq<outbox::from_status, &'static str>,
        diesel::dsl::Eq<outbox::to_status, &'static str>,
        diesel::dsl::Eq<outbox::details, &serde_json::Value>,
    ),
)> {
    events
        .iter()
        .map(|RecordedEvent { message, story }| {
            (
                (
                    outbox::event_id.eq(*message.event_id.as_uuid()),
                    outbox::event_type.eq(message.event_type.as_str()),
                    outbox::order_id.eq(*message.order_id.as_uuid()),
                    outbox::occurred_at.eq(message.occurred_at),
                    // Due from the service's clock, as the relay's claim compares it with,
                    // never the database's `now()`: a database clock ahead of the
                    // service's would hold every new event back by the difference.
                    outbox::next_attempt_at.eq(message.occurred_at),
                    outbox::payload.eq(message.payload.as_str()),
                    outbox::traceparent.eq(message.trace.map(|trace| trace.traceparent())),
                ),
                (
                    outbox::sequence.eq(i64::try_from(story.sequence).unwrap_or(i64::MAX)),
                    outbox::actor_type.eq(story.actor.kind()),
                    outbox::actor_id.eq(story.actor.id().map(|id| *id.as_uuid())),
                    outbox::from_status.eq(story.from_status.as_str()),
                    outbox::to_status.eq(story.to_status.as_str()),
                    outbox::details.eq(&story.details),
                ),
            )
        })
        .collect()
}
