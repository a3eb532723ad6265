-- Certificate definitions: the servers a definition's certificate is
-- deployed to, by name (newline-separated), before deployment targets
-- exist as objects.
ALTER TABLE definitions ADD COLUMN targets TEXT NOT NULL DEFAULT '';
