-- Personal data erased while the money record stays. Each step takes its lock for a moment
-- only: a nullable column without a default changes the catalog alone, and the widened
-- check on a dispute's reason is added NOT VALID (the next migration validates it without
-- blocking writes).
SET LOCAL lock_timeout = '2s';

-- When the order's personal data was erased; null while it is kept.
ALTER TABLE orders ADD COLUMN personal_data_erased_at TIMESTAMPTZ;

-- An erased reason reads '[erased]', shorter than anyone may write one.
ALTER TABLE disputes DROP CONSTRAINT disputes_reason_check;
ALTER TABLE disputes ADD CONSTRAINT disputes_reason_check
    CHECK (char_length(reason) BETWEEN 10 AND 5000 OR reason = '[erased]') NOT VALID;
