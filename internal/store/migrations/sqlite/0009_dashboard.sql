-- Dashboard counts (SQLite dialect). Keep in step with
-- ../postgres/0009_dashboard.sql.
--
-- A covering index over the columns a certificate's status depends on,
-- led by not_after: CountCertificatesByStatus reads it instead of the
-- table (whose rows carry the DER), and CountCertificatesByDay and the
-- expiry filters read one not_after range of it, both without visiting
-- table rows. certificates_not_after (not_after, id) stays for the list
-- order.
CREATE INDEX certificates_status ON certificates (not_after, not_before, revoked_at, is_ca);
