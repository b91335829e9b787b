-- The groups an OIDC user's provider named at their last login, so that a change of the
-- tenant's group rules changes their roles at once rather than at their next login. A user
-- with no rows here (logged in before this table existed) keeps their roles until then.
CREATE TABLE user_groups (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);
CREATE INDEX user_groups_by_tenant ON user_groups (tenant_id);
