DROP INDEX orders_awaiting_completion;
CREATE INDEX orders_awaiting_completion ON orders (shipped_at) WHERE status IN ('SHIPPED', 'DELIVERED');
DROP INDEX orders_with_escrow_intent;
ALTER TABLE orders
    DROP CONSTRAINT orders_intent_has_resume_time,
    DROP COLUMN escrow_intent_resume_at,
    DROP COLUMN escrow_intent;
