//! The change log other replicas follow (PostgreSQL only; one SQLite process has no one to
//! tell). A write transaction records its changes in `change_log` and sends a NOTIFY that the
//! database delivers only if it commits ([`Store::commit`]); every replica listens, reads the
//! rows it has not seen, and publishes the other replicas' changes on its own change channel.
//! The NOTIFY is only a hint: a poll every second reads the log anyway, so a lost connection
//! or notification delays a change by at most that, and loses nothing.
//!
//! Sequence numbers are handed out at insert but become visible at commit, so a row can
//! appear after a higher one was read. The follower keeps every number above its watermark
//! that it has seen, and moves the watermark only over numbers it has seen — or, for a number
//! still missing after [`GAP_PATIENCE`], given up (its transaction rolled back).

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::postgres::PgListener;
use tokio::time::Instant;

use crate::changes::Change;
use crate::{Backend, Error, Result, Store, now_ms};

/// The NOTIFY channel.
const CHANNEL: &str = "flotilla_changes";
/// How often the log is read without a notification.
const POLL: Duration = Duration::from_secs(1);
/// How long a missing sequence number is waited for (a transaction longer than this that
/// commits after is not heard of: the engine's periodic check still finds what it changed).
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// How long rows are kept.
const KEEP: Duration = Duration::from_secs(600);
/// Rows read at once.
const PAGE: i64 = 1000;

impl Store {
    /// Commits `tx`, with `changes` recorded in it for the other replicas (PostgreSQL), then
    /// announces them in this process.
    pub(crate) async fn commit(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<()> {
        let changes: Vec<Change> = changes.into_iter().collect();
        if !changes.is_empty() {
            self.log_changes(&mut tx, &changes).await?;
        }
        tx.commit().await?;
        for change in changes {
            self.changes.publish(change);
        }
        Ok(())
    }

    /// Commits `tx` with `changes` recorded for the other replicas only (PostgreSQL): what
    /// this process has announced its own way (the engine's live statuses).
    pub(crate) async fn commit_for_others(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        changes: &[Change],
    ) -> Result<()> {
        if !changes.is_empty() {
            self.log_changes(&mut tx, changes).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn log_changes(&self, conn: &mut AnyConnection, changes: &[Change]) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let payload = serde_json::to_string(changes).map_err(|e| Error::Corrupt(format!("change: {e}")))?;
        sqlx::query("INSERT INTO change_log (replica, payload, at) VALUES ($1, $2, $3)")
            .bind(&*self.replica)
            .bind(payload)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&mut *conn).await?;
        Ok(())
    }

    /// Follows the change log until the pool closes (started by `connect` on PostgreSQL).
    pub(crate) fn follow_change_log(&self, url: String) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut cursor = match Cursor::start(&store).await {
                Ok(cursor) => cursor,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the change log: other replicas' changes arrive only with the engine's periodic check");
                    return;
                }
            };
            let mut listener: Option<PgListener> = None;
            let mut poll = tokio::time::interval(POLL);
            poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut pruned = Instant::now();
            while !store.pool.is_closed() {
                if listener.is_none() {
                    listener = listen(&url).await;
                }
                tokio::select! {
                    heard = notification(&mut listener) => {
                        if !heard {
                            listener = None;
                        }
                    }
                    _ = poll.tick() => {}
                }
                if let Err(e) = cursor.read(&store).await {
                    if store.pool.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "reading the change log failed; trying again");
                }
                if pruned.elapsed() > KEEP / 10 {
                    pruned = Instant::now();
                    let _ = store.prune_change_log().await;
                }
            }
        });
    }

    async fn prune_change_log(&self) -> Result<u64> {
        let cutoff = now_ms() - i64::try_from(KEEP.as_millis()).unwrap_or(i64::MAX);
        Ok(sqlx::query("DELETE FROM change_log WHERE at < $1").bind(cutoff).execute(&self.pool).await?.rows_affected())
    }
}

async fn listen(url: &str) -> Option<PgListener> {
    let mut listener = match PgListener::connect(url).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for changes; polling the change log");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN for changes; polling the change log");
            None
        }
    }
}

/// Waits for a notification (false: the connection is gone). With no listener, never ends.
async fn notification(listener: &mut Option<PgListener>) -> bool {
    let Some(listener) = listener else { return std::future::pending().await };
    match listener.try_recv().await {
        Ok(Some(_)) => {
            // A burst of commits: one read serves all of them.
            while listener.next_buffered().is_some() {}
            true
        }
        Ok(None) | Err(_) => false,
    }
}

/// Where a replica is in the log.
#[derive(Debug)]
struct Cursor {
    /// Every sequence number up to here has been delivered or given up.
    watermark: i64,
    /// The highest number read: new rows are read after it, numbers below it that are still
    /// missing are asked for by number (never the whole stretch again).
    read_to: i64,
    /// Numbers above the watermark already delivered.
    seen: BTreeSet<i64>,
    /// Since when the number after the watermark has been missing while a higher one was
    /// seen.
    gap_since: Option<Instant>,
}

/// Missing numbers asked for in one query (one statement: the list is padded).
const MISSING_ASKED: usize = 32;

impl Cursor {
    /// Starts after the rows older than [`GAP_PATIENCE`]: whatever came since may still be
    /// news (and hearing a change twice costs a reload, nothing more).
    async fn start(store: &Store) -> Result<Self> {
        let settled = now_ms() - i64::try_from(GAP_PATIENCE.as_millis()).unwrap_or(i64::MAX);
        let watermark: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_log WHERE at < $1")
            .bind(settled)
            .fetch_one(&store.pool)
            .await?;
        let watermark = watermark.unwrap_or(0);
        Ok(Self { watermark, read_to: watermark, seen: BTreeSet::new(), gap_since: None })
    }

    /// Reads what is new and publishes the other replicas' changes: the numbers missing
    /// below what was read (transactions that had not committed then), then the rows after
    /// it, page by page.
    async fn read(&mut self, store: &Store) -> Result<()> {
        let missing = self.missing();
        if let Some(&last) = missing.last() {
            let list = (1..=MISSING_ASKED).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT seq, replica, payload FROM change_log WHERE seq IN ({list})");
            let mut query = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql));
            for i in 0..MISSING_ASKED {
                query = query.bind(missing.get(i).copied().unwrap_or(last));
            }
            for (seq, replica, payload) in query.fetch_all(&store.pool).await? {
                self.deliver(store, seq, &replica, &payload);
            }
        }
        loop {
            let rows: Vec<(i64, String, String)> =
                sqlx::query_as("SELECT seq, replica, payload FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(self.read_to)
                    .bind(PAGE)
                    .fetch_all(&store.pool)
                    .await?;
            let full = rows.len() as i64 == PAGE;
            for (seq, replica, payload) in rows {
                self.read_to = self.read_to.max(seq);
                self.deliver(store, seq, &replica, &payload);
            }
            if !full {
                break;
            }
        }
        self.advance(Instant::now());
        Ok(())
    }

    /// The first numbers between the watermark and what was read that have not been seen.
    fn missing(&self) -> Vec<i64> {
        (self.watermark + 1..self.read_to).filter(|n| !self.seen.contains(n)).take(MISSING_ASKED).collect()
    }

    /// Publishes row `seq` if it is new and another replica's.
    fn deliver(&mut self, store: &Store, seq: i64, replica: &str, payload: &str) {
        if seq <= self.watermark || !self.seen.insert(seq) || replica == &*store.replica {
            return;
        }
        match serde_json::from_str::<Vec<Change>>(payload) {
            Ok(changes) => changes.into_iter().for_each(|c| store.changes.publish(c)),
            Err(e) => tracing::warn!(seq, error = %e, "a change log row this replica cannot read"),
        }
    }

    /// Moves the watermark over the numbers seen, and over a gap waited for long enough.
    fn advance(&mut self, now: Instant) {
        loop {
            while self.seen.remove(&(self.watermark + 1)) {
                self.watermark += 1;
            }
            let Some(&next) = self.seen.first() else {
                self.gap_since = None;
                return;
            };
            let since = *self.gap_since.get_or_insert(now);
            if now.duration_since(since) < GAP_PATIENCE {
                return;
            }
            tracing::debug!(from = self.watermark + 1, to = next - 1, "change log numbers never committed; going on");
            self.watermark = next - 1;
            self.gap_since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(watermark: i64) -> Cursor {
        Cursor { watermark, read_to: watermark, seen: BTreeSet::new(), gap_since: None }
    }

    #[test]
    fn the_watermark_moves_over_what_was_seen_in_order() {
        let mut c = cursor(10);
        c.seen.extend([11, 12, 14]);
        let t0 = Instant::now();
        c.advance(t0);
        assert_eq!(c.watermark, 12);
        assert_eq!(c.seen.iter().copied().collect::<Vec<_>>(), [14], "13 is awaited");
        c.read_to = 14;
        assert_eq!(c.missing(), [13], "asked for by number; nothing else is read again");
        // 13 commits late: it is read (the query asks for everything above 12) and delivered.
        c.seen.insert(13);
        c.advance(t0 + Duration::from_secs(1));
        assert_eq!(c.watermark, 14);
        assert!(c.seen.is_empty() && c.gap_since.is_none());
    }

    #[test]
    fn a_number_never_committed_is_given_up_after_the_patience() {
        let mut c = cursor(0);
        c.seen.extend([2, 3]);
        let t0 = Instant::now();
        c.advance(t0);
        assert_eq!(c.watermark, 0, "1 may still commit");
        c.advance(t0 + GAP_PATIENCE - Duration::from_millis(1));
        assert_eq!(c.watermark, 0);
        c.advance(t0 + GAP_PATIENCE);
        assert_eq!(c.watermark, 3, "1 rolled back: given up, 2 and 3 passed");
        assert!(c.seen.is_empty());
        c.read_to = 3;
        assert!(c.missing().is_empty());
    }
}
