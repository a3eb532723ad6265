-- The scheduler's jobs: one row per kind of background work. A run claims
-- the row with a lease (lease_owner, lease_until) when next_run_at is due
-- or requested_at is set; finishing it writes the last_* columns and the
-- next slot.
CREATE TABLE jobs (
    kind             TEXT PRIMARY KEY,
    next_run_at      INTEGER NOT NULL,
    requested_at     INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_until      INTEGER,
    last_started_at  INTEGER,
    last_finished_at INTEGER,
    last_result      TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT '',
    last_duration_ms BIGINT NOT NULL DEFAULT 0
);
