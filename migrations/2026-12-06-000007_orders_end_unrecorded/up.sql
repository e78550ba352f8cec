-- The ended orders whose ended_at is not recorded yet: those that ended before the release
-- that records it (and any an older replica ends during a rolling deploy). The service fills
-- them in small batches through this index, which is empty once it has. Built CONCURRENTLY,
-- alone in its migration.
CREATE INDEX CONCURRENTLY orders_end_unrecorded ON orders (id)
    WHERE ended_at IS NULL AND status IN ('COMPLETED', 'REFUNDED', 'CANCELLED');
