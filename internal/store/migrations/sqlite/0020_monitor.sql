-- Monitored TLS endpoints and their history (SQLite dialect). Keep in
-- step with ../postgres/0020_monitor.sql.
--
-- interval_s is the time between checks in seconds, 0 for daily at the
-- instance's monitoring time. labels are newline-joined. last_result_id
-- is the latest result, NULL before the first check.
CREATE TABLE endpoints (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    address               TEXT    NOT NULL,
    server_name           TEXT    NOT NULL DEFAULT '',
    starttls              TEXT    NOT NULL DEFAULT '',
    client_certificate_id INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    interval_s            INTEGER NOT NULL DEFAULT 0,
    source                TEXT    NOT NULL CHECK (source IN ('deployment', 'certificate', 'definition', 'manual')),
    source_id             INTEGER NOT NULL DEFAULT 0,
    labels                TEXT    NOT NULL DEFAULT '',
    created_at            INTEGER NOT NULL,
    next_check_at         INTEGER NOT NULL,
    failures              INTEGER NOT NULL DEFAULT 0,
    last_result_id        INTEGER,
    UNIQUE (address, server_name, starttls, source, source_id)
);
CREATE INDEX endpoints_due ON endpoints (next_check_at, id);

-- One observation of an endpoint. check_result is the JSON of
-- inventory.CheckResult; chain_sha256 the newline-joined fingerprints,
-- leaf first. Zero times are NULL.
CREATE TABLE endpoint_results (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    time            INTEGER NOT NULL,
    check_result    TEXT    NOT NULL,
    chain_sha256    TEXT    NOT NULL DEFAULT '',
    leaf_not_after  INTEGER,
    leaf_lifetime_s INTEGER NOT NULL DEFAULT 0,
    chain_not_after INTEGER,
    chain_days_left INTEGER NOT NULL DEFAULT 0,
    not_yet_valid   INTEGER NOT NULL DEFAULT 0 CHECK (not_yet_valid IN (0, 1))
);
CREATE INDEX endpoint_results_endpoint_time ON endpoint_results (endpoint_id, time);
CREATE INDEX endpoint_results_time ON endpoint_results (time);
