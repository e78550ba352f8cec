DROP INDEX CONCURRENTLY IF EXISTS orders_erasable_by_age;
