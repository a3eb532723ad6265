-- Issuance policies and approval (PostgreSQL dialect). Keep in step with
-- ../sqlite/0011_issuance_policy.sql.
--
-- cas.issuance is the CA's issuance policy per role as one JSON document;
-- NULL means the default (admins anything, users nothing), which is what
-- every CA gets here. Acquisitions gain the state pending_approval, open
-- like csr_ready: a definition still has at most one open process.
ALTER TABLE cas ADD COLUMN issuance TEXT;

ALTER TABLE acquisitions
    DROP CONSTRAINT acquisitions_state_check,
    ADD CONSTRAINT acquisitions_state_check CHECK (state IN
        ('csr_ready', 'pending_approval', 'ordered', 'issued', 'completed', 'cancelled'));
DROP INDEX acquisitions_open;
CREATE UNIQUE INDEX acquisitions_open ON acquisitions (definition_id)
    WHERE state IN ('csr_ready', 'pending_approval', 'ordered', 'issued');
