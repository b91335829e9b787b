-- Flotilla schema v1: the whole design (tenancy, fleet, federated resources, apps, rollouts,
-- status, audit, sessions). Conventions in migrations/README.md.

-- ── Tenancy and identity ────────────────────────────────────────────────────────────────
CREATE TABLE tenants (
    id                      TEXT PRIMARY KEY,
    slug                    TEXT NOT NULL UNIQUE,
    display_name            TEXT NOT NULL,
    -- Per-tenant OpenID Provider; NULL issuer = local accounts only.
    oidc_issuer_url         TEXT,
    oidc_client_id          TEXT,
    oidc_client_secret_enc  TEXT,
    oidc_scopes             TEXT NOT NULL DEFAULT 'openid email profile',
    oidc_groups_claim       TEXT NOT NULL DEFAULT 'groups',
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username           TEXT NOT NULL,          -- lowercased local login name or OIDC preferred name
    display_name       TEXT NOT NULL,
    email              TEXT,
    password_hash      TEXT,                   -- argon2id PHC string; NULL for OIDC-only users
    oidc_subject       TEXT,                   -- `sub` from the tenant's provider
    is_platform_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    last_login_at      BIGINT,
    UNIQUE (tenant_id, username),
    UNIQUE (tenant_id, oidc_subject)
);

-- OIDC group -> role, configured per tenant. scope_id '' = the whole tenant.
CREATE TABLE group_role_mappings (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('tenant_admin', 'workspace_admin', 'workspace_editor',
                    'workspace_viewer', 'project_admin', 'project_editor', 'project_viewer')),
    scope_id    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, group_name, role, scope_id)
);

-- Roles a user holds: granted locally, or refreshed from group mappings at each OIDC login.
CREATE TABLE role_bindings (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('platform_admin', 'tenant_admin', 'workspace_admin',
                    'workspace_editor', 'workspace_viewer', 'project_admin', 'project_editor',
                    'project_viewer')),
    scope_id    TEXT NOT NULL DEFAULT '',     -- workspace or project id; '' for tenant/platform
    source      TEXT NOT NULL CHECK (source IN ('local', 'oidc')),
    created_at  BIGINT NOT NULL,
    UNIQUE (user_id, role, scope_id)
);
CREATE INDEX role_bindings_by_tenant ON role_bindings (tenant_id, user_id);

-- tower-sessions records (JSON), one row a session; deleting a user ends their sessions.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    data          TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- ── Fleet ──────────────────────────────────────────────────────────────────────────────
CREATE TABLE clusters (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    api_server_url    TEXT NOT NULL,          -- may carry a path prefix (Rancher-style proxies)
    ca_data           TEXT,                   -- PEM, public
    credentials_enc   TEXT NOT NULL,          -- encrypted JSON: token / client cert+key / kubeconfig
    labels            TEXT NOT NULL DEFAULT '{}',
    health            TEXT NOT NULL DEFAULT 'Unknown' CHECK (health IN ('Unknown', 'Ready', 'Offline')),
    health_reason     TEXT NOT NULL DEFAULT '',
    server_version    TEXT,
    last_probe_at     BIGINT,
    -- On deregistration: remove Flotilla's objects from the member, or leave them in place.
    deregistering     TEXT CHECK (deregistering IN ('cleanup', 'leave')),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, name)
);

-- Scale-out: which replica drives which cluster. Renewed by the holder, taken over on expiry.
CREATE TABLE cluster_leases (
    cluster_id   TEXT PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    holder       TEXT NOT NULL,
    acquired_at  BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- ── Workspaces and projects ─────────────────────────────────────────────────────────────
CREATE TABLE workspaces (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    selector     TEXT NOT NULL DEFAULT '',    -- label selector, text form (`env=prod,region in (eu)`)
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, name)
);

-- A project owns the namespace of its name in each selected cluster, hence unique per tenant.
CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    selector      TEXT NOT NULL DEFAULT '',   -- narrows the workspace's clusters
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, name)
);

-- ── Federated resources and their immutable revisions ───────────────────────────────────
-- project_id NULL: a workspace's cluster-scoped resource; else a namespaced one in the project.
CREATE TABLE federated_resources (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id        TEXT REFERENCES projects (id) ON DELETE CASCADE,
    api_version       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    name              TEXT NOT NULL,
    current_revision  BIGINT NOT NULL,
    deletion_policy   TEXT NOT NULL DEFAULT 'delete' CHECK (deletion_policy IN ('delete', 'orphan')),
    adopt_existing    BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at        BIGINT,                 -- set when deleted; row kept until members are clean
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX federated_resources_unique_in_workspace
    ON federated_resources (workspace_id, api_version, kind, name) WHERE project_id IS NULL;
CREATE UNIQUE INDEX federated_resources_unique_in_project
    ON federated_resources (project_id, api_version, kind, name) WHERE project_id IS NOT NULL;
CREATE INDEX federated_resources_by_tenant ON federated_resources (tenant_id, workspace_id, project_id);

CREATE TABLE resource_revisions (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_id      TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    revision         BIGINT NOT NULL,
    template         TEXT NOT NULL,           -- the object, JSON; a Secret's values are not here...
    secret_data_enc  TEXT,                    -- ...but here, encrypted
    placement        TEXT NOT NULL,           -- {"clusters":[..]} or {"selector":"..."}
    overrides        TEXT NOT NULL DEFAULT '[]',  -- [{"cluster":..,"patches":[{op,path,value}]}]
    content_hash     TEXT NOT NULL,
    author_id        TEXT REFERENCES users (id) ON DELETE SET NULL,
    author_name      TEXT NOT NULL,
    message          TEXT NOT NULL DEFAULT '',
    reverted_from    BIGINT,                  -- a revert is a new revision equal to this one
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (resource_id, revision)
);

-- Refuses the update it is attached to, with the message given as its argument.
CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER resource_revisions_are_immutable
BEFORE UPDATE ON resource_revisions
FOR EACH ROW EXECUTE FUNCTION refuse_update('resource revisions are immutable');

-- Per (resource, cluster): what the engine last applied and what it saw.
CREATE TABLE propagation_status (
    tenant_id                TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_id              TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    cluster_id               TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    code                     TEXT NOT NULL,   -- Synced, ClusterNotReady, CreationFailed, ...
    message                  TEXT NOT NULL DEFAULT '',
    applied_revision         BIGINT,
    applied_hash             TEXT,
    member_generation        BIGINT,
    member_resource_version  TEXT,
    health                   TEXT CHECK (health IN ('Progressing', 'Healthy', 'Degraded')),
    health_ready             INTEGER,
    health_updated           INTEGER,
    health_desired           INTEGER,
    updated_at               BIGINT NOT NULL,
    PRIMARY KEY (resource_id, cluster_id)
);
CREATE INDEX propagation_status_by_cluster ON propagation_status (tenant_id, cluster_id);

-- ── Apps (catalog and installs) ─────────────────────────────────────────────────────────
-- tenant_id NULL: the built-in catalog every tenant sees; else a tenant's own entry.
CREATE TABLE catalog_apps (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE TABLE catalog_app_versions (
    app_id         TEXT NOT NULL REFERENCES catalog_apps (id) ON DELETE CASCADE,
    version        TEXT NOT NULL,
    manifests      TEXT NOT NULL,             -- templates rendered from values
    values_schema  TEXT NOT NULL DEFAULT '{}',
    default_values TEXT NOT NULL DEFAULT '{}',
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (app_id, version)
);

CREATE TABLE app_installs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    app_id       TEXT NOT NULL REFERENCES catalog_apps (id),
    name         TEXT NOT NULL,
    app_version  TEXT NOT NULL,
    values_json  TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);

-- The federated resources an install rendered to.
CREATE TABLE app_install_resources (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    install_id   TEXT NOT NULL REFERENCES app_installs (id) ON DELETE CASCADE,
    resource_id  TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    PRIMARY KEY (install_id, resource_id)
);

-- ── Rollouts ────────────────────────────────────────────────────────────────────────────
CREATE TABLE rollouts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    install_id       TEXT REFERENCES app_installs (id) ON DELETE SET NULL,
    description      TEXT NOT NULL,           -- e.g. "kafka 3.7.0 -> 3.8.1"
    strategy         TEXT NOT NULL,           -- {"canary":[ids],"wave_size":N,"health_timeout_s":..,"on_failure":"pause"|"rollback"}
    state            TEXT NOT NULL CHECK (state IN ('Pending', 'Running', 'Paused', 'Succeeded',
                         'Failed', 'RolledBack', 'Cancelled')),
    current_wave     INTEGER NOT NULL DEFAULT 0,
    message          TEXT NOT NULL DEFAULT '',
    created_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    version          BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rollouts_by_project ON rollouts (tenant_id, project_id, created_at);

-- Which revision each resource moves from and to.
CREATE TABLE rollout_resources (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id     TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    resource_id    TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    from_revision  BIGINT NOT NULL,
    to_revision    BIGINT NOT NULL,
    PRIMARY KEY (rollout_id, resource_id)
);

-- One step per cluster: its wave and where it stands.
CREATE TABLE rollout_steps (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id   TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    cluster_id   TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    wave         INTEGER NOT NULL,            -- 0 = canary
    state        TEXT NOT NULL CHECK (state IN ('Pending', 'Applying', 'WaitingHealthy', 'Succeeded',
                     'Failed', 'RollingBack', 'RolledBack', 'Skipped')),
    message      TEXT NOT NULL DEFAULT '',
    started_at   BIGINT,
    finished_at  BIGINT,
    PRIMARY KEY (rollout_id, cluster_id)
);

-- The revision the engine must render for (resource, cluster) while a rollout holds it;
-- absent = the resource's current revision.
CREATE TABLE revision_pins (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource_id  TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    cluster_id   TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    revision     BIGINT NOT NULL,
    rollout_id   TEXT REFERENCES rollouts (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, cluster_id)
);

-- ── Audit ───────────────────────────────────────────────────────────────────────────────
-- Append-only. id is a UUIDv7, so ordering by id is ordering by time.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,               -- e.g. login, login_failed, resource.update
    target_kind  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    target_name  TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    detail       TEXT NOT NULL DEFAULT '{}',
    source_ip    TEXT
);
CREATE INDEX audit_log_by_tenant_time ON audit_log (tenant_id, at);

CREATE TRIGGER audit_log_is_append_only_update
BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION refuse_update('the audit log is append-only');
