-- Apps: the catalog and installs as built (schema v1's app tables were placeholders that
-- nothing ever wrote, so they are replaced rather than altered).
--
-- A catalog version is one app version's whole definition (domain/src/catalog): metadata,
-- parameters and templates, as JSON. tenant_id NULL: built into Flotilla (catalog/ in the
-- repository), refreshed at start-up when its digest changes; else a tenant's own upload,
-- seen only in that tenant.
DROP TABLE app_install_resources CASCADE;
DROP TABLE app_installs CASCADE;
DROP TABLE catalog_app_versions CASCADE;
DROP TABLE catalog_apps CASCADE;

CREATE TABLE catalog_versions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    app_name      TEXT NOT NULL,
    version       TEXT NOT NULL,              -- SemVer
    display_name  TEXT NOT NULL,
    app_version   TEXT NOT NULL,              -- the upstream release it runs
    scope         TEXT NOT NULL CHECK (scope IN ('project', 'workspace')),
    definition    TEXT NOT NULL,              -- JSON: { meta, templates }
    digest        TEXT NOT NULL,              -- content hash of definition
    created_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
-- One row per (owner, app, version); '' stands for the built-in catalog.
CREATE UNIQUE INDEX catalog_versions_by_name ON catalog_versions (COALESCE(tenant_id, ''), app_name, version);

-- An app installed in a project (project_id set) or a workspace (project_id NULL), and the
-- federated resources it rendered to. version_id is the version its resources hold now.
CREATE TABLE app_installs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id    TEXT REFERENCES projects (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    app_name      TEXT NOT NULL,
    version_id    TEXT NOT NULL REFERENCES catalog_versions (id),
    values_json   TEXT NOT NULL DEFAULT '{}', -- the values as given (defaults are filled at render)
    created_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX app_installs_by_name ON app_installs (workspace_id, COALESCE(project_id, ''), name);
CREATE INDEX app_installs_by_app ON app_installs (tenant_id, app_name);

CREATE TABLE app_install_resources (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    install_id   TEXT NOT NULL REFERENCES app_installs (id) ON DELETE CASCADE,
    resource_id  TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    PRIMARY KEY (install_id, resource_id)
);
CREATE UNIQUE INDEX app_install_resources_by_resource ON app_install_resources (resource_id);
