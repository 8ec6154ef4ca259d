-- AuditEvents are stored and chained in the unit of work of the request they record, but their search index rows
-- are written later, in chain order (see AuditSearchIndex): indexed_through is the last audit_chain link whose
-- AuditEvent has its index rows. Files migrated from before this had every AuditEvent indexed at write time.
CREATE TABLE audit_index_mark (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
INSERT INTO audit_index_mark (id, indexed_through) SELECT 1, COALESCE(MAX(link), 0) FROM audit_chain;
