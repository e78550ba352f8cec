ALTER TABLE idempotency_keys DROP COLUMN mentioned_ids;
