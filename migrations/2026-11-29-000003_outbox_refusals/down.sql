DROP INDEX outbox_unpublished_by_order;
ALTER TABLE outbox DROP COLUMN refusals;
