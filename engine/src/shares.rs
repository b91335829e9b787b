//! Sharing the work among replicas. One process on SQLite does everything. Several replicas
//! on PostgreSQL share the clusters and the rollouts through leases in the database, with no
//! leader: every replica heartbeats, sees the same replicas alive, and works out with the same
//! hash which of them each cluster and rollout belongs to (rendezvous hashing, so that a
//! replica joining or leaving moves only its share, about 1/R of the work). A replica takes
//! the leases of what is its own once they are free, and hands over what is no longer its own:
//! it stops the work first, stores its statuses, and only then releases the lease. A lease
//! not renewed (its replica died) expires and is taken by the replica it now belongs to.
//! Every batch of writes under a lease first checks that the lease is still held at the epoch
//! it was taken with (the fence), so a replica that lost a lease writes nothing more.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use flotilla_store::Store;

/// How leases are kept.
#[derive(Debug, Clone, Copy)]
pub struct LeaseSettings {
    /// How long a lease lasts without renewal: a dead replica's work moves after this.
    pub ttl: Duration,
    /// How often leases are renewed and the shares worked out again.
    pub tick: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        // A dead replica's clusters are taken over within ttl + tick (11 s), in time for the
        // 15 s the scale-out promises, with four renewals per lease time.
        Self { ttl: Duration::from_secs(9), tick: Duration::from_secs(2) }
    }
}

/// The lease of cluster `id`.
pub(crate) fn cluster_lease(id: &str) -> String {
    format!("cluster:{id}")
}

/// The lease of rollout `id`.
pub(crate) fn rollout_lease(id: &str) -> String {
    format!("rollout:{id}")
}

/// Which of `replicas` `key` belongs to: the one with the highest hash of (replica, key).
/// Every replica computes the same answer from the same list; when a replica joins or
/// leaves, only the keys that were or become its own change hands.
pub(crate) fn owner<'a>(key: &str, replicas: &'a [String]) -> Option<&'a str> {
    replicas.iter().max_by_key(|r| fnv1a(r.as_bytes(), key.as_bytes())).map(String::as_str)
}

/// FNV-1a over `a`, a separator, `b`: stable across builds and versions (replicas of two
/// versions must agree), and well spread for ids.
fn fnv1a(a: &[u8], b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.iter().chain(&[0xff]).chain(b) {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV's low bits mix poorly for inputs that differ only at the end; finish with a
    // multiply-xorshift (splitmix64's).
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The leases this replica holds, as the workers and the rollout driver ask about them.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Shares {
    /// None: not shared, everything is this process's (SQLite).
    held: Option<Arc<RwLock<HashMap<String, i64>>>>,
}

impl Shares {
    pub(crate) fn new(shared: bool) -> Self {
        Self { held: shared.then(Arc::default) }
    }

    pub(crate) fn is_shared(&self) -> bool {
        self.held.is_some()
    }

    /// The epoch at which this replica holds lease `name` (0 when nothing is shared), or None.
    pub(crate) fn epoch(&self, name: &str) -> Option<i64> {
        match &self.held {
            None => Some(0),
            Some(held) => crate::locks::read(held).get(name).copied(),
        }
    }

    pub(crate) fn held(&self) -> HashMap<String, i64> {
        self.held.as_ref().map(|h| crate::locks::read(h).clone()).unwrap_or_default()
    }

    pub(crate) fn set(&self, name: &str, epoch: Option<i64>) {
        if let Some(held) = &self.held {
            match epoch {
                Some(epoch) => crate::locks::write(held).insert(name.to_owned(), epoch),
                None => crate::locks::write(held).remove(name),
            };
        }
    }

    /// The fence, asked before a batch of writes under lease `name` taken at `epoch`: is it
    /// still held, at that epoch, unexpired? An unreachable database answers no.
    pub(crate) async fn fence(&self, store: &Store, name: &str, epoch: i64) -> bool {
        if self.held.is_none() {
            return true;
        }
        match store.lease_is_held(name, epoch).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(lease = name, error = %e, "cannot check the lease; writing nothing under it");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicas(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("replica-{i}")).collect()
    }

    #[test]
    fn keys_spread_evenly_and_a_joining_replica_takes_only_its_share() {
        let keys: Vec<String> = (0..3000).map(|i| cluster_lease(&format!("01{i:08}-cluster"))).collect();
        let three = replicas(3);
        let mut count: HashMap<&str, usize> = HashMap::new();
        for k in &keys {
            *count.entry(owner(k, &three).unwrap()).or_default() += 1;
        }
        for (r, n) in &count {
            assert!((800..=1200).contains(n), "{r} owns {n} of 3000: {count:?}");
        }
        let four = replicas(4);
        let moved = keys.iter().filter(|k| owner(k, &three) != owner(k, &four)).count();
        let to_new = keys.iter().filter(|k| owner(k, &four) == Some("replica-3")).count();
        assert_eq!(moved, to_new, "only keys moving to the new replica change hands");
        assert!((550..=950).contains(&moved), "about a quarter moves: {moved}");
    }

    #[test]
    fn the_owner_does_not_depend_on_the_order_replicas_are_listed_in() {
        let mut r = replicas(5);
        let before: Vec<_> = (0..50).map(|i| owner(&format!("k{i}"), &r).map(str::to_owned)).collect();
        r.reverse();
        let after: Vec<_> = (0..50).map(|i| owner(&format!("k{i}"), &r).map(str::to_owned)).collect();
        assert_eq!(before, after);
        assert_eq!(owner("k", &[]), None);
    }

    #[test]
    fn one_process_holds_everything() {
        let shares = Shares::new(false);
        assert_eq!(shares.epoch("cluster:x"), Some(0));
        let shared = Shares::new(true);
        assert_eq!(shared.epoch("cluster:x"), None);
        shared.set("cluster:x", Some(3));
        assert_eq!(shared.epoch("cluster:x"), Some(3));
        shared.set("cluster:x", None);
        assert_eq!(shared.epoch("cluster:x"), None);
    }
}
