//! What the REST API sends and takes, version 1. These types are the API's contract: the
//! dashboard's own views may change with its pages, so each is mapped here, field by field,
//! and the OpenAPI document is generated from these definitions.

use std::collections::{BTreeMap, HashMap};

use app::model;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error: what went wrong, in words for people and a code for programs.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorBody {
    /// `invalid`, `bad_request`, `unauthenticated`, `forbidden`, `not_found`, `conflict`,
    /// `too_many_requests` or `internal`.
    pub code: String,
    pub message: String,
    /// The request field the error concerns (with `invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A member cluster of the tenant's fleet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub api_server: String,
    pub labels: BTreeMap<String, String>,
    /// `Unknown`, `Ready` or `Offline`.
    pub health: String,
    pub health_reason: String,
    pub server_version: Option<String>,
    /// What a change to the cluster must name (optimistic concurrency).
    pub version: i64,
    /// `cleanup` or `leave` while the cluster is being deregistered.
    pub deregistering: Option<String>,
}

impl From<model::ClusterSummary> for Cluster {
    fn from(c: model::ClusterSummary) -> Self {
        Cluster {
            id: c.id,
            name: c.name,
            api_server: c.api_server_url,
            labels: c.labels,
            health: c.health,
            health_reason: c.health_reason,
            server_version: c.server_version,
            version: c.version,
            deregistering: c.deregistering,
        }
    }
}

/// A cluster a workspace or project reaches.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterRef {
    pub id: String,
    pub name: String,
    pub health: String,
}

impl From<model::ClusterRef> for ClusterRef {
    fn from(c: model::ClusterRef) -> Self {
        ClusterRef { id: c.id, name: c.name, health: c.health }
    }
}

/// A workspace: clusters chosen by a label selector, holding cluster-scoped resources and
/// projects.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    /// A Kubernetes label selector (`env=prod,region in (eu,us)`); empty selects every cluster.
    pub selector: String,
    pub version: i64,
    /// How many clusters it selects now.
    pub clusters: usize,
    pub projects: usize,
}

impl From<model::WorkspaceSummary> for Workspace {
    fn from(w: model::WorkspaceSummary) -> Self {
        Workspace {
            id: w.id,
            name: w.name,
            selector: w.selector,
            version: w.version,
            clusters: w.clusters,
            projects: w.projects,
        }
    }
}

/// A project as lists show it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProjectSummary {
    pub id: String,
    /// Also its namespace in every cluster.
    pub name: String,
    /// Narrows the workspace's clusters; empty keeps them all.
    pub selector: String,
    pub clusters: usize,
}

impl From<model::ProjectSummary> for ProjectSummary {
    fn from(p: model::ProjectSummary) -> Self {
        ProjectSummary { id: p.id, name: p.name, selector: p.selector, clusters: p.clusters }
    }
}

/// A federated resource as lists show it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResourceRef {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
}

impl From<model::ResourceRow> for ResourceRef {
    fn from(r: model::ResourceRow) -> Self {
        ResourceRef { id: r.id, kind: r.kind, name: r.name, revision: r.revision }
    }
}

/// A workspace with its clusters, projects and cluster-scoped resources.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceDetail {
    pub workspace: Workspace,
    /// The caller's level on the workspace (`view`, `edit`, `admin`); absent when they see it
    /// only through some of its projects.
    pub level: Option<String>,
    pub clusters: Vec<ClusterRef>,
    pub projects: Vec<ProjectSummary>,
    pub resources: Vec<ResourceRef>,
}

impl From<model::WorkspaceDetail> for WorkspaceDetail {
    fn from(d: model::WorkspaceDetail) -> Self {
        WorkspaceDetail {
            workspace: d.workspace.into(),
            level: d.level.map(|l| l.as_str().to_owned()),
            clusters: d.clusters.into_iter().map(Into::into).collect(),
            projects: d.projects.into_iter().map(Into::into).collect(),
            resources: d
                .resources
                .into_iter()
                .map(|r| ResourceRef { id: r.id, kind: r.kind, name: r.name, revision: r.revision })
                .collect(),
        }
    }
}

/// A project: a namespace of its name in each of its clusters, and the resources in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub selector: String,
    pub version: i64,
    /// The Pod Security Standard its namespace enforces: `restricted`, `baseline`, `privileged`.
    pub pod_security: String,
    /// The caller's level here: `view`, `edit` or `admin`.
    pub level: String,
    pub clusters: Vec<ClusterRef>,
    pub resources: Vec<ResourceRef>,
}

impl From<model::ProjectView> for Project {
    fn from(p: model::ProjectView) -> Self {
        Project {
            id: p.id,
            name: p.name,
            workspace_id: p.workspace_id,
            workspace_name: p.workspace_name,
            selector: p.selector,
            version: p.version,
            pod_security: p.pod_security.as_str().to_owned(),
            level: p.level.as_str().to_owned(),
            clusters: p.clusters.into_iter().map(Into::into).collect(),
            resources: p.resources.into_iter().map(Into::into).collect(),
        }
    }
}

/// Where a resource goes among its scope's clusters: every one (neither field), the ones
/// named, or those a label selector matches.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Placement {
    pub clusters: Option<Vec<String>>,
    pub selector: Option<String>,
}

/// A per-cluster change to the template (KubeFed's `clusterOverrides`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Override {
    pub cluster: String,
    /// `add`, `replace` or `remove`.
    pub op: String,
    /// A JSON pointer into the object (`/spec/replicas`).
    pub path: String,
    pub value: String,
}

/// A federated resource: its template, placement and overrides.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Resource {
    pub id: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    /// What a change or deletion must name (optimistic concurrency).
    pub version: i64,
    pub workspace_id: String,
    pub project_id: Option<String>,
    /// The template as YAML; a Secret's without its values, which never leave the hub.
    pub yaml: String,
    /// A Secret's keys.
    pub secret_keys: Option<Vec<String>>,
    pub placement: Placement,
    pub overrides: Vec<Override>,
    /// `delete` or `orphan`: what deleting it does by default.
    pub deletion_policy: String,
    /// The caller's level here.
    pub level: String,
}

impl From<model::ResourceDetail> for Resource {
    fn from(r: model::ResourceDetail) -> Self {
        Resource {
            id: r.id,
            api_version: r.api_version,
            kind: r.kind,
            name: r.name,
            revision: r.revision,
            version: r.version,
            workspace_id: r.workspace_id,
            project_id: r.project_id,
            yaml: r.yaml,
            secret_keys: r.secret_keys,
            placement: Placement { clusters: r.placement.clusters, selector: r.placement.selector },
            overrides: r
                .overrides
                .into_iter()
                .map(|o| Override { cluster: o.cluster, op: o.op, path: o.path, value: o.value })
                .collect(),
            deletion_policy: r.deletion_policy,
            level: r.level.as_str().to_owned(),
        }
    }
}

/// A change to a resource: its template as YAML (a Secret's without values, as `GET` gives
/// it), and optionally its placement and overrides (left as they are when absent).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceUpdate {
    pub yaml: String,
    pub placement: Option<Placement>,
    pub overrides: Option<Vec<Override>>,
    /// A Secret's values to set (plain text), by key; other keys keep theirs.
    #[serde(default)]
    pub secret_set: BTreeMap<String, String>,
    /// A Secret's keys to remove.
    #[serde(default)]
    pub secret_remove: Vec<String>,
    /// The version read: refused (409) if the resource changed since. Without it, the change
    /// applies to the resource as it is now.
    pub version: Option<i64>,
}

/// What a change does in each group of clusters that see the same change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewChange {
    /// `Create`, `Update`, `Delete` or `Unchanged`.
    pub kind: String,
    pub clusters: Vec<String>,
    /// The object's YAML as a unified diff: lines starting `+ `, `- `, `  `, and `… N
    /// unchanged lines` where context is folded.
    pub diff: Vec<String>,
}

/// The review of a change, cluster group by cluster group.
pub fn review(r: model::Review) -> Vec<ReviewChange> {
    use flotilla_domain::review::DiffLine;
    r.changes
        .into_iter()
        .map(|c| ReviewChange {
            kind: format!("{:?}", c.kind),
            clusters: c.clusters,
            diff: c
                .diff
                .into_iter()
                .map(|line| match line {
                    DiffLine::Same { text } => format!("  {text}"),
                    DiffLine::Added { text } => format!("+ {text}"),
                    DiffLine::Removed { text } => format!("- {text}"),
                    DiffLine::Fold { count } => format!("… {count} unchanged lines"),
                })
                .collect(),
        })
        .collect()
}

/// One resource's status in one cluster.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Status {
    pub resource_id: String,
    pub cluster_id: String,
    pub cluster: String,
    /// `Synced`, `Pending`, `ClusterNotReady`, `AlreadyExists`, `TypeNotServed`, …
    pub code: String,
    pub message: String,
    /// The resource revision the cluster holds.
    pub applied_revision: Option<i64>,
    /// Workload health (`Healthy 3/3`, `Progressing 1/3 updated, 0/3 ready`).
    pub health: Option<String>,
}

/// Statuses with their clusters' names.
pub fn statuses(now: model::StatusesNow) -> Vec<Status> {
    let names: HashMap<String, String> = now.clusters.into_iter().map(|c| (c.id, c.name)).collect();
    now.statuses
        .into_iter()
        .map(|s| Status {
            cluster: names.get(&s.cluster_id).cloned().unwrap_or_default(),
            resource_id: s.resource_id,
            cluster_id: s.cluster_id,
            code: s.code,
            message: s.message,
            applied_revision: s.applied_revision,
            health: s.health,
        })
        .collect()
}

/// A rollout (an upgrade moving clusters wave by wave).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rollout {
    pub id: String,
    pub title: String,
    /// `Running`, `Paused`, `AwaitingApproval`, `Aborting`, `Succeeded` or `Aborted`.
    pub state: String,
    pub message: String,
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl From<model::RolloutSummary> for Rollout {
    fn from(r: model::RolloutSummary) -> Self {
        Rollout {
            id: r.id,
            title: r.title,
            state: r.state.as_str().to_owned(),
            message: r.message,
            created_by: r.created_by,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// One cluster's step in a rollout.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RolloutStep {
    pub cluster_id: String,
    pub cluster: String,
    /// `Pending`, `Updating`, `Soaking`, `Done`, `Failed`, `RollingBack`, `RolledBack`, `Skipped`.
    pub state: String,
    pub message: String,
    pub since: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RolloutWave {
    pub index: u32,
    pub label: String,
    pub steps: Vec<RolloutStep>,
}

/// An app of the catalog with its versions and where it is installed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// `Project` (installed in a project's namespace) or `Workspace` (cluster-scoped).
    pub scope: String,
    /// Newest first.
    pub versions: Vec<AppVersion>,
    pub installs: Vec<AppInstall>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppVersion {
    /// What an install or upgrade names.
    pub id: String,
    pub version: String,
    pub changelog: String,
    /// Whether going back from it to the version it replaced is safe.
    pub rollback_safe: bool,
    /// Built into Flotilla, rather than the tenant's own.
    pub builtin: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppInstall {
    /// What an upgrade names.
    pub id: String,
    pub name: String,
    pub version: String,
    /// `workspace/project`, or the workspace for a workspace install.
    pub place: String,
    pub clusters: usize,
    /// The newest version it may be upgraded to, if any.
    pub upgrade: Option<String>,
}

impl From<model::AppFleet> for App {
    fn from(a: model::AppFleet) -> Self {
        App {
            name: a.name,
            display_name: a.display_name,
            description: a.description,
            scope: format!("{:?}", a.scope),
            versions: a
                .choices
                .into_iter()
                .map(|v| AppVersion {
                    id: v.id,
                    version: v.version,
                    changelog: v.changelog,
                    rollback_safe: v.rollback_safe,
                    builtin: v.builtin,
                })
                .collect(),
            installs: a
                .installs
                .into_iter()
                .map(|i| AppInstall {
                    id: i.id,
                    name: i.name,
                    version: i.version,
                    place: i.place,
                    clusters: i.clusters,
                    upgrade: i.upgrade,
                })
                .collect(),
        }
    }
}

/// An app version to install in a project (or, without `project_id`, a workspace), with its
/// parameters' values as text (typed by the version's parameters) and per-cluster rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstall {
    pub workspace_id: String,
    pub project_id: Option<String>,
    pub version_id: String,
    /// The install's name (its objects are named after it).
    pub name: String,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Per-cluster values, in order: a cluster takes the first rule naming (`cluster`) or
    /// selecting (`selector`) it.
    #[serde(default)]
    pub rules: Vec<InstallRule>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallRule {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub selector: String,
    pub values: BTreeMap<String, String>,
}

/// An install made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Installed {
    pub id: String,
}

/// An upgrade to start as a rollout.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRollout {
    /// Installs of one app, all moving to `to_version_id`.
    pub install_ids: Vec<String>,
    pub to_version_id: String,
    /// How it moves; what it leaves out takes the dashboard's defaults. `canary`:
    /// `{"by": "first"}` (the default), `{"by": "none"}`, `{"by": "names", "value": [...]}`,
    /// `{"by": "selector", "value": "tier=1"}`; `wave_size`: `{"unit": "clusters", "value":
    /// 5}` or `{"unit": "percent", "value": 25}`; `wave_per` (a label key); `order` (label
    /// selectors, first matches go first); `soak_seconds`; `progress_deadline_seconds`;
    /// `max_failures`; `approval`: `never`, `after_canary` or `between_waves`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub strategy: Option<serde_json::Value>,
}

/// A rollout with its waves.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RolloutDetail {
    pub rollout: Rollout,
    pub current_wave: u32,
    pub waves: Vec<RolloutWave>,
    /// Whether the caller may act on it (edit rights wherever it moves things).
    pub can_act: bool,
}

impl From<model::RolloutView> for RolloutDetail {
    fn from(r: model::RolloutView) -> Self {
        RolloutDetail {
            rollout: r.summary.into(),
            current_wave: r.current_wave,
            waves: r
                .waves
                .into_iter()
                .map(|w| RolloutWave {
                    index: w.index,
                    label: w.label,
                    steps: w
                        .steps
                        .into_iter()
                        .map(|s| RolloutStep {
                            cluster_id: s.cluster_id,
                            cluster: s.name,
                            state: s.state.as_str().to_owned(),
                            message: s.message,
                            since: s.since,
                        })
                        .collect(),
                })
                .collect(),
            can_act: r.can_act,
        }
    }
}

/// A kind the fleet's members serve (from their discovery).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServedType {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub served_by: usize,
    /// How many clusters (of those whose discovery was read) do not serve it.
    pub lacking: usize,
    /// The first of those, by name.
    pub lacking_clusters: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Types {
    pub clusters: usize,
    /// Clusters whose discovery has not been read yet.
    pub unread: Vec<String>,
    pub types: Vec<ServedType>,
}

impl From<model::TypesView> for Types {
    fn from(t: model::TypesView) -> Self {
        Types {
            clusters: t.clusters,
            unread: t.unread,
            types: t
                .types
                .into_iter()
                .map(|r| ServedType {
                    api_version: r.api_version,
                    kind: r.kind,
                    plural: r.plural,
                    namespaced: r.namespaced,
                    served_by: r.served_by,
                    lacking: r.lacking,
                    lacking_clusters: r.lacking_named,
                })
                .collect(),
        }
    }
}

/// What an import would make.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReview {
    pub project: String,
    pub project_selector: String,
    pub resources: Vec<ImportItem>,
    /// What has no equivalent in Flotilla; nothing is imported while there is any.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportItem {
    pub kind: String,
    pub name: String,
    pub placement: String,
    pub overrides: usize,
}

impl From<model::ImportRow> for ImportItem {
    fn from(r: model::ImportRow) -> Self {
        ImportItem { kind: r.kind, name: r.name, placement: r.placement, overrides: r.overrides }
    }
}

impl From<model::ImportPreview> for ImportReview {
    fn from(p: model::ImportPreview) -> Self {
        ImportReview {
            project: p.project,
            project_selector: p.project_selector,
            resources: p.resources.into_iter().map(ImportItem::from).collect(),
            problems: p.problems,
        }
    }
}

/// What federating a member's namespace would take and leave.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FederateReview {
    pub cluster: String,
    pub namespace: String,
    /// The new project's Pod Security level.
    pub pod_security: String,
    /// What the namespace itself needs written, if anything.
    pub namespace_change: Option<String>,
    pub objects: Vec<FederateItem>,
    /// Kinds that could not be read, with why.
    pub unreadable: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FederateItem {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Federated, or left in place for `reason`.
    pub taken: bool,
    pub reason: String,
}

impl From<model::FederatePreview> for FederateReview {
    fn from(p: model::FederatePreview) -> Self {
        FederateReview {
            cluster: p.cluster,
            namespace: p.namespace,
            pod_security: p.pod_security,
            namespace_change: p.namespace_change,
            objects: p
                .objects
                .into_iter()
                .map(|o| FederateItem {
                    api_version: o.api_version,
                    kind: o.kind,
                    name: o.name,
                    taken: o.taken,
                    reason: o.reason,
                })
                .collect(),
            unreadable: p.unreadable,
        }
    }
}

// Requests.

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub name: String,
    #[serde(default)]
    pub selector: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub selector: String,
}

/// A resource of a project, as YAML (one Kubernetes object).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    pub yaml: String,
}

/// KubeFed `types.kubefed.io/v1beta1` documents or plain multi-document YAML, imported as a
/// new project of the workspace.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The project's name when the YAML names no namespace.
    #[serde(default)]
    pub name: String,
    pub yaml: String,
    /// Review only: say what would be made, make nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// YAML to import into a workspace itself (a workspace export, or any multi-namespace YAML):
/// a new project for each namespace it names, cluster-scoped objects to the workspace.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceImportRequest {
    pub yaml: String,
    /// Review only: say what would be made, make nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What importing into a workspace would make.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceImportReview {
    /// The workspace's own cluster-scoped objects.
    pub resources: Vec<ImportItem>,
    /// A new project per namespace (their `problems` are all in this review's).
    pub projects: Vec<ImportReview>,
    /// What has no equivalent in Flotilla; nothing is imported while there is any.
    pub problems: Vec<String>,
}

impl From<model::WorkspaceImportPreview> for WorkspaceImportReview {
    fn from(p: model::WorkspaceImportPreview) -> Self {
        WorkspaceImportReview {
            resources: p.resources.into_iter().map(ImportItem::from).collect(),
            projects: p.projects.into_iter().map(Into::into).collect(),
            problems: p.problems,
        }
    }
}

/// An export of a workspace, one of a tenant export's files.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportFile {
    /// `<workspace>.yaml` (`<workspace>-kubefed.yaml` in KubeFed's format).
    pub name: String,
    pub yaml: String,
    /// What the format could not hold, and that Secret values are never exported.
    pub notes: Vec<String>,
}

impl From<model::ExportView> for ExportFile {
    fn from(x: model::ExportView) -> Self {
        ExportFile { name: x.file_name, yaml: x.yaml, notes: x.notes }
    }
}

/// A namespace running in one of the workspace's clusters, to turn into a project of its name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FederateRequest {
    pub cluster_id: String,
    pub namespace: String,
    /// Only the objects this label selector matches (empty: all).
    #[serde(default)]
    pub selector: String,
    /// The new project's own selector, narrowing the workspace's clusters.
    #[serde(default)]
    pub project_selector: String,
    /// Review only: say what would be taken, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A cluster to register, from a kubeconfig context (used once, never stored).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCluster {
    /// The kubeconfig's text.
    pub kubeconfig: String,
    /// Its context to use.
    pub context: String,
    pub name: String,
    /// `key=value,…`
    #[serde(default)]
    pub labels: String,
    /// Create Flotilla's own least-privilege identity in the cluster with the context's
    /// (admin) credentials and keep only its token (the default); `false` keeps the context's
    /// own token.
    #[serde(default = "yes")]
    pub join: bool,
}

fn yes() -> bool {
    true
}

/// Deregistering a cluster: whether Flotilla first removes its objects from it, and whether
/// it then removes its own identity (unjoin) with an admin kubeconfig context.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeregisterRequest {
    /// Delete Flotilla's objects from the cluster first (the default); `false` leaves them
    /// in place, unmanaged.
    #[serde(default = "yes")]
    pub cleanup: bool,
    /// The version read: refused (409) if the cluster changed since. Without it, the cluster
    /// is deregistered as it is now.
    pub version: Option<i64>,
    /// Remove Flotilla's identity from the joined cluster once the engine is done with it.
    pub unjoin: Option<AdminContext>,
}

/// An admin kubeconfig context, used once and never stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminContext {
    /// The kubeconfig's text.
    pub kubeconfig: String,
    /// Its context (default: its current one).
    #[serde(default)]
    pub context: String,
}

/// A cluster deregistered, and what became of Flotilla's identity in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Deregistered {
    pub name: String,
    /// `none` (registered with its own token), `left` (still there: its token works until it
    /// is unjoined), `removed`, or `not_removed` (with `reason`: unjoin it again).
    pub identity: String,
    pub reason: Option<String>,
    /// The same, as a sentence.
    pub message: String,
}

impl From<model::Deregistered> for Deregistered {
    fn from(d: model::Deregistered) -> Self {
        let message = d.sentence();
        let (identity, reason) = match d.identity {
            model::IdentityFate::None => ("none", None),
            model::IdentityFate::Left => ("left", None),
            model::IdentityFate::Removed => ("removed", None),
            model::IdentityFate::NotRemoved(why) => ("not_removed", Some(why)),
        };
        Deregistered { name: d.name, identity: identity.to_owned(), reason, message }
    }
}

/// A joined cluster's grant update: an admin kubeconfig context (used once, never stored), and
/// the version read (refused with 409 if the cluster changed since).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub kubeconfig: String,
    #[serde(default)]
    pub context: String,
    pub version: Option<i64>,
}

/// What a joined cluster's grant gives Flotilla beyond the standard kinds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Granted {
    /// The cluster's name.
    pub name: String,
    /// Namespaced kinds, `group/plural`.
    pub namespaced: Vec<String>,
    /// Cluster-scoped kinds besides Namespaces.
    pub cluster: Vec<String>,
    /// Whether that is as much as cluster-admin (cluster RBAC, admission, CRDs).
    pub equals_cluster_admin: bool,
    /// All of that in one sentence, for a person.
    pub message: String,
}

impl From<model::Granted> for Granted {
    fn from(g: model::Granted) -> Self {
        let message = g.sentence();
        Granted {
            name: g.name,
            namespaced: g.namespaced,
            cluster: g.cluster,
            equals_cluster_admin: g.equals_cluster_admin,
            message,
        }
    }
}

/// A cluster unjoined: its API server.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unjoined {
    pub api_server: String,
}

/// For `retry` and `skip`: the cluster concerned.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutActionRequest {
    pub cluster_id: Option<String>,
}
