-- Catalogue: issuers name the built-in CA they stand for and carry a URL
-- and notes; products gain a limit on names, a URL, notes and the level
-- "private" (levels are now spelled DV, OV, EV); vendor account names
-- become unique and accounts gain an email.
ALTER TABLE issuers
    ADD COLUMN ca_id BIGINT REFERENCES cas (id) ON DELETE SET NULL,
    ADD COLUMN url   TEXT NOT NULL DEFAULT '',
    ADD COLUMN notes TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX issuers_ca ON issuers (ca_id);

ALTER TABLE products
    DROP CONSTRAINT products_validation_level_check,
    ADD COLUMN max_names INTEGER NOT NULL DEFAULT 0 CHECK (max_names >= 0),
    ADD COLUMN url       TEXT    NOT NULL DEFAULT '',
    ADD COLUMN notes     TEXT    NOT NULL DEFAULT '';
UPDATE products SET validation_level = upper(validation_level),
    max_names = CASE WHEN multi_domain THEN 0 ELSE 1 END;
ALTER TABLE products
    ALTER COLUMN validation_level SET DEFAULT 'DV',
    ADD CONSTRAINT products_validation_level_check
        CHECK (validation_level IN ('private', 'DV', 'OV', 'EV')),
    ADD CONSTRAINT products_max_validity_days_check CHECK (max_validity_days >= 0),
    DROP COLUMN multi_domain,
    DROP COLUMN capabilities;

ALTER TABLE vendor_accounts ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX vendor_accounts_name ON vendor_accounts (name);
