-- Internal certificates (SQLite dialect). Keep in step with
-- ../postgres/0017_internal_certificates.sql.
--
-- The certificates certkeeper issues for itself (the web UI's default
-- certificate, the agent endpoint's, agents' client certificates and the
-- OCSP responders') are renewed by certkeeper on its own and are left out
-- of expiry counts and alerts. Rows stored before this migration are
-- recognised by the labels those issuers always set.
ALTER TABLE certificates ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
UPDATE certificates SET internal = 1 WHERE id IN (
    SELECT certificate_id FROM certificate_labels
    WHERE label IN ('certkeeper-web', 'certkeeper-agent-endpoint', 'certkeeper-agent')
       OR label LIKE 'ocsp-responder:ca-%');

-- The dashboard's covering index gains the new column.
DROP INDEX certificates_status;
CREATE INDEX certificates_status ON certificates (not_after, not_before, revoked_at, is_ca, internal);
