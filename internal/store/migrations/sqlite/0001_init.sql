-- certkeeper schema, SQLite dialect. Times are INTEGER unix seconds (UTC);
-- booleans are INTEGER 0/1; JSON documents are TEXT; list columns (SANs,
-- labels) are newline-joined TEXT. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    spki_sha256 TEXT    NOT NULL UNIQUE,
    algorithm   TEXT    NOT NULL,
    bits        INTEGER NOT NULL,
    sealed      BLOB    NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE certificates (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256              TEXT    NOT NULL UNIQUE,
    sha1                TEXT    NOT NULL,
    serial              TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    common_name         TEXT    NOT NULL,
    issuer              TEXT    NOT NULL,
    sans                TEXT    NOT NULL DEFAULT '',
    not_before          INTEGER NOT NULL,
    not_after           INTEGER NOT NULL,
    is_ca               INTEGER NOT NULL CHECK (is_ca IN (0, 1)),
    self_signed         INTEGER NOT NULL CHECK (self_signed IN (0, 1)),
    subject_key_id      TEXT    NOT NULL DEFAULT '',
    authority_key_id    TEXT    NOT NULL DEFAULT '',
    key_algorithm       TEXT    NOT NULL,
    key_bits            INTEGER NOT NULL,
    signature_algorithm TEXT    NOT NULL,
    spki_sha256         TEXT    NOT NULL,
    issuer_id           INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    key_id              INTEGER REFERENCES keys (id) ON DELETE SET NULL,
    der                 BLOB    NOT NULL,
    source              TEXT    NOT NULL DEFAULT '',
    revoked_at          INTEGER,
    revocation_reason   INTEGER,
    created_at          INTEGER NOT NULL
);
CREATE INDEX certificates_not_after ON certificates (not_after, id);
CREATE INDEX certificates_issuer_id ON certificates (issuer_id);
CREATE INDEX certificates_key_id ON certificates (key_id);
CREATE INDEX certificates_spki ON certificates (spki_sha256);
-- Issuer linking looks up CA and self-signed certificates only, by
-- subject DN and subject key ID; partial indexes keep leaf imports cheap.
CREATE INDEX certificates_ca_subject ON certificates (subject) WHERE is_ca OR self_signed;
CREATE INDEX certificates_ca_ski ON certificates (subject_key_id) WHERE is_ca OR self_signed;
CREATE INDEX certificates_aki ON certificates (authority_key_id);
-- Certificates still waiting for their issuer: small, used to back-fill
-- issuer_id when a CA certificate arrives.
CREATE INDEX certificates_unlinked ON certificates (issuer)
    WHERE issuer_id IS NULL AND NOT self_signed;

CREATE TABLE certificate_labels (
    certificate_id INTEGER NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    label          TEXT    NOT NULL,
    PRIMARY KEY (certificate_id, label)
) WITHOUT ROWID;
CREATE INDEX certificate_labels_label ON certificate_labels (label, certificate_id);

CREATE TABLE csrs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    subject     TEXT    NOT NULL,
    sans        TEXT    NOT NULL DEFAULT '',
    spki_sha256 TEXT    NOT NULL,
    key_id      INTEGER REFERENCES keys (id) ON DELETE SET NULL,
    der         BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX csrs_spki ON csrs (spki_sha256);
CREATE INDEX csrs_key_id ON csrs (key_id);

-- Issuer catalogue: the built-in CA(s), ACME CAs, manual vendors.
CREATE TABLE issuers (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL UNIQUE,
    kind              TEXT    NOT NULL CHECK (kind IN ('builtin', 'acme', 'manual')),
    config            TEXT    NOT NULL DEFAULT '{}',
    sealed_secret     BLOB,
    ca_certificate_id INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE products (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id         INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    validation_level  TEXT    NOT NULL DEFAULT 'dv' CHECK (validation_level IN ('dv', 'ov', 'ev')),
    wildcard          INTEGER NOT NULL DEFAULT 0 CHECK (wildcard IN (0, 1)),
    multi_domain      INTEGER NOT NULL DEFAULT 0 CHECK (multi_domain IN (0, 1)),
    max_validity_days INTEGER NOT NULL DEFAULT 0,
    capabilities      TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (issuer_id, name)
);

CREATE TABLE vendor_accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id       INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    url             TEXT    NOT NULL DEFAULT '',
    username        TEXT    NOT NULL DEFAULT '',
    sealed_password BLOB,
    notes           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (issuer_id, name)
);

CREATE TABLE definitions (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    name                   TEXT    NOT NULL UNIQUE,
    subject                TEXT    NOT NULL DEFAULT '',
    sans                   TEXT    NOT NULL DEFAULT '',
    key_algorithm          TEXT    NOT NULL DEFAULT 'ecdsa',
    key_bits               INTEGER NOT NULL DEFAULT 256,
    requirements           TEXT    NOT NULL DEFAULT '{}',
    requester              TEXT    NOT NULL DEFAULT '',
    contact                TEXT    NOT NULL DEFAULT '',
    renewal_policy         TEXT    NOT NULL DEFAULT '{}',
    issuer_id              INTEGER REFERENCES issuers (id) ON DELETE SET NULL,
    product_id             INTEGER REFERENCES products (id) ON DELETE SET NULL,
    labels                 TEXT    NOT NULL DEFAULT '',
    notes                  TEXT    NOT NULL DEFAULT '',
    current_certificate_id INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX definitions_current ON definitions (current_certificate_id);

CREATE TABLE acquisitions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    definition_id     INTEGER NOT NULL REFERENCES definitions (id) ON DELETE CASCADE,
    kind              TEXT    NOT NULL CHECK (kind IN ('new', 'renewal')),
    state             TEXT    NOT NULL,
    issuer_id         INTEGER REFERENCES issuers (id) ON DELETE SET NULL,
    product_id        INTEGER REFERENCES products (id) ON DELETE SET NULL,
    vendor_account_id INTEGER REFERENCES vendor_accounts (id) ON DELETE SET NULL,
    key_id            INTEGER REFERENCES keys (id) ON DELETE SET NULL,
    csr_id            INTEGER REFERENCES csrs (id) ON DELETE SET NULL,
    certificate_id    INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    order_number      TEXT    NOT NULL DEFAULT '',
    order_date        INTEGER,
    order_url         TEXT    NOT NULL DEFAULT '',
    order_data        TEXT    NOT NULL DEFAULT '{}',
    error             TEXT    NOT NULL DEFAULT '',
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX acquisitions_definition ON acquisitions (definition_id, id);
CREATE INDEX acquisitions_state ON acquisitions (state);

CREATE TABLE acquisition_steps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    acquisition_id INTEGER NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
    time           INTEGER NOT NULL,
    actor          TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    note           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX acquisition_steps_acquisition ON acquisition_steps (acquisition_id, id);

CREATE TABLE targets (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL UNIQUE,
    preset             TEXT    NOT NULL DEFAULT '',
    method             TEXT    NOT NULL,
    connection         TEXT    NOT NULL DEFAULT '{}',
    check_host         TEXT    NOT NULL DEFAULT '',
    check_port         INTEGER NOT NULL DEFAULT 443,
    check_sni          TEXT    NOT NULL DEFAULT '',
    check_starttls     TEXT    NOT NULL DEFAULT '',
    monitor            INTEGER NOT NULL DEFAULT 1 CHECK (monitor IN (0, 1)),
    sealed_credentials BLOB,
    admin_email        TEXT    NOT NULL DEFAULT '',
    labels             TEXT    NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE definition_targets (
    definition_id INTEGER NOT NULL REFERENCES definitions (id) ON DELETE CASCADE,
    target_id     INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    PRIMARY KEY (definition_id, target_id)
) WITHOUT ROWID;
CREATE INDEX definition_targets_target ON definition_targets (target_id);

CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_id INTEGER NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    target_id      INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    method         TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL,
    error          TEXT    NOT NULL DEFAULT '',
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX deployments_certificate ON deployments (certificate_id);
CREATE INDEX deployments_target ON deployments (target_id, id);
CREATE INDEX deployments_state ON deployments (state);

CREATE TABLE deployment_steps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    time          INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    note          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX deployment_steps_deployment ON deployment_steps (deployment_id, id);

CREATE TABLE check_results (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    target_id      INTEGER REFERENCES targets (id) ON DELETE CASCADE,
    certificate_id INTEGER REFERENCES certificates (id) ON DELETE SET NULL,
    time           INTEGER NOT NULL,
    host           TEXT    NOT NULL DEFAULT '',
    port           INTEGER NOT NULL DEFAULT 0,
    sni            TEXT    NOT NULL DEFAULT '',
    manual         INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
    served_sha256  TEXT    NOT NULL DEFAULT '',
    findings       TEXT    NOT NULL DEFAULT '[]',
    ok             INTEGER NOT NULL CHECK (ok IN (0, 1))
);
CREATE INDEX check_results_target ON check_results (target_id, time);
CREATE INDEX check_results_certificate ON check_results (certificate_id, time);
CREATE INDEX check_results_time ON check_results (time);

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    definition_id INTEGER NOT NULL REFERENCES definitions (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL DEFAULT 'application/octet-stream',
    content       BLOB    NOT NULL,
    size          INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (definition_id, name)
);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT    NOT NULL UNIQUE,
    email                TEXT    NOT NULL DEFAULT '',
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    last_login_at        INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Web sessions, shaped for an scs store: opaque token hash, data, expiry.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    data       BLOB    NOT NULL,
    expiry     INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    sealed     INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1)),
    updated_at INTEGER NOT NULL
);

CREATE TABLE sent_emails (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       INTEGER NOT NULL,
    kind       TEXT    NOT NULL DEFAULT '',
    recipients TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    object     TEXT    NOT NULL DEFAULT '',
    error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sent_emails_time ON sent_emails (time);

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    object  TEXT    NOT NULL DEFAULT '',
    summary TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_time ON audit_events (time);
