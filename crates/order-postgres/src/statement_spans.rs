//! A span per database round trip, for traces: each statement a connection sends, from
//! the moment it is sent until its answer is read, below the span that sent it.
//!
//! Installed on every connection only when spans are exported (`PoolConfig::trace_statements`):
//! a statement's text is formatted for each span, which the service does not otherwise pay.

use std::collections::VecDeque;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The longest statement text a span keeps: a multi-row insert can run to pages.
const MAX_TEXT: usize = 2048;

/// The spans of a connection's statements in flight, oldest first: a pipelined connection
/// sends several before the first answer comes, and answers come in the order sent.
#[derive(Default)]
pub(crate) struct StatementSpans {
    in_flight: VecDeque<tracing::Span>,
}

impl Instrumentation for StatementSpans {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                // A statement outside any exported span (a worker's idle poll, a probe)
                // is not part of a trace, and would only be noise at the collector.
                let traced = order_ports::trace::exporter()
                    .and_then(|exporter| exporter.context_of(&tracing::Span::current()));
                if traced.is_none() {
                    self.in_flight.push_back(tracing::Span::none());
                    return;
                }
                let shown = query.to_string();
                let text = statement_text(&shown);
                let operation = text.split_whitespace().next().unwrap_or("SQL");
                self.in_flight.push_back(tracing::debug_span!(
                    "db",
                    otel.kind = "client",
                    otel.name = %operation,
                    db.system.name = "postgresql",
                    db.operation.name = %operation,
                    db.query.text = text,
                    otel.status_code = tracing::field::Empty,
                ));
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(span) = self.in_flight.pop_front() {
                    if error.is_some() {
                        span.record("otel.status_code", "ERROR");
                    }
                }
            }
            _ => {}
        }
    }
}

/// The statement without its bind values (which may hold personal data), cut short.
fn statement_text(shown: &str) -> &str {
    let sql = shown.split(" -- binds: ").next().unwrap_or(shown);
    if sql.len() <= MAX_TEXT {
        return sql;
    }
    let mut end = MAX_TEXT;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    &sql[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_never_reach_a_span() {
        assert_eq!(
            statement_text(r#"SELECT * FROM orders WHERE id = $1 -- binds: ["Jane Doe"]"#),
            "SELECT * FROM orders WHERE id = $1"
        );
    }

    #[test]
    fn a_long_statement_is_cut_on_a_character_boundary() {
        let long = format!("INSERT INTO outbox VALUES {}", "('é'),".repeat(1000));
        let text = statement_text(&long);
        assert!(text.len() <= MAX_TEXT && text.len() > MAX_TEXT - 4);
        assert!(long.starts_with(text));
    }
}
