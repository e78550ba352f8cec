-- The order's story: every event keeps who did it, the order's status before and after,
-- what the event adds, and its place in the order's own sequence (1, 2, 3… gap-free, in
-- commit order: the counter lives on the order's row, which every change locks).
-- `position` is the event's place in the replay feed, handed out only once the event is
-- committed (see docs/events.md).
ALTER TABLE orders ADD COLUMN event_sequence BIGINT NOT NULL DEFAULT 0;

ALTER TABLE outbox
    ADD COLUMN sequence    BIGINT,
    ADD COLUMN actor_type  TEXT CHECK (actor_type IN ('buyer', 'seller', 'admin', 'service', 'system')),
    ADD COLUMN actor_id    UUID,
    ADD COLUMN from_status TEXT,
    ADD COLUMN to_status   TEXT,
    ADD COLUMN details     JSONB,
    ADD COLUMN position    BIGINT UNIQUE;

-- Events written before: numbered in the order they were written, by an unknown actor.
UPDATE outbox o SET sequence = numbered.n
FROM (SELECT seq, row_number() OVER (PARTITION BY order_id ORDER BY seq) AS n FROM outbox) numbered
WHERE o.seq = numbered.seq;
UPDATE orders SET event_sequence = counted.n
FROM (SELECT order_id, count(*) AS n FROM outbox GROUP BY order_id) counted
WHERE orders.id = counted.order_id;

CREATE UNIQUE INDEX outbox_order_sequence ON outbox (order_id, sequence);
-- The replay feed's sequencer finds the events still without a position.
CREATE INDEX outbox_unpositioned ON outbox (seq) WHERE position IS NULL;
