DROP INDEX outbox_unpositioned;
DROP INDEX outbox_order_sequence;
ALTER TABLE outbox
    DROP COLUMN position, DROP COLUMN details, DROP COLUMN to_status, DROP COLUMN from_status,
    DROP COLUMN actor_id, DROP COLUMN actor_type, DROP COLUMN sequence;
ALTER TABLE orders DROP COLUMN event_sequence;
