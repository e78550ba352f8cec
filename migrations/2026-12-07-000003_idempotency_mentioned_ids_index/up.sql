-- The answers that name an id: `mentioned_ids && ids` for an erasure. Built CONCURRENTLY,
-- alone in its migration.
CREATE INDEX CONCURRENTLY idempotency_keys_mentioned_ids ON idempotency_keys
    USING GIN (mentioned_ids);
