-- Audit object names (PostgreSQL dialect). Keep in step with
-- ../sqlite/0018_audit_objects.sql.
--
-- Audit events name their object KIND:ID with the row's numeric ID, or
-- KIND / KIND:NAME for an object without one (see inventory.ObjectRef and
-- docs/architecture.md). Rows written before this migration spelled
-- objects several ways; they are rewritten here. A name that no longer
-- matches exactly one row (deleted, renamed, ambiguous) is left as it was.
UPDATE audit_events SET object = 'key:' || substr(object, 5)
    WHERE substr(object, 1, 4) = 'key/';
UPDATE audit_events SET object = 'certificate:' || substr(object, 13)
    WHERE substr(object, 1, 12) = 'certificate/';
UPDATE audit_events SET object = 'certificate:' || CAST((SELECT c.id FROM certificates c
        WHERE c.serial = substr(audit_events.object, 20)) AS TEXT)
    WHERE substr(object, 1, 19) = 'certificate serial '
      AND (SELECT COUNT(*) FROM certificates c WHERE c.serial = substr(audit_events.object, 20)) = 1;
UPDATE audit_events SET object = 'ca:' || CAST((SELECT c.id FROM cas c
        WHERE c.name = substr(audit_events.object, 4)) AS TEXT)
    WHERE substr(object, 1, 3) = 'ca '
      AND EXISTS (SELECT 1 FROM cas c WHERE c.name = substr(audit_events.object, 4));
UPDATE audit_events SET object = 'definition:' || CAST((SELECT d.id FROM definitions d
        WHERE d.name = substr(audit_events.object, 12)) AS TEXT)
    WHERE substr(object, 1, 11) = 'definition:'
      AND EXISTS (SELECT 1 FROM definitions d WHERE d.name = substr(audit_events.object, 12));
UPDATE audit_events SET object = 'user:' || CAST((SELECT u.id FROM users u
        WHERE u.username = substr(audit_events.object, 6)) AS TEXT)
    WHERE substr(object, 1, 5) = 'user:'
      AND EXISTS (SELECT 1 FROM users u WHERE u.username = substr(audit_events.object, 6));
UPDATE audit_events SET object = 'issuer:' || CAST((SELECT i.id FROM issuers i
        WHERE i.name = substr(audit_events.object, 8)) AS TEXT)
    WHERE substr(object, 1, 7) = 'issuer:'
      AND EXISTS (SELECT 1 FROM issuers i WHERE i.name = substr(audit_events.object, 8));
UPDATE audit_events SET object = 'product:' || CAST((SELECT p.id FROM products p JOIN issuers i ON i.id = p.issuer_id
        WHERE i.name || '/' || p.name = substr(audit_events.object, 9)) AS TEXT)
    WHERE substr(object, 1, 8) = 'product:'
      AND (SELECT COUNT(*) FROM products p JOIN issuers i ON i.id = p.issuer_id
        WHERE i.name || '/' || p.name = substr(audit_events.object, 9)) = 1;
UPDATE audit_events SET object = 'vendor-account:' || CAST((SELECT v.id FROM vendor_accounts v
        WHERE v.name = substr(audit_events.object, 16)) AS TEXT)
    WHERE substr(object, 1, 15) = 'vendor_account:'
      AND (SELECT COUNT(*) FROM vendor_accounts v WHERE v.name = substr(audit_events.object, 16)) = 1;
UPDATE audit_events SET object = 'agent:' || CAST((SELECT a.id FROM agents a
        WHERE a.name = substr(audit_events.object, 7)) AS TEXT)
    WHERE substr(object, 1, 6) = 'agent:' AND action <> 'agent.token_create' AND action <> 'agent.refused'
      AND EXISTS (SELECT 1 FROM agents a WHERE a.name = substr(audit_events.object, 7));
UPDATE audit_events SET object = 'settings:token-policy'
    WHERE object = 'settings' AND action = 'settings.token_policy';
UPDATE audit_events SET object = 'settings:settings' WHERE object = 'settings';
UPDATE audit_events SET object = 'outbound-policy' WHERE object = 'outbound policy';
