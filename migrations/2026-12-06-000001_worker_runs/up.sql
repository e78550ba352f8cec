-- Periodic work that one replica does for all of them (the reconciliation): when the next
-- round is due, which the first replica to claim it runs, and the last round's result,
-- which every replica exports so that their metrics agree.
CREATE TABLE worker_runs (
    name        TEXT PRIMARY KEY,
    next_at     TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    report      JSONB
);
