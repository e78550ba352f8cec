-- The instance number of the process that claimed a key (its liveness lock's second key),
-- so that a claim left by a process that died is taken over at once. NULL: a claim made
-- while the process's lock was not held, or before this column; those expire by age.
ALTER TABLE idempotency_keys ADD COLUMN claimed_by INTEGER;
