DROP TABLE idempotency_keys;
DROP TABLE outbox;
DROP TABLE disputes;
DROP TABLE orders;
