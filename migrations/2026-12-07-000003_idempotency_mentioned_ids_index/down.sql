DROP INDEX CONCURRENTLY IF EXISTS idempotency_keys_mentioned_ids;
