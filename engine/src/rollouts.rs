//! The rollout driver: for each rollout still moving, reads what its clusters show
//! (statuses at the revision each step expects), decides with the pure
//! [`flotilla_domain::rollout::decide`] and records the decision in one transaction. All of
//! a rollout's state is in the store, so a hub that restarts picks up exactly where the last
//! transaction left it; the engine's workers follow the holds the store publishes.
//!
//! It looks again as soon as something it waits on moves: a status of a resource under a
//! rollout (live from the engine, flushed to the store first so the decision reads it), a
//! change to a resource (a rollout started, resumed, approved), or the moment a soak ends or
//! a deadline passes; and at least every `tick`. A wave therefore follows the one before
//! within milliseconds of its last cluster turning healthy, not a tick later.

use std::collections::HashSet;
use std::time::Duration;

use flotilla_domain::rollout::{Progress, RolloutState, decide, next_check};
use flotilla_store::{Change, Store, now_ms};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::shares::{Shares, rollout_lease};
use crate::status::{StatusEvent, StatusSink};

/// How long a burst of statuses may settle before a pass (a wave's clusters turn healthy
/// within milliseconds of each other).
const SETTLE: Duration = Duration::from_millis(20);
/// The least time between two passes started by events.
const MIN_GAP: Duration = Duration::from_millis(100);

/// What one pass saw: the resources it waits on, and the next moment time alone matters.
#[derive(Debug, Default)]
pub(crate) struct Pass {
    pub resources: HashSet<String>,
    pub next_check_ms: Option<i64>,
}

/// Runs until `stop` is cancelled. With several replicas, drives only the rollouts whose lease
/// this one holds (`shares`).
pub(crate) async fn drive(store: Store, sink: StatusSink, shares: Shares, tick: Duration, stop: CancellationToken) {
    let mut statuses = sink.subscribe();
    let mut changes = store.subscribe_changes();
    let mut watched: HashSet<String> = HashSet::new();
    let mut next = Instant::now();
    let mut last = Instant::now();
    // A pass soon, after the burst settles, never sooner than MIN_GAP after the last.
    let soon = |next: Instant, last: Instant| next.min((Instant::now() + SETTLE).max(last + MIN_GAP));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
            event = statuses.recv() => {
                let moved = match event {
                    Ok(e) => matches!(&*e, StatusEvent::Resource(r) if watched.contains(&r.resource_id)),
                    Err(RecvError::Lagged(_)) => !watched.is_empty(),
                    Err(RecvError::Closed) => return,
                };
                if moved {
                    next = soon(next, last);
                }
                continue;
            }
            change = changes.recv() => {
                match change {
                    Ok(Change::Resource { .. }) | Err(RecvError::Lagged(_)) => next = soon(next, last),
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                }
                continue;
            }
        }
        last = Instant::now();
        if !watched.is_empty() {
            // Statuses reach the store in batches: the decision reads the latest.
            sink.flush().await;
        }
        next = last + tick;
        match drive_once(&store, &shares).await {
            Ok(pass) => {
                if let Some(at) = pass.next_check_ms {
                    let wait = Duration::from_millis(u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0));
                    next = next.min((Instant::now() + wait).max(last + MIN_GAP));
                }
                watched = pass.resources;
            }
            Err(e) => tracing::warn!(error = %e, "rollout driver pass failed; trying again next tick"),
        }
    }
}

/// One pass over every active rollout this replica drives.
pub(crate) async fn drive_once(store: &Store, shares: &Shares) -> flotilla_store::Result<Pass> {
    let mut pass = Pass::default();
    for (tenant_id, id) in store.active_rollouts().await? {
        let lease = rollout_lease(&id);
        let Some(epoch) = shares.epoch(&lease) else { continue };
        let view = store.driver_view(&tenant_id, &id).await?;
        let record = &view.detail.record;
        let steps = view.detail.steps();
        let progress = Progress {
            state: record.state,
            current_wave: record.current_wave,
            strategy: &record.strategy,
            rollback_safe: record.rollback_safe,
        };
        pass.resources.extend(view.detail.resources.iter().map(|r| r.resource_id.clone()));
        let now = now_ms();
        let decision = decide(&progress, &steps, |s| view.observe(s), now);
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
            let at = next_check(&progress, &steps);
            pass.next_check_ms = pass.next_check_ms.into_iter().chain(at).min();
            continue;
        }
        if !shares.fence(store, &lease, epoch).await {
            tracing::warn!(rollout = %id, "rollout lease no longer held: not deciding");
            continue;
        }
        if !store.record_decision(&tenant_id, &id, record.version, &steps, &decision, &joined).await? {
            tracing::debug!(rollout = %id, "rollout changed while deciding; deciding again");
        }
        // It moved: look again at once (the moves may allow more, e.g. the next wave).
        pass.next_check_ms = Some(now);
    }
    Ok(pass)
}
