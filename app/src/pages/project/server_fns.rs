//! The project page's server functions: the project with every (resource, cluster) status,
//! its selector, and adding objects to it (ConfigMap and Secret forms, any object as YAML),
//! each reviewed first.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::model::{ProjectSummary, ProjectView, ResourceRow, Review};

/// A project with its clusters, resources and every (resource, cluster) status.
#[server(endpoint = "projects/view")]
pub async fn get_project_view(id: String) -> Result<ProjectView, AppError> {
    crate::error::with_status(ssr::project_view(id).await)
}

/// Every status of a project's resources now, the engine's latest included (what the live
/// stream had said before the page subscribed to it is in here), and its clusters' health.
#[server(endpoint = "projects/statuses")]
pub async fn get_project_statuses(id: String) -> Result<crate::model::StatusesNow, AppError> {
    crate::error::with_status(ssr::project_statuses(id).await)
}

/// Adds a ConfigMap to a project. `data` and `override_data` are `key=value` lines; the
/// override applies `override_data` on top of `data` in `override_cluster` only.
#[server(endpoint = "projects/add-configmap")]
pub async fn add_configmap(
    project_id: String,
    name: String,
    data: String,
    override_cluster: Option<String>,
    override_data: Option<String>,
) -> Result<ResourceRow, AppError> {
    crate::error::with_status(
        ssr::add_configmap(
            project_id,
            name,
            data,
            override_cluster.unwrap_or_default(),
            override_data.unwrap_or_default(),
        )
        .await,
    )
}

/// Changes the selector that narrows a project's clusters, if the project is still at
/// `version`. Clusters that leave lose its namespace and objects; new ones receive them.
#[server(endpoint = "projects/set-selector")]
pub async fn set_project_selector(id: String, version: i64, selector: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::set_selector(id, version, selector).await)
}

/// Sets the Pod Security level of the project's namespace (`restricted`, `baseline`, or —
/// a tenant admin only — `privileged`), if the project is still at `version`. A project admin.
#[server(endpoint = "projects/set-pod-security")]
pub async fn set_pod_security(id: String, version: i64, level: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::set_pod_security(id, version, level).await)
}

/// Lets Flotilla take over the project's namespace where one of that name existed before
/// the project (until then nothing of the project is written there). A tenant admin only.
#[server(endpoint = "projects/adopt-namespace")]
pub async fn adopt_namespace(id: String) -> Result<(), AppError> {
    crate::error::with_status(ssr::adopt_namespace(id).await)
}

/// What adding the ConfigMap the form describes would do in each cluster. Nothing is saved.
#[server(endpoint = "projects/review-configmap")]
pub async fn review_configmap(
    project_id: String,
    name: String,
    data: String,
    override_cluster: Option<String>,
    override_data: Option<String>,
) -> Result<Review, AppError> {
    crate::error::with_status(
        ssr::review_configmap(
            project_id,
            name,
            data,
            override_cluster.unwrap_or_default(),
            override_data.unwrap_or_default(),
        )
        .await,
    )
}

/// What adding a Secret with `values` (plain text, by key) would do in each cluster: its
/// keys only, never the values. Nothing is saved.
#[server(endpoint = "projects/review-secret", input = Json)]
pub async fn review_secret(
    project_id: String,
    name: String,
    values: BTreeMap<String, String>,
) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_secret(project_id, name, values).await)
}

/// Adds a Secret to a project. Its values are stored encrypted and never shown again.
#[server(endpoint = "projects/add-secret", input = Json)]
pub async fn add_secret(
    project_id: String,
    name: String,
    values: BTreeMap<String, String>,
) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_secret(project_id, name, values).await)
}

/// Adds any namespaced object, written as YAML, to a project (in every cluster of it).
#[server(endpoint = "projects/add-resource")]
pub async fn add_resource(project_id: String, yaml: String) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_resource(project_id, yaml).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::{BTreeMap, HashMap};

    use flotilla_domain::{Clearance, PodSecurity};
    use flotilla_domain::{ClusterOverride, Level, OverridePatch, ResourceName, escape_pointer};
    use flotilla_store::{Project, ProjectScope, ResourceHome, ResourceSpec, Store};
    use serde_json::{Value, json};

    use crate::AppError;
    use crate::backend::{
        Caller, Shown, actor, app_state, cluster_ref, home_of, matching, project_summary, require_caller, resource_row,
    };
    use crate::model::{ClusterRef, ProjectSummary, ProjectView, ResourceRow, Review, StatusNote, code_char};

    /// The caller's project `id`, if their role on it allows `need` (no role: not found).
    async fn project_for(caller: &Caller, id: &str, need: Level) -> Result<(Store, Project, Level), AppError> {
        let store = app_state()?.store;
        let project = store.get_project(&caller.tenant_id, id).await?;
        let level = caller.require_level(&project.workspace_id, Some(&project.id), need)?;
        Ok((store, project, level))
    }

    pub async fn set_selector(id: String, version: i64, selector: String) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let (store, _, _) = project_for(&user, &id, Level::Admin).await?;
        let project = store.set_project_selector(&user.tenant_id, &actor(&user), &id, &selector, version).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(project_summary(project, &all, &workspace.selector))
    }

    pub async fn set_pod_security(id: String, version: i64, level: String) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let (store, _, have) = project_for(&user, &id, Level::Admin).await?;
        let level = PodSecurity::parse(level.trim()).ok_or_else(|| AppError::Invalid {
            field: "pod_security".into(),
            message: "choose restricted, baseline or privileged".into(),
        })?;
        let clearance = user.clearance(have)?;
        let project =
            store.set_project_pod_security(&user.tenant_id, &actor(&user), clearance, &id, level, version).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(project_summary(project, &all, &workspace.selector))
    }

    pub async fn adopt_namespace(id: String) -> Result<(), AppError> {
        let user = require_caller().await?;
        let (store, _, have) = project_for(&user, &id, Level::Admin).await?;
        Ok(store.adopt_project_namespace(&user.tenant_id, &actor(&user), user.clearance(have)?, &id).await?)
    }

    /// The clusters the project's namespace is in (its workspace's selector and its own).
    async fn project_clusters(
        store: &Store,
        user: &Caller,
        workspace: &flotilla_store::Workspace,
        project: &Project,
    ) -> Result<Vec<ClusterRef>, AppError> {
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(matching(&all, &workspace.selector, Some(&project.selector)).into_iter().map(cluster_ref).collect())
    }

    pub async fn project_statuses(id: String) -> Result<crate::model::StatusesNow, AppError> {
        let user = require_caller().await?;
        let (store, project, _) = project_for(&user, &id, Level::View).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let clusters = project_clusters(&store, &user, &workspace, &project).await?;
        // Statuses reach the store in batches after the live stream has them: flushed first,
        // the read holds everything the stream said before this call.
        app_state()?.engine.flush().await;
        let statuses = store.project_statuses(&user.tenant_id, &project.id).await?;
        // As the project view says them (it carries no revisions either).
        let statuses = statuses
            .into_iter()
            .map(|s| crate::model::StatusView {
                resource_id: s.resource_id,
                cluster_id: s.cluster_id,
                code: s.code.as_str().to_owned(),
                message: s.message,
                applied_revision: None,
                health: s.health.map(|h| h.to_string()),
            })
            .collect();
        Ok(crate::model::StatusesNow { statuses, clusters })
    }

    pub async fn project_view(id: String) -> Result<ProjectView, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &id, Level::View).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let clusters = project_clusters(&store, &user, &workspace, &project).await?;
        let column: HashMap<&str, u32> = clusters.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect();
        let records = store.list_resources(&user.tenant_id, &workspace.id, Some(&project.id)).await?;
        let resources: Vec<ResourceRow> = records.into_iter().filter(|r| !r.deleted).map(resource_row).collect();
        let row: HashMap<&str, usize> = resources.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
        let mut codes = vec![vec![b'.'; clusters.len()]; resources.len()];
        let mut notes = Vec::new();
        for s in store.project_statuses(&user.tenant_id, &project.id).await? {
            // A status of a deleted resource, or in a cluster the project no longer selects,
            // is on its way out.
            let (Some(&r), Some(&c)) = (row.get(s.resource_id.as_str()), column.get(s.cluster_id.as_str())) else {
                continue;
            };
            codes[r][c as usize] = code_char(s.code) as u8;
            if !s.message.is_empty() || s.health.is_some() {
                notes.push(StatusNote { r: r as u32, c, message: s.message, health: s.health.map(|h| h.to_string()) });
            }
        }
        let codes = codes.into_iter().map(|line| String::from_utf8_lossy(&line).into_owned()).collect();
        let installs = store.list_installs(&user.tenant_id, None, Some(&project.id)).await?;
        let installs = crate::pages::apps::server_fns::ssr::install_views(&store, &user.tenant_id, installs).await?;
        let can_delete = user.access.workspace(&workspace.id).is_some_and(Level::is_admin);
        Ok(ProjectView {
            id: project.id,
            name: project.name,
            workspace_id: workspace.id,
            workspace_name: workspace.name,
            selector: project.selector,
            version: project.version,
            clusters,
            resources,
            codes,
            notes,
            level,
            pod_security: project.pod_security,
            tenant_admin: user.access.is_tenant_admin(),
            installs,
            can_delete,
        })
    }

    pub async fn add_resource(project_id: String, yaml: String) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (_, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        crate::backend::add_new(&user, project.workspace_id, Some(project.id), yaml).await
    }

    /// `key=value` lines as a map; blank lines are skipped. Errors name `field`.
    fn parse_pairs(field: &str, text: &str) -> Result<BTreeMap<String, String>, AppError> {
        let mut out = BTreeMap::new();
        for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(AppError::Invalid {
                    field: field.to_owned(),
                    message: format!("line {n}: write key=value"),
                });
            };
            let key = key.trim();
            let valid = !key.is_empty()
                && key.len() <= 253
                && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(AppError::Invalid {
                    field: field.to_owned(),
                    message: format!("line {n}: `{key}` is not a valid key (letters, digits, `-`, `_`, `.`)"),
                });
            }
            if out.insert(key.to_owned(), value.trim().to_owned()).is_some() {
                return Err(AppError::Invalid { field: field.to_owned(), message: format!("line {n}: `{key}` twice") });
            }
        }
        Ok(out)
    }

    /// The ConfigMap the form describes, checked as creating it would be.
    fn configmap_spec(
        project: &flotilla_store::Project,
        clearance: Clearance,
        name: &str,
        data: &str,
        override_cluster: &str,
        override_data: &str,
    ) -> Result<ResourceSpec, AppError> {
        let name = ResourceName::parse("name", name.trim())?;
        let data = parse_pairs("data", data)?;
        let overridden = parse_pairs("override_data", override_data)?;
        let mut spec = ResourceSpec::new(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name.as_str()}, "data": data,
        }));
        let override_cluster = override_cluster.trim();
        match (override_cluster.is_empty(), overridden.is_empty()) {
            (true, true) => {}
            (true, false) => {
                return Err(AppError::Invalid {
                    field: "override_cluster".into(),
                    message: "choose the cluster these values are for".into(),
                });
            }
            (false, true) => {
                return Err(AppError::Invalid {
                    field: "override_data".into(),
                    message: "write the key=value lines that differ in that cluster".into(),
                });
            }
            (false, false) => spec.overrides.push(ClusterOverride {
                cluster: override_cluster.to_owned(),
                selector: None,
                patches: overridden
                    .into_iter()
                    .map(|(k, v)| OverridePatch::add(format!("/data/{}", escape_pointer(&k)), Value::String(v)))
                    .collect(),
            }),
        }
        let scope = ProjectScope { namespace: &project.name, pod_security: project.pod_security };
        flotilla_store::check_new(&spec, Some(scope), clearance).map_err(|e| form_field(e.into()))?;
        Ok(spec)
    }

    /// The form's fields for what the store names.
    fn form_field(e: AppError) -> AppError {
        match e {
            // The store names the overrides as a whole; the form has one place for them.
            AppError::Invalid { field, message } if field.starts_with("overrides") => {
                AppError::Invalid { field: "override_data".into(), message }
            }
            AppError::Invalid { field, message } if field == "template" => {
                AppError::Invalid { field: "name".into(), message }
            }
            other => other,
        }
    }

    pub async fn review_configmap(
        project_id: String,
        name: String,
        data: String,
        override_cluster: String,
        override_data: String,
    ) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &project_id, Level::Edit).await?;
        let clearance = user.clearance(level)?;
        let spec = configmap_spec(&project, clearance, &name, &data, &override_cluster, &override_data)?;
        let home = home_of(&store, &user, &project.workspace_id, Some(&project.id), Level::Edit).await?;
        home.review(None, Some(&Shown::new(&spec, None, None)?))
    }

    pub async fn add_configmap(
        project_id: String,
        name: String,
        data: String,
        override_cluster: String,
        override_data: String,
    ) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &project_id, Level::Edit).await?;
        let clearance = user.clearance(level)?;
        let spec = configmap_spec(&project, clearance, &name, &data, &override_cluster, &override_data)?;
        let home = ResourceHome { workspace_id: &project.workspace_id, project: Some((&project.id, &project.name)) };
        let id = store
            .create_resource(&user.tenant_id, &actor(&user), clearance, home, &spec)
            .await
            .map_err(|e| form_field(e.into()))?;
        Ok(resource_row(store.get_resource(&user.tenant_id, &id).await?))
    }

    /// The Secret the form describes, checked as creating it would be.
    fn secret_spec(
        project: &flotilla_store::Project,
        clearance: Clearance,
        name: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<ResourceSpec, AppError> {
        let name = ResourceName::parse("name", name.trim())?;
        if values.is_empty() {
            return Err(AppError::Invalid { field: "values".into(), message: "add at least one key and value".into() });
        }
        for key in values.keys() {
            let valid = !key.is_empty()
                && key.len() <= 253
                && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(AppError::Invalid {
                    field: "values".into(),
                    message: format!("`{key}` is not a valid key (letters, digits, `-`, `_`, `.`)"),
                });
            }
        }
        let spec = ResourceSpec::new(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": name.as_str()}, "stringData": values,
        }));
        let scope = ProjectScope { namespace: &project.name, pod_security: project.pod_security };
        flotilla_store::check_new(&spec, Some(scope), clearance).map_err(|e| form_field(e.into()))?;
        Ok(spec)
    }

    pub async fn review_secret(
        project_id: String,
        name: String,
        values: BTreeMap<String, String>,
    ) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &project_id, Level::Edit).await?;
        let clearance = user.clearance(level)?;
        let spec = secret_spec(&project, clearance, &name, &values)?;
        let keys = values.keys().map(|k| (k.clone(), String::new())).collect();
        let home = home_of(&store, &user, &project.workspace_id, Some(&project.id), Level::Edit).await?;
        home.review(None, Some(&Shown::new(&spec, Some(&keys), None)?))
    }

    pub async fn add_secret(
        project_id: String,
        name: String,
        values: BTreeMap<String, String>,
    ) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &project_id, Level::Edit).await?;
        let clearance = user.clearance(level)?;
        let spec = secret_spec(&project, clearance, &name, &values)?;
        let home = ResourceHome { workspace_id: &project.workspace_id, project: Some((&project.id, &project.name)) };
        let id = store
            .create_resource(&user.tenant_id, &actor(&user), clearance, home, &spec)
            .await
            .map_err(|e| form_field(e.into()))?;
        Ok(resource_row(store.get_resource(&user.tenant_id, &id).await?))
    }
}
