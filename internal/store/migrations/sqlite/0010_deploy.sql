-- Deployment targets, deployment processes and their steps, user layouts,
-- agents and their enrollment tokens (SQLite dialect). Keep in step with
-- ../postgres/0010_deploy.sql.
--
-- 0001 created placeholder targets, definition_targets, deployments,
-- deployment_steps and check_results tables that no code ever wrote; they
-- are replaced by the shapes of package inventory. A definition names its
-- targets in definitions.targets (0005) and a deployment keeps its latest
-- check in deployments.last_check, so definition_targets and
-- check_results go without a successor.
DROP TABLE check_results;
DROP TABLE definition_targets;
DROP TABLE deployment_steps;
DROP TABLE deployments;
DROP TABLE targets;

-- A certkeeper agent, named by the Common Name of its client certificate.
-- last_seen_at is NULL until the agent first connects.
CREATE TABLE agents (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL UNIQUE,
    certificate_sha256 TEXT    NOT NULL,
    enrolled_at        INTEGER NOT NULL,
    last_seen_at       INTEGER,
    remote_addr        TEXT    NOT NULL DEFAULT '',
    disabled           INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);
-- Agents authenticate by the SHA-256 of the certificate they present.
CREATE INDEX agents_certificate ON agents (certificate_sha256);

-- One-time enrollment tokens, by the SHA-256 of the token; used_at is
-- NULL until the token enrolled an agent.
CREATE TABLE agent_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hash       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- ssh is the JSON of inventory.SSHAccess (NULL when none) and check_spec
-- the JSON of inventory.CheckSpec. sealed_secrets is NULL when the target
-- has no secrets. The reload timeout is in milliseconds, 0 for the
-- default.
CREATE TABLE targets (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL UNIQUE,
    preset              TEXT    NOT NULL DEFAULT '',
    method              TEXT    NOT NULL CHECK (method IN ('directory', 'ssh', 'agent', 'manual')),
    directory           TEXT    NOT NULL DEFAULT '',
    owner               TEXT    NOT NULL DEFAULT '',
    test_command        TEXT    NOT NULL DEFAULT '',
    reload_command      TEXT    NOT NULL DEFAULT '',
    reload_timeout_ms   INTEGER NOT NULL DEFAULT 0,
    ssh                 TEXT,
    agent_id            INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    check_spec          TEXT    NOT NULL DEFAULT '{}',
    admin_email         TEXT    NOT NULL DEFAULT '',
    rollback_on_failure INTEGER NOT NULL DEFAULT 0 CHECK (rollback_on_failure IN (0, 1)),
    sealed_secrets      BLOB,
    notes               TEXT    NOT NULL DEFAULT '',
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX targets_agent ON targets (agent_id);
-- DeleteDeployLayout looks for targets whose preset names the layout.
CREATE INDEX targets_preset ON targets (preset);

-- One process per certificate and target. last_check is the JSON of the
-- latest inventory.CheckResult (NULL before the first); check_passed
-- repeats its passed flag (NULL before the first) so that the "check
-- failed" filter is a plain condition with an index.
CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_id INTEGER NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    target_id      INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    definition_id  INTEGER REFERENCES definitions (id) ON DELETE SET NULL,
    state          TEXT    NOT NULL CHECK (state IN ('prepared', 'install_requested', 'installed', 'confirmed',
        'failed', 'rolled_back')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    backup         TEXT    NOT NULL DEFAULT '',
    last_check     TEXT,
    check_passed   INTEGER CHECK (check_passed IN (0, 1)),
    unchecked      INTEGER NOT NULL DEFAULT 0 CHECK (unchecked IN (0, 1)),
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (certificate_id, target_id)
);
CREATE INDEX deployments_certificate ON deployments (certificate_id, id);
CREATE INDEX deployments_target ON deployments (target_id, id);
CREATE INDEX deployments_definition ON deployments (definition_id, id);
CREATE INDEX deployments_state ON deployments (state, id);
CREATE INDEX deployments_check_failed ON deployments (id) WHERE NOT check_passed;

CREATE TABLE deployment_steps (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    time          INTEGER NOT NULL,
    actor         TEXT    NOT NULL DEFAULT '',
    action        TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT '',
    output        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX deployment_steps_deployment ON deployment_steps (deployment_id, id);

-- User-defined presets; files is a JSON array of kit files.
CREATE TABLE deploy_layouts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    files          TEXT    NOT NULL DEFAULT '[]',
    test_command   TEXT    NOT NULL DEFAULT '',
    reload_command TEXT    NOT NULL DEFAULT '',
    instructions   TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
