//! Rollouts: a change moving across the fleet wave by wave (see `flotilla_domain::rollout`
//! for the plan and the decisions, and the migration `0005_rollouts.sql` for the tables).
//!
//! Starting one saves the new revisions, holds every resource of the change at its stable
//! revision, plans the waves and records every cluster's step, all in one transaction: the
//! engine then renders the new revision only for clusters whose step is released. The driver
//! (in the engine) reads [`DriverView`]s and records each decision with
//! [`Store::record_decision`], one transaction per decision with its timeline events; a
//! person's actions go through [`Store::rollout_action`]. A hub that stops at any moment
//! finds the rollout exactly where its last transaction left it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use flotilla_domain::placement::Reach;
use flotilla_domain::policy::Clearance;
use flotilla_domain::rollout::{self, Decision, Observed, PlanCluster, RolloutState, Step, StepState, Strategy};
use flotilla_domain::{Placement, StatusCode};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::apps::{catalog_version_in, install_in, render_for};
use crate::changes::{Actor, Change};
use crate::resources::{Author, ResourceSpec, project_scope_row, resource_row};
use crate::workspaces::audit;
use crate::{Error, Result, Store, new_id, now_ms};

/// A rollout as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutRecord {
    pub id: String,
    pub title: String,
    pub app_name: Option<String>,
    pub strategy: Strategy,
    pub rollback_safe: bool,
    pub state: RolloutState,
    pub current_wave: u32,
    pub message: String,
    pub created_by_name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub version: i64,
}

/// One cluster's step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutCluster {
    pub cluster_id: String,
    pub cluster_name: String,
    pub wave: u32,
    pub state: StepState,
    pub message: String,
    /// When it entered `state` (ms since the epoch).
    pub since: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutEvent {
    pub seq: i64,
    pub at: i64,
    pub cluster_name: Option<String>,
    pub state: String,
    pub message: String,
    /// A person's action; `None` for the driver.
    pub actor_name: Option<String>,
}

/// A resource the rollout moves: `None` from = new in it; `None` to = removed by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutResource {
    pub resource_id: String,
    /// Its home, which decides who may see and act on the rollout.
    pub workspace_id: String,
    pub project_id: Option<String>,
    /// `Kind name`, for messages.
    pub name: String,
    pub from_revision: Option<i64>,
    pub to_revision: Option<i64>,
}

/// Everything about one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutDetail {
    pub record: RolloutRecord,
    pub clusters: Vec<RolloutCluster>,
    pub resources: Vec<RolloutResource>,
    pub events: Vec<RolloutEvent>,
}

impl RolloutDetail {
    /// The steps as the decision reads them.
    pub fn steps(&self) -> Vec<Step> {
        self.clusters
            .iter()
            .map(|c| Step {
                cluster_id: c.cluster_id.clone(),
                cluster_name: c.cluster_name.clone(),
                wave: c.wave,
                state: c.state,
                since_ms: c.since,
                message: c.message.clone(),
            })
            .collect()
    }
}

/// What a person may do to a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "cluster_id")]
pub enum RolloutAction {
    Pause,
    Resume,
    Approve,
    /// Roll every updated cluster back (in waves) and return the change to where it was.
    Abort,
    /// Try a failed or rolled-back cluster again on the new revision.
    Retry(String),
    /// Leave a waiting, failed or rolled-back cluster out of the health gate (it gets the new
    /// revision when the rollout ends).
    Skip(String),
}

impl RolloutAction {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Approve => "approve",
            Self::Abort => "abort",
            Self::Retry(_) => "retry",
            Self::Skip(_) => "skip",
        }
    }
}

/// An app upgrade to start: the installs (each with its starter's clearance in its home), the
/// version they move to, and how.
#[derive(Debug, Clone, Copy)]
pub struct AppUpgrade<'a> {
    pub installs: &'a [(&'a str, Clearance)],
    pub to_version_id: &'a str,
    pub strategy: &'a Strategy,
}

/// A status as the health gate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateStatus {
    pub code: StatusCode,
    pub message: String,
    pub applied_revision: Option<i64>,
    /// `Healthy`, `Progressing`, `Degraded` for workloads.
    pub health: Option<String>,
    pub ready: Option<i64>,
    pub updated: Option<i64>,
    pub desired: Option<i64>,
}

/// What the driver needs for one decision: the rollout, which of its resources each cluster
/// the change places on holds, and their statuses.
#[derive(Debug, Clone)]
pub struct DriverView {
    pub detail: RolloutDetail,
    /// Cluster id → (name, the rollout's resources placed there).
    pub placed: BTreeMap<String, (String, Vec<String>)>,
    pub statuses: HashMap<(String, String), GateStatus>,
}

impl DriverView {
    /// What cluster `step` shows for the change, at the revision its step expects.
    pub fn observe(&self, step: &Step) -> Observed {
        let Some((_, placed)) = self.placed.get(&step.cluster_id) else {
            return Observed::Healthy; // no longer selected: nothing to wait for
        };
        let released = step.state.released();
        let mut waiting = Vec::new();
        for resource_id in placed {
            let Some(r) = self.detail.resources.iter().find(|r| &r.resource_id == resource_id) else { continue };
            let Some(expected) = (if released { r.to_revision } else { r.from_revision }) else { continue };
            let Some(s) = self.statuses.get(&(resource_id.clone(), step.cluster_id.clone())) else {
                waiting.push(format!("{}: not written yet", r.name));
                continue;
            };
            if s.code.is_failure() {
                return Observed::Degraded(format!("{}: {}: {}", r.name, s.code.as_str(), s.message));
            }
            if s.code != StatusCode::Synced {
                waiting.push(format!(
                    "{}: {}",
                    r.name,
                    if s.message.is_empty() { s.code.as_str() } else { &s.message }
                ));
                continue;
            }
            if s.applied_revision != Some(expected) {
                waiting.push(format!("{}: waiting for revision {expected} to be written", r.name));
                continue;
            }
            let counts = match (s.updated, s.ready, s.desired) {
                (Some(u), Some(r), Some(d)) => format!("{u}/{d} updated, {r}/{d} ready"),
                _ => String::new(),
            };
            match s.health.as_deref() {
                Some("Degraded") => return Observed::Degraded(format!("{}: degraded ({counts})", r.name)),
                Some("Progressing") => waiting.push(format!("{}: progressing ({counts})", r.name)),
                _ => {}
            }
        }
        if waiting.is_empty() { Observed::Healthy } else { Observed::Progressing(waiting.join("; ")) }
    }
}

type RolloutRow = (
    String,
    String,
    Option<String>,
    String,
    crate::flag::Flag,
    String,
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
);

const ROLLOUT_SQL: &str = "SELECT id, title, app_name, strategy, CAST(rollback_safe AS INTEGER) AS rollback_safe, state, current_wave, message, \
     created_by_name, created_at, updated_at, finished_at, version FROM rollouts";

fn rollout_record(row: RolloutRow) -> Result<RolloutRecord> {
    let (id, title, app_name, strategy, rollback_safe, state, wave, message, by, created, updated, finished, version) =
        row;
    let strategy =
        serde_json::from_str(&strategy).map_err(|e| Error::Corrupt(format!("rollout {id} strategy: {e}")))?;
    let state = RolloutState::parse(&state).ok_or_else(|| Error::Corrupt(format!("rollout {id} state {state}")))?;
    Ok(RolloutRecord {
        id,
        title,
        app_name,
        strategy,
        rollback_safe: rollback_safe.0,
        state,
        current_wave: u32::try_from(wave).unwrap_or(0),
        message,
        created_by_name: by,
        created_at: created,
        updated_at: updated,
        finished_at: finished,
        version,
    })
}

fn invalid(field: &'static str, reason: String) -> Error {
    flotilla_domain::Error::invalid(field, reason).into()
}

/// Cluster id → (name, labels, the resources placed there).
type Placed = BTreeMap<String, (String, BTreeMap<String, String>, Vec<String>)>;

/// The clusters each of `resource_ids` is placed on now (live clusters of the tenant only).
async fn placed_clusters(conn: &mut AnyConnection, tenant_id: &str, resource_ids: &[String]) -> Result<Placed> {
    let clusters: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, name, labels FROM clusters WHERE tenant_id = $1 AND deregistering IS NULL ORDER BY name",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let clusters: Vec<(String, String, BTreeMap<String, String>)> = clusters
        .into_iter()
        .map(|(id, name, labels)| {
            let labels = serde_json::from_str(&labels).map_err(|e| Error::Corrupt(format!("labels of {name}: {e}")))?;
            Ok((id, name, labels))
        })
        .collect::<Result<_>>()?;
    let mut placed: Placed = BTreeMap::new();
    for resource_id in resource_ids {
        let row: Option<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT w.selector, p.selector, v.placement FROM federated_resources r \
             JOIN workspaces w ON w.id = r.workspace_id LEFT JOIN projects p ON p.id = r.project_id \
             JOIN resource_revisions v ON v.resource_id = r.id AND v.revision = r.current_revision \
             WHERE r.tenant_id = $1 AND r.id = $2",
        )
        .bind(tenant_id)
        .bind(resource_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((workspace, project, placement)) = row else { continue };
        let Ok(reach) = Reach::parse(&workspace, project.as_deref()) else { continue };
        let placement: Placement =
            serde_json::from_str(&placement).map_err(|e| Error::Corrupt(format!("placement of {resource_id}: {e}")))?;
        let Ok(placement) = placement.resolve() else { continue };
        for (id, name, labels) in &clusters {
            if reach.scope().places(&placement, name, labels) {
                let entry = placed.entry(id.clone()).or_insert_with(|| (name.clone(), labels.clone(), Vec::new()));
                entry.2.push(resource_id.clone());
            }
        }
    }
    Ok(placed)
}

/// Appends a timeline event.
async fn event(
    conn: &mut AnyConnection,
    tenant_id: &str,
    rollout_id: &str,
    cluster_name: Option<&str>,
    state: &str,
    message: &str,
    actor_name: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rollout_events (tenant_id, rollout_id, seq, at, cluster_name, state, message, actor_name) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rollout_events WHERE rollout_id = $2), $3, $4, $5, $6, $7)",
    )
    .bind(tenant_id)
    .bind(rollout_id)
    .bind(now_ms())
    .bind(cluster_name)
    .bind(state)
    .bind(message)
    .bind(actor_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// The resources of rollout `id`, for publishing after a commit.
async fn resource_ids_of(conn: &mut AnyConnection, id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT resource_id FROM rollout_resources WHERE rollout_id = $1 ORDER BY resource_id")
        .bind(id)
        .fetch_all(conn)
        .await?)
}

/// Tells the engine that which clusters hold which revision changed: the resources' versions
/// move (so the engine's catch-up sees it too).
async fn touch_resources(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE federated_resources SET version = version + 1 \
         WHERE id IN (SELECT resource_id FROM rollout_resources WHERE rollout_id = $1)",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Starts an app upgrade: every install moves to `to_version_id` (rendered with its own
    /// values), with every new revision held until its cluster's wave. Returns the rollout's
    /// id. Refused, with nothing written, when an install is not of that app, cannot upgrade
    /// from its version, or is in another rollout.
    #[tracing::instrument(skip(self, actor, up), fields(to = up.to_version_id))]
    pub async fn start_app_upgrade(&self, tenant_id: &str, actor: &Actor, up: AppUpgrade<'_>) -> Result<String> {
        up.strategy.check()?;
        if up.installs.is_empty() {
            return Err(invalid("installs", "choose at least one install to upgrade".into()));
        }
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let target = catalog_version_in(&mut tx, tenant_id, up.to_version_id).await?;
            let meta = &target.definition.meta;
            let mut moved: Vec<(String, Option<i64>, Option<i64>)> = Vec::new();
            let mut froms = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut installs = Vec::new();
            for (install_id, clearance) in up.installs {
                if !seen.insert(*install_id) {
                    continue;
                }
                let install = install_in(&mut tx, tenant_id, install_id).await?;
                let place =
                    install.project_id.as_deref().map_or_else(|| "its workspace".to_owned(), |_| "its project".into());
                if install.app_name != meta.name {
                    return Err(invalid(
                        "to_version",
                        format!("{} is an install of {}, not {}", install.name, install.app_name, meta.name),
                    ));
                }
                let busy: Option<String> = sqlx::query_scalar(
                    "SELECT o.title FROM rollout_installs i JOIN rollouts o ON o.id = i.rollout_id \
                     WHERE i.install_id = $1 AND i.active",
                )
                .bind(install_id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(title) = busy {
                    return Err(invalid(
                        "installs",
                        format!(
                            "{} is already being rolled out (\u{201c}{title}\u{201d}): one rollout at a time",
                            install.name
                        ),
                    ));
                }
                let from = catalog_version_in(&mut tx, tenant_id, &install.version_id).await?;
                if !meta.upgrades(&from.definition.meta.version) {
                    let range = meta.upgrades_from.as_ref().map_or_else(|| "no version".to_owned(), ToString::to_string);
                    return Err(invalid(
                        "to_version",
                        format!(
                            "{} {} upgrades from {range}; {} in {place} runs {}",
                            meta.display_name, meta.version, install.name, from.definition.meta.version
                        ),
                    ));
                }
                froms.insert(from.definition.meta.version.clone());
                let project = match &install.project_id {
                    Some(pid) => {
                        let (name, _) =
                            project_scope_row(&mut tx, tenant_id, pid).await?.ok_or(Error::NotFound("project"))?;
                        Some((pid.clone(), name))
                    }
                    None => None,
                };
                let home = crate::resources::ResourceHome {
                    workspace_id: &install.workspace_id,
                    project: project.as_ref().map(|(id, name)| (id.as_str(), name.as_str())),
                };
                let objects = render_for(&target.definition, home, &install.name, &install.values, &install.rules)?;
                let mut existing = BTreeMap::new();
                for resource_id in &install.resource_ids {
                    let r = resource_row(&mut tx, tenant_id, resource_id).await?;
                    existing.insert((r.api_version.clone(), r.kind.clone(), r.name.clone()), r);
                }
                let author = Author { actor, clearance: *clearance };
                let message = format!("{} {}", meta.display_name, meta.version);
                for object in objects {
                    let key = &object.object.key;
                    let key = (key.api_version.clone(), key.kind.clone(), key.name.clone());
                    let spec = ResourceSpec::from(object);
                    match existing.remove(&key) {
                        Some(current) => {
                            crate::resources::refuse_if_held(&mut tx, &current.id).await?;
                            let (to, _) = self.replace_in(&mut tx, tenant_id, author, &current, &spec, &message).await?;
                            moved.push((current.id, Some(current.revision), Some(to)));
                        }
                        None => {
                            let id = self.insert_resource(&mut tx, tenant_id, actor, *clearance, home, &spec).await?;
                            sqlx::query(
                                "INSERT INTO app_install_resources (tenant_id, install_id, resource_id) VALUES ($1, $2, $3)",
                            )
                            .bind(tenant_id)
                            .bind(install_id)
                            .bind(&id)
                            .execute(&mut *tx)
                            .await?;
                            moved.push((id, None, Some(1)));
                        }
                    }
                }
                for (_, gone) in existing {
                    crate::resources::refuse_if_held(&mut tx, &gone.id).await?;
                    moved.push((gone.id, Some(gone.revision), None));
                }
                sqlx::query(
                    "UPDATE app_installs SET version_id = $1, updated_at = $2, version = version + 1 \
                     WHERE tenant_id = $3 AND id = $4",
                )
                .bind(&target.id)
                .bind(now_ms())
                .bind(tenant_id)
                .bind(install_id)
                .execute(&mut *tx)
                .await?;
                installs.push((install_id.to_string(), from.id.clone()));
            }
            let froms: Vec<String> = froms.iter().map(ToString::to_string).collect();
            let title = format!("{} {} \u{2192} {}", meta.display_name, froms.join(", "), meta.version);
            let id = self
                .create_rollout_in(
                    &mut tx,
                    tenant_id,
                    actor,
                    &title,
                    Some(&meta.name),
                    up.strategy,
                    meta.rollback_safe,
                    &moved,
                )
                .await?;
            for (install_id, from_version) in &installs {
                sqlx::query(
                    "INSERT INTO rollout_installs (tenant_id, rollout_id, install_id, from_version_id, to_version_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant_id)
                .bind(&id)
                .bind(install_id)
                .bind(from_version)
                .bind(&target.id)
                .execute(&mut *tx)
                .await?;
            }
            let changes = moved.into_iter().map(|(resource_id, _, _)| Change::Resource { tenant_id: tenant_id.to_owned(), id: resource_id });
            self.commit(tx, changes).await?;
            Ok(id)
        })
        .await
    }

    /// Saves `spec` as the next revision of resource `id` (if nobody changed it since
    /// `expected_version`), rolled out by `strategy` instead of applied everywhere at once.
    /// Returns the rollout's id.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip(self, actor, spec, strategy))]
    pub async fn start_resource_rollout(
        &self,
        tenant_id: &str,
        actor: &Actor,
        clearance: Clearance,
        id: &str,
        expected_version: i64,
        spec: &ResourceSpec,
        strategy: &Strategy,
    ) -> Result<String> {
        strategy.check()?;
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let current = crate::resources::live_resource_at(&mut tx, tenant_id, id, expected_version).await?;
            let author = Author { actor, clearance };
            let (to, key) = self.replace_in(&mut tx, tenant_id, author, &current, spec, "rolled out").await?;
            let title = format!("{} {}: revision {} \u{2192} {to}", key.kind, key.name, current.revision);
            let moved = [(id.to_owned(), Some(current.revision), Some(to))];
            let rollout =
                self.create_rollout_in(&mut tx, tenant_id, actor, &title, None, strategy, true, &moved).await?;
            audit(tenant_id, actor, "resource.update", id, &key.to_string())
                .detail(serde_json::json!({ "revision": to, "rollout": rollout }))
                .insert(&mut tx)
                .await?;
            self.commit(tx, [Change::Resource { tenant_id: tenant_id.to_owned(), id: id.to_owned() }]).await?;
            Ok(rollout)
        })
        .await
    }

    /// The rollout row, its held resources and every cluster's step, planned now.
    #[allow(clippy::too_many_arguments)]
    async fn create_rollout_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        actor: &Actor,
        title: &str,
        app_name: Option<&str>,
        strategy: &Strategy,
        rollback_safe: bool,
        moved: &[(String, Option<i64>, Option<i64>)],
    ) -> Result<String> {
        let ids: Vec<String> = moved.iter().map(|(id, _, _)| id.clone()).collect();
        let placed = placed_clusters(&mut *conn, tenant_id, &ids).await?;
        let members: Vec<PlanCluster<'_>> =
            placed.values().map(|(name, labels, _)| PlanCluster { name, labels }).collect();
        let waves = rollout::plan(strategy, &members)?;
        let by_name: HashMap<&str, &str> =
            placed.iter().map(|(id, (name, _, _))| (name.as_str(), id.as_str())).collect();
        let id = new_id();
        let now = now_ms();
        let (state, message) = if waves.is_empty() {
            (RolloutState::Succeeded, "no cluster runs it: nothing to roll out".to_owned())
        } else {
            (RolloutState::Running, String::new())
        };
        let first_wave = waves.first().map_or(0, |w| w.index);
        sqlx::query(
            "INSERT INTO rollouts (id, tenant_id, title, app_name, strategy, rollback_safe, state, current_wave, message, \
             created_by, created_by_name, created_at, updated_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(title)
        .bind(app_name)
        .bind(serde_json::to_string(strategy).map_err(|e| Error::Corrupt(e.to_string()))?)
        .bind(rollback_safe)
        .bind(state.as_str())
        .bind(i64::from(first_wave))
        .bind(&message)
        .bind(&actor.id)
        .bind(&actor.name)
        .bind(now)
        .bind(state.finished().then_some(now))
        .execute(&mut *conn)
        .await?;
        for (resource_id, from, to) in moved {
            sqlx::query(
                "INSERT INTO rollout_resources (tenant_id, rollout_id, resource_id, from_revision, to_revision, active) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(resource_id)
            .bind(from)
            .bind(to)
            .bind(!state.finished())
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    invalid("resources", "a resource of this change is already being rolled out".into())
                }
                other => other.into(),
            })?;
        }
        for wave in &waves {
            for name in &wave.clusters {
                let Some(cluster_id) = by_name.get(name.as_str()) else { continue };
                sqlx::query(
                    "INSERT INTO rollout_clusters (tenant_id, rollout_id, cluster_id, cluster_name, wave, state, since) \
                     VALUES ($1, $2, $3, $4, $5, 'Pending', $6)",
                )
                .bind(tenant_id)
                .bind(&id)
                .bind(cluster_id)
                .bind(name)
                .bind(i64::from(wave.index))
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        }
        let summary = format!("started by {}: {} clusters in {} waves", actor.name, placed.len(), waves.len());
        event(&mut *conn, tenant_id, &id, None, state.as_str(), &summary, Some(&actor.name)).await?;
        audit(tenant_id, actor, "rollout.start", &id, title)
            .detail(serde_json::json!({ "clusters": placed.len(), "waves": waves.len(), "resources": moved.len() }))
            .insert(&mut *conn)
            .await?;
        Ok(id)
    }

    /// The waves a rollout of `resource_ids` with `strategy` would go in now (the plan shown
    /// before it starts).
    pub async fn plan_rollout(
        &self,
        tenant_id: &str,
        resource_ids: &[String],
        strategy: &Strategy,
    ) -> Result<Vec<rollout::Wave>> {
        let mut conn = self.pool.acquire().await?;
        let placed = placed_clusters(&mut conn, tenant_id, resource_ids).await?;
        let members: Vec<PlanCluster<'_>> =
            placed.values().map(|(name, labels, _)| PlanCluster { name, labels }).collect();
        Ok(rollout::plan(strategy, &members)?)
    }

    /// The rollouts of a tenant, newest first.
    pub async fn list_rollouts(&self, tenant_id: &str) -> Result<Vec<RolloutRecord>> {
        let rows: Vec<RolloutRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ROLLOUT_SQL} WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT 200"
        )))
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(rollout_record).collect()
    }

    /// Where each rollout of the tenant moves things: the (workspace, project) of its
    /// resources, for deciding who may see it.
    pub async fn rollout_homes(&self, tenant_id: &str) -> Result<HashMap<String, Vec<(String, Option<String>)>>> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT DISTINCT h.rollout_id, r.workspace_id, r.project_id FROM rollout_resources h \
             JOIN federated_resources r ON r.id = h.resource_id WHERE h.tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        let mut homes: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
        for (rollout, workspace, project) in rows {
            homes.entry(rollout).or_default().push((workspace, project));
        }
        Ok(homes)
    }

    /// One rollout of tenant `tenant_id`, whole.
    pub async fn get_rollout(&self, tenant_id: &str, id: &str) -> Result<RolloutDetail> {
        let mut conn = self.pool.acquire().await?;
        rollout_in(&mut conn, tenant_id, id, Timeline::Latest).await
    }

    /// The ids (and tenants) of the rollouts still moving.
    pub async fn active_rollouts(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT tenant_id, id FROM rollouts WHERE finished_at IS NULL ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?)
    }

    /// What the driver decides on.
    pub async fn driver_view(&self, tenant_id: &str, id: &str) -> Result<DriverView> {
        let mut conn = self.pool.acquire().await?;
        let detail = rollout_in(&mut conn, tenant_id, id, Timeline::Skip).await?;
        let ids: Vec<String> = detail.resources.iter().map(|r| r.resource_id.clone()).collect();
        let placed = placed_clusters(&mut conn, tenant_id, &ids)
            .await?
            .into_iter()
            .map(|(id, (name, _, resources))| (id, (name, resources)))
            .collect();
        type Row = (String, String, String, String, Option<i64>, Option<String>, Option<i64>, Option<i64>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.resource_id, s.cluster_id, s.code, s.message, s.applied_revision, s.health, s.health_ready, \
             s.health_updated, s.health_desired FROM propagation_status s \
             JOIN rollout_resources h ON h.resource_id = s.resource_id WHERE h.rollout_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let statuses = rows
            .into_iter()
            .map(|(resource_id, cluster_id, code, message, applied_revision, health, ready, updated, desired)| {
                let code = StatusCode::parse(&code).unwrap_or(StatusCode::ClusterNotReady);
                let status = GateStatus { code, message, applied_revision, health, ready, updated, desired };
                ((resource_id, cluster_id), status)
            })
            .collect();
        Ok(DriverView { detail, placed, statuses })
    }

    /// Records the driver's `decision` on rollout `id`, made on `steps` as seen at
    /// `seen_version`, and adds a step for each of `joined` (clusters the change now places on
    /// that have none). Returns false, writing nothing, when the rollout changed since (a
    /// person's action): the driver decides again on what is there now.
    pub async fn record_decision(
        &self,
        tenant_id: &str,
        id: &str,
        seen_version: i64,
        steps: &[Step],
        decision: &Decision,
        joined: &[(String, String)],
    ) -> Result<bool> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let detail = rollout_in(&mut tx, tenant_id, id, Timeline::Skip).await?;
            if detail.record.version != seen_version || detail.record.state.finished() {
                return Ok(false);
            }
            let now = now_ms();
            let mut release_changed = false;
            for change in &decision.steps {
                // By cluster, not by position: a cluster deleted meanwhile takes its step along.
                let Some(seen) = steps.get(change.index) else { continue };
                let Some(step) = detail.clusters.iter().find(|c| c.cluster_id == seen.cluster_id) else { continue };
                release_changed |= step.state.released() != change.state.released();
                set_step(&mut tx, tenant_id, id, step, change.state, &change.message, now).await?;
            }
            if !joined.is_empty() {
                let wave = detail.clusters.iter().map(|c| c.wave).max().unwrap_or(1).max(1);
                for (cluster_id, name) in joined {
                    let message = "joined during the rollout: runs the stable revision until its wave";
                    sqlx::query(
                        "INSERT INTO rollout_clusters (tenant_id, rollout_id, cluster_id, cluster_name, wave, state, message, since) \
                         VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7) ON CONFLICT DO NOTHING",
                    )
                    .bind(tenant_id)
                    .bind(id)
                    .bind(cluster_id)
                    .bind(name)
                    .bind(i64::from(wave))
                    .bind(message)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    event(&mut tx, tenant_id, id, Some(name), "Pending", message, None).await?;
                }
            }
            let (state, message) = match &decision.state {
                Some((state, message)) => (*state, message.clone()),
                None => (detail.record.state, detail.record.message.clone()),
            };
            let wave = decision.current_wave.unwrap_or(detail.record.current_wave);
            sqlx::query(
                "UPDATE rollouts SET state = $1, message = $2, current_wave = $3, updated_at = $4, version = version + 1 \
                 WHERE id = $5",
            )
            .bind(state.as_str())
            .bind(&message)
            .bind(i64::from(wave))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some((state, message)) = &decision.state {
                event(&mut tx, tenant_id, id, None, state.as_str(), message, None).await?;
                if state.finished() {
                    self.finish_in(&mut tx, tenant_id, id, *state, &detail).await?;
                    release_changed = true;
                }
            }
            if release_changed {
                touch_resources(&mut tx, id).await?;
            }
            let resources = resource_ids_of(&mut tx, id).await?;
            let changes = if release_changed { resources } else { Vec::new() };
            self.commit(tx, changes.into_iter().map(|resource_id| Change::Resource { tenant_id: tenant_id.to_owned(), id: resource_id })).await?;
            Ok(true)
        })
        .await
    }

    /// Ends a rollout: lifts the holds; a success deletes what the change removed, an abort
    /// returns every resource (and install) to where it was.
    async fn finish_in(
        &self,
        conn: &mut AnyConnection,
        tenant_id: &str,
        id: &str,
        state: RolloutState,
        detail: &RolloutDetail,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query("UPDATE rollouts SET finished_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        for r in &detail.resources {
            let current = resource_row(&mut *conn, tenant_id, &r.resource_id).await?;
            match (state, r.from_revision, r.to_revision) {
                (RolloutState::Succeeded, _, None) | (RolloutState::Aborted, None, _) => {
                    sqlx::query(
                        "UPDATE federated_resources SET deleted_at = $1, updated_at = $1, version = version + 1 \
                         WHERE id = $2 AND deleted_at IS NULL",
                    )
                    .bind(now)
                    .bind(&r.resource_id)
                    .execute(&mut *conn)
                    .await?;
                }
                (RolloutState::Aborted, Some(from), _) if current.revision != from => {
                    copy_revision(
                        &mut *conn,
                        tenant_id,
                        &r.resource_id,
                        from,
                        current.revision + 1,
                        &detail.record.title,
                    )
                    .await?;
                }
                _ => {}
            }
        }
        if state == RolloutState::Aborted {
            sqlx::query(
                "UPDATE app_installs SET version_id = (SELECT from_version_id FROM rollout_installs \
                 WHERE rollout_id = $1 AND install_id = app_installs.id), updated_at = $2, version = version + 1 \
                 WHERE id IN (SELECT install_id FROM rollout_installs WHERE rollout_id = $1)",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("UPDATE rollout_resources SET active = FALSE WHERE rollout_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE rollout_installs SET active = FALSE WHERE rollout_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let actor = Actor { id: None, name: "rollout".into() };
        audit(tenant_id, &actor, &format!("rollout.{}", state.as_str().to_lowercase()), id, &detail.record.title)
            .insert(&mut *conn)
            .await?;
        Ok(())
    }

    /// A person's action on rollout `id` (the caller checked they may edit everything it
    /// moves). Refused with a clear error when the rollout's state does not allow it.
    pub async fn rollout_action(&self, tenant_id: &str, actor: &Actor, id: &str, action: &RolloutAction) -> Result<()> {
        self.retrying(|| async {
            let mut tx = self.write_tx().await?;
            let detail = rollout_in(&mut tx, tenant_id, id, Timeline::Skip).await?;
            let state = detail.record.state;
            let refuse = |why: &str| invalid("action", format!("cannot {} a rollout that {why}", action.name()));
            if state.finished() {
                return Err(refuse(&format!("has {}", state.label())));
            }
            let now = now_ms();
            let mut new_state = None;
            let wave = detail.record.current_wave;
            let mut release_changed = false;
            match action {
                RolloutAction::Pause => match state {
                    RolloutState::Running | RolloutState::AwaitingApproval => new_state = Some(RolloutState::Paused),
                    _ => return Err(refuse(&format!("is {}", state.label()))),
                },
                RolloutAction::Resume => match state {
                    RolloutState::Paused => new_state = Some(RolloutState::Running),
                    _ => return Err(refuse(&format!("is {}", state.label()))),
                },
                RolloutAction::Approve => match state {
                    RolloutState::AwaitingApproval => new_state = Some(RolloutState::Running),
                    _ => return Err(refuse("is not awaiting approval")),
                },
                RolloutAction::Abort => match state {
                    RolloutState::Aborting => return Err(refuse("is aborting already")),
                    _ => new_state = Some(RolloutState::Aborting),
                },
                RolloutAction::Retry(cluster_id) | RolloutAction::Skip(cluster_id) => {
                    let step = detail
                        .clusters
                        .iter()
                        .find(|c| &c.cluster_id == cluster_id)
                        .ok_or(Error::NotFound("cluster of this rollout"))?;
                    if state == RolloutState::Aborting {
                        return Err(refuse("is aborting"));
                    }
                    let (to, message) = match action {
                        RolloutAction::Retry(_) => {
                            if !matches!(step.state, StepState::Failed | StepState::RolledBack) {
                                return Err(invalid("action", format!("{} has not failed", step.cluster_name)));
                            }
                            (StepState::Updating, format!("retried by {}", actor.name))
                        }
                        _ => {
                            if !matches!(step.state, StepState::Pending | StepState::Failed | StepState::RolledBack) {
                                return Err(invalid(
                                    "action",
                                    format!(
                                        "{} is {}: only a waiting, failed or rolled-back cluster can be skipped",
                                        step.cluster_name,
                                        step.state.label()
                                    ),
                                ));
                            }
                            (
                                StepState::Skipped,
                                format!("skipped by {}: gets the new revision when the rollout ends", actor.name),
                            )
                        }
                    };
                    release_changed = step.state.released() != to.released();
                    set_step(&mut tx, tenant_id, id, step, to, &message, now).await?;
                }
            }
            let message = match new_state {
                Some(RolloutState::Paused) => format!("paused by {}", actor.name),
                Some(RolloutState::Running) => format!(
                    "{} by {}",
                    if matches!(action, RolloutAction::Approve) { "approved" } else { "resumed" },
                    actor.name
                ),
                Some(RolloutState::Aborting) => format!("aborted by {}: rolling back every updated cluster", actor.name),
                _ => detail.record.message.clone(),
            };
            let state_now = new_state.unwrap_or(state);
            sqlx::query(
                "UPDATE rollouts SET state = $1, message = $2, current_wave = $3, updated_at = $4, version = version + 1 \
                 WHERE id = $5",
            )
            .bind(state_now.as_str())
            .bind(&message)
            .bind(i64::from(wave))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(s) = new_state {
                event(&mut tx, tenant_id, id, None, s.as_str(), &message, Some(&actor.name)).await?;
            }
            if release_changed {
                touch_resources(&mut tx, id).await?;
            }
            audit(tenant_id, actor, &format!("rollout.{}", action.name()), id, &detail.record.title)
                .insert(&mut tx)
                .await?;
            let resources = resource_ids_of(&mut tx, id).await?;
            let changes = if release_changed { resources } else { Vec::new() };
            self.commit(tx, changes.into_iter().map(|resource_id| Change::Resource { tenant_id: tenant_id.to_owned(), id: resource_id })).await?;
            Ok(())
        })
        .await
    }

    /// The stable revision and which clusters are released, for every resource held by an
    /// active rollout (or only `resource_id`'s).
    pub(crate) async fn holds(&self, resource_id: Option<&str>) -> Result<HashMap<String, HoldRow>> {
        let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT resource_id, rollout_id, from_revision FROM rollout_resources \
             WHERE active AND ($1 IS NULL OR resource_id = $1)",
        )
        .bind(resource_id)
        .fetch_all(&self.pool)
        .await?;
        let mut holds = HashMap::new();
        for (resource_id, rollout_id, from) in rows {
            let released: Vec<(String, String)> =
                sqlx::query_as("SELECT cluster_id, state FROM rollout_clusters WHERE rollout_id = $1")
                    .bind(&rollout_id)
                    .fetch_all(&self.pool)
                    .await?;
            let released = released
                .into_iter()
                .filter(|(_, s)| StepState::parse(s).is_some_and(StepState::released))
                .map(|(c, _)| c)
                .collect();
            holds.insert(resource_id, HoldRow { rollout_id, from_revision: from, released });
        }
        Ok(holds)
    }
}

/// A held resource: its rollout, the stable revision, and the clusters released to the new.
#[derive(Debug, Clone)]
pub(crate) struct HoldRow {
    pub rollout_id: String,
    pub from_revision: Option<i64>,
    pub released: BTreeSet<String>,
}

async fn set_step(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    step: &RolloutCluster,
    to: StepState,
    message: &str,
    now: i64,
) -> Result<()> {
    let started = (to == StepState::Updating && step.started_at.is_none()).then_some(now);
    let finished = matches!(to, StepState::Done | StepState::RolledBack | StepState::Skipped).then_some(now);
    sqlx::query(
        "UPDATE rollout_clusters SET state = $1, message = $2, since = $3, started_at = COALESCE(started_at, $4), \
         finished_at = $5 WHERE rollout_id = $6 AND cluster_id = $7",
    )
    .bind(to.as_str())
    .bind(message)
    .bind(now)
    .bind(started)
    .bind(finished)
    .bind(id)
    .bind(&step.cluster_id)
    .execute(&mut *conn)
    .await?;
    event(conn, tenant_id, id, Some(&step.cluster_name), to.as_str(), message, None).await
}

/// A new revision `revision` equal to revision `from` (an abort's return), as its author
/// wrote it then.
async fn copy_revision(
    conn: &mut AnyConnection,
    tenant_id: &str,
    resource_id: &str,
    from: i64,
    revision: i64,
    title: &str,
) -> Result<()> {
    let copied = sqlx::query(
        "INSERT INTO resource_revisions (tenant_id, resource_id, revision, template, secret_data_enc, placement, \
         overrides, content_hash, author_id, author_name, message, reverted_from, created_at, clearance) \
         SELECT tenant_id, resource_id, $1, template, secret_data_enc, placement, overrides, content_hash, \
         author_id, author_name, $2, revision, $3, clearance FROM resource_revisions \
         WHERE tenant_id = $4 AND resource_id = $5 AND revision = $6",
    )
    .bind(revision)
    .bind(format!("rollout \u{201c}{title}\u{201d} aborted: back to revision {from}"))
    .bind(now_ms())
    .bind(tenant_id)
    .bind(resource_id)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    if copied.rows_affected() != 1 {
        return Err(Error::Corrupt(format!("the stable revision {from} of {resource_id} is gone")));
    }
    sqlx::query(
        "UPDATE federated_resources SET current_revision = $1, updated_at = $2, version = version + 1 WHERE id = $3",
    )
    .bind(revision)
    .bind(now_ms())
    .bind(resource_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which of a rollout's timeline to read with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timeline {
    /// The latest 500 events (for people).
    Latest,
    /// None (for deciding: the timeline is written, never read, there).
    Skip,
}

async fn rollout_in(conn: &mut AnyConnection, tenant_id: &str, id: &str, timeline: Timeline) -> Result<RolloutDetail> {
    let row: Option<RolloutRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{ROLLOUT_SQL} WHERE tenant_id = $1 AND id = $2")))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let record = rollout_record(row.ok_or(Error::NotFound("rollout"))?)?;
    type ClusterRow = (String, String, i64, String, String, i64, Option<i64>, Option<i64>);
    let rows: Vec<ClusterRow> = sqlx::query_as(
        "SELECT cluster_id, cluster_name, wave, state, message, since, started_at, finished_at FROM rollout_clusters \
         WHERE rollout_id = $1 ORDER BY wave, cluster_name",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let clusters = rows
        .into_iter()
        .map(|(cluster_id, cluster_name, wave, state, message, since, started_at, finished_at)| {
            let state =
                StepState::parse(&state).ok_or_else(|| Error::Corrupt(format!("rollout step state {state}")))?;
            Ok(RolloutCluster {
                cluster_id,
                cluster_name,
                wave: u32::try_from(wave).unwrap_or(0),
                state,
                message,
                since,
                started_at,
                finished_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    type ResourceRow = (String, String, Option<String>, String, String, Option<i64>, Option<i64>);
    let resources: Vec<ResourceRow> = sqlx::query_as(
        "SELECT h.resource_id, r.workspace_id, r.project_id, r.kind, r.name, h.from_revision, h.to_revision \
         FROM rollout_resources h \
         JOIN federated_resources r ON r.id = h.resource_id WHERE h.rollout_id = $1 ORDER BY r.kind, r.name",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let resources = resources
        .into_iter()
        .map(|(resource_id, workspace_id, project_id, kind, name, from_revision, to_revision)| RolloutResource {
            resource_id,
            workspace_id,
            project_id,
            name: format!("{kind} {name}"),
            from_revision,
            to_revision,
        })
        .collect();
    if timeline == Timeline::Skip {
        return Ok(RolloutDetail { record, clusters, resources, events: Vec::new() });
    }
    type EventRow = (i64, i64, Option<String>, String, String, Option<String>);
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT seq, at, cluster_name, state, message, actor_name FROM rollout_events WHERE rollout_id = $1 \
         ORDER BY seq DESC LIMIT 500",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let events = events
        .into_iter()
        .map(|(seq, at, cluster_name, state, message, actor_name)| RolloutEvent {
            seq,
            at,
            cluster_name,
            state,
            message,
            actor_name,
        })
        .collect();
    Ok(RolloutDetail { record, clusters, resources, events })
}
