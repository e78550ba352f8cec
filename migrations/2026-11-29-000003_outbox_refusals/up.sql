-- An unavailable bus never parks an event; only refusals of the entry itself count toward
-- parking. A parked event holds back its order's later events, so the relay's claim looks
-- for each order's oldest unpublished row, parked or not.
ALTER TABLE outbox ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_unpublished_by_order ON outbox (order_id, seq) WHERE published_at IS NULL;
