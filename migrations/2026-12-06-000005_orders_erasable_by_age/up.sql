-- The retention sweep's index: ended orders whose personal data is still kept, by when they
-- ended. Built CONCURRENTLY, alone in its migration (several statements sent together run as
-- one transaction); a failed build leaves an INVALID index: drop it and start again.
CREATE INDEX CONCURRENTLY orders_erasable_by_age ON orders (ended_at)
    WHERE personal_data_erased_at IS NULL AND ended_at IS NOT NULL;
