ALTER TABLE orders DROP COLUMN erasure_requested_at;
ALTER TABLE orders DROP COLUMN ended_at;
