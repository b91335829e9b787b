//! The app catalog that ships with Flotilla. Each `<app>/<version>/` directory beside this
//! crate is one app version (`app.yaml`, `templates/*.yaml`, optional `README.md`), read with
//! the same rules as a version a tenant uploads. The files are compiled into the binary; the
//! store copies them into its catalog tables at start-up.

use std::fmt;

use flotilla_domain::catalog::{AppDefinition, parse_definition};

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// A built-in app version that does not read: which, and why. Only a broken checkout has
/// one (this crate's tests read every version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub app: String,
    pub version: String,
    pub reason: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "catalog/{}/{}: {}", self.app, self.version, self.reason)
    }
}

impl std::error::Error for CatalogError {}

/// The files of every built-in version: `(app, version, path in the version, text)`.
pub fn files() -> &'static [(&'static str, &'static str, &'static str, &'static str)] {
    FILES
}

/// Every built-in app version, read and checked, ordered by app and then version. A
/// directory whose name is not its `app.yaml`'s name and version is an error too.
pub fn builtin() -> Result<Vec<AppDefinition>, CatalogError> {
    let mut versions: Vec<(&str, &str)> = FILES.iter().map(|(app, version, _, _)| (*app, *version)).collect();
    versions.dedup();
    let mut definitions = Vec::with_capacity(versions.len());
    for (app, version) in versions {
        let error = |reason: String| CatalogError { app: app.to_owned(), version: version.to_owned(), reason };
        let files = FILES.iter().filter(|f| f.0 == app && f.1 == version).map(|f| (f.2, f.3));
        let definition = parse_definition(files).map_err(|e| error(e.reason().to_owned()))?;
        if definition.meta.name != app || definition.meta.version.to_string() != version {
            return Err(error(format!(
                "app.yaml says {} {}: the directory must be catalog/{}/{}",
                definition.meta.name, definition.meta.version, definition.meta.name, definition.meta.version
            )));
        }
        definitions.push(definition);
    }
    definitions.sort_by(|a, b| (&a.meta.name, &a.meta.version).cmp(&(&b.meta.name, &b.meta.version)));
    Ok(definitions)
}
