-- Carriers' tracking updates. Each step takes its lock for a moment only, so the migration
-- is safe on a live table: a nullable column without a default is a change of the catalog
-- alone, a new table blocks nothing, and the widened actor check is added NOT VALID (the
-- next migration validates it without blocking writes). lock_timeout makes a step that
-- would queue behind a long query fail at once instead of stalling every write behind it.
SET LOCAL lock_timeout = '2s';

-- The last problem the carrier reported: {status, occurred_at, detail}, or null.
ALTER TABLE orders ADD COLUMN delivery_problem JSONB;

-- Each applied update, by the aggregator's id, so that a repeat is known; kept 30 days.
CREATE TABLE carrier_events (
    event_id    TEXT PRIMARY KEY,
    order_ids   UUID[] NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX carrier_events_by_age ON carrier_events (received_at);

-- The history names carriers as actors.
ALTER TABLE outbox DROP CONSTRAINT outbox_actor_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_actor_type_check
    CHECK (actor_type IN ('buyer', 'seller', 'admin', 'service', 'system', 'carrier')) NOT VALID;
