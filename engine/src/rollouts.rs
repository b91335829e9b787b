//! The rollout driver: every tick, for each rollout still moving, reads what its clusters
//! show (statuses at the revision each step expects), decides with the pure
//! [`flotilla_domain::rollout::decide`] and records the decision in one transaction. All of
//! a rollout's state is in the store, so a hub that restarts picks up exactly where the last
//! transaction left it; the engine's workers follow the holds the store publishes.

use std::time::Duration;

use flotilla_domain::rollout::{Progress, RolloutState, decide};
use flotilla_store::{Store, now_ms};
use tokio_util::sync::CancellationToken;

/// Runs until `stop` is cancelled.
pub(crate) async fn drive(store: Store, tick: Duration, stop: CancellationToken) {
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = drive_once(&store).await {
            tracing::warn!(error = %e, "rollout driver pass failed; trying again next tick");
        }
    }
}

/// One pass over every active rollout.
pub(crate) async fn drive_once(store: &Store) -> flotilla_store::Result<()> {
    for (tenant_id, id) in store.active_rollouts().await? {
        let view = store.driver_view(&tenant_id, &id).await?;
        let record = &view.detail.record;
        let steps = view.detail.steps();
        let progress = Progress {
            state: record.state,
            current_wave: record.current_wave,
            strategy: &record.strategy,
            rollback_safe: record.rollback_safe,
        };
        let decision = decide(&progress, &steps, |s| view.observe(s), now_ms());
        // Clusters the change now places on that have no step: they joined (or were labelled
        // in) after the rollout started, and hold the stable revision until their wave.
        let joined: Vec<(String, String)> = if record.state == RolloutState::Aborting {
            Vec::new()
        } else {
            view.placed
                .iter()
                .filter(|(cluster_id, _)| !steps.iter().any(|s| &s.cluster_id == *cluster_id))
                .map(|(cluster_id, (name, _))| (cluster_id.clone(), name.clone()))
                .collect()
        };
        if decision.is_empty() && joined.is_empty() {
            continue;
        }
        if !store.record_decision(&tenant_id, &id, record.version, &steps, &decision, &joined).await? {
            tracing::debug!(rollout = %id, "rollout changed while deciding; deciding again next tick");
        }
    }
    Ok(())
}
