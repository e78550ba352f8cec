-- Validating scans the disputes under a lock that lets reads and writes go on.
ALTER TABLE disputes VALIDATE CONSTRAINT disputes_reason_check;
