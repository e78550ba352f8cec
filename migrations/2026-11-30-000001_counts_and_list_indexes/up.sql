-- Exact counts that cost the same at any table size: a list's `count` reads a few of these
-- rows instead of counting the orders. Triggers keep them in the transaction of every
-- insert, status change and delete, so they are exact under any race and whoever writes.
--
-- A status's count is spread over 16 shards, chosen by the writing session, so that
-- concurrent changes to the same status rarely wait on the same row; its total is the sum.
-- Shards may go below zero (a session removes what another added); only sums mean anything.
CREATE TABLE order_counts (
    status TEXT     NOT NULL,
    shard  SMALLINT NOT NULL,
    n      BIGINT   NOT NULL,
    PRIMARY KEY (status, shard)
);

CREATE TABLE dispute_counts (
    status TEXT     NOT NULL,
    shard  SMALLINT NOT NULL,
    n      BIGINT   NOT NULL,
    PRIMARY KEY (status, shard)
);

-- How many orders each user buys and sells: a participant's unfiltered total.
CREATE TABLE user_order_counts (
    user_id UUID   NOT NULL,
    side    TEXT   NOT NULL CHECK (side IN ('buyer', 'seller')),
    n       BIGINT NOT NULL,
    PRIMARY KEY (user_id, side)
);

-- Adds `delta` to the count of `status` of `tab`'s rows, in the writing session's shard.
-- Static statements, so that PL/pgSQL plans them once per session.
CREATE FUNCTION count_status(tab TEXT, status TEXT, delta BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    shard SMALLINT := (pg_backend_pid() % 16)::SMALLINT;
BEGIN
    IF tab = 'orders' THEN
        INSERT INTO order_counts AS c (status, shard, n) VALUES (status, shard, delta)
        ON CONFLICT ON CONSTRAINT order_counts_pkey DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO dispute_counts AS c (status, shard, n) VALUES (status, shard, delta)
        ON CONFLICT ON CONSTRAINT dispute_counts_pkey DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
END $$;

-- A status change takes its two count rows in the order of their status, so that two
-- transactions moving orders between the same statuses, opposite ways, cannot deadlock.
CREATE FUNCTION count_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM count_status(TG_TABLE_NAME, NEW.status, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM count_status(TG_TABLE_NAME, OLD.status, -1);
    ELSIF OLD.status < NEW.status THEN
        PERFORM count_status(TG_TABLE_NAME, OLD.status, -1);
        PERFORM count_status(TG_TABLE_NAME, NEW.status, 1);
    ELSE
        PERFORM count_status(TG_TABLE_NAME, NEW.status, 1);
        PERFORM count_status(TG_TABLE_NAME, OLD.status, -1);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION count_participants() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row orders%ROWTYPE;
    delta BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN row := NEW; delta := 1; ELSE row := OLD; delta := -1; END IF;
    INSERT INTO user_order_counts AS c (user_id, side, n)
    VALUES (row.buyer_id, 'buyer', delta), (row.seller_id, 'seller', delta)
    ON CONFLICT (user_id, side) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_counted AFTER INSERT OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION count_status_change();
CREATE TRIGGER orders_status_counted AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION count_status_change();
CREATE TRIGGER orders_participants_counted AFTER INSERT OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION count_participants();
CREATE TRIGGER disputes_counted AFTER INSERT OR DELETE ON disputes
    FOR EACH ROW EXECUTE FUNCTION count_status_change();
CREATE TRIGGER disputes_status_counted AFTER UPDATE OF status ON disputes
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION count_status_change();

-- Rebuilds every count from the rows: after a bulk load that bypassed the triggers
-- (`session_replication_role = replica`, TRUNCATE), or to check them (docs/operations.md).
CREATE FUNCTION recount() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE orders, disputes IN SHARE MODE;
    DELETE FROM order_counts;
    DELETE FROM dispute_counts;
    DELETE FROM user_order_counts;
    INSERT INTO order_counts SELECT status, 0, count(*) FROM orders GROUP BY status;
    INSERT INTO dispute_counts SELECT status, 0, count(*) FROM disputes GROUP BY status;
    INSERT INTO user_order_counts
        SELECT buyer_id, 'buyer', count(*) FROM orders GROUP BY buyer_id
        UNION ALL
        SELECT seller_id, 'seller', count(*) FROM orders GROUP BY seller_id;
END $$;

SELECT recount();

-- Every documented list filter reads about one page of index entries, whatever the size of
-- the table: each with the keyset order `(created_at, id)` behind it.
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_by_listing ON orders (listing_id, created_at DESC, id DESC);
