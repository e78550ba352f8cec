-- The ids each saved answer names (its order, dispute, users…), so that erasing an order's
-- personal data finds the answers that show it through an index instead of reading the text
-- of every answer kept. Nullable and without a default: adding it rewrites nothing, and an
-- answer saved before it (or by a release that does not know it) has none and is found by
-- its text.
ALTER TABLE idempotency_keys ADD COLUMN mentioned_ids UUID[];
