use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

use crate::changes::{Change, ChangeFeed};
use crate::{Error, Result, SecretCipher};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a starting store waits for its database to answer.
const STARTUP_PATIENCE: Duration = Duration::from_secs(30);

/// How many times a write transaction that lost a serialization conflict is run again before
/// the conflict is reported.
const WRITE_ATTEMPTS: u32 = 8;

/// The database behind the store. The SQL is the same for both (standard SQL with `$n`
/// parameters); the few places where the dialects must differ ask [`Store::backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One process, one file: the embedded default.
    Sqlite,
    /// Several replicas over one database (scale-out).
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or a clear error for any other scheme.
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(Error::Config(format!(
                "database URL scheme '{scheme}:' is not supported: use sqlite://<file> or postgres://<host>/<database>"
            )))
        }
    }
}

impl Backend {
    /// A query answering one row, one column: a JSON array holding, per row of `rest` (`FROM
    /// … WHERE …`), the JSON array of `items`, in `order` if given. A fleet of thousands is
    /// handed over as one value, not row by row. The one aggregate each dialect spells its own
    /// way.
    pub(crate) fn json_rows(self, items: &str, order: Option<&str>, rest: &str) -> sqlx::AssertSqlSafe<String> {
        let order = order.map(|o| format!(" ORDER BY {o}")).unwrap_or_default();
        sqlx::AssertSqlSafe(match self {
            Self::Sqlite => format!("SELECT json_group_array(json_array({items}){order}) {rest}"),
            Self::Postgres => {
                format!("SELECT CAST(COALESCE(json_agg(json_build_array({items}){order}), '[]') AS TEXT) {rest}")
            }
        })
    }
}

/// Connection-pool settings (the defaults suit one process on SQLite; a replica on
/// PostgreSQL may want more connections).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

/// The store: a connection pool and the cipher for secrets at rest. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// This process's name among the replicas sharing the database (new at every start).
    pub(crate) replica: Arc<str>,
    pub(crate) cipher: Arc<SecretCipher>,
    pub(crate) changes: ChangeFeed,
    pub(crate) throttle: crate::LoginThrottle,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("pool", &self.pool).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://…`, creating the file if missing, or
    /// `postgres://…`) and applies the migrations it lacks.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str, cipher: SecretCipher) -> Result<Self> {
        Self::connect_with(url, cipher, PoolSettings::default()).await
    }

    /// [`Store::connect`] with explicit pool settings.
    #[tracing::instrument(skip_all, fields(?settings))]
    pub async fn connect_with(url: &str, cipher: SecretCipher, settings: PoolSettings) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let url = match backend {
            // Create the file when it is missing (the embedded default's first start).
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options: AnyConnectOptions = url.parse()?;
        let options = options.log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
        let pool_options = || {
            AnyPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL: readers never wait for the writer. Foreign keys and a 5 s
                            // busy timeout are sqlx's defaults for SQLite.
                            sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                                .execute(&mut *conn)
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        // A database server that is starting (or busy) is waited for, a while.
        let waited_since = tokio::time::Instant::now();
        let pool = loop {
            match pool_options().connect_with(options.clone()).await {
                Ok(pool) => break pool,
                Err(e @ (sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)))
                    if waited_since.elapsed() < STARTUP_PATIENCE =>
                {
                    tracing::warn!(error = %e, "the database does not answer yet; trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&pool).await?;
        tracing::info!(?backend, migrations = migrator.iter().count(), "database ready");
        let store = Self {
            pool,
            backend,
            replica: crate::new_id().into(),
            cipher: Arc::new(cipher),
            changes: ChangeFeed::new(),
            throttle: crate::LoginThrottle::default(),
        };
        if backend == Backend::Postgres {
            store.follow_change_log(url);
        }
        Ok(store)
    }

    /// This process's name among the replicas sharing the database.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that writes. SQLite: `BEGIN IMMEDIATE` takes the write lock up
    /// front, so a transaction that reads before it writes waits its turn (busy timeout)
    /// instead of failing with SQLITE_BUSY_SNAPSHOT when another writer committed first.
    /// PostgreSQL: `SERIALIZABLE`, the same guarantee without a single writer — a transaction
    /// that raced another fails with a serialization error and [`Store::retrying`] runs it
    /// again.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        };
        Ok(self.pool.begin_with(begin).await?)
    }

    /// Runs `attempt` (a whole write transaction: begin, work, commit) until it does not lose
    /// a serialization conflict, at most [`WRITE_ATTEMPTS`] times, with a short random pause
    /// between tries. Anything else it returns is returned at once. The closure is called
    /// again from scratch, so it must not have effects outside the transaction before it
    /// commits.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(e) if e.is_serialization_failure() && tries < WRITE_ATTEMPTS => {
                    let pause = Duration::from_millis(rand::random_range(1..=(5u64 << tries.min(6))));
                    tracing::debug!(tries, ?pause, "serialization conflict: running the transaction again");
                    tokio::time::sleep(pause).await;
                }
                outcome => return outcome,
            }
        }
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
    /// Announces `change` on this process's change feed as a commit would (tests flood the
    /// feed with it to make a subscriber lag).
    pub fn announce_for_tests(&self, change: Change) {
        self.changes.publish(change);
    }

    /// The raw pool, for tests that check the schema's own guarantees. Not for product code.
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool, so tests can see how callers handle a database that is gone.
    pub async fn close_for_tests(&self) {
        self.pool.close().await;
    }
}
