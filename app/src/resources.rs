//! One federated resource: its spec as an editor shows it, its status in every cluster, and
//! every change to it (edit, revert, delete) reviewed as a per-cluster diff before it is
//! applied. Server functions and types.

use std::collections::BTreeMap;

use flotilla_domain::Placement;
use flotilla_domain::review::{ClusterChange, DiffLine};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::live::StatusView;
use crate::projects::{ClusterRef, ResourceRow};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDetail {
    /// What the caller may do with it (the page hides the rest; the server refuses it anyway).
    pub level: flotilla_domain::Level,
    pub id: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub revision: i64,
    /// What an edit must name to be applied (optimistic concurrency).
    pub version: i64,
    pub workspace_id: String,
    pub workspace_name: String,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    /// The template as YAML; a Secret's without its values.
    pub yaml: String,
    /// A Secret's keys (its values never leave the server); `None` for other kinds.
    pub secret_keys: Option<Vec<String>>,
    pub placement: Placement,
    pub overrides: Vec<OverrideRow>,
    /// `delete` or `orphan`: what deleting it does by default.
    pub deletion_policy: String,
    /// The clusters of its workspace (and project), which placement chooses from.
    pub clusters: Vec<ClusterRef>,
    /// Their labels, in `clusters` order, for the placement preview.
    pub cluster_labels: Vec<BTreeMap<String, String>>,
    pub statuses: Vec<StatusView>,
    /// Why it cannot be edited or deleted here, if so.
    pub locked: Option<String>,
}

/// One patch of a per-cluster override, as the editor's row holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRow {
    pub cluster: String,
    /// `add`, `replace` or `remove`.
    pub op: String,
    /// A JSON pointer into the object (`/spec/replicas`, `/data/LOG_LEVEL`).
    pub path: String,
    /// Typed like what it overrides (see `flotilla_domain::overrides::value_from_text`).
    pub value: String,
}

/// An edit as the editor sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceEdit {
    pub yaml: String,
    pub placement: Placement,
    pub overrides: Vec<OverrideRow>,
    /// Secrets: values to set (plain text), by key. Keys not named keep their values.
    #[serde(default)]
    pub secret_set: BTreeMap<String, String>,
    /// Secrets: keys to remove.
    #[serde(default)]
    pub secret_remove: Vec<String>,
}

/// What a change will do, cluster by cluster (identical changes grouped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub changes: Vec<ClusterChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionView {
    pub revision: i64,
    pub author: String,
    pub message: String,
    /// UTC, to the second.
    pub at: String,
}

/// A resource with its spec, clusters and statuses.
#[server(endpoint = "resources/detail")]
pub async fn get_resource_detail(id: String) -> Result<ResourceDetail, AppError> {
    crate::error::with_status(ssr::detail(id).await)
}

/// What `edit` would change in each cluster. Nothing is saved.
#[server(endpoint = "resources/review-edit", input = Json)]
pub async fn review_edit(id: String, edit: ResourceEdit) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_edit(id, edit).await)
}

/// Saves `edit` as a new revision, if the resource is still at `version`. Returns the
/// new revision.
#[server(endpoint = "resources/apply-edit", input = Json)]
pub async fn apply_edit(id: String, version: i64, edit: ResourceEdit) -> Result<i64, AppError> {
    crate::error::with_status(ssr::apply_edit(id, version, edit).await)
}

/// The revisions of a resource, newest first.
#[server(endpoint = "resources/history")]
pub async fn get_history(id: String) -> Result<Vec<RevisionView>, AppError> {
    crate::error::with_status(ssr::history(id).await)
}

/// How revision `to` differs from revision `from` (template, placement and overrides; a
/// Secret's values only as changed or not).
#[server(endpoint = "resources/compare")]
pub async fn compare_revisions(id: String, from: i64, to: i64) -> Result<Vec<DiffLine>, AppError> {
    crate::error::with_status(ssr::compare(id, from, to).await)
}

/// What reverting to `revision` would change in each cluster.
#[server(endpoint = "resources/review-revert")]
pub async fn review_revert(id: String, revision: i64) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_revert(id, revision).await)
}

/// Makes a new revision equal to `revision`, if the resource is still at `version`.
#[server(endpoint = "resources/revert")]
pub async fn revert_resource(id: String, version: i64, revision: i64) -> Result<i64, AppError> {
    crate::error::with_status(ssr::revert(id, version, revision).await)
}

/// What deleting the resource would change in each cluster (`orphan`: nothing there).
#[server(endpoint = "resources/review-delete")]
pub async fn review_delete(id: String, orphan: bool) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_delete(id, orphan).await)
}

/// Deletes the resource, if it is still at `version`: from every cluster, or (`orphan`)
/// leaving the objects there, no longer managed. Returns where to go next.
#[server(endpoint = "resources/delete")]
pub async fn delete_resource(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
    crate::error::with_status(ssr::delete(id, version, orphan).await)
}

/// What adding the object in `yaml` would do in each cluster of the workspace (with
/// `project_id`: of the project). Nothing is saved.
#[server(endpoint = "resources/review-new")]
pub async fn review_new(workspace_id: String, project_id: Option<String>, yaml: String) -> Result<Review, AppError> {
    crate::error::with_status(ssr::review_new(workspace_id, project_id, yaml).await)
}

/// Adds a cluster-scoped object (Namespace, ClusterRole, CRD, …), written as YAML, to a
/// workspace: to every cluster it selects.
#[server(endpoint = "workspaces/add-resource")]
pub async fn add_workspace_resource(workspace_id: String, yaml: String) -> Result<ResourceRow, AppError> {
    crate::error::with_status(ssr::add_workspace_resource(workspace_id, yaml).await)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use flotilla_domain::overrides::{value_from_text, value_to_text};
    use flotilla_domain::review::{Desired, Member, diff_lines, review, to_yaml};
    use flotilla_domain::{
        ClusterOverride, ClusterSummary, LabelSelector, OverrideOp, OverridePatch, ResolvedPlacement, Scope,
    };
    use flotilla_store::{DeletionPolicy, ResourceRecord, ResourceSpec, Store, StoredRevision};
    use serde_json::{Value, json};

    use super::*;
    use flotilla_domain::Level;

    use crate::auth::ssr::{Caller, actor, require_caller};
    use crate::state::app_state;
    use crate::workspaces::ssr::matching;

    /// The scope a resource lives in: its workspace and project, and their clusters now.
    pub(crate) struct Home {
        /// What the caller may do here.
        pub level: Level,
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
            workspace_id: workspace.id,
            workspace_name: workspace.name,
            project: project.map(|p| (p.id, p.name)),
            clusters,
        })
    }

    impl Home {
        fn namespace(&self) -> Option<&str> {
            self.project.as_ref().map(|(_, name)| name.as_str())
        }

        /// The change from `before` to `after` in each of the home's clusters.
        pub(crate) fn review(&self, before: Option<&Shown>, after: Option<&Shown>) -> Result<Review, AppError> {
            let everything = LabelSelector::everything();
            // The clusters are the scope's already.
            let scope = Scope { workspace: &everything, project: None };
            let members: Vec<Member<'_>> =
                self.clusters.iter().map(|c| Member { name: &c.name, labels: &c.labels }).collect();
            let changes =
                review(before.map(Shown::desired), after.map(Shown::desired), scope, self.namespace(), &members)?;
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
            let mut template = spec.template.clone();
            if let (Some(values), Some(obj)) = (values, template.as_object_mut()) {
                obj.remove("stringData");
                obj.insert("data".into(), masked(values, before));
            }
            Ok(Self { template, placement: spec.placement.resolve()?, overrides: spec.overrides.clone() })
        }

        fn desired(&self) -> Desired<'_> {
            Desired { template: &self.template, placement: &self.placement, overrides: &self.overrides }
        }
    }

    /// A Secret's values as a review shows them: never the value, only (given the values
    /// `before` a change) whether it changed.
    fn masked(values: &BTreeMap<String, String>, before: Option<&BTreeMap<String, String>>) -> Value {
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

    pub(crate) fn rows_of(overrides: &[ClusterOverride]) -> Vec<OverrideRow> {
        overrides
            .iter()
            .flat_map(|o| {
                o.patches.iter().map(|p| OverrideRow {
                    cluster: o.cluster.clone(),
                    op: match p.op {
                        OverrideOp::Add => "add",
                        OverrideOp::Replace => "replace",
                        OverrideOp::Remove => "remove",
                    }
                    .into(),
                    path: p.path.clone(),
                    value: p.value.as_ref().map(value_to_text).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Editor rows as overrides, grouped by cluster in the order clusters first appear.
    pub(crate) fn overrides_of(template: &Value, rows: &[OverrideRow]) -> Result<Vec<ClusterOverride>, AppError> {
        let mut out: Vec<ClusterOverride> = Vec::new();
        for (n, row) in rows.iter().enumerate().map(|(n, r)| (n + 1, r)) {
            let invalid = |message: String| AppError::Invalid { field: "overrides".into(), message };
            let cluster = row.cluster.trim();
            if cluster.is_empty() {
                return Err(invalid(format!("row {n}: choose a cluster")));
            }
            let path = row.path.trim();
            if !path.starts_with('/') {
                return Err(invalid(format!("row {n}: the path is a JSON pointer such as /spec/replicas")));
            }
            let patch = match row.op.as_str() {
                "remove" => OverridePatch::remove(path),
                "add" => OverridePatch::add(path, value_from_text(template, path, &row.value)),
                "replace" | "" => OverridePatch::replace(path, value_from_text(template, path, &row.value)),
                other => return Err(invalid(format!("row {n}: `{other}` is not add, replace or remove"))),
            };
            match out.iter_mut().find(|o| o.cluster == cluster) {
                Some(o) => o.patches.push(patch),
                None => out.push(ClusterOverride { cluster: cluster.to_owned(), patches: vec![patch] }),
            }
        }
        Ok(out)
    }

    /// The editor's YAML errors belong to the editor; the store names the template.
    pub(crate) fn yaml_field(e: AppError) -> AppError {
        match e {
            AppError::Invalid { field, message } if field == "template" => {
                AppError::Invalid { field: "yaml".into(), message }
            }
            other => other,
        }
    }

    /// Why a resource is not changed directly, if it is not: Flotilla keeps it.
    fn locked(record: &ResourceRecord) -> Option<String> {
        record.project_id.as_ref()?;
        if record.kind == "Namespace" {
            return Some("This is the project's own namespace: it comes and goes with the project.".to_owned());
        }
        flotilla_domain::access::is_access_binding(&record.kind, &record.name).then(|| {
            "This binding gives the project's groups their access: it follows the tenant's group rules; \
             change those instead."
                .to_owned()
        })
    }

    /// The resource `id` as it stands, and its home, if the caller's role allows `need`.
    async fn current(user: &Caller, id: &str, need: Level) -> Result<(Store, StoredRevision, Home), AppError> {
        let store = app_state()?.store;
        let stored = store.resource_revision(&user.tenant_id, id, None).await?;
        if stored.record.deleted {
            return Err(AppError::NotFound);
        }
        let home =
            home_of(&store, user, &stored.record.workspace_id, stored.record.project_id.as_deref(), need).await?;
        Ok((store, stored, home))
    }

    /// The resource `id` (also a deleted one), if the caller's role where it lives allows `need`.
    async fn record_for(user: &Caller, id: &str, need: Level) -> Result<(Store, ResourceRecord), AppError> {
        let store = app_state()?.store;
        let record = store.get_resource(&user.tenant_id, id).await?;
        user.require_level(&record.workspace_id, record.project_id.as_deref(), need)?;
        Ok((store, record))
    }

    pub async fn detail(id: String) -> Result<ResourceDetail, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::View).await?;
        let statuses = store
            .resource_statuses(&user.tenant_id, &id)
            .await?
            .into_iter()
            .map(|s| StatusView {
                resource_id: s.resource_id,
                cluster_id: s.cluster_id,
                code: s.code.as_str().to_owned(),
                message: s.message,
                applied_revision: s.applied_revision,
                health: s.health.map(|h| h.to_string()),
            })
            .collect();
        let StoredRevision { record, revision, spec, secret_values } = stored;
        Ok(ResourceDetail {
            level: home.level,
            locked: locked(&record),
            id: record.id,
            api_version: record.api_version,
            kind: record.kind,
            name: record.name,
            revision,
            version: record.version,
            workspace_id: home.workspace_id,
            workspace_name: home.workspace_name,
            project_id: home.project.as_ref().map(|p| p.0.clone()),
            project_name: home.project.map(|p| p.1),
            yaml: to_yaml(&spec.template)?,
            secret_keys: secret_values.map(|v| v.into_keys().collect()),
            placement: spec.placement,
            overrides: rows_of(&spec.overrides),
            deletion_policy: spec.deletion_policy.as_str().to_owned(),
            cluster_labels: home.clusters.iter().map(|c| c.labels.clone()).collect(),
            clusters: home.clusters.iter().map(crate::projects::ssr::cluster_ref).collect(),
            statuses,
        })
    }

    /// The spec and Secret values `edit` asks for, on top of the current revision.
    fn edited(
        stored: &StoredRevision,
        home: &Home,
        edit: &ResourceEdit,
    ) -> Result<(ResourceSpec, Option<BTreeMap<String, String>>), AppError> {
        if let Some(why) = locked(&stored.record) {
            return Err(AppError::Invalid { field: "yaml".into(), message: why });
        }
        let mut template = flotilla_domain::parse_manifest(&edit.yaml)?;
        let values = if stored.record.kind == "Secret" {
            if template.get("data").is_some() || template.get("stringData").is_some() {
                return Err(AppError::Invalid {
                    field: "yaml".into(),
                    message: "a Secret's values are set under Values, not in the YAML".into(),
                });
            }
            let mut values = stored.secret_values.clone().unwrap_or_default();
            for key in &edit.secret_remove {
                values.remove(key);
            }
            for (key, plain) in &edit.secret_set {
                use base64::Engine as _;
                values.insert(key.clone(), base64::engine::general_purpose::STANDARD.encode(plain));
            }
            Some(values)
        } else {
            None
        };
        if let (Some(values), Some(obj)) = (&values, template.as_object_mut()) {
            obj.insert("data".into(), json!(values));
        }
        let overrides = overrides_of(&template, &edit.overrides)?;
        let spec = ResourceSpec {
            template,
            placement: edit.placement.clone(),
            overrides,
            deletion_policy: stored.spec.deletion_policy,
            adopt_existing: stored.spec.adopt_existing,
        };
        // The store's own checks (same object, namespace, placement, overrides that
        // apply), so a review never shows what could not be saved.
        flotilla_store::check_update(&stored.record, &spec, home.namespace())?;
        Ok((spec, values))
    }

    pub async fn review_edit(id: String, edit: ResourceEdit) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (_, stored, home) = current(&user, &id, Level::Edit).await?;
        let (spec, values) = edited(&stored, &home, &edit).map_err(yaml_field)?;
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        let after = Shown::new(&spec, values.as_ref(), stored.secret_values.as_ref())?;
        home.review(Some(&before), Some(&after))
    }

    pub async fn apply_edit(id: String, version: i64, edit: ResourceEdit) -> Result<i64, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        let (spec, _) = edited(&stored, &home, &edit).map_err(yaml_field)?;
        store
            .update_resource(&user.tenant_id, &actor(&user), &id, version, &spec)
            .await
            .map_err(|e| yaml_field(e.into()))
    }

    /// A new resource's spec from YAML, checked as creating it would be.
    fn new_spec(home: &Home, yaml: &str) -> Result<ResourceSpec, AppError> {
        let spec = ResourceSpec::new(flotilla_domain::parse_manifest(yaml)?);
        flotilla_store::check_new(&spec, home.namespace()).map_err(|e| editor_field(e.into()))?;
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
    fn secret_keys_of(template: &Value) -> Option<BTreeMap<String, String>> {
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

    pub async fn review_new(
        workspace_id: String,
        project_id: Option<String>,
        yaml: String,
    ) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let project_id = project_id.as_deref().filter(|p| !p.is_empty());
        let home = home_of(&store, &user, &workspace_id, project_id, Level::Edit).await?;
        let spec = new_spec(&home, &yaml)?;
        let keys = secret_keys_of(&spec.template);
        home.review(None, Some(&Shown::new(&spec, keys.as_ref(), None)?))
    }

    pub async fn add_new(
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
            .create_resource(&user.tenant_id, &actor(user), at, &spec)
            .await
            .map_err(|e| editor_field(e.into()))?;
        let record = store.get_resource(&user.tenant_id, &id).await?;
        Ok(ResourceRow { id, kind: record.kind, name: record.name, revision: record.revision })
    }

    pub async fn add_workspace_resource(workspace_id: String, yaml: String) -> Result<ResourceRow, AppError> {
        let user = require_caller().await?;
        add_new(&user, workspace_id, None, yaml).await
    }

    pub async fn history(id: String) -> Result<Vec<RevisionView>, AppError> {
        let user = require_caller().await?;
        let (store, _) = record_for(&user, &id, Level::View).await?;
        Ok(store
            .list_revisions(&user.tenant_id, &id)
            .await?
            .into_iter()
            .map(|r| RevisionView {
                revision: r.revision,
                author: r.author_name,
                message: r.message,
                at: crate::time::utc(r.created_at),
            })
            .collect())
    }

    /// A revision as YAML, for comparing two: the object as `kubectl` would show it, then
    /// its placement and overrides.
    fn document(stored: &StoredRevision, before: Option<&BTreeMap<String, String>>) -> Result<String, AppError> {
        let mut template = stored.spec.template.clone();
        if let (Some(values), Some(obj)) = (&stored.secret_values, template.as_object_mut()) {
            obj.insert("data".into(), masked(values, before));
        }
        let rest = json!({ "placement": stored.spec.placement, "overrides": stored.spec.overrides });
        Ok(format!("{}---\n{}", to_yaml(&template)?, to_yaml(&rest)?))
    }

    pub async fn compare(id: String, from: i64, to: i64) -> Result<Vec<DiffLine>, AppError> {
        let user = require_caller().await?;
        let (store, _) = record_for(&user, &id, Level::View).await?;
        let a = store.resource_revision(&user.tenant_id, &id, Some(from)).await?;
        let b = store.resource_revision(&user.tenant_id, &id, Some(to)).await?;
        let (old, new) = (document(&a, None)?, document(&b, a.secret_values.as_ref())?);
        Ok(diff_lines(&old, &new))
    }

    pub async fn review_revert(id: String, revision: i64) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        let target = store.resource_revision(&user.tenant_id, &id, Some(revision)).await?;
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        let after = Shown::new(&target.spec, target.secret_values.as_ref(), stored.secret_values.as_ref())?;
        home.review(Some(&before), Some(&after))
    }

    pub async fn revert(id: String, version: i64, revision: i64) -> Result<i64, AppError> {
        let user = require_caller().await?;
        let (store, record) = record_for(&user, &id, Level::Edit).await?;
        if let Some(why) = locked(&record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        Ok(store.revert_resource(&user.tenant_id, &actor(&user), &id, version, revision).await?)
    }

    pub async fn review_delete(id: String, orphan: bool) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (_, stored, home) = current(&user, &id, Level::Edit).await?;
        if let Some(why) = locked(&stored.record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        if orphan {
            // The objects stay as they are.
            return home.review(Some(&before), Some(&before));
        }
        home.review(Some(&before), None)
    }

    pub async fn delete(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
        let user = require_caller().await?;
        let (store, record) = record_for(&user, &id, Level::Edit).await?;
        if let Some(why) = locked(&record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        let policy = if orphan { DeletionPolicy::Orphan } else { DeletionPolicy::Delete };
        store.delete_resource(&user.tenant_id, &actor(&user), &id, version, policy).await?;
        Ok(match record.project_id {
            Some(project) => format!("/projects/{project}"),
            None => format!("/workspaces/{}", record.workspace_id),
        })
    }
}
