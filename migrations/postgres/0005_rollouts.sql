-- Rollouts, as built: a change (an app upgrade across installs, or any resources' new
-- revisions) moving across clusters wave by wave. The tables of schema v1 sketched one
-- rollout per project and per-cluster pins; they were never used and are replaced.
--
-- While a rollout is active each of its resources is *held*: a cluster renders the new
-- revision only when its step is released (Updating, Soaking, Done, Failed), every other
-- cluster the stable (from) revision. A cluster that joins meanwhile has no step yet and so
-- gets the stable revision. Every transition is one transaction with its event row.
DROP TABLE revision_pins CASCADE;
DROP TABLE rollout_steps CASCADE;
DROP TABLE rollout_resources CASCADE;
DROP INDEX rollouts_by_project;
DROP TABLE rollouts CASCADE;

CREATE TABLE rollouts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,           -- e.g. "Kafka 3.7.1 → 3.8.1"
    app_name         TEXT,                    -- an app upgrade's app; NULL for resources
    strategy         TEXT NOT NULL,           -- flotilla_domain::rollout::Strategy, JSON
    rollback_safe    BOOLEAN NOT NULL DEFAULT TRUE,
    state            TEXT NOT NULL CHECK (state IN ('Running', 'Paused', 'AwaitingApproval', 'Aborting',
                         'Succeeded', 'Aborted')),
    current_wave     INTEGER NOT NULL DEFAULT 0,
    message          TEXT NOT NULL DEFAULT '',
    created_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_by_name  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    version          BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rollouts_by_tenant ON rollouts (tenant_id, created_at);
CREATE INDEX rollouts_active ON rollouts (state) WHERE finished_at IS NULL;

-- The installs an app upgrade moves (from and to a catalog version); one active rollout
-- per install.
CREATE TABLE rollout_installs (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id       TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    install_id       TEXT NOT NULL REFERENCES app_installs (id) ON DELETE CASCADE,
    from_version_id  TEXT NOT NULL REFERENCES catalog_versions (id),
    to_version_id    TEXT NOT NULL REFERENCES catalog_versions (id),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (rollout_id, install_id)
);
CREATE UNIQUE INDEX rollout_installs_one_active ON rollout_installs (install_id) WHERE active;

-- Which revision each resource moves from and to. from_revision NULL: new in this change
-- (absent where not released); to_revision NULL: removed by it (deleted when it succeeds).
-- One active rollout per resource.
CREATE TABLE rollout_resources (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id     TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    resource_id    TEXT NOT NULL REFERENCES federated_resources (id) ON DELETE CASCADE,
    from_revision  BIGINT,
    to_revision    BIGINT,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (rollout_id, resource_id)
);
CREATE UNIQUE INDEX rollout_resources_one_active ON rollout_resources (resource_id) WHERE active;

-- One step per cluster: its wave (0 = canary) and where it stands (since = when it entered
-- that state, for the deadline and the soak).
CREATE TABLE rollout_clusters (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id    TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    cluster_id    TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    cluster_name  TEXT NOT NULL,
    wave          INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('Pending', 'Updating', 'Soaking', 'Done', 'Failed',
                      'RollingBack', 'RolledBack', 'Skipped')),
    message       TEXT NOT NULL DEFAULT '',
    since         BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    PRIMARY KEY (rollout_id, cluster_id)
);

-- The timeline: every transition, in order.
CREATE TABLE rollout_events (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    rollout_id    TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    at            BIGINT NOT NULL,
    cluster_name  TEXT,
    state         TEXT NOT NULL,          -- the step's or the rollout's new state
    message       TEXT NOT NULL DEFAULT '',
    actor_name    TEXT,                   -- a person's action; NULL for the driver
    PRIMARY KEY (rollout_id, seq)
);
