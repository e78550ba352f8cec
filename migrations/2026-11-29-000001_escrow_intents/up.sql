-- Money in flight: the Wallet movement an order waits on (what it is for, its idempotency
-- key, the amounts), recorded and committed before the Wallet is called, so that no
-- transaction stays open across the call and a crash leaves something to finish.
ALTER TABLE orders
    ADD COLUMN escrow_intent           JSONB CHECK (jsonb_typeof(escrow_intent) = 'object'),
    -- When a worker takes the intent over; pushed forward while one works on it.
    ADD COLUMN escrow_intent_resume_at TIMESTAMPTZ,
    ADD CONSTRAINT orders_intent_has_resume_time CHECK (
        (escrow_intent IS NULL) = (escrow_intent_resume_at IS NULL));

-- The intent worker's sweep: pending intents are few, whatever the table's size.
CREATE INDEX orders_with_escrow_intent ON orders (escrow_intent_resume_at)
    WHERE escrow_intent_resume_at IS NOT NULL;

-- The auto-completion sweep passes over orders whose money is already moving.
DROP INDEX orders_awaiting_completion;
CREATE INDEX orders_awaiting_completion ON orders (shipped_at)
    WHERE status IN ('SHIPPED', 'DELIVERED') AND escrow_intent IS NULL;
