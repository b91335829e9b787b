/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error")]
    Database(#[from] sqlx::Error),

    /// The store cannot start with what it was given (e.g. a database URL it does not support).
    #[error("{0}")]
    Config(String),

    #[error("could not apply the database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("{0}")]
    Domain(#[from] flotilla_domain::Error),

    #[error("invalid username or password")]
    InvalidCredentials,

    #[error("none of your groups has a role in this organisation: ask its admin to map one of them")]
    NoRole,

    #[error("this account is disabled")]
    AccountDisabled,

    #[error("{0} not found")]
    NotFound(&'static str),

    /// The change would clash with what is stored (a version that exists, one still in use).
    #[error("{0}")]
    Conflict(String),

    #[error("this {what} was changed by {by} since you opened it: reload and apply your edit again")]
    Stale { what: &'static str, by: String },

    #[error("the secret key is unusable: {0}")]
    SecretKey(String),

    #[error("could not {action} the secret key file {path}")]
    SecretKeyFile {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "this secret was encrypted with another key (key id {found}; the configured key's id is \
         {configured}): start Flotilla with the key it was written with"
    )]
    WrongSecretKey { found: String, configured: String },

    #[error("an encrypted value is damaged and cannot be decrypted: {0}")]
    CorruptSecret(String),

    #[error("password hashing failed: {0}")]
    PasswordHash(String),

    #[error("stored data is invalid: {0}")]
    Corrupt(String),

    /// Too many failed logins for this account or from this address: try again later.
    #[error("too many failed logins: try again in {} s", .0.retry_after.as_secs().max(1))]
    Throttled(crate::Throttled),

    /// The admin password chosen for the first start (FLOTILLA_ADMIN_PASSWORD) is too weak.
    #[error("the admin password is too weak ({0}); choose another with FLOTILLA_ADMIN_PASSWORD")]
    WeakAdminPassword(String),

    /// Too many logins at once: the server is hashing as many passwords as it may.
    #[error("too many logins at once")]
    Busy,
}

impl Error {
    /// Did the database refuse a transaction because it raced another one (PostgreSQL's
    /// `serialization_failure` 40001 or `deadlock_detected` 40P01)? Running it again is the
    /// answer; SQLite, with its single writer, never says so.
    pub fn is_serialization_failure(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(e)) => matches!(e.code().as_deref(), Some("40001" | "40P01")),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
