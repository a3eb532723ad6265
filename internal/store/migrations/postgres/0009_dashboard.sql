-- Dashboard counts (PostgreSQL dialect). Keep in step with
-- ../sqlite/0009_dashboard.sql.
--
-- A covering index over the columns a certificate's status depends on,
-- led by not_after: CountCertificatesByStatus and CountCertificatesByDay
-- can be answered by index-only scans (the table rows carry the DER),
-- the latter over one not_after range. certificates_not_after
-- (not_after, id) stays for the list order.
CREATE INDEX certificates_status ON certificates (not_after, not_before, revoked_at, is_ca);
