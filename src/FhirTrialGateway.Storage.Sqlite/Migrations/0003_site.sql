-- Site isolation: the site every version belongs to (NULL: not bound to a site). Reads, searches and history of a
-- hospital client filter on it.
ALTER TABLE resources ADD COLUMN site TEXT;
ALTER TABLE resource_versions ADD COLUMN site TEXT;
CREATE INDEX ix_versions_site_seq ON resource_versions (site, seq);
