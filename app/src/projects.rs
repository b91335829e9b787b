//! A workspace's clusters and projects, and a project's resources with their status in every
//! cluster: server functions and types.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::live::StatusView;
use crate::workspaces::WorkspaceSummary;

/// A cluster as a page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRef {
    pub id: String,
    pub name: String,
    /// `Unknown`, `Ready` or `Offline`.
    pub health: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    /// Narrows the workspace's clusters; empty keeps them all.
    pub selector: String,
    pub clusters: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceDetail {
    pub workspace: WorkspaceSummary,
    /// The clusters the workspace selects now.
    pub clusters: Vec<ClusterRef>,
    pub projects: Vec<ProjectSummary>,
    /// Its cluster-scoped resources (Namespaces, ClusterRoles, CRDs, …).
    pub resources: Vec<WorkspaceResource>,
    /// Every label of those clusters, for previews in the browser.
    pub cluster_labels: Vec<std::collections::BTreeMap<String, String>>,
    /// The caller's level on the workspace; `None` when they see it only through some of its
    /// projects.
    pub level: Option<flotilla_domain::Level>,
}

/// A cluster-scoped resource of a workspace with how its rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceResource {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    /// Clusters that report it Synced, that report it failing, and that have a status.
    pub synced: usize,
    pub failing: usize,
    pub placed: usize,
}

/// A resource as the matrix lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub selector: String,
    /// What a selector edit must name to be applied.
    pub version: i64,
    /// The project's clusters: the workspace's, narrowed by the project's selector.
    pub clusters: Vec<ClusterRef>,
    pub resources: Vec<ResourceRow>,
    /// Every status, compact (a thousand clusters make thousands): per resource, one
    /// character per cluster in `clusters` order, `StatusCode::ALL[c - 'a']`, `.` for none.
    pub codes: Vec<String>,
    /// The statuses that carry a message or workload health.
    pub notes: Vec<StatusNote>,
    /// What the caller may do here (the page hides the rest; the server refuses it anyway).
    pub level: flotilla_domain::Level,
}

/// What a status says beyond its code: indices into [`ProjectView`]'s resources and clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNote {
    pub r: u32,
    pub c: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

/// A status code as one character of [`ProjectView::codes`].
pub fn code_char(code: flotilla_domain::StatusCode) -> char {
    let index = flotilla_domain::StatusCode::ALL.iter().position(|c| *c == code).unwrap_or(0);
    char::from(b'a' + index as u8)
}

impl ProjectView {
    /// The statuses with their resource and cluster ids.
    pub fn statuses(&self) -> Vec<StatusView> {
        let mut notes = std::collections::HashMap::new();
        for n in &self.notes {
            notes.insert((n.r as usize, n.c as usize), n);
        }
        let mut out = Vec::new();
        for (r, (resource, codes)) in self.resources.iter().zip(&self.codes).enumerate() {
            for (c, (cluster, ch)) in self.clusters.iter().zip(codes.bytes()).enumerate() {
                let Some(code) = ch.checked_sub(b'a').and_then(|i| flotilla_domain::StatusCode::ALL.get(i as usize))
                else {
                    continue;
                };
                let note = notes.get(&(r, c));
                out.push(StatusView {
                    resource_id: resource.id.clone(),
                    cluster_id: cluster.id.clone(),
                    code: code.as_str().to_owned(),
                    message: note.map(|n| n.message.clone()).unwrap_or_default(),
                    applied_revision: None,
                    health: note.and_then(|n| n.health.clone()),
                });
            }
        }
        out
    }
}

/// A workspace with its clusters and projects.
#[server(endpoint = "workspaces/detail")]
pub async fn get_workspace_detail(id: String) -> Result<WorkspaceDetail, AppError> {
    crate::error::with_status(ssr::workspace_detail(id).await)
}

/// Creates a project (a namespace of its name in each of its clusters) in a workspace.
#[server(endpoint = "projects/create")]
pub async fn create_project(workspace_id: String, name: String, selector: String) -> Result<ProjectSummary, AppError> {
    crate::error::with_status(ssr::create_project(workspace_id, name, selector).await)
}

/// A project with its clusters, resources and every (resource, cluster) status.
#[server(endpoint = "projects/view")]
pub async fn get_project_view(id: String) -> Result<ProjectView, AppError> {
    crate::error::with_status(ssr::project_view(id).await)
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

/// What adding the ConfigMap the form describes would do in each cluster. Nothing is saved.
#[server(endpoint = "projects/review-configmap")]
pub async fn review_configmap(
    project_id: String,
    name: String,
    data: String,
    override_cluster: Option<String>,
    override_data: Option<String>,
) -> Result<crate::resources::Review, AppError> {
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
#[server(endpoint = "projects/review-secret", input = leptos::server_fn::codec::Json)]
pub async fn review_secret(
    project_id: String,
    name: String,
    values: std::collections::BTreeMap<String, String>,
) -> Result<crate::resources::Review, AppError> {
    crate::error::with_status(ssr::review_secret(project_id, name, values).await)
}

/// Adds a Secret to a project. Its values are stored encrypted and never shown again.
#[server(endpoint = "projects/add-secret", input = leptos::server_fn::codec::Json)]
pub async fn add_secret(
    project_id: String,
    name: String,
    values: std::collections::BTreeMap<String, String>,
) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_secret(project_id, name, values).await)
}

/// Adds any namespaced object, written as YAML, to a project (in every cluster of it).
#[server(endpoint = "projects/add-resource")]
pub async fn add_resource(project_id: String, yaml: String) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_resource(project_id, yaml).await)
}

/// `key=value` lines as a map; blank lines are skipped. Errors name `field`.
pub fn parse_pairs(field: &str, text: &str) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut out = std::collections::BTreeMap::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(AppError::Invalid { field: field.to_owned(), message: format!("line {n}: write key=value") });
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

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use flotilla_domain::{ClusterOverride, ClusterSummary, OverridePatch, ResourceName, escape_pointer};
    use flotilla_store::{ResourceHome, ResourceSpec};
    use serde_json::{Value, json};

    use super::*;
    use flotilla_domain::Level;
    use flotilla_store::{Project, Store};

    use crate::auth::ssr::{Caller, actor, require_caller};
    use crate::state::app_state;
    use crate::workspaces::ssr::{matching, summary};

    /// The caller's project `id`, if their role on it allows `need` (no role: not found).
    async fn project_for(caller: &Caller, id: &str, need: Level) -> Result<(Store, Project, Level), AppError> {
        let store = app_state()?.store;
        let project = store.get_project(&caller.tenant_id, id).await?;
        let level = caller.require_level(&project.workspace_id, Some(&project.id), need)?;
        Ok((store, project, level))
    }

    pub(crate) fn cluster_ref(c: &ClusterSummary) -> ClusterRef {
        ClusterRef {
            id: c.id.clone(),
            name: c.name.clone(),
            health: c.health.clone(),
            health_reason: c.health_reason.clone(),
        }
    }

    pub async fn workspace_detail(id: String) -> Result<WorkspaceDetail, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &id).await?;
        let level = user.access.workspace(&workspace.id);
        // Someone with a role on some of its projects only sees those, and not the
        // workspace's own resources.
        let projects: Vec<Project> = store
            .list_projects(&user.tenant_id, &id)
            .await?
            .into_iter()
            .filter(|p| user.access.project(&p.id, &workspace.id).is_some())
            .collect();
        if level.is_none() && projects.is_empty() {
            return Err(AppError::NotFound);
        }
        let all = store.list_clusters(&user.tenant_id).await?;
        let selected = matching(&all, &workspace.selector, None);
        let projects: Vec<ProjectSummary> = projects
            .into_iter()
            .map(|p| ProjectSummary {
                clusters: matching(&all, &workspace.selector, Some(&p.selector)).len(),
                id: p.id,
                name: p.name,
                selector: p.selector,
            })
            .collect();
        let mut resources = Vec::new();
        let own = if level.is_some() { store.list_resources(&user.tenant_id, &id, None).await? } else { Vec::new() };
        for r in own.into_iter().filter(|r| !r.deleted) {
            let statuses = store.resource_statuses(&user.tenant_id, &r.id).await?;
            let count = |f: fn(flotilla_domain::StatusCode) -> bool| statuses.iter().filter(|s| f(s.code)).count();
            resources.push(WorkspaceResource {
                synced: count(|c| c == flotilla_domain::StatusCode::Synced),
                failing: count(|c| c.is_failure()),
                placed: statuses.len(),
                id: r.id,
                kind: r.kind,
                name: r.name,
                revision: r.revision,
            });
        }
        Ok(WorkspaceDetail {
            workspace: summary(workspace, selected.len(), projects.len()),
            resources,
            cluster_labels: selected.iter().map(|c| c.labels.clone()).collect(),
            clusters: selected.into_iter().map(cluster_ref).collect(),
            projects,
            level,
        })
    }

    pub async fn create_project(
        workspace_id: String,
        name: String,
        selector: String,
    ) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let workspace = store.get_workspace(&user.tenant_id, &workspace_id).await?;
        user.require_level(&workspace.id, None, Level::Admin)?;
        let name = ResourceName::parse("name", name.trim())?;
        let project = store.create_project(&user.tenant_id, &actor(&user), &workspace.id, &name, &selector).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(ProjectSummary {
            clusters: matching(&all, &workspace.selector, Some(&project.selector)).len(),
            id: project.id,
            name: project.name,
            selector: project.selector,
        })
    }

    pub async fn set_selector(id: String, version: i64, selector: String) -> Result<ProjectSummary, AppError> {
        let user = require_caller().await?;
        let (store, _, _) = project_for(&user, &id, Level::Admin).await?;
        let project = store.set_project_selector(&user.tenant_id, &actor(&user), &id, &selector, version).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        Ok(ProjectSummary {
            clusters: matching(&all, &workspace.selector, Some(&project.selector)).len(),
            id: project.id,
            name: project.name,
            selector: project.selector,
        })
    }

    pub async fn project_view(id: String) -> Result<ProjectView, AppError> {
        let user = require_caller().await?;
        let (store, project, level) = project_for(&user, &id, Level::View).await?;
        let workspace = store.get_workspace(&user.tenant_id, &project.workspace_id).await?;
        let all = store.list_clusters(&user.tenant_id).await?;
        let clusters: Vec<ClusterRef> =
            matching(&all, &workspace.selector, Some(&project.selector)).into_iter().map(cluster_ref).collect();
        let column: std::collections::HashMap<&str, u32> =
            clusters.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect();
        let records = store.list_resources(&user.tenant_id, &workspace.id, Some(&project.id)).await?;
        let resources: Vec<ResourceRow> = records
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| ResourceRow { id: r.id, kind: r.kind, name: r.name, revision: r.revision })
            .collect();
        let row: std::collections::HashMap<&str, usize> =
            resources.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
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
        })
    }

    pub async fn add_resource(project_id: String, yaml: String) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (_, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        crate::resources::ssr::add_new(&user, project.workspace_id, Some(project.id), yaml).await
    }

    /// The ConfigMap the form describes, checked as creating it would be.
    fn configmap_spec(
        project: &flotilla_store::Project,
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
                patches: overridden
                    .into_iter()
                    .map(|(k, v)| OverridePatch::add(format!("/data/{}", escape_pointer(&k)), Value::String(v)))
                    .collect(),
            }),
        }
        flotilla_store::check_new(&spec, Some(&project.name)).map_err(|e| form_field(e.into()))?;
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
    ) -> Result<crate::resources::Review, AppError> {
        let user = require_caller().await?;
        let (store, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        let spec = configmap_spec(&project, &name, &data, &override_cluster, &override_data)?;
        let home = crate::resources::ssr::home_of(&store, &user, &project.workspace_id, Some(&project.id), Level::Edit)
            .await?;
        home.review(None, Some(&crate::resources::ssr::Shown::new(&spec, None, None)?))
    }

    pub async fn add_configmap(
        project_id: String,
        name: String,
        data: String,
        override_cluster: String,
        override_data: String,
    ) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (store, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        let spec = configmap_spec(&project, &name, &data, &override_cluster, &override_data)?;
        let home = ResourceHome { workspace_id: &project.workspace_id, project: Some((&project.id, &project.name)) };
        let id = store
            .create_resource(&user.tenant_id, &actor(&user), home, &spec)
            .await
            .map_err(|e| form_field(e.into()))?;
        let record = store.get_resource(&user.tenant_id, &id).await?;
        Ok(ResourceRow { id, kind: record.kind, name: record.name, revision: record.revision })
    }

    /// The Secret the form describes, checked as creating it would be.
    fn secret_spec(
        project: &flotilla_store::Project,
        name: &str,
        values: &std::collections::BTreeMap<String, String>,
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
        flotilla_store::check_new(&spec, Some(&project.name)).map_err(|e| form_field(e.into()))?;
        Ok(spec)
    }

    pub async fn review_secret(
        project_id: String,
        name: String,
        values: std::collections::BTreeMap<String, String>,
    ) -> Result<crate::resources::Review, AppError> {
        let user = require_caller().await?;
        let (store, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        let spec = secret_spec(&project, &name, &values)?;
        let keys = values.keys().map(|k| (k.clone(), String::new())).collect();
        let home = crate::resources::ssr::home_of(&store, &user, &project.workspace_id, Some(&project.id), Level::Edit)
            .await?;
        home.review(None, Some(&crate::resources::ssr::Shown::new(&spec, Some(&keys), None)?))
    }

    pub async fn add_secret(
        project_id: String,
        name: String,
        values: std::collections::BTreeMap<String, String>,
    ) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        let (store, project, _) = project_for(&user, &project_id, Level::Edit).await?;
        let spec = secret_spec(&project, &name, &values)?;
        let home = ResourceHome { workspace_id: &project.workspace_id, project: Some((&project.id, &project.name)) };
        let id = store
            .create_resource(&user.tenant_id, &actor(&user), home, &spec)
            .await
            .map_err(|e| form_field(e.into()))?;
        let record = store.get_resource(&user.tenant_id, &id).await?;
        Ok(ResourceRow { id, kind: record.kind, name: record.name, revision: record.revision })
    }
}
