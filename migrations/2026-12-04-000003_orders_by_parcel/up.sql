-- How a carrier's update finds its orders: tracking number and carrier, ASCII case folded
-- (COLLATE "C" makes lower() fold ASCII only, whatever the database's locale), among the
-- orders a carrier's updates apply to. Built CONCURRENTLY, outside a transaction, so that
-- writes to orders go on while it builds; alone in its migration, since PostgreSQL runs
-- several statements sent together as one transaction. A build that failed leaves an
-- INVALID index behind: drop it (DROP INDEX CONCURRENTLY orders_by_parcel) and start again.
CREATE INDEX CONCURRENTLY orders_by_parcel
    ON orders (lower(tracking_number COLLATE "C"), lower(carrier COLLATE "C"))
    WHERE status IN ('SHIPPED', 'DELIVERED');
