-- The scheduler's leader, its runs' history and the slot of the run under
-- way. One row in scheduler_leader holds the leader lease: only its owner
-- claims shared jobs, and it renews lease_until while it lives. job_runs
-- has one row per run of a slot; UNIQUE (kind, slot) keeps a slot from
-- running twice (a run whose lease was lost is taken over, not repeated).
ALTER TABLE jobs ADD COLUMN run_slot INTEGER;

CREATE TABLE scheduler_leader (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    owner       TEXT NOT NULL,
    since       INTEGER NOT NULL,
    lease_until INTEGER NOT NULL
);

CREATE TABLE job_runs (
    kind        TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    owner       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    result      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0,
    UNIQUE (kind, slot)
);
