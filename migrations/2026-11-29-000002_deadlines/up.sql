-- Deadlines (pay_by, ship_by, respond_by, auto_complete_at), each fixed when it is set, and
-- the marks the deadline worker leaves so that each of its effects happens once.
ALTER TABLE orders
    ADD COLUMN pay_by           TIMESTAMPTZ,
    ADD COLUMN ship_by          TIMESTAMPTZ,
    ADD COLUMN ship_overdue_at  TIMESTAMPTZ,
    ADD COLUMN auto_complete_at TIMESTAMPTZ;

ALTER TABLE disputes
    ADD COLUMN respond_by   TIMESTAMPTZ,
    ADD COLUMN responded_at TIMESTAMPTZ,
    ADD COLUMN escalated_at TIMESTAMPTZ;

-- Orders and disputes from before deadlines get the default windows, counted from when
-- each would have been set, so that none waits forever.
UPDATE orders SET pay_by = created_at + interval '4 days'
    WHERE status = 'PENDING_PAYMENT' AND source = 'AUCTION';
UPDATE orders SET ship_by = paid_at + interval '4 days'
    WHERE status = 'PAID' OR (status = 'DISPUTED' AND status_before_dispute = 'PAID');
UPDATE orders SET auto_complete_at = shipped_at + interval '7 days'
    WHERE status IN ('SHIPPED', 'DELIVERED')
       OR (status = 'DISPUTED' AND status_before_dispute IN ('SHIPPED', 'DELIVERED'));
UPDATE disputes SET respond_by = created_at + interval '3 days'
    WHERE status IN ('OPEN', 'EVIDENCE');

-- The deadline worker's sweeps: each reads only the rows that are due, in deadline order.
CREATE INDEX orders_awaiting_payment ON orders (pay_by)
    WHERE status = 'PENDING_PAYMENT' AND source = 'AUCTION';
CREATE INDEX orders_awaiting_shipment ON orders (ship_by)
    WHERE status = 'PAID' AND ship_overdue_at IS NULL;
CREATE INDEX disputes_awaiting_response ON disputes (respond_by)
    WHERE status IN ('OPEN', 'EVIDENCE') AND respond_by IS NOT NULL;

-- Auto-completion sweeps by the stored deadline now, not by shipped_at.
DROP INDEX orders_awaiting_completion;
CREATE INDEX orders_awaiting_completion ON orders (auto_complete_at)
    WHERE status IN ('SHIPPED', 'DELIVERED') AND escrow_intent IS NULL;
