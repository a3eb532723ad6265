-- Certificate text search (SQLite dialect). Keep in step with
-- ../postgres/0007_certificate_search.sql.
--
-- An FTS5 trigram index over the columns CertificateFilter.Text searches.
-- It is an external-content table: it stores only the index, reads no
-- content (queries take rowids only). PutCertificates and RecordIssuances
-- add the certificates they insert, once per transaction (see
-- indexCertificates in certificates.go: a per-row trigger would make FTS5
-- write an index segment per certificate); the triggers below follow any
-- other change. The trigram tokenizer indexes every character
-- (punctuation and newlines included) and folds case. Queries ask for rows
-- holding all of a few trigrams of the text, and the LIKE conditions stay
-- in the query as the exact check, so neither positions (detail=none) nor
-- column sizes (no ranking) are kept: a smaller index, a faster import.
CREATE VIRTUAL TABLE certificates_search USING fts5 (
    subject, sans, serial, sha256,
    content = 'certificates', content_rowid = 'id',
    tokenize = 'trigram', columnsize = 0, detail = none
);

CREATE TRIGGER certificates_search_delete AFTER DELETE ON certificates BEGIN
    INSERT INTO certificates_search (certificates_search, rowid, subject, sans, serial, sha256)
        VALUES ('delete', old.id, old.subject, old.sans, old.serial, old.sha256);
END;

CREATE TRIGGER certificates_search_update AFTER UPDATE OF subject, sans, serial, sha256 ON certificates BEGIN
    INSERT INTO certificates_search (certificates_search, rowid, subject, sans, serial, sha256)
        VALUES ('delete', old.id, old.subject, old.sans, old.serial, old.sha256);
    INSERT INTO certificates_search (rowid, subject, sans, serial, sha256)
        VALUES (new.id, new.subject, new.sans, new.serial, new.sha256);
END;

-- Index the certificates stored before this migration.
INSERT INTO certificates_search (certificates_search) VALUES ('rebuild');
