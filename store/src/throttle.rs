//! Password logins throttled per account and per client address, and password hashing
//! bounded in concurrency, so that a flood of logins can neither guess passwords nor starve
//! the server: each attempt otherwise costs an Argon2 hash (19 MiB, tens of milliseconds of
//! a core) and a write transaction.
//!
//! An account's first few failures cost nothing more; after them each attempt must wait a
//! delay that doubles with every failure, and after many it is locked for a while. A client
//! address that fails across many accounts (password spraying) is locked the same way. A
//! refused attempt is answered at once, without hashing and without writing. Kept in memory:
//! a restart forgets (the delays are short) and each replica counts its own attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// How much failing a login may cost before it is slowed, and for how long.
#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    /// Failures are counted over this window (and forgotten after it).
    pub window: Duration,
    /// An account's failures before each attempt must wait.
    pub free_failures: u32,
    /// The wait after the first slowed failure; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// An account's failures before it is locked.
    pub lock_after: u32,
    /// A client address's failures (over any accounts) before it is locked.
    pub address_lock_after: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// Entries kept at most (older ones are dropped first).
    pub max_entries: usize,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            free_failures: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            lock_after: 10,
            address_lock_after: 30,
            lock_for: Duration::from_secs(15 * 60),
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account { tenant: String, username: String },
    Address(String),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Why an attempt is refused now, and when to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
    /// Locked (many failures), rather than only slowed.
    pub locked: bool,
}

/// The counters. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    settings: Arc<ThrottleSettings>,
    failures: Arc<Mutex<HashMap<Key, Failures>>>,
    hashing: Arc<Semaphore>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(ThrottleSettings::default())
    }
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        // One hash per core at a time: a flood queues instead of taking every core.
        let cores = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, 8);
        Self { settings: Arc::new(settings), failures: Arc::default(), hashing: Arc::new(Semaphore::new(cores)) }
    }

    fn keys(tenant: &str, username: &str, address: Option<&str>) -> Vec<Key> {
        let mut keys = vec![Key::Account { tenant: tenant.to_owned(), username: username.to_lowercase() }];
        keys.extend(address.map(|a| Key::Address(a.to_owned())));
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        // The counters are plain numbers: a panic elsewhere cannot leave them inconsistent.
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether an attempt for `username` of `tenant` from `address` may go ahead now.
    pub fn check(&self, tenant: &str, username: &str, address: Option<&str>) -> Result<(), Throttled> {
        let now = Instant::now();
        let s = &self.settings;
        let map = self.lock();
        let mut refusal: Option<Throttled> = None;
        for key in Self::keys(tenant, username, address) {
            let Some(f) = map.get(&key) else { continue };
            if now.duration_since(f.first) > s.window && f.locked_until.is_none_or(|until| until <= now) {
                continue;
            }
            let wait = match f.locked_until {
                Some(until) if until > now => Some(Throttled { retry_after: until - now, locked: true }),
                _ => match key {
                    Key::Account { .. } if f.count >= s.free_failures => {
                        let doublings = (f.count - s.free_failures).min(16);
                        let delay = s.first_delay.saturating_mul(1 << doublings).min(s.max_delay);
                        let ready = f.last + delay;
                        (ready > now).then(|| Throttled { retry_after: ready - now, locked: false })
                    }
                    _ => None,
                },
            };
            if let Some(w) = wait
                && refusal.as_ref().is_none_or(|r| w.retry_after > r.retry_after)
            {
                refusal = Some(w);
            }
        }
        refusal.map_or(Ok(()), Err)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, tenant: &str, username: &str, address: Option<&str>) {
        let now = Instant::now();
        let s = &self.settings;
        let mut map = self.lock();
        if map.len() >= s.max_entries {
            map.retain(|_, f| now.duration_since(f.last) <= s.window || f.locked_until.is_some_and(|u| u > now));
            if map.len() >= s.max_entries {
                // Still full (a flood of distinct names): forget the oldest half.
                let mut lasts: Vec<Instant> = map.values().map(|f| f.last).collect();
                lasts.sort_unstable();
                let cut = lasts[lasts.len() / 2];
                map.retain(|_, f| f.last > cut);
            }
        }
        for key in Self::keys(tenant, username, address) {
            let lock_after = if matches!(key, Key::Address(_)) { s.address_lock_after } else { s.lock_after };
            let f = map.entry(key).or_insert(Failures { count: 0, first: now, last: now, locked_until: None });
            if now.duration_since(f.first) > s.window && f.locked_until.is_none_or(|u| u <= now) {
                *f = Failures { count: 0, first: now, last: now, locked_until: None };
            }
            f.count += 1;
            f.last = now;
            if f.count >= lock_after {
                f.locked_until = Some(now + s.lock_for);
            }
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeeded(&self, tenant: &str, username: &str) {
        self.lock().remove(&Key::Account { tenant: tenant.to_owned(), username: username.to_lowercase() });
    }

    /// Waits for a turn to hash a password (at most `patience`): `None` when the server is
    /// too busy hashing to take another now.
    pub async fn hashing_turn(&self, patience: Duration) -> Option<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(patience, self.hashing.clone().acquire_owned()).await.ok()?.ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const A: Option<&str> = Some("192.0.2.1");

    #[tokio::test(start_paused = true)]
    async fn an_account_is_slowed_after_a_few_failures_then_locked() {
        let t = LoginThrottle::default();
        for _ in 0..3 {
            t.check("acme", "bob", A).unwrap();
            t.failed("acme", "bob", A);
        }
        // The fourth attempt waits a second, the next two, then four…
        let wait = t.check("acme", "bob", A).unwrap_err();
        assert_eq!(wait, Throttled { retry_after: Duration::from_secs(1), locked: false });
        tokio::time::advance(Duration::from_secs(1)).await;
        t.check("acme", "bob", A).unwrap();
        t.failed("acme", "bob", A);
        assert_eq!(t.check("acme", "bob", A).unwrap_err().retry_after, Duration::from_secs(2));
        // Other accounts and names in other tenants are not slowed.
        t.check("acme", "alice", A).unwrap();
        t.check("globex", "bob", A).unwrap();
        for _ in 0..6 {
            t.failed("acme", "bob", A);
        }
        let locked = t.check("acme", "BOB", A).unwrap_err();
        assert!(locked.locked && locked.retry_after == Duration::from_secs(15 * 60), "{locked:?}");
        tokio::time::advance(Duration::from_secs(15 * 60)).await;
        t.check("acme", "bob", A).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_clears_the_account_and_old_failures_are_forgotten() {
        let t = LoginThrottle::default();
        for _ in 0..3 {
            t.failed("acme", "bob", None);
        }
        t.succeeded("acme", "bob");
        t.check("acme", "bob", None).unwrap();
        for _ in 0..5 {
            t.failed("acme", "carol", None);
        }
        tokio::time::advance(Duration::from_secs(16 * 60)).await;
        t.check("acme", "carol", None).unwrap();
        t.failed("acme", "carol", None);
        t.check("acme", "carol", None).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_spraying_many_accounts_is_locked() {
        let t = LoginThrottle::default();
        for n in 0..30 {
            t.failed("acme", &format!("user{n}"), A);
        }
        let refused = t.check("acme", "someone-new", A).unwrap_err();
        assert!(refused.locked);
        t.check("acme", "someone-new", Some("198.51.100.7")).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_counters_stay_bounded() {
        let t = LoginThrottle::new(ThrottleSettings { max_entries: 100, ..ThrottleSettings::default() });
        for n in 0..1000 {
            t.failed("acme", &format!("user{n}"), None);
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        assert!(t.lock().len() <= 100);
    }
}
