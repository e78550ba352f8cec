DROP INDEX CONCURRENTLY IF EXISTS orders_erasure_requested;
