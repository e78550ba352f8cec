ALTER TABLE outbox DROP CONSTRAINT outbox_actor_type_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_actor_type_check
    CHECK (actor_type IN ('buyer', 'seller', 'admin', 'service', 'system')) NOT VALID;
DROP TABLE carrier_events;
ALTER TABLE orders DROP COLUMN delivery_problem;
