-- Certificate text search (PostgreSQL dialect). Keep in step with
-- ../sqlite/0007_certificate_search.sql.
--
-- A pg_trgm GIN index over the columns CertificateFilter.Text searches,
-- joined into one expression; queries write the same expression with
-- ILIKE, and the per-column conditions stay in the query as the exact
-- check. pg_trgm is a trusted extension: a database owner may create it.
-- Creating the index indexes the certificates already stored.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX certificates_search ON certificates
    USING gin ((subject || ' ' || sans || ' ' || serial || ' ' || sha256) gin_trgm_ops);
