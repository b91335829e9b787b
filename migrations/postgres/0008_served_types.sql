-- What each member cluster serves, from its discovery (kind, plural, scope per API version),
-- for the Types page and the status of a kind a cluster lacks.
--
-- type_sets: one row per distinct set of types (a fleet's clusters mostly serve the same
-- set, so ten thousand clusters share a handful of rows). digest: content hash of `types`,
-- a JSON array of {apiVersion, kind, plural, namespaced}, sorted.
CREATE TABLE type_sets (
    digest      TEXT PRIMARY KEY,
    types       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- clusters.served_types: the digest of the set the cluster served when last read (NULL: not
-- read yet); types_read_at: when the set last changed.
ALTER TABLE clusters ADD COLUMN served_types TEXT;
ALTER TABLE clusters ADD COLUMN types_read_at BIGINT;
CREATE INDEX clusters_by_served_types ON clusters (served_types);
