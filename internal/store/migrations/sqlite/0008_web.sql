-- Web UI (SQLite dialect): sign-in lockout, sessions, settings and the
-- record of sent e-mails. Keep in step with ../postgres/0008_web.sql.
--
-- 0001 created placeholder sessions, settings and sent_emails tables that
-- no code ever wrote; they are replaced by the tables below.
DROP TABLE sessions;
DROP TABLE settings;
DROP TABLE sent_emails;

-- Wrong passwords since the last sign-in or lock, and the end of the lock.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;

-- A session is found by the SHA-256 of its cookie secret.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    remote_addr  TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
-- DeleteStaleSessions deletes by either time (an OR of two ranges).
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Named JSON documents (package settings defines names and shapes).
CREATE TABLE settings (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Sent (or failed) e-mails; to_addrs is a JSON array of strings.
CREATE TABLE emails (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_at   INTEGER NOT NULL,
    kind      TEXT    NOT NULL DEFAULT '',
    from_addr TEXT    NOT NULL DEFAULT '',
    to_addrs  TEXT    NOT NULL DEFAULT '[]',
    subject   TEXT    NOT NULL DEFAULT '',
    body      TEXT    NOT NULL DEFAULT '',
    status    TEXT    NOT NULL,
    error     TEXT    NOT NULL DEFAULT ''
);
-- ListEmails pages newest first by (sent_at, id).
CREATE INDEX emails_sent_at ON emails (sent_at, id);
