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
use tokio::time::Instant;

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

/// A lease held: its epoch, and until when this replica may act under it. That is earlier
/// than the lease's expiry in the database by a third of the lease time (for the clocks of two
/// replicas to differ and a write in flight to land): a replica whose renewals stall stops
/// writing before another may take the lease. A write still in flight half-way through that
/// third is abandoned (`cut_off`).
#[derive(Debug, Clone, Copy)]
struct Held {
    epoch: i64,
    /// When it was taken (asked for): a renewal asked before then cannot have renewed it.
    taken: Instant,
    valid_until: Instant,
    cut_off: Instant,
}

impl Held {
    fn new(epoch: i64, taken: Instant, asked: Instant, ttl: Duration) -> Self {
        Self { epoch, taken, valid_until: asked + ttl * 2 / 3, cut_off: asked + ttl * 5 / 6 }
    }
}

/// The leases this replica holds and the replicas alive, as the router, the workers and the
/// rollout driver ask about them. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Shares {
    /// None: not shared, everything is this process's (SQLite).
    inner: Option<Arc<RwLock<Inner>>>,
    /// The leases the database last confirmed this replica holds, for the fence.
    confirmed: Arc<tokio::sync::Mutex<Option<Confirmation>>>,
}

/// What the database answered, when it was asked.
#[derive(Debug)]
struct Confirmation {
    asked: Instant,
    held: HashMap<String, i64>,
}

/// How long the database's answer to the fence serves writes that start after it: the workers
/// of a fan-out, starting together, ask it once between them instead of once each (a thousand
/// round trips through the pool took 100 ms at 1,000 clusters).
const FENCE_FRESH: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
struct Inner {
    held: HashMap<String, Held>,
    live: Vec<String>,
    /// The leases the last renewal found this replica holding in the database, and when it
    /// was asked: held there but not here is an orphan ([`Shares::orphans`]).
    in_database: Option<(Instant, Vec<flotilla_store::HeldLease>)>,
}

impl Shares {
    pub(crate) fn new(shared: bool) -> Self {
        Self { inner: shared.then(Arc::default), confirmed: Arc::default() }
    }

    pub(crate) fn is_shared(&self) -> bool {
        self.inner.is_some()
    }

    /// The epoch at which this replica holds lease `name` and may still act under it (0 when
    /// nothing is shared), or None.
    pub(crate) fn epoch(&self, name: &str) -> Option<i64> {
        match &self.inner {
            None => Some(0),
            Some(inner) => {
                let now = Instant::now();
                crate::locks::read(inner).held.get(name).filter(|h| h.valid_until > now).map(|h| h.epoch)
            }
        }
    }

    /// May work under lease `name` taken at `epoch` go on? Local and cheap: asked before each
    /// write (the database is asked once per batch, [`Shares::fence`]).
    pub(crate) fn still_valid(&self, name: &str, epoch: i64) -> bool {
        self.epoch(name) == Some(epoch)
    }

    /// How long a write starting now under lease `name` taken at `epoch` may wait for its
    /// answer: `limit`, but never past the lease's cut-off (half-way between the end of its
    /// time to act and its expiry), so that no write of this replica's is still in flight when
    /// another may take the lease. Zero when the lease is not held at that epoch.
    pub(crate) fn write_timeout(&self, name: &str, epoch: i64, limit: Duration) -> Duration {
        let Some(inner) = &self.inner else { return limit };
        match crate::locks::read(inner).held.get(name) {
            Some(held) if held.epoch == epoch => limit.min(held.cut_off.saturating_duration_since(Instant::now())),
            _ => Duration::ZERO,
        }
    }

    /// Every lease held (even one whose time to act has run out), with its epoch.
    pub(crate) fn held(&self) -> HashMap<String, i64> {
        self.inner
            .as_ref()
            .map(|i| crate::locks::read(i).held.iter().map(|(n, h)| (n.clone(), h.epoch)).collect())
            .unwrap_or_default()
    }

    /// The replicas alive at the last heartbeat (empty before the first).
    pub(crate) fn live(&self) -> Vec<String> {
        self.inner.as_ref().map(|i| crate::locks::read(i).live.clone()).unwrap_or_default()
    }

    /// Lease `name` taken at `epoch`, for `ttl` counted from `asked` (when the request left).
    pub(crate) fn taken(&self, name: &str, epoch: i64, asked: Instant, ttl: Duration) {
        if let Some(inner) = &self.inner {
            crate::locks::write(inner).held.insert(name.to_owned(), Held::new(epoch, asked, asked, ttl));
        }
    }

    /// Lease `name` given up (or lost).
    pub(crate) fn dropped(&self, name: &str) {
        if let Some(inner) = &self.inner {
            crate::locks::write(inner).held.remove(name);
        }
    }

    /// After a heartbeat at `asked`: the replicas alive, and the leases the database renewed
    /// (for `ttl`). A lease held here but not renewed is lost (it had expired): dropped, and
    /// returned so that its work stops.
    pub(crate) fn renewed(
        &self,
        asked: Instant,
        ttl: Duration,
        live: Vec<String>,
        renewed: &[flotilla_store::HeldLease],
    ) -> Vec<String> {
        let Some(inner) = &self.inner else { return Vec::new() };
        let mut inner = crate::locks::write(inner);
        inner.live = live;
        inner.in_database = Some((asked, renewed.to_vec()));
        let renewed: HashMap<&str, i64> = renewed.iter().map(|l| (l.name.as_str(), l.epoch)).collect();
        let mut lost = Vec::new();
        inner.held.retain(|name, held| match renewed.get(name.as_str()) {
            Some(&epoch) if epoch == held.epoch => {
                *held = Held::new(epoch, held.taken, asked, ttl);
                true
            }
            // Taken while the renewal was under way (by the router, which takes leases apart
            // from it): not in its answer, and not lost.
            _ if held.taken >= asked => true,
            _ => {
                lost.push(name.clone());
                false
            }
        });
        lost
    }

    /// Leases the database holds for this replica while it does not act on them (a release
    /// that failed, an answer lost after a take committed): renewed there with every
    /// heartbeat, they would stay out of every other replica's reach for good. Read from the
    /// last renewal, only if it was asked after `since` (the end of the last take, so that a
    /// lease being taken now is not mistaken for one).
    pub(crate) fn orphans(&self, since: Instant) -> Vec<flotilla_store::HeldLease> {
        let Some(inner) = &self.inner else { return Vec::new() };
        let inner = crate::locks::read(inner);
        match &inner.in_database {
            Some((asked, leases)) if *asked > since => {
                leases.iter().filter(|l| inner.held.get(&l.name).is_none_or(|h| h.epoch != l.epoch)).cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The fence, asked before a batch of writes under lease `name` taken at `epoch`: is it
    /// still held, at that epoch, unexpired? The database answers for every lease of this
    /// replica at once; an answer younger than [`FENCE_FRESH`] that confirms the lease serves,
    /// anything else asks again. An unreachable database answers no.
    pub(crate) async fn fence(&self, store: &Store, name: &str, epoch: i64) -> bool {
        if self.inner.is_none() {
            return true;
        }
        if !self.still_valid(name, epoch) {
            return false;
        }
        // Held while asking, so that the workers waiting behind take the fresh answer.
        let mut confirmed = self.confirmed.lock().await;
        let confirms = |c: &Confirmation| c.held.get(name) == Some(&epoch);
        if confirmed.as_ref().is_some_and(|c| c.asked.elapsed() < FENCE_FRESH && confirms(c)) {
            return true;
        }
        let asked = Instant::now();
        match store.leases_held().await {
            Ok(held) => {
                let answer = Confirmation { asked, held: held.into_iter().map(|l| (l.name, l.epoch)).collect() };
                let yes = confirms(&answer);
                *confirmed = Some(answer);
                yes
            }
            Err(e) => {
                *confirmed = None;
                tracing::warn!(lease = name, error = %e, "cannot check the lease; writing nothing under it");
                false
            }
        }
    }
}

/// Keeps this replica's heartbeat and leases alive, every `settings.tick`, apart from the
/// router (which may be busy handing clusters over), until `stop`.
pub(crate) async fn keep_alive(
    store: Store,
    shares: Shares,
    settings: LeaseSettings,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(settings.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let asked = Instant::now();
        let renewal = async {
            let live = store.replica_heartbeat(settings.ttl).await?;
            let renewed = store.renew_leases(settings.ttl).await?;
            Ok::<_, flotilla_store::Error>((live, renewed))
        };
        match renewal.await {
            Ok((live, renewed)) => {
                for name in shares.renewed(asked, settings.ttl, live, &renewed) {
                    tracing::warn!(lease = %name, "lease lost (not renewed in time); its work stops");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not renew the leases; trying again"),
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
        assert!(shares.still_valid("cluster:x", 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_taken_while_a_renewal_was_under_way_is_not_lost() {
        let shares = Shares::new(true);
        let ttl = Duration::from_secs(9);
        let renewal_asked = Instant::now();
        tokio::time::advance(Duration::from_millis(5)).await;
        shares.taken("cluster:new", 1, Instant::now(), ttl); // by the router, meanwhile
        let lost = shares.renewed(renewal_asked, ttl, vec!["me".into()], &[]);
        assert!(lost.is_empty(), "{lost:?}");
        assert!(shares.still_valid("cluster:new", 1));
        // The next renewal, asked after it was taken, must name it.
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(shares.renewed(Instant::now(), ttl, vec!["me".into()], &[]), ["cluster:new"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_is_acted_under_for_two_thirds_of_its_time_unless_renewed() {
        let shares = Shares::new(true);
        let ttl = Duration::from_secs(9);
        assert_eq!(shares.epoch("cluster:x"), None);
        shares.taken("cluster:x", 3, Instant::now(), ttl);
        assert!(shares.still_valid("cluster:x", 3));
        assert!(!shares.still_valid("cluster:x", 2), "another epoch");
        let limit = Duration::from_secs(10);
        assert_eq!(shares.write_timeout("cluster:x", 3, limit), Duration::from_millis(7500), "cut off at 5/6 of 9 s");
        assert_eq!(shares.write_timeout("cluster:x", 2, limit), Duration::ZERO, "another epoch");
        assert_eq!(Shares::new(false).write_timeout("cluster:x", 0, limit), limit, "one process: the limit");
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(shares.write_timeout("cluster:x", 3, limit), Duration::from_millis(2500));
        let renewed = [flotilla_store::HeldLease { name: "cluster:x".into(), epoch: 3 }];
        assert!(shares.renewed(Instant::now(), ttl, vec!["me".into()], &renewed).is_empty());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(shares.still_valid("cluster:x", 3), "renewed at 5 s: valid until 11 s");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!shares.still_valid("cluster:x", 3), "no renewal since: stop before the database expiry (14 s)");
        assert_eq!(shares.write_timeout("cluster:x", 3, limit), Duration::from_millis(1500), "in flight until 12.5 s");
        assert_eq!(shares.held().get("cluster:x"), Some(&3), "still held, until a renewal says otherwise");
        assert_eq!(shares.renewed(Instant::now(), ttl, vec!["me".into()], &[]), ["cluster:x"]);
        assert!(shares.held().is_empty());
        assert_eq!(shares.live(), ["me"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_held_in_the_database_but_not_here_is_an_orphan_once_a_later_renewal_says_so() {
        let shares = Shares::new(true);
        let ttl = Duration::from_secs(9);
        let before = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        shares.taken("cluster:mine", 2, Instant::now(), ttl);
        let asked = Instant::now();
        let in_db = [
            flotilla_store::HeldLease { name: "cluster:mine".into(), epoch: 2 },
            flotilla_store::HeldLease { name: "cluster:released-here-only".into(), epoch: 1 },
        ];
        shares.renewed(asked, ttl, vec!["me".into()], &in_db);
        let orphans: Vec<String> = shares.orphans(before).into_iter().map(|l| l.name).collect();
        assert_eq!(orphans, ["cluster:released-here-only"]);
        // A renewal asked before the last take may not list what it took: nothing is judged.
        tokio::time::advance(Duration::from_millis(10)).await;
        assert!(shares.orphans(Instant::now()).is_empty());
        // Not shared (SQLite): never any.
        assert!(Shares::new(false).orphans(before).is_empty());
    }
}
