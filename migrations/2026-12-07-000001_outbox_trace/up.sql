-- The W3C trace context of the change that wrote each event, so that its publication
-- continues the same trace. Nullable and without a default: adding it rewrites nothing,
-- and rows written before it (or by a release that does not know it) simply have none.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
