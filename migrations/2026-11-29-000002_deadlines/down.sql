DROP INDEX orders_awaiting_completion;
CREATE INDEX orders_awaiting_completion ON orders (shipped_at)
    WHERE status IN ('SHIPPED', 'DELIVERED') AND escrow_intent IS NULL;
DROP INDEX disputes_awaiting_response;
DROP INDEX orders_awaiting_shipment;
DROP INDEX orders_awaiting_payment;
ALTER TABLE disputes DROP COLUMN escalated_at, DROP COLUMN responded_at, DROP COLUMN respond_by;
ALTER TABLE orders
    DROP COLUMN auto_complete_at, DROP COLUMN ship_overdue_at, DROP COLUMN ship_by, DROP COLUMN pay_by;
