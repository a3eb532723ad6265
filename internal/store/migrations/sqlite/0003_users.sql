-- Users and API tokens: usernames unique regardless of case, and a
-- display prefix for tokens (the secret itself is never stored).
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
