//! tower-sessions records kept in the database, so sessions survive restarts and are
//! shared by every replica.

use async_trait::async_trait;
use flotilla_store::Store;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn backend(e: flotilla_store::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// The columns kept beside the serialised record, so sessions can be found by user.
fn owner(record: &Record) -> (Option<String>, Option<String>) {
    let get = |key| record.data.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    (get(app::auth::ssr::TENANT_ID), get(app::auth::ssr::USER_ID))
}

fn expires_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&*record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let (tenant, user) = owner(record);
        // Ids are random 128-bit values; on the rare collision pick another.
        while !self
            .store
            .session_insert(&record.id.to_string(), &data, expires_ms(record), tenant.as_deref(), user.as_deref())
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let (tenant, user) = owner(record);
        self.store
            .session_save(&record.id.to_string(), &data, expires_ms(record), tenant.as_deref(), user.as_deref())
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = self.store.session_load(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        serde_json::from_str(&row.data).map(Some).map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.session_delete(&id.to_string()).await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let removed = self.store.sessions_delete_expired().await.map_err(backend)?;
        if removed > 0 {
            tracing::debug!(removed, "expired sessions removed");
        }
        Ok(())
    }
}
