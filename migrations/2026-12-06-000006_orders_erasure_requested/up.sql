-- The orders a party asked to have erased, still kept: the open ones wait here until they
-- end. Small: only the orders of users who asked. Built CONCURRENTLY, alone in its migration.
CREATE INDEX CONCURRENTLY orders_erasure_requested ON orders (erasure_requested_at)
    WHERE personal_data_erased_at IS NULL AND erasure_requested_at IS NOT NULL;
