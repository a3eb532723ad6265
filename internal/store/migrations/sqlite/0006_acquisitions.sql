-- Acquisition processes and their steps (SQLite dialect). Keep in step
-- with ../postgres/0006_acquisitions.sql.
--
-- 0001 created placeholder tables that no code ever wrote; they are
-- replaced by the shape of inventory.Acquisition. The vendor order is one
-- JSON document (NULL until recorded); differences are a JSON array of
-- strings. A definition has at most one open process (csr_ready, ordered,
-- issued): the partial unique index acquisitions_open enforces it.
DROP TABLE acquisition_steps;
DROP TABLE acquisitions;

CREATE TABLE acquisitions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    definition_id  INTEGER NOT NULL REFERENCES definitions (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('new', 'renewal')),
    state          TEXT    NOT NULL
        CHECK (state IN ('csr_ready', 'ordered', 'issued', 'completed', 'cancelled')),
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
CREATE UNIQUE INDEX acquisitions_open ON acquisitions (definition_id)
    WHERE state IN ('csr_ready', 'ordered', 'issued');
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
CREATE INDEX acquisition_steps_acquisition ON acquisition_steps (acquisition_id, id);
