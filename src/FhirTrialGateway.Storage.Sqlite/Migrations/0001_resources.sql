-- Resources and their versions. Every version is stored once (resource_versions, keyed by a global write
-- sequence that orders history); resources points at the current version so a read is one index lookup.
CREATE TABLE resources (
    rid           INTEGER PRIMARY KEY,
    resource_type TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    last_updated  INTEGER NOT NULL, -- unix milliseconds, UTC
    UNIQUE (resource_type, id)
);

CREATE TABLE resource_versions (
    seq           INTEGER PRIMARY KEY,
    rid           INTEGER NOT NULL REFERENCES resources (rid),
    resource_type TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    last_updated  INTEGER NOT NULL,
    method        INTEGER NOT NULL, -- 1 create, 2 update, 3 delete
    body          BLOB,             -- FHIR JSON as served; NULL for a delete
    UNIQUE (rid, version)
);

CREATE INDEX ix_versions_type_seq ON resource_versions (resource_type, seq);

-- Token search index of the current version of each resource (rows are replaced on every write).
CREATE TABLE token_index (
    rid           INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    param         TEXT    NOT NULL,
    system        TEXT,
    code          TEXT    NOT NULL
);

CREATE INDEX ix_token_lookup ON token_index (resource_type, param, code, system);
CREATE INDEX ix_token_rid ON token_index (rid);
