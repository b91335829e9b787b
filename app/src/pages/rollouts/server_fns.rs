//! Rollouts: planning and starting an app upgrade, listing rollouts, one rollout live, and a
//! person's actions on it. Who may do what: starting needs edit rights in the home of every
//! install it moves (and each object is checked with the starter's clearance there, as if
//! they had edited it by hand); seeing a rollout needs view rights in one of them, acting on
//! it edit rights in all. A rollout of another tenant, or one the caller may not see, is not
//! found.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::model::{PlanView, RolloutSummary, RolloutView, UpgradeInput};

/// The waves the upgrade would go in now. Nothing is saved.
#[server(endpoint = "rollouts/plan", input = Json)]
pub async fn plan_upgrade(input: UpgradeInput) -> Result<PlanView, AppError> {
    crate::error::with_status(ssr::plan(input).await)
}

/// Starts the upgrade as a rollout. Returns its id.
#[server(endpoint = "rollouts/start", input = Json)]
pub async fn start_upgrade(input: UpgradeInput) -> Result<String, AppError> {
    crate::error::with_status(ssr::start(input).await)
}

/// The rollouts the caller may see, newest first.
#[server(endpoint = "rollouts/list")]
pub async fn list_rollouts() -> Result<Vec<RolloutSummary>, AppError> {
    crate::error::with_status(ssr::list().await)
}

#[server(endpoint = "rollouts/get")]
pub async fn get_rollout(id: String) -> Result<RolloutView, AppError> {
    crate::error::with_status(ssr::get(id).await)
}

/// `action` is `pause`, `resume`, `approve`, `abort`, or `retry` / `skip` with a cluster.
#[server(endpoint = "rollouts/act")]
pub async fn act_on_rollout(id: String, action: String, cluster_id: Option<String>) -> Result<(), AppError> {
    crate::error::with_status(ssr::act(id, action, cluster_id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use flotilla_domain::{Clearance, Level};
    use flotilla_store::{AppUpgrade, RolloutAction, RolloutDetail, RolloutRecord, Store};

    use crate::AppError;
    use crate::backend::{Caller, actor, app_state, home_of, require_caller};
    use crate::model::{EventView, PlanView, RolloutSummary, RolloutView, StepView, UpgradeInput, WaveView};

    /// At most this many installs in one upgrade.
    const MAX_INSTALLS: usize = 500;

    /// Each install with the caller's clearance in its home, and all their resources.
    async fn installs(
        store: &Store,
        user: &Caller,
        input: &UpgradeInput,
    ) -> Result<(Vec<(String, Clearance)>, Vec<String>), AppError> {
        if input.install_ids.is_empty() {
            return Err(AppError::Invalid { field: "installs".into(), message: "choose at least one install".into() });
        }
        if input.install_ids.len() > MAX_INSTALLS {
            return Err(AppError::Invalid {
                field: "installs".into(),
                message: format!("at most {MAX_INSTALLS} installs in one rollout"),
            });
        }
        let mut chosen = Vec::new();
        let mut resources = Vec::new();
        for id in &input.install_ids {
            let install = store.get_install(&user.tenant_id, id).await?;
            let home = home_of(store, user, &install.workspace_id, install.project_id.as_deref(), Level::Edit).await?;
            chosen.push((install.id, home.clearance()?));
            resources.extend(install.resource_ids);
        }
        Ok((chosen, resources))
    }

    pub async fn plan(input: UpgradeInput) -> Result<PlanView, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let (_, resources) = installs(&store, &user, &input).await?;
        store.catalog_version(&user.tenant_id, &input.to_version_id).await?;
        let waves = store.plan_rollout(&user.tenant_id, &resources, &input.strategy).await?;
        let clusters = waves.iter().map(|w| w.clusters.len()).sum();
        Ok(PlanView { waves, clusters })
    }

    pub async fn start(input: UpgradeInput) -> Result<String, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let (chosen, _) = installs(&store, &user, &input).await?;
        let installs: Vec<(&str, Clearance)> = chosen.iter().map(|(id, c)| (id.as_str(), *c)).collect();
        let up = AppUpgrade { installs: &installs, to_version_id: &input.to_version_id, strategy: &input.strategy };
        Ok(store.start_app_upgrade(&user.tenant_id, &actor(&user), up).await?)
    }

    /// Whether the caller may see (`need` View) or act on (`need` Edit) a rollout that moves
    /// things in `homes`. A rollout of nothing left (its resources deleted) is a tenant admin's.
    fn may(user: &Caller, homes: &[(String, Option<String>)], need: Level) -> bool {
        if homes.is_empty() {
            return user.access.is_tenant_admin();
        }
        let allowed =
            |(ws, project): &(String, Option<String>)| user.require_level(ws, project.as_deref(), need).is_ok();
        match need {
            Level::View => homes.iter().any(allowed),
            _ => homes.iter().all(allowed),
        }
    }

    fn summary(r: RolloutRecord) -> RolloutSummary {
        RolloutSummary {
            id: r.id,
            title: r.title,
            state: r.state,
            message: r.message,
            created_by: r.created_by_name,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }

    pub async fn list() -> Result<Vec<RolloutSummary>, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let homes = store.rollout_homes(&user.tenant_id).await?;
        let none = Vec::new();
        Ok(store
            .list_rollouts(&user.tenant_id)
            .await?
            .into_iter()
            .filter(|r| may(&user, homes.get(&r.id).unwrap_or(&none), Level::View))
            .map(summary)
            .collect())
    }

    /// Where the rollout moves things: its resources' homes.
    fn homes(detail: &RolloutDetail) -> Vec<(String, Option<String>)> {
        let mut homes: Vec<(String, Option<String>)> =
            detail.resources.iter().map(|r| (r.workspace_id.clone(), r.project_id.clone())).collect();
        homes.sort();
        homes.dedup();
        homes
    }

    /// Rollout `id` if the caller may see it (else not found).
    async fn visible(store: &Store, user: &Caller, id: &str) -> Result<RolloutDetail, AppError> {
        let detail = store.get_rollout(&user.tenant_id, id).await?;
        if !may(user, &homes(&detail), Level::View) {
            return Err(AppError::NotFound);
        }
        Ok(detail)
    }

    pub async fn get(id: String) -> Result<RolloutView, AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let detail = visible(&store, &user, &id).await?;
        let can_act = may(&user, &homes(&detail), Level::Edit);
        let RolloutDetail { record, clusters, events, .. } = detail;
        // With one label value per wave, each wave says which (from the clusters' labels now).
        let key = record.strategy.wave_per.as_deref().map(str::trim).filter(|k| !k.is_empty());
        let labels: std::collections::HashMap<String, Option<String>> = match key {
            Some(key) => store
                .list_clusters(&user.tenant_id)
                .await?
                .into_iter()
                .map(|c| (c.id, c.labels.get(key).cloned()))
                .collect(),
            None => std::collections::HashMap::new(),
        };
        let label = |wave: u32| {
            if wave == 0 {
                return "canary".to_owned();
            }
            let Some(key) = key else { return format!("wave {wave}") };
            let values: std::collections::BTreeSet<Option<&String>> = clusters
                .iter()
                .filter(|c| c.wave == wave)
                .map(|c| labels.get(&c.cluster_id).and_then(Option::as_ref))
                .collect();
            match values.into_iter().collect::<Vec<_>>().as_slice() {
                [Some(value)] => format!("wave {wave} · {key}={value}"),
                [None] => format!("wave {wave} · no {key}"),
                _ => format!("wave {wave}"),
            }
        };
        let mut waves: Vec<WaveView> = Vec::new();
        for c in &clusters {
            let c = c.clone();
            let step = StepView {
                cluster_id: c.cluster_id,
                name: c.cluster_name,
                state: c.state,
                message: c.message,
                since: c.since,
            };
            match waves.iter_mut().find(|w| w.index == c.wave) {
                Some(w) => w.steps.push(step),
                None => waves.push(WaveView { index: c.wave, label: label(c.wave), steps: vec![step] }),
            }
        }
        waves.sort_by_key(|w| w.index);
        let events = events
            .into_iter()
            .map(|e| EventView {
                at: e.at,
                cluster: e.cluster_name,
                state: e.state,
                message: e.message,
                actor: e.actor_name,
            })
            .collect();
        Ok(RolloutView {
            current_wave: record.current_wave,
            strategy: record.strategy.clone(),
            rollback_safe: record.rollback_safe,
            summary: summary(record),
            waves,
            events,
            can_act,
            now: flotilla_store::now_ms(),
        })
    }

    pub async fn act(id: String, action: String, cluster_id: Option<String>) -> Result<(), AppError> {
        let user = require_caller().await?;
        let store = app_state()?.store;
        let detail = visible(&store, &user, &id).await?;
        if !may(&user, &homes(&detail), Level::Edit) {
            return Err(AppError::Forbidden("Acting on a rollout needs edit rights wherever it moves things.".into()));
        }
        let cluster = || {
            cluster_id
                .clone()
                .ok_or_else(|| AppError::Invalid { field: "cluster_id".into(), message: "name the cluster".into() })
        };
        let action = match action.as_str() {
            "pause" => RolloutAction::Pause,
            "resume" => RolloutAction::Resume,
            "approve" => RolloutAction::Approve,
            "abort" => RolloutAction::Abort,
            "retry" => RolloutAction::Retry(cluster()?),
            "skip" => RolloutAction::Skip(cluster()?),
            other => {
                return Err(AppError::Invalid {
                    field: "action".into(),
                    message: format!("`{other}` is not an action"),
                });
            }
        };
        Ok(store.rollout_action(&user.tenant_id, &actor(&user), &id, &action).await?)
    }
}
