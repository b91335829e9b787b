//! One app version as the catalog holds it: `app.yaml` (metadata and parameters) and
//! `templates/*.yaml` (manifests with Jinja-style placeholders), the layout of the built-in
//! catalog's `catalog/<app>/<version>/` directories and of a tenant's uploaded archive.

use serde::{Deserialize, Serialize};

use super::params::{self, Parameter};
use crate::limits::size_text;
use crate::{Error, Result};

/// The metadata file of a version directory.
pub const APP_FILE: &str = "app.yaml";
/// Where the templates are, in a version directory.
pub const TEMPLATES_DIR: &str = "templates/";
/// The most template files one version may hold.
pub const MAX_TEMPLATE_FILES: usize = 64;
/// The most bytes one version's files may hold together.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// Where an app is installed: in a project's namespace, or (for cluster-scoped objects such
/// as CRDs) in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppScope {
    Project,
    Workspace,
}

/// `app.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppMeta {
    /// The app's name, a DNS label (`kafka`).
    pub name: String,
    /// The catalog version, SemVer (`3.8.1`). It orders versions and decides upgrades; the
    /// upstream release is `app_version`.
    pub version: semver::Version,
    /// The upstream release it runs (`3.8.1`).
    pub app_version: String,
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// What changed in this version, one line.
    #[serde(default)]
    pub changelog: String,
    pub scope: AppScope,
    /// The installed versions this one may replace (`>=3.7.0, <3.8.1`); none when absent.
    #[serde(default)]
    pub upgrades_from: Option<semver::VersionReq>,
    /// Whether going back to the version it replaced is safe. `false` for one-way data
    /// migrations: a failed upgrade then pauses and asks instead of rolling back.
    #[serde(default = "yes")]
    pub rollback_safe: bool,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// The longest install name: objects are named after it with suffixes (`kafka-headless`),
/// and a StatefulSet's pods and revisions add more within Kubernetes' 63 characters.
pub const MAX_INSTALL_NAME: usize = 40;

/// Checks an install's name: a DNS label of at most [`MAX_INSTALL_NAME`] characters.
pub fn check_install_name(name: &str) -> Result<()> {
    crate::ResourceName::parse("name", name)?;
    if name.len() > MAX_INSTALL_NAME {
        return Err(Error::invalid(
            "name",
            format!("at most {MAX_INSTALL_NAME} characters: objects are named after the install, with suffixes"),
        ));
    }
    Ok(())
}

fn yes() -> bool {
    true
}

impl AppMeta {
    /// Whether an install running `from` may be upgraded to this version.
    pub fn upgrades(&self, from: &semver::Version) -> bool {
        from < &self.version && self.upgrades_from.as_ref().is_some_and(|req| req.matches(from))
    }
}

/// One template file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateFile {
    /// Its path in the version directory (`templates/statefulset.yaml`).
    pub path: String,
    pub text: String,
}

/// A checked app version: metadata and templates. Templates are syntax-checked when the
/// `templates` feature is on (the server); the browser only ever sees checked definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDefinition {
    pub meta: AppMeta,
    pub templates: Vec<TemplateFile>,
}

/// Reads an app version from its files (paths relative to the version directory). Other
/// files than `app.yaml`, `templates/*.yaml` and a `README.md` are refused, so that what a
/// tenant uploads is what gets reviewed.
pub fn parse_definition<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<AppDefinition> {
    let invalid = |reason: String| Error::invalid("app", reason);
    let mut meta_text = None;
    let mut templates = Vec::new();
    let mut total = 0usize;
    for (path, text) in files {
        total = total.saturating_add(text.len());
        if total > MAX_DEFINITION_BYTES {
            return Err(invalid(format!("an app version's files hold at most {}", size_text(MAX_DEFINITION_BYTES))));
        }
        let path = path.strip_prefix("./").unwrap_or(path);
        if path == APP_FILE {
            meta_text = Some(text);
        } else if path == "README.md" {
        } else if let Some(name) = path.strip_prefix(TEMPLATES_DIR) {
            let plain = !name.is_empty()
                && !name.contains('/')
                && name.len() <= 100
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && (name.ends_with(".yaml") || name.ends_with(".yml"));
            if !plain {
                return Err(invalid(format!(
                    "`{path}`: templates are `templates/<name>.yaml`, with letters, digits, `-`, `_` and `.`"
                )));
            }
            templates.push(TemplateFile { path: path.to_owned(), text: text.to_owned() });
        } else {
            return Err(invalid(format!(
                "`{path}` is not part of an app version (app.yaml, templates/*.yaml, README.md)"
            )));
        }
    }
    let meta_text = meta_text.ok_or_else(|| invalid(format!("the version has no {APP_FILE}")))?;
    let meta: AppMeta = serde_saphyr::from_str(meta_text)
        .map_err(|e| invalid(format!("{APP_FILE}: {}", first_line(&e.to_string()))))?;
    check_meta(&meta)?;
    if templates.is_empty() {
        return Err(invalid("the version has no templates (templates/*.yaml)".to_owned()));
    }
    if templates.len() > MAX_TEMPLATE_FILES {
        return Err(invalid(format!("at most {MAX_TEMPLATE_FILES} template files, not {}", templates.len())));
    }
    templates.sort_by(|a, b| a.path.cmp(&b.path));
    let definition = AppDefinition { meta, templates };
    #[cfg(feature = "templates")]
    super::template::compile(&definition)?;
    Ok(definition)
}

fn check_meta(meta: &AppMeta) -> Result<()> {
    let invalid = |reason: String| Error::invalid("app", reason);
    let label = !meta.name.is_empty()
        && meta.name.len() <= 40
        && meta.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && meta.name.as_bytes()[0].is_ascii_lowercase()
        && !meta.name.ends_with('-');
    if !label {
        return Err(invalid(format!(
            "{APP_FILE}: name `{}` must be lowercase letters, digits and `-` (at most 40), starting with a letter",
            meta.name
        )));
    }
    if !meta.version.build.is_empty() {
        return Err(invalid(format!("{APP_FILE}: version `{}` must not carry build metadata", meta.version)));
    }
    for (field, text, max) in [
        ("appVersion", &meta.app_version, 64),
        ("displayName", &meta.display_name, 80),
        ("description", &meta.description, 2000),
        ("changelog", &meta.changelog, 500),
    ] {
        if text.chars().count() > max {
            return Err(invalid(format!("{APP_FILE}: {field} holds at most {max} characters")));
        }
        if field != "description" && text.chars().any(char::is_control) {
            return Err(invalid(format!("{APP_FILE}: {field} must be one line")));
        }
    }
    if meta.app_version.trim().is_empty() || meta.display_name.trim().is_empty() {
        return Err(invalid(format!("{APP_FILE}: appVersion and displayName are required")));
    }
    if let Some(req) = &meta.upgrades_from
        && req.matches(&meta.version)
    {
        return Err(invalid(format!("{APP_FILE}: upgradesFrom `{req}` takes in this version itself")));
    }
    params::check_declarations(&meta.parameters).map_err(|e| invalid(format!("{APP_FILE}: {}", e.reason())))
}

fn first_line(message: &str) -> String {
    let line = message.lines().find(|l| !l.trim().is_empty()).unwrap_or(message).trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "name: demo\nversion: 1.2.0\nappVersion: '1.2'\ndisplayName: Demo\nscope: project\n\
                        upgradesFrom: '>=1.0.0, <1.2.0'\nparameters:\n- {name: replicas, type: integer, default: 2}\n";
    const DEPLOY: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ install.name }}'}\n";

    #[test]
    fn a_version_reads_from_its_files() {
        let def =
            parse_definition([("app.yaml", META), ("templates/cm.yaml", DEPLOY), ("README.md", "# Demo")]).unwrap();
        assert_eq!(def.meta.name, "demo");
        assert_eq!(def.meta.scope, AppScope::Project);
        assert!(def.meta.rollback_safe, "rolling back is safe unless the version says otherwise");
        assert_eq!(def.templates.len(), 1);
        assert!(def.meta.upgrades(&"1.1.3".parse().unwrap()));
        assert!(!def.meta.upgrades(&"1.2.0".parse().unwrap()), "not to itself");
        assert!(!def.meta.upgrades(&"0.9.0".parse().unwrap()), "not from outside upgradesFrom");
    }

    #[test]
    fn stray_files_and_bad_metadata_are_refused_with_the_file_named() {
        let err = |files: &[(&str, &str)]| parse_definition(files.iter().copied()).unwrap_err().reason().to_owned();
        assert!(err(&[("app.yaml", META), ("templates/cm.yaml", DEPLOY), ("run.sh", "x")]).contains("`run.sh`"));
        assert!(err(&[("app.yaml", META), ("templates/../../x.yaml", DEPLOY)]).contains("templates/<name>.yaml"));
        assert!(err(&[("templates/cm.yaml", DEPLOY)]).contains("no app.yaml"));
        assert!(err(&[("app.yaml", META)]).contains("no templates"));
        let unknown = format!("{META}colour: red\n");
        assert!(err(&[("app.yaml", &unknown), ("templates/cm.yaml", DEPLOY)]).starts_with("app.yaml:"));
        let itself = META.replace("<1.2.0", "<=1.2.0");
        assert!(err(&[("app.yaml", &itself), ("templates/cm.yaml", DEPLOY)]).contains("this version itself"));
        let name = META.replace("name: demo", "name: Demo_App");
        assert!(err(&[("app.yaml", &name), ("templates/cm.yaml", DEPLOY)]).contains("lowercase"));
        let huge = "#".repeat(MAX_DEFINITION_BYTES);
        assert!(err(&[("app.yaml", META), ("templates/cm.yaml", &huge)]).contains("at most 1 MiB"));
    }
}
