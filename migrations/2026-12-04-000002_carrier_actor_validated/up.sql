-- Validating scans the outbox under a lock that lets reads and writes go on.
ALTER TABLE outbox VALIDATE CONSTRAINT outbox_actor_type_check;
