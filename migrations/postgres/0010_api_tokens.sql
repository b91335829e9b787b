-- API tokens, for scripts, pipelines and the CLI: a token acts as its user (a person, or a
-- service account that cannot log in) with at most `access` of that user's roles. The secret
-- is shown once when the token is made; only its SHA-256 is kept, looked up as it is sent.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    hint          TEXT NOT NULL,           -- the secret's first characters, to tell tokens apart
    access        TEXT NOT NULL,           -- 'view' | 'edit' | 'admin': the most the token may do
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (tenant_id, user_id);

-- A service account: a user that holds roles and tokens but cannot log in.
ALTER TABLE users ADD COLUMN is_service BOOLEAN NOT NULL DEFAULT FALSE;
