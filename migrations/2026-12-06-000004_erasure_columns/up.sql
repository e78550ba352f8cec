-- When an order ended, and when a party asked for their personal data to be erased. Both
-- nullable without a default: adding them changes the catalog only. Orders that ended before
-- this release get ended_at from the service, in small batches (see orders_end_unrecorded).
SET LOCAL lock_timeout = '2s';

ALTER TABLE orders ADD COLUMN ended_at TIMESTAMPTZ;
ALTER TABLE orders ADD COLUMN erasure_requested_at TIMESTAMPTZ;
