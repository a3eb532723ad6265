-- Alert rules as an Admin changed them (the defaults live in package
-- alert; a row replaces its rule's default whole), and the alerts: one
-- row per condition of a rule on a subject from firing to resolved.
CREATE TABLE alert_rules (
    name              TEXT PRIMARY KEY,
    enabled           INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    severity          TEXT NOT NULL DEFAULT '',
    warn_days         INTEGER NOT NULL DEFAULT 0,
    critical_days     INTEGER NOT NULL DEFAULT 0,
    warn_fraction     REAL NOT NULL DEFAULT 0,
    critical_fraction REAL NOT NULL DEFAULT 0,
    threshold         INTEGER NOT NULL DEFAULT 0,
    repeat_seconds    BIGINT NOT NULL DEFAULT 0,
    channels          TEXT NOT NULL DEFAULT '',
    updated_by        TEXT NOT NULL DEFAULT '',
    updated_at        INTEGER NOT NULL
);

CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    rule              TEXT NOT NULL,
    subject           TEXT NOT NULL,
    subject_name      TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL,
    state             TEXT NOT NULL,
    summary           TEXT NOT NULL DEFAULT '',
    fired_at          INTEGER NOT NULL,
    last_notified_at  INTEGER,
    notifications     INTEGER NOT NULL DEFAULT 0,
    ack_by            TEXT NOT NULL DEFAULT '',
    ack_at            INTEGER,
    ack_reason        TEXT NOT NULL DEFAULT '',
    silenced_by       TEXT NOT NULL DEFAULT '',
    silenced_until    INTEGER,
    silence_reason    TEXT NOT NULL DEFAULT '',
    resolved_at       INTEGER
);

-- At most one open alert per rule and subject.
CREATE UNIQUE INDEX alerts_open ON alerts (rule, subject) WHERE state <> 'resolved';
CREATE INDEX alerts_state ON alerts (state, id);
