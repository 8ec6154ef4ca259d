-- The search index tables become WITHOUT ROWID tables keyed by (rid, n), n numbering a resource's rows in one table
-- from 0. Why: a rowid table kept every row in two B-trees besides its lookup index (the table by rowid, and the rid
-- index that deletes and per-resource checks need); keyed by rid the table is that index, so each row is one B-tree
-- insert fewer on the writer, which spends most of a create on these rows (decision 0001, fifth amendment).
-- Columns and lookup indexes are unchanged; existing rows are copied, numbered in their old order.

CREATE TABLE token_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system        TEXT,
    code          TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO token_index_keyed (rid, n, resource_type, param, system, code)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, system, code FROM token_index;
DROP TABLE token_index;
ALTER TABLE token_index_keyed RENAME TO token_index;
CREATE INDEX ix_token_code ON token_index (resource_type, param, code, rid, system);

CREATE TABLE string_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    norm          TEXT NOT NULL,
    exact         TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO string_index_keyed (rid, n, resource_type, param, norm, exact)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, norm, exact FROM string_index;
DROP TABLE string_index;
ALTER TABLE string_index_keyed RENAME TO string_index;
CREATE INDEX ix_string_norm ON string_index (resource_type, param, norm);

CREATE TABLE date_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    low           INTEGER NOT NULL,
    high          INTEGER NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO date_index_keyed (rid, n, resource_type, param, low, high)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, low, high FROM date_index;
DROP TABLE date_index;
ALTER TABLE date_index_keyed RENAME TO date_index;
CREATE INDEX ix_date_low ON date_index (resource_type, param, low);

CREATE TABLE number_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    value         REAL NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO number_index_keyed (rid, n, resource_type, param, value)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, value FROM number_index;
DROP TABLE number_index;
ALTER TABLE number_index_keyed RENAME TO number_index;
CREATE INDEX ix_number_value ON number_index (resource_type, param, value);

CREATE TABLE quantity_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system        TEXT,
    code          TEXT,
    unit          TEXT,
    value         REAL NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO quantity_index_keyed (rid, n, resource_type, param, system, code, unit, value)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, system, code, unit, value FROM quantity_index;
DROP TABLE quantity_index;
ALTER TABLE quantity_index_keyed RENAME TO quantity_index;
CREATE INDEX ix_quantity_value ON quantity_index (resource_type, param, value);

CREATE TABLE reference_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    target_type   TEXT,
    target_id     TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO reference_index_keyed (rid, n, resource_type, param, target_type, target_id)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, target_type, target_id FROM reference_index;
DROP TABLE reference_index;
ALTER TABLE reference_index_keyed RENAME TO reference_index;
CREATE INDEX ix_reference_target ON reference_index (resource_type, param, target_id, rid, target_type);

CREATE TABLE uri_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    uri           TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO uri_index_keyed (rid, n, resource_type, param, uri)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, uri FROM uri_index;
DROP TABLE uri_index;
ALTER TABLE uri_index_keyed RENAME TO uri_index;
CREATE INDEX ix_uri_value ON uri_index (resource_type, param, uri);

CREATE TABLE composite_index_keyed (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system1       TEXT,
    code1         TEXT NOT NULL,
    system2       TEXT,
    code2         TEXT,
    low2          REAL,
    high2         REAL,
    text2         TEXT,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO composite_index_keyed (rid, n, resource_type, param, system1, code1, system2, code2, low2, high2, text2)
    SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY rowid) - 1, resource_type, param, system1, code1, system2, code2, low2, high2, text2 FROM composite_index;
DROP TABLE composite_index;
ALTER TABLE composite_index_keyed RENAME TO composite_index;
CREATE INDEX ix_composite_code ON composite_index (resource_type, param, code1);
