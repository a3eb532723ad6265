-- Sign-in (SQLite dialect): failed sign-ins counted per name and address
-- instead of a lock per user, and credential generations. Keep in step
-- with ../postgres/0014_signin.sql.

-- The per-user lock is gone: it let anyone lock the owner out.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;

-- Sessions and API tokens work only while their generation is the
-- user's; disabling, an admin's password reset and signing out everywhere
-- move the user's on.
ALTER TABLE users ADD COLUMN credential_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN credential_gen INTEGER NOT NULL DEFAULT 0;

-- Failed sign-ins of one name (the SHA-256 of the lower-cased name tried,
-- '' for the address as a whole) from one address.
CREATE TABLE sign_in_failures (
    name            TEXT    NOT NULL,
    addr            TEXT    NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    PRIMARY KEY (name, addr)
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure_at);
