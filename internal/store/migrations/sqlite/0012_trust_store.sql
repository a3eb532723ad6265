-- The trust store (SQLite dialect): the certificates an Admin marked as
-- trusted roots. Keep in step with ../postgres/0012_trust_store.sql.
--
-- Nothing is marked by this migration: before it, any self-signed CA
-- certificate of the inventory was trusted for vendor uploads and deploy
-- checks; from now on only certkeeper's own CA roots (counted without a
-- row) and the roots an Admin marks are. Whether the system roots are
-- trusted is the settings document "trust_store" (on when absent).
CREATE TABLE trust_roots (
    certificate_id INTEGER PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    added_by       TEXT    NOT NULL DEFAULT '',
    added_at       INTEGER NOT NULL
);
