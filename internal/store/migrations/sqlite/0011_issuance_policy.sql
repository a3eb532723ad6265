-- Issuance policies and approval (SQLite dialect). Keep in step with
-- ../postgres/0011_issuance_policy.sql.
--
-- cas.issuance is the CA's issuance policy per role as one JSON document;
-- NULL means the default (admins anything, users nothing), which is what
-- every CA gets here. Acquisitions gain the state pending_approval, open
-- like csr_ready: a definition still has at most one open process.
--
-- SQLite cannot change a CHECK constraint, so acquisitions is rebuilt.
-- Its steps reference it with ON DELETE CASCADE: they are saved first,
-- their table dropped, and both tables made again.
ALTER TABLE cas ADD COLUMN issuance TEXT;

CREATE TEMP TABLE saved_steps AS SELECT id, acquisition_id, time, actor, action, detail FROM acquisition_steps;
DROP TABLE acquisition_steps;

CREATE TABLE acquisitions_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    definition_id  INTEGER NOT NULL REFERENCES definitions (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('new', 'renewal')),
    state          TEXT    NOT NULL
        CHECK (state IN ('csr_ready', 'pending_approval', 'ordered', 'issued', 'completed', 'cancelled')),
    issuer_id      INTEGER REFERENCES issuers (id) ON DELETE SET NULL,
    product_id     INTEGER REFERENCES products (id) ON DELETE SET NULL,
    key_id         INTEGER REFERENCES keys (id) ON DELETE SET NULL,
    csr_id         INTEGER REFERENCES csrs (id) ON DELETE SET NULL,
    order_data     TEXT,
    certificate_id INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    differences    TEXT    NOT NULL DEFAULT '[]',
    auto_switch    INTEGER NOT NULL DEFAULT 0 CHECK (auto_switch IN (0, 1)),
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
INSERT INTO acquisitions_new (id, definition_id, kind, state, issuer_id, product_id, key_id, csr_id, order_data,
        certificate_id, differences, auto_switch, version, created_by, created_at, updated_at)
    SELECT id, definition_id, kind, state, issuer_id, product_id, key_id, csr_id, order_data,
        certificate_id, differences, auto_switch, version, created_by, created_at, updated_at
    FROM acquisitions;
DROP TABLE acquisitions;
ALTER TABLE acquisitions_new RENAME TO acquisitions;
CREATE UNIQUE INDEX acquisitions_open ON acquisitions (definition_id)
    WHERE state IN ('csr_ready', 'pending_approval', 'ordered', 'issued');
CREATE INDEX acquisitions_definition ON acquisitions (definition_id, id);
CREATE INDEX acquisitions_state ON acquisitions (state, id);
CREATE INDEX acquisitions_issuer ON acquisitions (issuer_id, id);
CREATE INDEX acquisitions_key ON acquisitions (key_id, id);
CREATE INDEX acquisitions_certificate ON acquisitions (certificate_id);

CREATE TABLE acquisition_steps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    acquisition_id INTEGER NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
    time           INTEGER NOT NULL,
    actor          TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL,
    detail         TEXT    NOT NULL DEFAULT ''
);
INSERT INTO acquisition_steps (id, acquisition_id, time, actor, action, detail)
    SELECT id, acquisition_id, time, actor, action, detail FROM saved_steps;
CREATE INDEX acquisition_steps_acquisition ON acquisition_steps (acquisition_id, id);
DROP TABLE saved_steps;
