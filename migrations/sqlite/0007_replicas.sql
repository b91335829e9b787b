-- Several replicas over one database (PostgreSQL; the same tables exist in SQLite so that
-- both schemas stay one, though one process never needs them).
--
-- change_log: every committed change, written in the transaction that made it, so that the
-- other replicas' engines and live streams hear of it (they follow the log; a NOTIFY at
-- commit only wakes them sooner). payload: a JSON array of changes. Pruned after a while.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    replica    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX change_log_by_time ON change_log (at);

-- replicas: who is alive (heartbeat), for sharing the clusters among them.
CREATE TABLE replicas (
    id            TEXT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);

-- leases: which replica works a cluster (`cluster:<id>`) or drives a rollout
-- (`rollout:<id>`), until when. epoch grows at every new holder; a write checks it (fencing).
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT,
    epoch       BIGINT NOT NULL DEFAULT 0,
    expires_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX leases_by_holder ON leases (holder);
