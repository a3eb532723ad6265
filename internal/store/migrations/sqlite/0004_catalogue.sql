-- Catalogue: issuers name the built-in CA they stand for and carry a URL
-- and notes; products gain a limit on names, a URL, notes and the level
-- "private" (levels are now spelled DV, OV, EV); vendor account names
-- become unique and accounts gain an email. The products table is rebuilt
-- because SQLite cannot change a CHECK constraint; dropping the old table
-- sets the product links of definitions and acquisitions to NULL (ON
-- DELETE SET NULL), so they are saved first and put back after.
ALTER TABLE issuers ADD COLUMN ca_id INTEGER REFERENCES cas (id) ON DELETE SET NULL;
ALTER TABLE issuers ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE issuers ADD COLUMN notes TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX issuers_ca ON issuers (ca_id);

CREATE TEMP TABLE product_links AS
    SELECT 'definitions' AS tbl, id, product_id FROM definitions WHERE product_id IS NOT NULL
    UNION ALL
    SELECT 'acquisitions', id, product_id FROM acquisitions WHERE product_id IS NOT NULL;

CREATE TABLE products_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id         INTEGER NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    validation_level  TEXT    NOT NULL DEFAULT 'DV' CHECK (validation_level IN ('private', 'DV', 'OV', 'EV')),
    wildcard          INTEGER NOT NULL DEFAULT 0 CHECK (wildcard IN (0, 1)),
    max_names         INTEGER NOT NULL DEFAULT 0 CHECK (max_names >= 0),
    max_validity_days INTEGER NOT NULL DEFAULT 0 CHECK (max_validity_days >= 0),
    url               TEXT    NOT NULL DEFAULT '',
    notes             TEXT    NOT NULL DEFAULT '',
    UNIQUE (issuer_id, name)
);
INSERT INTO products_new (id, issuer_id, name, validation_level, wildcard, max_names, max_validity_days)
    SELECT id, issuer_id, name, upper(validation_level), wildcard,
           CASE WHEN multi_domain = 1 THEN 0 ELSE 1 END, max_validity_days
    FROM products;
DROP TABLE products;
ALTER TABLE products_new RENAME TO products;
UPDATE definitions SET product_id =
    (SELECT l.product_id FROM product_links l WHERE l.tbl = 'definitions' AND l.id = definitions.id)
    WHERE id IN (SELECT id FROM product_links WHERE tbl = 'definitions');
UPDATE acquisitions SET product_id =
    (SELECT l.product_id FROM product_links l WHERE l.tbl = 'acquisitions' AND l.id = acquisitions.id)
    WHERE id IN (SELECT id FROM product_links WHERE tbl = 'acquisitions');
DROP TABLE product_links;

ALTER TABLE vendor_accounts ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX vendor_accounts_name ON vendor_accounts (name);
