//! Apps: the catalog, every install across the tenant's fleet, and installing an app in a
//! project or workspace — reviewed first, cluster by cluster, like any other change.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::model::{AppFleet, CatalogApp, InstallInput, Review};

/// The catalog the caller's tenant sees: built-in apps and its own, each with its versions.
/// `scope` (`project` or `workspace`) keeps the apps installed there; empty keeps all.
#[server(endpoint = "apps/catalog")]
pub async fn get_catalog(scope: String) -> Result<Vec<CatalogApp>, AppError> {
    crate::error::with_status(ssr::catalog(scope).await)
}

/// Every app of the catalog with where it is installed (installs the caller may see) and
/// which versions run on how many clusters.
#[server(endpoint = "apps/fleet")]
pub async fn get_app_fleet() -> Result<Vec<AppFleet>, AppError> {
    crate::error::with_status(ssr::fleet().await)
}

/// What installing would do in each cluster of the project (or, without `project_id`, the
/// workspace). Nothing is saved.
#[server(endpoint = "apps/review-install", input = Json)]
pub async fn review_install(
    workspace_id: String,
    project_id: Option<String>,
    input: InstallInput,
) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review(workspace_id, project_id, input).await)
}

/// Installs an app version in a project (or, without `project_id`, a workspace): one
/// federated resource per object it renders to. Returns the install's id.
#[server(endpoint = "apps/install", input = Json)]
pub async fn install_app(
    workspace_id: String,
    project_id: Option<String>,
    input: InstallInput,
) -> Result<String, AppError> {
    crate::error::with_status(ssr::install(workspace_id, project_id, input).await)
}

/// What uninstalling would do in each cluster: every object of the install removed (or, with
/// `orphan`, left there unmanaged). Nothing is saved.
#[server(endpoint = "apps/review-uninstall")]
pub async fn review_uninstall(install_id: String, orphan: bool) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_uninstall(install_id, orphan).await)
}

/// Uninstalls an app, if the install is still at `version`: its resources are deleted from
/// every cluster (or, with `orphan`, left there unmanaged).
#[server(endpoint = "apps/uninstall")]
pub async fn uninstall_app(install_id: String, version: i64, orphan: bool) -> Result<(), AppError> {
    crate::error::with_status(ssr::uninstall(install_id, version, orphan).await)
}

/// Adds an app version of the tenant's own from an archive of the catalog's layout
/// (`app.yaml`, `templates/*.yaml`, optional `README.md`; a `.tar.gz`), sent base64-encoded.
/// Tenant admins only; the version is seen by the tenant alone. Returns the app's name and
/// version as added (`podinfo 6.7.2`).
#[server(endpoint = "apps/upload-version", input = Json)]
pub async fn upload_app_version(archive_base64: String) -> Result<String, AppError> {
    crate::error::with_status(ssr::upload(archive_base64).await)
}

/// Removes an app version the tenant added (not a built-in one, nor one still installed).
#[server(endpoint = "apps/remove-version", input = Json)]
pub async fn remove_app_version(version_id: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::remove_version(version_id).await)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::collections::BTreeMap;

    use flotilla_domain::Level;
    use flotilla_domain::catalog::{AppScope, Parameter, ValueRule};
    use flotilla_store::{
        CatalogVersion, DeletionPolicy, InstallRecord, NewInstall, ResourceHome, ResourceSpec, Store,
    };
    use serde_json::{Map, Value};

    use crate::AppError;
    use crate::backend::{Caller, Home, Shown, actor, app_state, home_of, matching, require_caller, secret_keys_of};
    use crate::model::{
        AppFleet, CatalogApp, CatalogVersionView, InstallInput, InstallPlace, InstallView, Review, RuleInput,
        VersionChoice,
    };

    fn scope_of(text: &str) -> Option<AppScope> {
        match text {
            "project" => Some(AppScope::Project),
            "workspace" => Some(AppScope::Workspace),
            _ => None,
        }
    }

    /// The catalog grouped by app, versions newest first.
    pub(crate) fn group(catalog: Vec<CatalogVersion>, scope: Option<AppScope>) -> Vec<CatalogApp> {
        let mut apps: Vec<CatalogApp> = Vec::new();
        for v in catalog.into_iter().rev() {
            let meta = v.definition.meta;
            if scope.is_some_and(|s| s != meta.scope) {
                continue;
            }
            let version = CatalogVersionView {
                id: v.id,
                version: meta.version.to_string(),
                app_version: meta.app_version,
                changelog: meta.changelog,
                rollback_safe: meta.rollback_safe,
                upgrades_from: meta.upgrades_from.map(|r| r.to_string()).unwrap_or_default(),
                builtin: v.builtin,
                parameters: meta.parameters,
            };
            match apps.iter_mut().find(|a| a.name == meta.name) {
                Some(app) => app.versions.push(version),
                None => apps.push(CatalogApp {
                    name: meta.name,
                    display_name: meta.display_name,
                    description: meta.description,
                    scope: meta.scope,
                    versions: vec![version],
                }),
            }
        }
        apps.sort_by_key(|a| a.display_name.to_lowercase());
        apps
    }

    pub async fn catalog(scope: String) -> Result<Vec<CatalogApp>, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        Ok(group(store.catalog(&user.tenant_id).await?, scope_of(scope.trim())))
    }

    /// Install `id` and its home, if the caller may change resources there.
    async fn install_home(user: &Caller, store: &Store, id: &str) -> Result<(InstallRecord, Home), AppError> {
        let install = store.get_install(&user.tenant_id, id).await?;
        let home = home_of(store, user, &install.workspace_id, install.project_id.as_deref(), Level::Edit).await?;
        Ok((install, home))
    }

    pub async fn review_uninstall(install_id: String, orphan: bool) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let (install, home) = install_home(&user, &store, &install_id).await?;
        let mut changes = Vec::new();
        for id in &install.resource_ids {
            let stored = store.resource_revision(&user.tenant_id, id, None).await?;
            if stored.record.deleted {
                continue;
            }
            // Removing (or leaving unmanaged) takes the clearance the content needs.
            flotilla_store::check_removal(&stored.spec.template, home.scope(), home.clearance()?)?;
            let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
            let after = orphan.then_some(&before);
            changes.extend(home.review(Some(&before), after)?.changes);
        }
        Ok(Review { changes })
    }

    pub async fn uninstall(install_id: String, version: i64, orphan: bool) -> Result<(), AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let (_, home) = install_home(&user, &store, &install_id).await?;
        let policy = if orphan { DeletionPolicy::Orphan } else { DeletionPolicy::Delete };
        Ok(store.uninstall_app(&user.tenant_id, &actor(&user), home.clearance()?, &install_id, version, policy).await?)
    }

    pub async fn upload(archive_base64: String) -> Result<String, AppError> {
        use base64::Engine as _;
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(archive_base64.trim()).map_err(|_| {
            AppError::Invalid { field: "archive".into(), message: "the file did not arrive whole (not base64)".into() }
        })?;
        let definition = flotilla_domain::catalog::read_archive(&bytes)?;
        let store = app_state()?.store;
        store.add_app_version(&user.tenant_id, &actor(&user), &definition).await?;
        Ok(format!("{} {}", definition.meta.name, definition.meta.version))
    }

    pub async fn remove_version(version_id: String) -> Result<(), AppError> {
        let user = require_caller().await?;
        user.require_tenant_admin()?;
        let store = app_state()?.store;
        Ok(store.remove_app_version(&user.tenant_id, &actor(&user), version_id.trim()).await?)
    }

    /// An install as lists show it, with the versions it may move to; `None` if its version
    /// is not in `catalog`.
    fn install_view(catalog: &[CatalogVersion], install: InstallRecord) -> Option<InstallView> {
        let current = catalog.iter().find(|v| v.id == install.version_id)?;
        let meta = &current.definition.meta;
        let mut upgrades: Vec<&CatalogVersion> = catalog
            .iter()
            .filter(|v| v.definition.meta.name == meta.name && v.definition.meta.upgrades(&meta.version))
            .collect();
        upgrades.sort_by(|a, b| b.definition.meta.version.cmp(&a.definition.meta.version));
        let rules = install
            .rules
            .iter()
            .map(|rule| {
                let values: Vec<String> =
                    rule.values.iter().map(|(k, v)| format!("{k}={}", Parameter::to_text(v))).collect();
                match &rule.selector {
                    Some(selector) => format!("{} where {selector}", values.join(", ")),
                    None => format!("{} in {}", values.join(", "), rule.cluster),
                }
            })
            .collect();
        Some(InstallView {
            rules,
            row_version: install.version,
            id: install.id,
            name: install.name,
            app_name: install.app_name,
            display_name: meta.display_name.clone(),
            version: meta.version.to_string(),
            app_version: meta.app_version.clone(),
            resource_ids: install.resource_ids,
            upgrades: upgrades.iter().map(|v| v.definition.meta.version.to_string()).collect(),
        })
    }

    /// `installs` as lists show them. The catalog is read only when there is one to show
    /// (project and workspace pages load this on every view).
    pub(crate) async fn install_views(
        store: &Store,
        tenant_id: &str,
        installs: Vec<InstallRecord>,
    ) -> Result<Vec<InstallView>, AppError> {
        if installs.is_empty() {
            return Ok(Vec::new());
        }
        let catalog = store.catalog(tenant_id).await?;
        Ok(installs.into_iter().filter_map(|i| install_view(&catalog, i)).collect())
    }

    pub async fn fleet() -> Result<Vec<AppFleet>, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let catalog = store.catalog(&user.tenant_id).await?;
        let installs = store.list_installs(&user.tenant_id, None, None).await?;
        let clusters = store.list_clusters(&user.tenant_id).await?;
        let workspaces = store.list_workspaces(&user.tenant_id).await?;
        let projects = store.list_tenant_projects(&user.tenant_id).await?;
        let mut apps: Vec<AppFleet> = group(catalog.clone(), None)
            .into_iter()
            .map(|a| AppFleet {
                name: a.name,
                display_name: a.display_name,
                description: a.description,
                scope: a.scope,
                versions: a.versions.iter().map(|v| v.version.clone()).collect(),
                choices: a
                    .versions
                    .into_iter()
                    .map(|v| VersionChoice {
                        id: v.id,
                        version: v.version,
                        changelog: v.changelog,
                        rollback_safe: v.rollback_safe,
                        builtin: v.builtin,
                    })
                    .collect(),
                installs: Vec::new(),
            })
            .collect();
        for record in installs {
            // Installs are listed only where the caller may look.
            if user.require_level(&record.workspace_id, record.project_id.as_deref(), Level::View).is_err() {
                continue;
            }
            let Some(workspace) = workspaces.iter().find(|w| w.id == record.workspace_id) else { continue };
            let project = record
                .project_id
                .as_ref()
                .and_then(|id| projects.get(&workspace.id).and_then(|ps| ps.iter().find(|p| &p.id == id)));
            let reached = matching(&clusters, &workspace.selector, project.map(|p| p.selector.as_str())).len();
            let (place, href) = match project {
                Some(p) => (format!("{}/{}", workspace.name, p.name), format!("/projects/{}", p.id)),
                None => (workspace.name.clone(), format!("/workspaces/{}", workspace.id)),
            };
            let Some(view) = install_view(&catalog, record) else { continue };
            if let Some(app) = apps.iter_mut().find(|a| a.name == view.app_name) {
                app.installs.push(InstallPlace {
                    id: view.id,
                    name: view.name,
                    version: view.version,
                    place,
                    href,
                    clusters: reached,
                    upgrade: view.upgrades.first().cloned(),
                });
            }
        }
        Ok(apps)
    }

    /// The values the form's texts stand for, each checked by its parameter; errors name
    /// the field (`values.<name>`).
    fn values_of(parameters: &[Parameter], texts: &BTreeMap<String, String>) -> Result<Map<String, Value>, AppError> {
        let mut values = Map::new();
        for (name, text) in texts {
            let parameter = parameters.iter().find(|p| &p.name == name).ok_or_else(|| AppError::Invalid {
                field: "values".into(),
                message: format!("`{name}` is not a parameter of this version"),
            })?;
            let value = parameter
                .from_text(text)
                .map_err(|message| AppError::Invalid { field: format!("values.{name}"), message })?;
            values.insert(name.clone(), value);
        }
        Ok(values)
    }

    /// The form's per-cluster rules, their values checked by parameter; errors name the
    /// `overrides` field and the rule.
    fn rules_of(parameters: &[Parameter], rules: &[RuleInput]) -> Result<Vec<ValueRule>, AppError> {
        rules
            .iter()
            .enumerate()
            .map(|(n, rule)| {
                let values = values_of(parameters, &rule.values).map_err(|e| match e {
                    AppError::Invalid { field, message } => {
                        let name = field.strip_prefix("values.").map(|p| format!("{p} ")).unwrap_or_default();
                        AppError::Invalid {
                            field: "overrides".into(),
                            message: format!("rule {}: {name}{message}", n + 1),
                        }
                    }
                    other => other,
                })?;
                let selector = rule.selector.trim();
                let selector = (!selector.is_empty()).then(|| selector.to_owned());
                Ok(ValueRule { cluster: rule.cluster.trim().to_owned(), selector, values })
            })
            .collect()
    }

    /// The install's objects as new resources of `home`, each checked as adding it by hand
    /// would be, with the values the form sent.
    async fn planned(
        store: &Store,
        tenant_id: &str,
        home: &Home,
        input: &InstallInput,
    ) -> Result<Vec<ResourceSpec>, AppError> {
        let version = store.catalog_version(tenant_id, &input.version_id).await?;
        let values = values_of(&version.definition.meta.parameters, &input.values)?;
        let rules = rules_of(&version.definition.meta.parameters, &input.rules)?;
        let project = home.project.as_ref().map(|(id, name)| (id.as_str(), name.as_str()));
        let at = ResourceHome { workspace_id: &home.workspace_id, project };
        let objects = flotilla_store::render_for(&version.definition, at, input.name.trim(), &values, &rules)?;
        let clearance = home.clearance()?;
        let specs = objects
            .into_iter()
            .map(|o| {
                let spec = ResourceSpec::from(o);
                flotilla_store::check_new(&spec, home.scope(), clearance)?;
                Ok(spec)
            })
            .collect::<Result<Vec<_>, flotilla_store::Error>>()?;
        Ok(specs)
    }

    pub async fn review(
        workspace_id: String,
        project_id: Option<String>,
        input: InstallInput,
    ) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let home = home_of(&store, &user, &workspace_id, project_id.as_deref(), Level::Edit).await?;
        flotilla_domain::catalog::check_install_name(input.name.trim())?;
        let specs = planned(&store, &user.tenant_id, &home, &input).await?;
        let mut changes = Vec::new();
        for spec in &specs {
            let keys = secret_keys_of(&spec.template);
            changes.extend(home.review(None, Some(&Shown::new(spec, keys.as_ref(), None)?))?.changes);
        }
        Ok(Review { changes })
    }

    pub async fn install(
        workspace_id: String,
        project_id: Option<String>,
        input: InstallInput,
    ) -> Result<String, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let home = home_of(&store, &user, &workspace_id, project_id.as_deref(), Level::Edit).await?;
        // The store renders and checks every object as it installs (the review did the same).
        let version = store.catalog_version(&user.tenant_id, &input.version_id).await?;
        let values = values_of(&version.definition.meta.parameters, &input.values)?;
        let rules = rules_of(&version.definition.meta.parameters, &input.rules)?;
        let project = home.project.as_ref().map(|(id, name)| (id.as_str(), name.as_str()));
        let at = ResourceHome { workspace_id: &home.workspace_id, project };
        let new = NewInstall { version_id: &version.id, name: input.name.trim(), values: &values, rules: &rules };
        Ok(store.install_app(&user.tenant_id, &actor(&user), home.clearance()?, at, new).await?)
    }
}
