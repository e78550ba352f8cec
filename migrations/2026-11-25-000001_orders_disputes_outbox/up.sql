-- Orders, disputes, the transactional outbox and HTTP idempotency keys.
-- The CHECKs repeat the domain's rules so that no writer, buggy or manual, can store an
-- order the domain could not have produced.

CREATE TABLE orders (
    id                    UUID PRIMARY KEY,
    listing_id            UUID NOT NULL,
    buyer_id              UUID NOT NULL,
    seller_id             UUID NOT NULL,
    source                TEXT NOT NULL CHECK (source IN ('AUCTION', 'BUY_NOW')),
    amount                NUMERIC(12, 2) NOT NULL CHECK (amount > 0),
    fee_amount            NUMERIC(12, 2) NOT NULL CHECK (fee_amount >= 0 AND fee_amount <= amount),
    shipping_cost         NUMERIC(12, 2) NOT NULL CHECK (shipping_cost >= 0),
    status                TEXT NOT NULL CHECK (status IN (
                              'PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED',
                              'COMPLETED', 'CANCELLED', 'DISPUTED', 'REFUNDED')),
    shipping_address      JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(shipping_address) = 'object'),
    tracking_number       TEXT CHECK (tracking_number ~ '^[A-Za-z0-9-]{1,64}$'),
    carrier               TEXT CHECK (char_length(carrier) BETWEEN 1 AND 32),
    escrow_id             UUID,
    created_at            TIMESTAMPTZ NOT NULL,
    paid_at               TIMESTAMPTZ,
    shipped_at            TIMESTAMPTZ,
    delivered_at          TIMESTAMPTZ,
    completed_at          TIMESTAMPTZ,
    cancelled_at          TIMESTAMPTZ,
    cancellation_reason   TEXT,
    status_before_dispute TEXT CHECK (status_before_dispute IN ('PAID', 'SHIPPED', 'DELIVERED')),
    CONSTRAINT orders_buyer_is_not_seller CHECK (buyer_id <> seller_id),
    CONSTRAINT orders_total_fits CHECK (amount + shipping_cost <= 9999999999.99),
    CONSTRAINT orders_paid_have_escrow CHECK (
        status IN ('PENDING_PAYMENT', 'CANCELLED') OR escrow_id IS NOT NULL)
);

-- One live order per listing: a second buyer's insert fails instead of double-selling.
CREATE UNIQUE INDEX orders_one_live_per_listing ON orders (listing_id) WHERE status <> 'CANCELLED';

-- The list endpoint's queries: one user's orders (as buyer, as seller), newest first,
-- keyset-paginated on (created_at, id).
CREATE INDEX orders_by_buyer ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_seller ON orders (seller_id, created_at DESC, id DESC);
CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);

-- The auto-completion worker's sweep.
CREATE INDEX orders_awaiting_completion ON orders (shipped_at) WHERE status IN ('SHIPPED', 'DELIVERED');

CREATE TABLE disputes (
    id            UUID PRIMARY KEY,
    -- UNIQUE: an order has at most one dispute in its life.
    order_id      UUID NOT NULL UNIQUE REFERENCES orders (id),
    opened_by     UUID NOT NULL,
    buyer_id      UUID NOT NULL,
    seller_id     UUID NOT NULL,
    reason        TEXT NOT NULL CHECK (char_length(reason) BETWEEN 10 AND 5000),
    evidence      TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(evidence) <= 20),
    status        TEXT NOT NULL CHECK (status IN ('OPEN', 'EVIDENCE', 'REVIEW', 'RESOLVED', 'CLOSED')),
    resolution    TEXT CHECK (resolution IN ('REFUND_BUYER', 'RELEASE_SELLER', 'PARTIAL_REFUND', 'NO_ACTION')),
    refund_amount NUMERIC(12, 2) CHECK (refund_amount > 0),
    admin_notes   TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    resolved_at   TIMESTAMPTZ,
    CONSTRAINT disputes_opened_by_a_party CHECK (opened_by IN (buyer_id, seller_id)),
    CONSTRAINT disputes_resolved_have_resolution CHECK (
        (status = 'RESOLVED') <= (resolution IS NOT NULL)),
    CONSTRAINT disputes_refund_only_when_partial CHECK (
        (refund_amount IS NOT NULL) = (resolution IS NOT DISTINCT FROM 'PARTIAL_REFUND'))
);

CREATE INDEX disputes_by_created ON disputes (created_at DESC, id DESC);
CREATE INDEX disputes_by_status ON disputes (status, created_at DESC, id DESC);

-- Events written with the change they describe; the relay publishes them in `seq`
-- order per order and marks them published (or parks them after repeated failures).
CREATE TABLE outbox (
    seq             BIGSERIAL PRIMARY KEY,
    event_id        UUID NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    order_id        UUID NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    published_at    TIMESTAMPTZ,
    parked_at       TIMESTAMPTZ
);

CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL AND parked_at IS NULL;

-- Answers to POSTs that carried an Idempotency-Key, replayed to the same caller.
CREATE TABLE idempotency_keys (
    caller        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   SMALLINT,
    response_body TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
