use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::changes::{Change, ChangeFeed};
use crate::{Result, SecretCipher};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The store: a connection pool and the cipher for secrets at rest. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    pub(crate) cipher: Arc<SecretCipher>,
    pub(crate) changes: ChangeFeed,
    pub(crate) throttle: crate::LoginThrottle,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("pool", &self.pool).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url` (creating an SQLite file if missing) and applies the
    /// migrations it lacks.
    #[tracing::instrument(skip(cipher))]
    pub async fn connect(url: &str, cipher: SecretCipher) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        tracing::info!(migrations = MIGRATOR.iter().count(), "database ready");
        Ok(Self {
            pool,
            cipher: Arc::new(cipher),
            changes: ChangeFeed::new(),
            throttle: crate::LoginThrottle::default(),
        })
    }

    /// Begins a transaction that writes. SQLite: `BEGIN IMMEDIATE` takes the write lock up
    /// front, so a transaction that reads before it writes waits its turn (busy timeout)
    /// instead of failing with SQLITE_BUSY_SNAPSHOT when another writer committed first.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Answers whether the database can be queried (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The same store, with password logins throttled by `settings` (the defaults otherwise).
    pub fn with_throttle(mut self, settings: crate::ThrottleSettings) -> Self {
        self.throttle = crate::LoginThrottle::new(settings);
        self
    }

    /// The counters that slow down failed logins (also for refused provider logins).
    pub fn login_throttle(&self) -> &crate::LoginThrottle {
        &self.throttle
    }

    pub fn cipher(&self) -> &SecretCipher {
        &self.cipher
    }

    /// Every change committed through this store from now on.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

#[doc(hidden)]
impl Store {
    /// The raw pool, for tests that check the schema's own guarantees. Not for product code.
    pub fn pool_for_tests(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, so tests can see how callers handle a database that is gone.
    pub async fn close_for_tests(&self) {
        self.pool.close().await;
    }
}
