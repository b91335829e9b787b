//! What the store's tests share: a store on a fresh SQLite file, with or without the
//! bootstrap tenant and admin, and names.
#![allow(dead_code)]

use flotilla_domain::ResourceName;
use flotilla_store::{SecretCipher, SecretKey, Store};
use secrecy::SecretString;

/// A store on a new database file (kept as long as the returned folder).
pub async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = flotilla_testkit::database_url(dir.path()).await;
    let store = Store::connect(&url, SecretCipher::new(&SecretKey::generate())).await.unwrap();
    (store, dir)
}

/// A store with the bootstrap tenant `default` and its `admin` (with `admin_password`, or a
/// generated one); returns the tenant's id too.
pub async fn bootstrapped(admin_password: Option<&str>) -> (Store, tempfile::TempDir, String) {
    let (store, dir) = store().await;
    let password = admin_password.map(|p| SecretString::from(p.to_owned()));
    let tenant = store.bootstrap(password.as_ref()).await.unwrap().tenant_id;
    (store, dir, tenant)
}

pub fn name(s: &str) -> ResourceName {
    ResourceName::parse("name", s).unwrap()
}
