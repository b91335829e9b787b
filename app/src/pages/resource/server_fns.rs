//! The resource page's server functions: the resource with its status in every cluster,
//! and every change to it (edit, revert, delete), each reviewed as a per-cluster diff first.

use flotilla_domain::review::DiffLine;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::model::{ResourceDetail, ResourceEdit, Review, RevisionView};

/// Lets the resource take over the objects of its name that exist in its clusters without
/// having been created by Flotilla (those answering `AlreadyExists`), if it is still at
/// `version`. An admin of its workspace or project may; a new revision, audited.
#[server(endpoint = "resources/adopt")]
pub async fn adopt_existing(id: String, version: i64) -> Result<i64, AppError> {
    crate::error::with_status(ssr::adopt(id, version).await)
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

/// Saves the edit as a new revision that moves across the resource's clusters wave by wave
/// (the rollout's `strategy`) instead of everywhere at once. Returns the rollout's id.
#[server(endpoint = "resources/roll-out", input = Json)]
pub async fn roll_out_edit(
    id: String,
    version: i64,
    edit: ResourceEdit,
    strategy: flotilla_domain::rollout::Strategy,
) -> Result<String, AppError> {
    crate::error::with_status(ssr::roll_out_edit(id, version, edit, strategy).await)
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

/// The resource's statuses now, the engine's latest included, and its clusters' health (the
/// live page reads them once its stream opens: what changed while it loaded was on neither).
#[server(endpoint = "resources/statuses")]
pub async fn get_resource_statuses(id: String) -> Result<crate::model::StatusesNow, AppError> {
    crate::error::with_status(ssr::statuses(id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::BTreeMap;

    use flotilla_domain::overrides::{value_from_text, value_to_text};
    use flotilla_domain::review::{DiffLine, diff_lines, to_yaml};
    use flotilla_domain::{ClusterOverride, Level, OverrideOp, OverridePatch};
    use flotilla_store::{DeletionPolicy, ResourceRecord, ResourceSpec, Store, StoredRevision};
    use serde_json::{Value, json};

    use crate::AppError;
    use crate::backend::{Caller, Home, Shown, actor, app_state, cluster_ref, home_of, masked, require_caller};
    use crate::model::{OverrideRow, ResourceDetail, ResourceEdit, Review, RevisionView, StatusView};

    /// The editor's rows: the overrides by cluster name. Those by selector (an app install's
    /// per-cluster values) are the install's, kept as they are by an edit.
    fn rows_of(overrides: &[ClusterOverride]) -> Vec<OverrideRow> {
        overrides
            .iter()
            .filter(|o| o.selector.is_none())
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
    fn overrides_of(template: &Value, rows: &[OverrideRow]) -> Result<Vec<ClusterOverride>, AppError> {
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
                None => out.push(ClusterOverride { cluster: cluster.to_owned(), selector: None, patches: vec![patch] }),
            }
        }
        Ok(out)
    }

    /// The editor's YAML errors belong to the editor; the store names the template.
    fn yaml_field(e: AppError) -> AppError {
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
        if flotilla_domain::join::is_hub_grant(&record.kind, &record.name) {
            return Some(
                "This binding opens the project's namespace to Flotilla's own identity in joined clusters: \
                 it comes and goes with them."
                    .to_owned(),
            );
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

    pub async fn statuses(id: String) -> Result<crate::model::StatusesNow, AppError> {
        let user = require_caller().await?;
        let (store, _, home) = current(&user, &id, Level::View).await?;
        // Statuses reach the store in batches after the live stream has them: flushed first,
        // the read holds everything the stream said before this call.
        app_state()?.engine.flush().await;
        let statuses = store.resource_statuses(&user.tenant_id, &id).await?.iter().map(StatusView::from).collect();
        Ok(crate::model::StatusesNow { statuses, clusters: home.clusters.iter().map(cluster_ref).collect() })
    }

    pub async fn detail(id: String) -> Result<ResourceDetail, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::View).await?;
        let statuses = store.resource_statuses(&user.tenant_id, &id).await?.iter().map(StatusView::from).collect();
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
            clusters: home.clusters.iter().map(cluster_ref).collect(),
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
        let mut overrides: Vec<ClusterOverride> =
            stored.spec.overrides.iter().filter(|o| o.selector.is_some()).cloned().collect();
        overrides.extend(overrides_of(&template, &edit.overrides)?);
        let spec = ResourceSpec {
            template,
            placement: edit.placement.clone(),
            overrides,
            deletion_policy: stored.spec.deletion_policy,
            adopt_existing: stored.spec.adopt_existing,
        };
        // The store's own checks (same object, namespace, placement, overrides that
        // apply), so a review never shows what could not be saved.
        flotilla_store::check_update(&stored.record, &stored.spec.template, &spec, home.scope(), home.clearance()?)?;
        Ok((spec, values))
    }

    pub async fn adopt(id: String, version: i64) -> Result<i64, AppError> {
        let user = require_caller().await?;
        // Taking over an object someone else made in the cluster is more than an edit.
        let (store, stored, home) = current(&user, &id, Level::Admin).await?;
        if let Some(why) = locked(&stored.record) {
            return Err(AppError::Invalid { field: "adopt".into(), message: why });
        }
        let spec = ResourceSpec { adopt_existing: true, ..stored.spec };
        Ok(store.update_resource(&user.tenant_id, &actor(&user), home.clearance()?, &id, version, &spec).await?)
    }

    pub async fn review_edit(id: String, edit: ResourceEdit) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (_, stored, home) = current(&user, &id, Level::Edit).await?;
        let (spec, values) = edited(&stored, &home, &edit).map_err(yaml_field)?;
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        let set = edit.secret_set.keys().cloned().collect();
        let after = Shown::edited(&spec, values.as_ref(), stored.secret_values.as_ref(), &set)?;
        home.review(Some(&before), Some(&after))
    }

    pub async fn apply_edit(id: String, version: i64, edit: ResourceEdit) -> Result<i64, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        let (spec, _) = edited(&stored, &home, &edit).map_err(yaml_field)?;
        store
            .update_resource(&user.tenant_id, &actor(&user), home.clearance()?, &id, version, &spec)
            .await
            .map_err(|e| yaml_field(e.into()))
    }

    pub async fn roll_out_edit(
        id: String,
        version: i64,
        edit: ResourceEdit,
        strategy: flotilla_domain::rollout::Strategy,
    ) -> Result<String, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        let (spec, _) = edited(&stored, &home, &edit).map_err(yaml_field)?;
        store
            .start_resource_rollout(&user.tenant_id, &actor(&user), home.clearance()?, &id, version, &spec, &strategy)
            .await
            .map_err(|e| yaml_field(e.into()))
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
        // What it is now and what it would return to must both be the caller's to write.
        let clearance = home.clearance()?;
        flotilla_store::check_removal(&stored.spec.template, home.scope(), clearance)?;
        flotilla_store::check_new(&target.spec, home.scope(), clearance)?;
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        let after = Shown::new(&target.spec, target.secret_values.as_ref(), stored.secret_values.as_ref())?;
        home.review(Some(&before), Some(&after))
    }

    pub async fn revert(id: String, version: i64, revision: i64) -> Result<i64, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        if let Some(why) = locked(&stored.record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        Ok(store.revert_resource(&user.tenant_id, &actor(&user), home.clearance()?, &id, version, revision).await?)
    }

    pub async fn review_delete(id: String, orphan: bool) -> Result<Review, AppError> {
        let user = require_caller().await?;
        let (_, stored, home) = current(&user, &id, Level::Edit).await?;
        if let Some(why) = locked(&stored.record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        // Deleting (or orphaning: no longer managed) takes the clearance its content needs.
        flotilla_store::check_removal(&stored.spec.template, home.scope(), home.clearance()?)?;
        let before = Shown::new(&stored.spec, stored.secret_values.as_ref(), None)?;
        if orphan {
            // The objects stay as they are.
            return home.review(Some(&before), Some(&before));
        }
        home.review(Some(&before), None)
    }

    pub async fn delete(id: String, version: i64, orphan: bool) -> Result<String, AppError> {
        let user = require_caller().await?;
        let (store, stored, home) = current(&user, &id, Level::Edit).await?;
        let record = stored.record;
        if let Some(why) = locked(&record) {
            return Err(AppError::Invalid { field: "resource".into(), message: why });
        }
        let policy = if orphan { DeletionPolicy::Orphan } else { DeletionPolicy::Delete };
        store.delete_resource(&user.tenant_id, &actor(&user), home.clearance()?, &id, version, policy).await?;
        Ok(match record.project_id {
            Some(project) => format!("/projects/{project}"),
            None => format!("/workspaces/{}", record.workspace_id),
        })
    }
}
