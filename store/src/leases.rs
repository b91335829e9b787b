//! Replicas and leases: how several replicas over one database share the clusters (and the
//! rollouts) without a leader. Each replica heartbeats its row in `replicas`; a lease in
//! `leases` names the one replica that may work a cluster (`cluster:<id>`) or drive a rollout
//! (`rollout:<id>`) until it expires, and an epoch that grows with every new holder. The
//! engine decides which leases to want (see its `shares` module); the store only makes each
//! step atomic: take a lease that is free or expired, renew what is held, release, and check
//! before writing that a lease is still held at the epoch it was taken with (fencing).
//!
//! Times are the replicas' clocks (Unix ms): replicas must keep them in sync (NTP), well
//! within the lease time.

use std::time::Duration;

use crate::{Result, Store, now_ms};

/// A lease this replica holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLease {
    pub name: String,
    pub epoch: i64,
}

/// Leases taken or released by one statement (well within both databases' limits on bound
/// parameters).
const LEASES_PER_STATEMENT: usize = 500;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Says this replica is alive, forgets replicas silent for long (100 × `ttl`), and
    /// returns the replicas alive now (a heartbeat within `ttl`), sorted, this one included.
    pub async fn replica_heartbeat(&self, ttl: Duration) -> Result<Vec<String>> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO replicas (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(&*self.replica)
        .bind(now)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM replicas WHERE heartbeat_at < $1")
            .bind(now - 100 * ms(ttl))
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT id FROM replicas WHERE heartbeat_at >= $1 ORDER BY id")
            .bind(now - ms(ttl))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Extends every unexpired lease this replica holds to `ttl` from now; returns them. A
    /// lease that expired before this (the replica was too slow to renew it) is not
    /// extended: it may have a new holder already.
    pub async fn renew_leases(&self, ttl: Duration) -> Result<Vec<HeldLease>> {
        let now = now_ms();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "UPDATE leases SET expires_at = $1 WHERE holder = $2 AND expires_at > $3 RETURNING name, epoch",
        )
        .bind(now + ms(ttl))
        .bind(&*self.replica)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(name, epoch)| HeldLease { name, epoch }).collect())
    }

    /// Takes lease `name` for `ttl` if nobody holds it (never held, released, or expired) or
    /// this replica does (a lease it had stopped working under, taken again: the new epoch
    /// fences whatever still ran under the old one); returns its new epoch, or None when
    /// another replica holds it. One statement, atomic on both databases: of two replicas
    /// racing, one gets it.
    pub async fn take_lease(&self, name: &str, ttl: Duration) -> Result<Option<i64>> {
        Ok(self.take_leases(&[name.to_owned()], ttl).await?.first().map(|l| l.epoch))
    }

    /// [`Store::take_lease`] for many leases at once, a few hundred per statement (a replica
    /// taking over a dead one's thousands of clusters must not spend a round trip on each);
    /// returns the leases it got, with their new epochs.
    pub async fn take_leases(&self, names: &[String], ttl: Duration) -> Result<Vec<HeldLease>> {
        let mut taken = Vec::new();
        for chunk in names.chunks(LEASES_PER_STATEMENT) {
            let now = now_ms();
            // $1 holder, $2 expiry, $3 now; then one name per row.
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, $1, 1, $2)", i + 4)).collect();
            let sql = format!(
                "INSERT INTO leases (name, holder, epoch, expires_at) VALUES {} \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = leases.epoch + 1, \
                     expires_at = excluded.expires_at \
                 WHERE leases.holder IS NULL OR leases.expires_at <= $3 OR leases.holder = excluded.holder \
                 RETURNING name, epoch",
                rows.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
                .bind(&*self.replica)
                .bind(now + ms(ttl))
                .bind(now);
            for name in chunk {
                query = query.bind(name);
            }
            taken.extend(query.fetch_all(&self.pool).await?.into_iter().map(|(name, epoch)| HeldLease { name, epoch }));
        }
        Ok(taken)
    }

    /// [`Store::release_lease`] for many leases at once.
    pub async fn release_leases(&self, leases: &[HeldLease]) -> Result<()> {
        for chunk in leases.chunks(LEASES_PER_STATEMENT) {
            // $1 holder; then a name and an epoch per lease.
            let pairs: Vec<String> =
                (0..chunk.len()).map(|i| format!("(name = ${} AND epoch = ${})", 2 * i + 2, 2 * i + 3)).collect();
            let sql = format!(
                "UPDATE leases SET holder = NULL, expires_at = 0 WHERE holder = $1 AND ({})",
                pairs.join(" OR ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&*self.replica);
            for lease in chunk {
                query = query.bind(&lease.name).bind(lease.epoch);
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Gives up lease `name` taken at `epoch` (after the work under it stopped), so another
    /// replica may take it at once.
    pub async fn release_lease(&self, name: &str, epoch: i64) -> Result<()> {
        self.release_leases(&[HeldLease { name: name.to_owned(), epoch }]).await
    }

    /// The leases this replica holds, unexpired, with their epochs (the fence's one query for
    /// all of them).
    pub async fn leases_held(&self) -> Result<Vec<HeldLease>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, epoch FROM leases WHERE holder = $1 AND expires_at > $2")
                .bind(&*self.replica)
                .bind(now_ms())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(name, epoch)| HeldLease { name, epoch }).collect())
    }

    /// Leaves the replicas (a clean stop): releases every lease and removes the heartbeat, so
    /// the others take the work over at once instead of after the leases expire.
    pub async fn leave_replicas(&self) -> Result<()> {
        sqlx::query("UPDATE leases SET holder = NULL, expires_at = 0 WHERE holder = $1")
            .bind(&*self.replica)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM replicas WHERE id = $1").bind(&*self.replica).execute(&self.pool).await?;
        Ok(())
    }

    /// Every lease and its holder (for tests and the large-fleet page).
    pub async fn leases(&self) -> Result<Vec<(String, Option<String>, i64, i64)>> {
        Ok(sqlx::query_as("SELECT name, holder, epoch, expires_at FROM leases ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }
}
