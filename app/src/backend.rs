//! Server-side helpers every server function uses: who is calling and the app's state,
//! which clusters a workspace or project reaches, a resource's home and how a change to it
//! is reviewed, and the checks the tenant pages share. Compiled with the `ssr` feature only;
//! the server functions themselves live beside the page they serve (`pages/<page>/server_fns.rs`).

use std::collections::{BTreeMap, BTreeSet};

use flotilla_domain::review::{Desired, Member, review};
use flotilla_domain::{
    Clearance, ClusterOverride, ClusterSummary, LabelSelector, Level, PodSecurity, Reach, ResolvedPlacement, Scope,
};
use flotilla_store::{Project, ProjectScope, ResourceSpec, Store, TenantSummary, Workspace};
use serde_json::Value;

use crate::AppError;
pub(crate) use crate::auth::ssr::{Caller, SessionIds, actor, require_caller};
use crate::model::{
    ClusterRef, MappingRow, ProjectSummary, ResourceRow, Review, ScopeChoice, TenantRow, WorkspaceSummary,
};
pub(crate) use crate::state::app_state;

/// The review of removing something from the fleet: for each cluster, the objects (`Kind
/// name`) it holds of it now, removed (or, with `orphan`, left); clusters holding the same
/// objects are one group.
pub(crate) fn removal_review(held: BTreeMap<String, BTreeSet<String>>, orphan: bool) -> Review {
    use flotilla_domain::review::{ChangeKind, ClusterChange, DiffLine};
    let mut groups: BTreeMap<BTreeSet<String>, Vec<String>> = BTreeMap::new();
    for (cluster, objects) in held {
        groups.entry(objects).or_default().push(cluster);
    }
    let changes = groups
        .into_iter()
        .map(|(objects, clusters)| ClusterChange {
            kind: if orphan { ChangeKind::Unchanged } else { ChangeKind::Delete },
            clusters,
            diff: objects
                .into_iter()
                .map(|text| if orphan { DiffLine::Same { text } } else { DiffLine::Removed { text } })
                .collect(),
        })
        .collect();
    Review { changes }
}

// Kubeconfigs given to register, join or unjoin a cluster.

/// The context's access, its server URL as Flotilla stores it (parsed, normalised, and
/// allowed by the hub's outbound policy as far as can be told before resolving it). An
/// empty `context` is the kubeconfig's current one.
pub(crate) fn checked_access(
    policy: &flotilla_outbound::OutboundPolicy,
    text: &str,
    context: &str,
) -> Result<flotilla_engine::kubeconfig::ClusterAccess, AppError> {
    use flotilla_engine::kubeconfig;
    let invalid = |field: &str, message: String| AppError::Invalid { field: field.to_owned(), message };
    let context = match context.trim() {
        "" => kubeconfig::default_context(text).map_err(|m| invalid("kubeconfig", m))?.ok_or_else(|| {
            invalid("context", "the kubeconfig has several contexts and no current one: name one".into())
        })?,
        named => named.to_owned(),
    };
    let mut access = kubeconfig::access(text, &context).map_err(|m| invalid("context", m))?;
    access.server = server_url(policy, &access.server).map_err(|m| invalid("context", m))?;
    Ok(access)
}

/// `server` as Flotilla stores an API server URL, if the hub's outbound policy allows it.
pub(crate) fn server_url(policy: &flotilla_outbound::OutboundPolicy, server: &str) -> Result<String, String> {
    let url = flotilla_outbound::parse_target(server).map_err(|e| format!("API server URL: {e}"))?;
    policy.check_url(&url).map_err(|e| e.to_string())?;
    Ok(flotilla_outbound::normalized(&url))
}

// Scopes: which clusters a workspace or project reaches.

/// The clusters a workspace (and project) reaches, by the domain's rule ([`Reach`]).
/// Stored selectors were checked when saved; one that no longer parses lists no clusters
/// here (the engine freezes what it placed, rather than removing it). Clusters being
/// deregistered are reached by nothing.
pub(crate) fn matching<'a>(
    clusters: &'a [ClusterSummary],
    workspace: &str,
    project: Option<&str>,
) -> Vec<&'a ClusterSummary> {
    let Ok(reach) = Reach::parse(workspace, project) else { return Vec::new() };
    clusters.iter().filter(|c| c.deregistering.is_none() && reach.scope().contains(&c.labels)).collect()
}

/// `workspace` as lists show it, with how many clusters it matches and projects it has.
pub(crate) fn workspace_summary(workspace: Workspace, clusters: usize, projects: usize) -> WorkspaceSummary {
    WorkspaceSummary {
        id: workspace.id,
        name: workspace.name,
        selector: workspace.selector,
        version: workspace.version,
        clusters,
        projects,
    }
}

pub(crate) fn cluster_ref(c: &ClusterSummary) -> ClusterRef {
    ClusterRef {
        id: c.id.clone(),
        name: c.name.clone(),
        health: c.health.clone(),
        health_reason: c.health_reason.clone(),
    }
}

/// `project` as lists show it, with how many of `all` it reaches in a workspace selecting
/// `workspace_selector`.
pub(crate) fn project_summary(project: Project, all: &[ClusterSummary], workspace_selector: &str) -> ProjectSummary {
    ProjectSummary {
        clusters: matching(all, workspace_selector, Some(&project.selector)).len(),
        id: project.id,
        name: project.name,
        selector: project.selector,
    }
}

/// A stored resource as lists show it.
pub(crate) fn resource_row(record: flotilla_store::ResourceRecord) -> ResourceRow {
    ResourceRow { id: record.id, kind: record.kind, name: record.name, revision: record.revision }
}

// A resource's home and reviews.

/// The scope a resource lives in: its workspace and project, and their clusters now.
pub(crate) struct Home {
    /// What the caller may do here.
    pub level: Level,
    /// How far they reach here, as the policy weighs it (`None` for a viewer).
    pub clearance: Option<Clearance>,
    /// The project namespace's Pod Security level (the default in a workspace).
    pub pod_security: PodSecurity,
    pub workspace_id: String,
    pub workspace_name: String,
    pub project: Option<(String, String)>,
    pub clusters: Vec<ClusterSummary>,
}

/// The workspace (and project) a resource lives in, if the caller's role there allows
/// `need`.
pub(crate) async fn home_of(
    store: &Store,
    user: &Caller,
    workspace_id: &str,
    project_id: Option<&str>,
    need: Level,
) -> Result<Home, AppError> {
    let workspace = store.get_workspace(&user.tenant_id, workspace_id).await?;
    let project = match project_id {
        Some(id) => {
            let project = store.get_project(&user.tenant_id, id).await?;
            // A project of another workspace is not found in this one.
            if project.workspace_id != workspace.id {
                return Err(AppError::NotFound);
            }
            Some(project)
        }
        None => None,
    };
    let level = user.require_level(&workspace.id, project.as_ref().map(|p| p.id.as_str()), need)?;
    let all = store.list_clusters(&user.tenant_id).await?;
    let project_selector = project.as_ref().map(|p| p.selector.as_str());
    let clusters = matching(&all, &workspace.selector, project_selector).into_iter().cloned().collect();
    Ok(Home {
        level,
        clearance: Clearance::of(level, user.access.is_tenant_admin()),
        pod_security: project.as_ref().map(|p| p.pod_security).unwrap_or_default(),
        workspace_id: workspace.id,
        workspace_name: workspace.name,
        project: project.map(|p| (p.id, p.name)),
        clusters,
    })
}

impl Home {
    pub(crate) fn namespace(&self) -> Option<&str> {
        self.project.as_ref().map(|(_, name)| name.as_str())
    }

    /// The project as the rules for its resources see it; `None` in a workspace.
    pub(crate) fn scope(&self) -> Option<ProjectScope<'_>> {
        self.namespace().map(|namespace| ProjectScope { namespace, pod_security: self.pod_security })
    }

    /// The caller's clearance here; a viewer has none.
    pub(crate) fn clearance(&self) -> Result<Clearance, AppError> {
        self.clearance.ok_or_else(|| AppError::Forbidden("Viewers cannot change anything.".into()))
    }

    /// The change from `before` to `after` in each of the home's clusters.
    pub(crate) fn review(&self, before: Option<&Shown>, after: Option<&Shown>) -> Result<Review, AppError> {
        let everything = LabelSelector::everything();
        // The clusters are the scope's already.
        let scope = Scope { workspace: &everything, project: None };
        let members: Vec<Member<'_>> =
            self.clusters.iter().map(|c| Member { name: &c.name, labels: &c.labels }).collect();
        let changes = review(before.map(Shown::desired), after.map(Shown::desired), scope, self.namespace(), &members)?;
        Ok(Review { changes })
    }
}

/// A spec ready to review: placement resolved, a Secret's values masked.
pub(crate) struct Shown {
    template: Value,
    placement: ResolvedPlacement,
    overrides: Vec<ClusterOverride>,
}

impl Shown {
    /// `spec` as reviewed; `values` are a Secret's (base64). For the side after a change,
    /// `before` are the values before it, to tell changed values from kept ones.
    pub(crate) fn new(
        spec: &ResourceSpec,
        values: Option<&BTreeMap<String, String>>,
        before: Option<&BTreeMap<String, String>>,
    ) -> Result<Self, AppError> {
        Self::masking(spec, values.map(|v| masked(v, before)))
    }

    /// `spec` after an edit that set the Secret values named in `set` (to whatever the editor
    /// typed): those read as set, never as changed or not — a review must not tell an editor
    /// whether a guessed value equals the stored one.
    pub(crate) fn edited(
        spec: &ResourceSpec,
        values: Option<&BTreeMap<String, String>>,
        before: Option<&BTreeMap<String, String>>,
        set: &BTreeSet<String>,
    ) -> Result<Self, AppError> {
        let shown = values.map(|values| {
            let mut shown = masked(values, before);
            if let Some(shown) = shown.as_object_mut() {
                for key in set {
                    let was_there = before.is_some_and(|b| b.contains_key(key));
                    let text = if was_there { "(hidden, set again)" } else { "(hidden, new)" };
                    if let Some(value) = shown.get_mut(key.as_str()) {
                        *value = Value::String(text.into());
                    }
                }
            }
            shown
        });
        Self::masking(spec, shown)
    }

    fn masking(spec: &ResourceSpec, shown_values: Option<Value>) -> Result<Self, AppError> {
        let mut template = spec.template.clone();
        if let (Some(values), Some(obj)) = (shown_values, template.as_object_mut()) {
            obj.remove("stringData");
            obj.insert("data".into(), values);
        }
        Ok(Self { template, placement: spec.placement.resolve()?, overrides: spec.overrides.clone() })
    }

    fn desired(&self) -> Desired<'_> {
        Desired { template: &self.template, placement: &self.placement, overrides: &self.overrides }
    }
}

/// A Secret's values as a review shows them: never the value, only (given the values
/// `before` a change) whether it changed.
pub(crate) fn masked(values: &BTreeMap<String, String>, before: Option<&BTreeMap<String, String>>) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in values {
        let text = match before.map(|o| o.get(k)) {
            None => "(hidden)",
            Some(Some(o)) if o == v => "(hidden)",
            Some(Some(_)) => "(hidden, changed)",
            Some(None) => "(hidden, new)",
        };
        out.insert(k.clone(), Value::String(text.into()));
    }
    Value::Object(out)
}

/// A new resource's spec from YAML, checked as creating it would be.
pub(crate) fn new_spec(home: &Home, yaml: &str) -> Result<ResourceSpec, AppError> {
    let spec = ResourceSpec::new(flotilla_domain::parse_manifest(yaml)?);
    flotilla_store::check_new(&spec, home.scope(), home.clearance()?).map_err(|e| editor_field(e.into()))?;
    Ok(spec)
}

/// Errors of a YAML editor's object belong to the editor, whatever part they name.
pub(crate) fn editor_field(e: AppError) -> AppError {
    match e {
        AppError::Invalid { field, message } if field != "yaml" => {
            let message = if field == "template" { message } else { format!("{field}: {message}") };
            AppError::Invalid { field: "yaml".into(), message }
        }
        other => other,
    }
}

/// A Secret's keys as a review shows them (never their values); None for other kinds.
pub(crate) fn secret_keys_of(template: &Value) -> Option<BTreeMap<String, String>> {
    if template.get("kind").and_then(Value::as_str) != Some("Secret") {
        return None;
    }
    let keys = ["data", "stringData"]
        .into_iter()
        .filter_map(|f| template.get(f).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .map(|k| (k, String::new()))
        .collect();
    Some(keys)
}

/// Adds the object in `yaml` to the workspace (with `project_id`: to the project), as the
/// caller, if their role there allows editing.
pub(crate) async fn add_new(
    user: &Caller,
    workspace_id: String,
    project_id: Option<String>,
    yaml: String,
) -> Result<ResourceRow, AppError> {
    let store = app_state()?.store;
    let home = home_of(&store, user, &workspace_id, project_id.as_deref(), Level::Edit).await?;
    let spec = new_spec(&home, &yaml)?;
    let project = home.project.as_ref().map(|(id, name)| (id.as_str(), name.as_str()));
    let at = flotilla_store::ResourceHome { workspace_id: &home.workspace_id, project };
    let id = store
        .create_resource(&user.tenant_id, &actor(user), home.clearance()?, at, &spec)
        .await
        .map_err(|e| editor_field(e.into()))?;
    Ok(resource_row(store.get_resource(&user.tenant_id, &id).await?))
}

// Tenants.

/// Only the platform admin manages tenants.
pub(crate) async fn platform_admin() -> Result<(Caller, Store), AppError> {
    let caller = require_caller().await?;
    if !caller.access.is_platform_admin() {
        return Err(AppError::Forbidden("Only the platform admin manages tenants.".into()));
    }
    Ok((caller, app_state()?.store))
}

/// The platform admin, or a tenant admin of tenant `id` itself. Another tenant's admin
/// is told it does not exist.
pub(crate) async fn admin_of(id: &str) -> Result<(Caller, Store), AppError> {
    let caller = require_caller().await?;
    if !caller.access.is_platform_admin() {
        if caller.tenant_id != id {
            return Err(AppError::NotFound);
        }
        caller.require_tenant_admin()?;
    }
    Ok((caller, app_state()?.store))
}

/// The workspaces and projects of tenant `id` a rule can name, by label.
pub(crate) async fn scope_choices(store: &Store, id: &str) -> Result<Vec<ScopeChoice>, AppError> {
    let mut scopes = Vec::new();
    let mut projects = store.list_tenant_projects(id).await?;
    for workspace in store.list_workspaces(id).await? {
        for project in projects.remove(&workspace.id).unwrap_or_default() {
            scopes.push(ScopeChoice {
                id: project.id,
                label: format!("{}/{}", workspace.name, project.name),
                is_project: true,
            });
        }
        scopes.push(ScopeChoice { id: workspace.id, label: workspace.name, is_project: false });
    }
    scopes.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(scopes)
}

pub(crate) fn mapping_rows(mappings: Vec<flotilla_store::GroupMappingRecord>) -> Vec<MappingRow> {
    mappings.into_iter().map(|m| MappingRow { id: m.id, group: m.group, role: m.role, scope: m.scope_name }).collect()
}

/// A tenant as lists show it.
pub(crate) fn tenant_row(t: TenantSummary) -> TenantRow {
    TenantRow {
        id: t.id,
        slug: t.slug,
        display_name: t.display_name,
        issuer: t.oidc_issuer_url,
        users: t.users,
        clusters: t.clusters,
    }
}
