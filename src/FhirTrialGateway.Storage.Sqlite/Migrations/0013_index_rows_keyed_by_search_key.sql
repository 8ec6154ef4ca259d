-- Index rows name their search parameter by one small integer, pid, instead of the (resource_type, param) text pair.
-- Why: every commit rewrites the hot leaves of each lookup index, and leaves split as entries arrive; an entry led by
-- 'Observation' and 'subject' is 15-30 bytes longer than one led by a one- or two-byte integer, so leaves hold fewer
-- entries and split more often (decision 0001, eighth amendment: 14.7 WAL frames per create instead of 17.1, and more
-- durable creates per second). The pairs live in search_keys; the store keeps them in memory (SearchKeys) and the
-- writer adds a pair the first time a parameter is indexed.
-- Rows are copied in the new tables' key order: SQLite would otherwise read them through the old covering lookup
-- indexes, in value order, and fill the new tables by scattered inserts into half-empty leaves.

CREATE TABLE search_keys (
    pid           INTEGER PRIMARY KEY,
    resource_type TEXT NOT NULL,
    param         TEXT NOT NULL,
    UNIQUE (resource_type, param)
);

INSERT INTO search_keys (resource_type, param)
    SELECT resource_type, param FROM (
    SELECT resource_type, param FROM token_index
    UNION SELECT resource_type, param FROM string_index
    UNION SELECT resource_type, param FROM date_index
    UNION SELECT resource_type, param FROM number_index
    UNION SELECT resource_type, param FROM quantity_index
    UNION SELECT resource_type, param FROM reference_index
    UNION SELECT resource_type, param FROM uri_index
    UNION SELECT resource_type, param FROM composite_index
    ) ORDER BY resource_type, param;

CREATE TABLE token_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    system        TEXT,
    code          TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO token_index_by_pid (rid, n, pid, system, code)
    SELECT t.rid, t.n, k.pid, t.system, t.code FROM token_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE token_index;
ALTER TABLE token_index_by_pid RENAME TO token_index;
CREATE INDEX ix_token_code ON token_index (pid, code, rid, system);

CREATE TABLE string_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    norm          TEXT NOT NULL,
    exact         TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO string_index_by_pid (rid, n, pid, norm, exact)
    SELECT t.rid, t.n, k.pid, t.norm, t.exact FROM string_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE string_index;
ALTER TABLE string_index_by_pid RENAME TO string_index;
CREATE INDEX ix_string_norm ON string_index (pid, norm);

CREATE TABLE date_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    low           INTEGER NOT NULL,
    high          INTEGER NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO date_index_by_pid (rid, n, pid, low, high)
    SELECT t.rid, t.n, k.pid, t.low, t.high FROM date_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE date_index;
ALTER TABLE date_index_by_pid RENAME TO date_index;
CREATE INDEX ix_date_low ON date_index (pid, low);

CREATE TABLE number_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    value         REAL NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO number_index_by_pid (rid, n, pid, value)
    SELECT t.rid, t.n, k.pid, t.value FROM number_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE number_index;
ALTER TABLE number_index_by_pid RENAME TO number_index;
CREATE INDEX ix_number_value ON number_index (pid, value);

CREATE TABLE quantity_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    system        TEXT,
    code          TEXT,
    unit          TEXT,
    value         REAL NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO quantity_index_by_pid (rid, n, pid, system, code, unit, value)
    SELECT t.rid, t.n, k.pid, t.system, t.code, t.unit, t.value FROM quantity_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE quantity_index;
ALTER TABLE quantity_index_by_pid RENAME TO quantity_index;
CREATE INDEX ix_quantity_value ON quantity_index (pid, value);

CREATE TABLE reference_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    target_type   TEXT,
    target_id     TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO reference_index_by_pid (rid, n, pid, target_type, target_id)
    SELECT t.rid, t.n, k.pid, t.target_type, t.target_id FROM reference_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE reference_index;
ALTER TABLE reference_index_by_pid RENAME TO reference_index;
CREATE INDEX ix_reference_target ON reference_index (pid, target_id, rid, target_type);

CREATE TABLE uri_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    uri           TEXT NOT NULL,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO uri_index_by_pid (rid, n, pid, uri)
    SELECT t.rid, t.n, k.pid, t.uri FROM uri_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE uri_index;
ALTER TABLE uri_index_by_pid RENAME TO uri_index;
CREATE INDEX ix_uri_value ON uri_index (pid, uri);

CREATE TABLE composite_index_by_pid (
    rid           INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    pid           INTEGER NOT NULL,
    system1       TEXT,
    code1         TEXT NOT NULL,
    system2       TEXT,
    code2         TEXT,
    low2          REAL,
    high2         REAL,
    text2         TEXT,
    PRIMARY KEY (rid, n)
) WITHOUT ROWID;
INSERT INTO composite_index_by_pid (rid, n, pid, system1, code1, system2, code2, low2, high2, text2)
    SELECT t.rid, t.n, k.pid, t.system1, t.code1, t.system2, t.code2, t.low2, t.high2, t.text2 FROM composite_index t JOIN search_keys k ON k.resource_type = t.resource_type AND k.param = t.param
    ORDER BY t.rid, t.n;
DROP TABLE composite_index;
ALTER TABLE composite_index_by_pid RENAME TO composite_index;
CREATE INDEX ix_composite_code ON composite_index (pid, code1);
