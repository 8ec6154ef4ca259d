-- The audit hash chain: one link per AuditEvent, in write order. hash = SHA-256(prev_hash || the AuditEvent's
-- stored bytes). `fhirgw audit verify` recomputes it; any edit, deletion or reordering shows.
CREATE TABLE audit_chain (
    link        INTEGER PRIMARY KEY,
    version_seq INTEGER NOT NULL UNIQUE,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);
