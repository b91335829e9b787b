//! The engine's in-memory picture of what should exist: every tenant's clusters,
//! workspaces, projects and resources at their current revision. Loaded once, then kept
//! current entity by entity from the store's change events. Templates are held once per
//! resource, never per cluster; rendering happens in the worker that needs it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use flotilla_domain::kinds::apply_order;
use flotilla_domain::policy::{self, Clearance, PodSecurity};
use flotilla_domain::render::{RenderInput, render};
use flotilla_domain::{LabelSelector, ObjectKey, Rendered, ResolvedOverrides, ResolvedPlacement, Scope, StatusCode};
use flotilla_store::{DeletionPolicy, EngineCluster, EngineProject, EngineResource, EngineWorkspace};

/// A member cluster as the model sees it (credentials stay with its worker).
#[derive(Debug, Clone)]
pub(crate) struct ClusterEntry {
    tenant_id: String,
    name: String,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct WorkspaceEntry {
    tenant_id: String,
    /// Why not, when the stored selector no longer parses: its resources then stay as they
    /// are in the clusters that hold them (see [`FleetModel::frozen`]).
    selector: Result<LabelSelector, String>,
}

#[derive(Debug, Clone)]
struct ProjectEntry {
    workspace_id: String,
    name: String,
    selector: Result<LabelSelector, String>,
    pod_security: PodSecurity,
}

/// A resource at its current revision, checked and ready to render.
#[derive(Debug)]
pub(crate) struct ResourceEntry {
    pub id: String,
    pub tenant_id: String,
    workspace_id: String,
    pub project_id: Option<String>,
    pub revision: i64,
    template: serde_json::Value,
    /// `Err(message)` when the stored placement no longer parses (cannot place anywhere).
    placement: Result<ResolvedPlacement, String>,
    /// `Err(message)` when a stored override's selector no longer parses.
    overrides: Result<ResolvedOverrides, String>,
    pub deletion_policy: DeletionPolicy,
    pub adopt_existing: bool,
    pub deleted: bool,
    /// What the current revision's author was cleared to write.
    clearance: Clearance,
    pub order: u8,
    /// The object it names in members (shared by every cluster's worker).
    pub key: Option<Arc<ObjectKey>>,
    /// Rendered once for all the clusters that have no overrides.
    common: OnceLock<Result<Arc<Output>, String>>,
    /// Set while a rollout moves it.
    hold: Option<Hold>,
}

/// A resource a rollout moves: clusters not released render the stable revision (or, for a
/// resource new in the rollout, do not have it).
#[derive(Debug)]
struct Hold {
    stable: Option<Revision>,
    released: HashSet<String>,
}

/// A revision other than the current one, ready to render.
#[derive(Debug)]
struct Revision {
    number: i64,
    template: serde_json::Value,
    overrides: Result<ResolvedOverrides, String>,
    clearance: Clearance,
    common: OnceLock<Result<Arc<Output>, String>>,
}

/// A resource rendered for a cluster and ready to send. Clusters without overrides share
/// one (a change fanned out to a thousand clusters is rendered, hashed and serialized once).
#[derive(Debug)]
pub(crate) struct Output {
    pub key: ObjectKey,
    pub object: serde_json::Value,
    /// `object` as JSON, the request body.
    pub body: Vec<u8>,
    /// The content hash (`Rendered::hash`, 32 hex digits) as a number.
    pub hash: u128,
    /// The revision it renders.
    pub revision: i64,
}

impl Output {
    fn of(revision: i64, rendered: Result<Rendered, flotilla_domain::Error>) -> Result<Arc<Output>, String> {
        let rendered = rendered.map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(&rendered.object).map_err(|e| e.to_string())?;
        let hash = crate::tracked::parse_hash(&rendered.hash)
            .ok_or_else(|| format!("unexpected content hash {}", rendered.hash))?;
        Ok(Arc::new(Output { key: rendered.key, object: rendered.object, body, hash, revision }))
    }
}

fn resolve_overrides(overrides: Vec<flotilla_domain::ClusterOverride>) -> Result<ResolvedOverrides, String> {
    ResolvedOverrides::resolve(overrides).map_err(|e| e.to_string())
}

impl ResourceEntry {
    fn from_store(r: EngineResource) -> Self {
        let api_version = r.template.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default();
        let kind = r.template.get("kind").and_then(|v| v.as_str()).unwrap_or_default();
        let name = r.template.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default();
        // A project's grant binding opens its namespace to Flotilla's joined identity:
        // right after the namespace, before everything that needs it (removed just before).
        let order = if r.project_id.is_some() && flotilla_domain::join::is_hub_grant(kind, name) {
            apply_order("v1", "Namespace") + 1
        } else {
            apply_order(api_version, kind)
        };
        let hold = r.hold.map(|h| Hold {
            stable: h.stable.map(|s| Revision {
                number: s.revision,
                template: s.template,
                overrides: resolve_overrides(s.overrides),
                clearance: s.clearance,
                common: OnceLock::new(),
            }),
            released: h.released.into_iter().collect(),
        });
        Self {
            hold,
            placement: r.placement.resolve().map_err(|e| e.to_string()),
            overrides: resolve_overrides(r.overrides),
            id: r.id,
            tenant_id: r.tenant_id,
            workspace_id: r.workspace_id,
            project_id: r.project_id,
            revision: r.revision,
            template: r.template,
            deletion_policy: r.deletion_policy,
            adopt_existing: r.adopt_existing,
            deleted: r.deleted,
            clearance: r.clearance,
            order,
            key: None,
            common: OnceLock::new(),
        }
    }

    pub fn is_project_namespace(&self) -> bool {
        self.order == 0 && self.project_id.is_some()
    }
}

/// What a worker should hold for one resource.
#[derive(Debug)]
pub(crate) enum Desired {
    /// Not placed on this cluster (or deleted): remove it if it is there.
    Absent {
        resource: Option<Arc<ResourceEntry>>,
    },
    /// Placed, but not to be written here: rendering failed (a bad override for this
    /// cluster) or the policy refuses the rendered object.
    Invalid {
        resource: Arc<ResourceEntry>,
        code: StatusCode,
        message: String,
    },
    Present {
        resource: Arc<ResourceEntry>,
        output: Arc<Output>,
    },
}

/// The model as the change router (writer) and the cluster workers (readers) share it, under
/// the engine's one policy for poisoned locks (`locks.rs`).
#[derive(Clone, Default)]
pub(crate) struct SharedModel(Arc<RwLock<FleetModel>>);

impl SharedModel {
    pub fn read(&self) -> RwLockReadGuard<'_, FleetModel> {
        crate::locks::read(&self.0)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, FleetModel> {
        crate::locks::write(&self.0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct FleetModel {
    clusters: HashMap<String, ClusterEntry>,
    workspaces: HashMap<String, WorkspaceEntry>,
    projects: HashMap<String, ProjectEntry>,
    resources: HashMap<String, Arc<ResourceEntry>>,
    /// Each project's own Namespace resource, by project id.
    namespaces: HashMap<String, String>,
}

impl FleetModel {
    pub fn load(
        clusters: &[EngineCluster],
        workspaces: Vec<EngineWorkspace>,
        projects: Vec<EngineProject>,
        resources: Vec<EngineResource>,
    ) -> Self {
        let mut model = Self::default();
        for c in clusters {
            model.set_cluster(c);
        }
        for w in workspaces {
            model.set_workspace(&w.id.clone(), Some(w));
        }
        for p in projects {
            model.set_project(&p.id.clone(), Some(p));
        }
        for r in resources {
            model.set_resource(&r.id.clone(), Some(r));
        }
        model
    }

    pub fn set_cluster(&mut self, c: &EngineCluster) {
        self.clusters.insert(
            c.id.clone(),
            ClusterEntry { tenant_id: c.tenant_id.clone(), name: c.name.clone(), labels: c.labels.clone() },
        );
    }

    pub fn remove_cluster(&mut self, id: &str) {
        self.clusters.remove(id);
    }

    /// Replaces (or with `None` removes) a workspace; returns the clusters it selected
    /// before or selects now.
    pub fn set_workspace(&mut self, id: &str, w: Option<EngineWorkspace>) -> BTreeSet<String> {
        let mut affected = self.clusters_matching(|m, c| m.in_workspace(id, c));
        match w {
            Some(w) => {
                let selector = LabelSelector::parse(&w.selector).map_err(|e| e.to_string());
                self.workspaces.insert(id.to_owned(), WorkspaceEntry { tenant_id: w.tenant_id, selector });
            }
            None => {
                self.workspaces.remove(id);
            }
        }
        affected.extend(self.clusters_matching(|m, c| m.in_workspace(id, c)));
        affected
    }

    pub fn set_project(&mut self, id: &str, p: Option<EngineProject>) -> BTreeSet<String> {
        let mut affected = self.clusters_matching(|m, c| m.in_project(id, c));
        match p {
            Some(p) => {
                let selector = LabelSelector::parse(&p.selector).map_err(|e| e.to_string());
                let entry =
                    ProjectEntry { workspace_id: p.workspace_id, name: p.name, selector, pod_security: p.pod_security };
                self.projects.insert(id.to_owned(), entry);
            }
            None => {
                self.projects.remove(id);
            }
        }
        affected.extend(self.clusters_matching(|m, c| m.in_project(id, c)));
        affected
    }

    /// Replaces (or removes) a resource; returns the clusters it was or is placed on.
    pub fn set_resource(&mut self, id: &str, r: Option<EngineResource>) -> BTreeSet<String> {
        let mut affected = BTreeSet::new();
        if let Some(old) = self.resources.get(id).cloned() {
            affected.extend(self.clusters_matching(|m, c| m.places(&old, c)));
        }
        match r {
            Some(r) => {
                let mut entry = ResourceEntry::from_store(r);
                entry.key = self.key_of(&entry).map(Arc::new);
                let entry = Arc::new(entry);
                if let (Some(project), true) = (&entry.project_id, entry.is_project_namespace()) {
                    self.namespaces.insert(project.clone(), id.to_owned());
                }
                // A deleted resource must still reach the clusters that hold it.
                affected.extend(self.clusters_matching(|m, c| m.places(&entry, c)));
                self.resources.insert(id.to_owned(), entry);
            }
            None => {
                self.resources.remove(id);
                self.namespaces.retain(|_, ns| ns != id);
            }
        }
        affected
    }

    /// The id of project `project_id`'s own Namespace resource.
    pub fn project_namespace(&self, project_id: &str) -> Option<&str> {
        self.namespaces.get(project_id).map(String::as_str)
    }

    pub fn resource(&self, id: &str) -> Option<Arc<ResourceEntry>> {
        self.resources.get(id).cloned()
    }

    fn clusters_matching(&self, pred: impl Fn(&Self, &ClusterEntry) -> bool) -> BTreeSet<String> {
        self.clusters.iter().filter(|(_, c)| pred(self, c)).map(|(id, _)| id.clone()).collect()
    }

    /// The scope of workspace `id` and, for a project, project `project_id` (`None` when a
    /// stored selector no longer parses, or an entity is missing: it reaches nothing).
    fn scope(&self, id: &str, project_id: Option<&str>) -> Option<Scope<'_>> {
        let workspace = self.workspaces.get(id)?.selector.as_ref().ok()?;
        let project = match project_id {
            Some(pid) => match self.projects.get(pid)? {
                ProjectEntry { workspace_id, selector: Ok(s), .. } if workspace_id == id => Some(s),
                _ => return None,
            },
            None => None,
        };
        Some(Scope { workspace, project })
    }

    /// Whether cluster `c` is one the workspace (and project) reaches: same tenant, in scope.
    fn reaches(&self, workspace_id: &str, project_id: Option<&str>, c: &ClusterEntry) -> bool {
        self.workspaces.get(workspace_id).is_some_and(|w| w.tenant_id == c.tenant_id)
            && self.scope(workspace_id, project_id).is_some_and(|s| s.contains(&c.labels))
    }

    fn in_workspace(&self, id: &str, c: &ClusterEntry) -> bool {
        self.reaches(id, None, c)
    }

    fn in_project(&self, id: &str, c: &ClusterEntry) -> bool {
        self.projects.get(id).is_some_and(|p| self.reaches(&p.workspace_id, Some(id), c))
    }

    /// Why `r` cannot be placed at all, when something it depends on was stored and no longer
    /// parses (its workspace's or project's selector, its placement; a stricter parser after
    /// an upgrade): reading that as "placed nowhere" would delete it, and with a namespace
    /// everything in it, from every cluster. It is frozen instead: left as it is.
    fn frozen(&self, r: &ResourceEntry) -> Option<String> {
        if let Some(Err(e)) = self.workspaces.get(&r.workspace_id).map(|w| &w.selector) {
            return Some(format!("its workspace's stored selector no longer parses ({e})"));
        }
        if let Some(Err(e)) = r.project_id.as_ref().and_then(|p| self.projects.get(p)).map(|p| &p.selector) {
            return Some(format!("its project's stored selector no longer parses ({e})"));
        }
        r.placement.as_ref().err().map(|e| format!("its stored placement no longer parses ({e})"))
    }

    /// Whether `r` (ignoring deletion) is placed on cluster `c`.
    fn places(&self, r: &ResourceEntry, c: &ClusterEntry) -> bool {
        if r.tenant_id != c.tenant_id {
            return false;
        }
        let Some(scope) = self.scope(&r.workspace_id, r.project_id.as_deref()) else { return false };
        let Ok(placement) = &r.placement else { return false };
        scope.places(placement, &c.name, &c.labels)
    }

    /// The ids of every cluster in the model.
    pub fn cluster_ids(&self) -> impl Iterator<Item = &str> {
        self.clusters.keys().map(String::as_str)
    }

    /// The ids of the deleted resources not purged yet.
    pub fn deleted_resources(&self) -> impl Iterator<Item = &str> {
        self.resources.values().filter(|r| r.deleted).map(|r| r.id.as_str())
    }

    /// The ids of the resources placed on cluster `cluster_id` (deleted ones excluded).
    pub fn placed_on(&self, cluster_id: &str) -> Vec<String> {
        let Some(c) = self.clusters.get(cluster_id) else { return Vec::new() };
        self.resources.values().filter(|r| !r.deleted && self.places(r, c)).map(|r| r.id.clone()).collect()
    }

    /// The object a resource names (without rendering), for objects tracked from before a
    /// restart.
    pub fn object_key(&self, resource_id: &str) -> Option<Arc<ObjectKey>> {
        self.resources.get(resource_id)?.key.clone()
    }

    fn key_of(&self, r: &ResourceEntry) -> Option<ObjectKey> {
        let text = |p: &str| r.template.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
        let namespace = match (&r.project_id, r.is_project_namespace()) {
            (Some(pid), false) => Some(self.projects.get(pid)?.name.clone()),
            _ => None,
        };
        Some(ObjectKey {
            api_version: text("/apiVersion")?,
            kind: text("/kind")?,
            namespace,
            name: text("/metadata/name")?,
        })
    }

    /// What cluster `cluster_id` should hold for resource `resource_id`.
    pub fn desired(&self, cluster_id: &str, resource_id: &str) -> Desired {
        let resource = self.resources.get(resource_id).cloned();
        let (Some(c), Some(r)) = (self.clusters.get(cluster_id), resource.clone()) else {
            return Desired::Absent { resource };
        };
        if !r.deleted
            && r.tenant_id == c.tenant_id
            && let Some(why) = self.frozen(&r)
        {
            let message = format!("{why}: Flotilla changes nothing in this cluster until it is fixed");
            return Desired::Invalid { code: StatusCode::Refused, message, resource: r };
        }
        if r.deleted || !self.places(&r, c) {
            return Desired::Absent { resource };
        }
        let namespace = match (&r.project_id, r.is_project_namespace()) {
            (Some(pid), false) => self.projects.get(pid).map(|p| p.name.as_str()),
            _ => None,
        };
        // While a rollout holds it, a cluster not released keeps the stable revision.
        let (revision, template, all_overrides, clearance, common) = match &r.hold {
            Some(hold) if !hold.released.contains(cluster_id) => match &hold.stable {
                Some(s) => (s.number, &s.template, &s.overrides, s.clearance, &s.common),
                None => return Desired::Absent { resource },
            },
            _ => (r.revision, &r.template, &r.overrides, r.clearance, &r.common),
        };
        let overrides = match all_overrides {
            Ok(all) => all.for_cluster(&c.name, &c.labels),
            Err(message) => {
                let message = message.clone();
                return Desired::Invalid { code: StatusCode::ApplyOverridesFailed, message, resource: r };
            }
        };
        let input = RenderInput { resource_id: &r.id, revision, template, overrides, namespace };
        let output = if overrides.is_empty() {
            common.get_or_init(|| Output::of(revision, render(&input))).clone()
        } else {
            Output::of(revision, render(&input))
        };
        let output = match output {
            Ok(output) => output,
            Err(message) => return Desired::Invalid { code: StatusCode::ApplyOverridesFailed, message, resource: r },
        };
        // The policy again, on the object as rendered for this cluster, against what its
        // author was cleared for: nothing reaches a member that their role could not write.
        let pod_security = r.project_id.as_ref().and_then(|p| self.projects.get(p)).map(|p| p.pod_security);
        let home = policy::Home { namespace, pod_security: pod_security.unwrap_or_default() };
        if let Err(e) = policy::check(&output.object, home, clearance) {
            return Desired::Invalid { code: StatusCode::Refused, message: e.to_string(), resource: r };
        }
        Desired::Present { resource: r, output }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use flotilla_domain::{Clearance, Placement, PodSecurity, StatusCode};
    use flotilla_store::{DeletionPolicy, EngineCluster, EngineProject, EngineResource, EngineWorkspace};
    use serde_json::{Value, json};

    use super::{Desired, FleetModel};

    fn model(template: Value, clearance: Clearance, project: Option<PodSecurity>) -> FleetModel {
        let cluster = EngineCluster {
            id: "c1".into(),
            tenant_id: "t".into(),
            name: "edge-1".into(),
            labels: Default::default(),
            api_server_url: "https://127.0.0.1:1".into(),
            ca_pem: None,
            token: String::new().into(),
            deregistering: None,
            version: 1,
        };
        let workspace = EngineWorkspace { id: "w".into(), tenant_id: "t".into(), selector: String::new(), version: 1 };
        let projects = project
            .map(|pod_security| EngineProject {
                id: "p".into(),
                tenant_id: "t".into(),
                workspace_id: "w".into(),
                name: "shop".into(),
                selector: String::new(),
                pod_security,
                version: 1,
            })
            .into_iter()
            .collect();
        let resource = EngineResource {
            id: "r".into(),
            tenant_id: "t".into(),
            workspace_id: "w".into(),
            project_id: project.map(|_| "p".into()),
            revision: 1,
            template,
            placement: Placement::everywhere(),
            overrides: Vec::new(),
            deletion_policy: DeletionPolicy::Delete,
            adopt_existing: false,
            deleted: false,
            clearance,
            hold: None,
            version: 1,
        };
        FleetModel::load(&[cluster], vec![workspace], projects, vec![resource])
    }

    fn refusal(d: Desired) -> Option<String> {
        match d {
            Desired::Invalid { code: StatusCode::Refused, message, .. } => Some(message),
            Desired::Present { .. } => None,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn what_its_author_was_not_cleared_for_is_refused_as_rendered_not_written() {
        // As a revision saved before clearances were recorded reads: an editor's.
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                             "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": []});
        let message = refusal(model(binding.clone(), Clearance::Edit, None).desired("c1", "r")).unwrap();
        assert!(message.contains("needs a tenant admin"), "{message}");
        assert_eq!(refusal(model(binding, Clearance::TenantAdmin, None).desired("c1", "r")), None);
    }

    #[test]
    fn a_stored_selector_or_placement_that_no_longer_parses_freezes_rather_than_deletes() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let mut m = model(cm.clone(), Clearance::Edit, Some(PodSecurity::Baseline));
        assert_eq!(refusal(m.desired("c1", "r")), None, "placed and written while all parses");
        let broken = EngineWorkspace { id: "w".into(), tenant_id: "t".into(), selector: "env in (".into(), version: 2 };
        m.set_workspace("w", Some(broken));
        let message = refusal(m.desired("c1", "r")).unwrap();
        assert!(message.contains("workspace's stored selector no longer parses"), "{message}");
        let mut m = model(cm, Clearance::Edit, Some(PodSecurity::Baseline));
        let project = EngineProject {
            id: "p".into(),
            tenant_id: "t".into(),
            workspace_id: "w".into(),
            name: "shop".into(),
            selector: "tier notin".into(),
            pod_security: PodSecurity::Baseline,
            version: 2,
        };
        m.set_project("p", Some(project));
        assert!(refusal(m.desired("c1", "r")).unwrap().contains("project's stored selector"));
    }

    #[test]
    fn a_pod_the_projects_level_forbids_is_refused_whoever_saved_it() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                         "spec": {"hostPID": true, "containers": [{"name": "c", "image": "x"}]}});
        let message =
            refusal(model(pod.clone(), Clearance::TenantAdmin, Some(PodSecurity::Baseline)).desired("c1", "r"))
                .unwrap();
        assert!(message.contains("hostPID"), "{message}");
        assert_eq!(refusal(model(pod, Clearance::Edit, Some(PodSecurity::Privileged)).desired("c1", "r")), None);
    }
}
