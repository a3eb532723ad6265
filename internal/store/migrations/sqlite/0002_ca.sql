-- Certificate authorities, serial reservations, revocations and CRLs
-- (SQLite dialect). Keep in step with ../postgres/0002_ca.sql.

CREATE TABLE cas (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'pending', 'retired')),
    parent_id      INTEGER REFERENCES cas (id) ON DELETE SET NULL,
    key_id         INTEGER NOT NULL REFERENCES keys (id),
    certificate_id INTEGER REFERENCES certificates (id),
    csr_id         INTEGER REFERENCES csrs (id) ON DELETE SET NULL,
    policy         TEXT    NOT NULL DEFAULT '{}',
    is_default     INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    crl_number     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
-- At most one default CA.
CREATE UNIQUE INDEX cas_default ON cas (is_default) WHERE is_default;

-- Every serial a CA ever reserved, reserved durably before it is signed
-- with; certificate_id is set when the certificate is recorded.
CREATE TABLE serials (
    ca_id          INTEGER NOT NULL REFERENCES cas (id),
    serial         TEXT    NOT NULL,
    reserved_at    INTEGER NOT NULL,
    certificate_id INTEGER REFERENCES certificates (id),
    PRIMARY KEY (ca_id, serial)
) WITHOUT ROWID;
CREATE UNIQUE INDEX serials_certificate ON serials (certificate_id) WHERE certificate_id IS NOT NULL;

CREATE TABLE revocations (
    ca_id          INTEGER NOT NULL REFERENCES cas (id),
    serial         TEXT    NOT NULL,
    certificate_id INTEGER NOT NULL REFERENCES certificates (id),
    revoked_at     INTEGER NOT NULL,
    reason         INTEGER NOT NULL,
    PRIMARY KEY (ca_id, serial)
) WITHOUT ROWID;
CREATE INDEX revocations_time ON revocations (ca_id, revoked_at);

-- The latest CRL of each CA.
CREATE TABLE crls (
    ca_id       INTEGER PRIMARY KEY REFERENCES cas (id),
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB    NOT NULL
);
