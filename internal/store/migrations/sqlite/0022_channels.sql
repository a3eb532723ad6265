-- Notification channels: where notices are posted over HTTP. The secret
-- (HMAC key, routing key or token) is sealed with the master key.
CREATE TABLE channels (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    format        TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    sealed_secret BLOB,
    created_at    INTEGER NOT NULL,
    created_by    TEXT    NOT NULL DEFAULT ''
);

-- Every message sent or tried on a channel. The channel is kept by name
-- so that the record outlives the channel; no secret and no URL is kept.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sent_at     INTEGER NOT NULL,
    channel     TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT '',
    notice_key  TEXT    NOT NULL DEFAULT '',
    subject     TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notifications_sent_at ON notifications (sent_at, id);
