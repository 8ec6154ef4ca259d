-- Search index tables, one per parameter type, holding rows of the current version of each resource only (the
-- writer replaces a resource's rows on every version). Every table has the same key columns (rid, resource_type,
-- param) so one query builder serves all of them; the PostgreSQL store uses the same tables and columns.
-- Lookup indexes have rid right after the looked-up value where a query can drive from them, so a page of matches
-- streams in rid order (keyset paging reads a page, not every match), and end with the column a lookup also
-- filters on (system, target type) so that counting never reads the table. The rid indexes serve per-resource
-- checks and deletes. Deleted resources have no index rows, so a driver needs no look at the resources table.

DROP INDEX ix_token_lookup;
CREATE INDEX ix_token_code ON token_index (resource_type, param, code, rid, system);

-- Strings: lower-cased without diacritics (default starts-with and :contains) and as written (:exact).
CREATE TABLE string_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    norm          TEXT    NOT NULL,
    exact         TEXT    NOT NULL
);
CREATE INDEX ix_string_norm ON string_index (resource_type, param, norm);
CREATE INDEX ix_string_rid ON string_index (rid);

-- Dates as their implicit range [low, high], inclusive unix milliseconds UTC; prefixes compare ranges (R4 3.1.1.4.2).
CREATE TABLE date_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    low           INTEGER NOT NULL,
    high          INTEGER NOT NULL
);
CREATE INDEX ix_date_low ON date_index (resource_type, param, low);
CREATE INDEX ix_date_rid ON date_index (rid);

CREATE TABLE number_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    value         REAL    NOT NULL
);
CREATE INDEX ix_number_value ON number_index (resource_type, param, value);
CREATE INDEX ix_number_rid ON number_index (rid);

-- Quantities: value with the coded unit (system, code) and the human unit; no UCUM canonicalisation.
CREATE TABLE quantity_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system        TEXT,
    code          TEXT,
    unit          TEXT,
    value         REAL    NOT NULL
);
CREATE INDEX ix_quantity_value ON quantity_index (resource_type, param, value);
CREATE INDEX ix_quantity_rid ON quantity_index (rid);

-- References: local ones as target type and id; absolute URLs, urns and canonicals whole in target_id, type NULL.
CREATE TABLE reference_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    target_type   TEXT,
    target_id     TEXT    NOT NULL
);
CREATE INDEX ix_reference_target ON reference_index (resource_type, param, target_id, rid, target_type);
CREATE INDEX ix_reference_rid ON reference_index (rid);

CREATE TABLE uri_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    uri           TEXT    NOT NULL
);
CREATE INDEX ix_uri_value ON uri_index (resource_type, param, uri);
CREATE INDEX ix_uri_rid ON uri_index (rid);

-- Two-part composites whose first part is a token (c1); the second part is a token (system2/code2), a number,
-- quantity or date range (low2/high2, dates in unix ms) or a normalized string (text2).
CREATE TABLE composite_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system1       TEXT,
    code1         TEXT    NOT NULL,
    system2       TEXT,
    code2         TEXT,
    low2          REAL,
    high2         REAL,
    text2         TEXT
);
CREATE INDEX ix_composite_code ON composite_index (resource_type, param, code1);
CREATE INDEX ix_composite_rid ON composite_index (rid);

-- Type scans in key order (searches with no selective clause, and paging through them) and _lastUpdated.
CREATE INDEX ix_resources_type_rid ON resources (resource_type, rid);
CREATE INDEX ix_resources_type_updated ON resources (resource_type, last_updated);
