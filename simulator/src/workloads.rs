//! Workloads roll out over time. After every spec change a Deployment, StatefulSet or
//! DaemonSet moves its status toward the spec one pod per tick. Pods whose image matches the
//! "broken" pattern never become ready: the rollout stalls with the old pods still serving
//! and, after the progress deadline, reports `ProgressDeadlineExceeded`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::kinds::{ResourceType, Workload};
use crate::state::now_rfc3339;

/// Where a rollout started, kept beside the object (real clusters keep it in ReplicaSets).
#[derive(Debug, Clone, Copy)]
pub struct RolloutStart {
    pub at: Instant,
    pub generation: i64,
    /// Ready pods of the previous revision when the rollout began.
    pub old_ready: u64,
}

/// How workloads behave.
#[derive(Debug, Clone)]
pub struct WorkloadSettings {
    /// An image containing this (or any of several, comma-separated) never becomes ready.
    pub broken_image_pattern: String,
    /// After this long without finishing, a rollout reports ProgressDeadlineExceeded.
    pub progress_deadline: Duration,
    /// Nodes per cluster (DaemonSets run one pod on each).
    pub nodes: u64,
}

impl Default for WorkloadSettings {
    fn default() -> Self {
        Self { broken_image_pattern: "broken".into(), progress_deadline: Duration::from_secs(30), nodes: 3 }
    }
}

fn desired(kind: Workload, obj: &Value, settings: &WorkloadSettings) -> u64 {
    match kind {
        Workload::DaemonSet => settings.nodes,
        _ => obj["spec"]["replicas"].as_u64().unwrap_or(1),
    }
}

fn is_broken(obj: &Value, settings: &WorkloadSettings) -> bool {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(obj["spec"]["template"]["spec"]["initContainers"].as_array().into_iter().flatten())
        .any(|c| {
            c["image"].as_str().is_some_and(|image| {
                settings.broken_image_pattern.split(',').map(str::trim).any(|p| !p.is_empty() && image.contains(p))
            })
        })
}

/// Whether the workload's status has caught up with its spec (nothing left to simulate).
pub fn is_settled(ty: &ResourceType, obj: &Value) -> bool {
    let Some(kind) = ty.workload else { return true };
    let status = &obj["status"];
    if status["observedGeneration"] != obj["metadata"]["generation"] {
        return false;
    }
    if kind == Workload::Deployment
        && status["conditions"].as_array().is_some_and(|cs| {
            cs.iter().any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
        })
    {
        return true;
    }
    let (want, ready, updated) = match kind {
        Workload::DaemonSet => (
            status["desiredNumberScheduled"].as_u64(),
            status["numberReady"].as_u64(),
            status["updatedNumberScheduled"].as_u64(),
        ),
        _ => (obj["spec"]["replicas"].as_u64(), status["readyReplicas"].as_u64(), status["updatedReplicas"].as_u64()),
    };
    let want = want.unwrap_or(1);
    let total_ok = match kind {
        Workload::DaemonSet => true,
        _ => status["replicas"].as_u64().unwrap_or(0) == want,
    };
    ready.unwrap_or(0) == want && updated.unwrap_or(0) == want && total_ok
}

/// The next status of a workload that is not settled, one tick on. `start` is the rollout's
/// record (created here when a new generation is first seen). Returns the new status and
/// whether the workload is now settled.
pub fn advance(
    ty: &ResourceType,
    obj: &Value,
    start: &mut Option<RolloutStart>,
    settings: &WorkloadSettings,
) -> (Value, bool) {
    let Some(kind) = ty.workload else { return (obj["status"].clone(), true) };
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let status = &obj["status"];
    let want = desired(kind, obj, settings);
    let prev_ready = match kind {
        Workload::DaemonSet => status["numberReady"].as_u64(),
        _ => status["readyReplicas"].as_u64(),
    }
    .unwrap_or(0);
    let prev_updated = match kind {
        Workload::DaemonSet => status["updatedNumberScheduled"].as_u64(),
        _ => status["updatedReplicas"].as_u64(),
    }
    .unwrap_or(0);

    let (rollout, new_rollout) = match *start {
        Some(s) if s.generation == generation => (s, false),
        _ => (RolloutStart { at: Instant::now(), generation, old_ready: prev_ready.min(want) }, true),
    };
    *start = Some(rollout);
    // Pods of the new revision created so far, and those ready.
    let updated_before = if new_rollout { 0 } else { prev_updated };
    let broken = is_broken(obj, settings);
    let (updated, ready, old_ready) = if broken {
        // The controller stops after the first surge/unavailable budget: new pods never become
        // ready, the old ones keep serving minus what may be unavailable.
        let budget = match kind {
            Workload::Deployment => want.div_ceil(4).max(1),
            Workload::StatefulSet | Workload::DaemonSet => 1.min(want),
        };
        let updated = (updated_before + 1).min(budget);
        let unavailable = match kind {
            Workload::Deployment => want / 4,
            _ => updated,
        };
        let old = rollout.old_ready.saturating_sub(unavailable);
        (updated, old, old)
    } else {
        let updated = (updated_before + 1).min(want);
        let old = rollout.old_ready.min(want - updated);
        (updated, updated + old, old)
    };
    let timed_out = broken && rollout.at.elapsed() >= settings.progress_deadline;
    let done = !broken && updated == want && ready == want;
    let now = now_rfc3339();

    let new_status = match kind {
        Workload::Deployment => {
            let available = ready >= want.saturating_sub(want / 4);
            let (p_status, p_reason, p_message) = if done {
                (
                    "True",
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{}\" has successfully progressed.", rs_name(obj)),
                )
            } else if timed_out {
                (
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{}\" has timed out progressing.", rs_name(obj)),
                )
            } else {
                ("True", "ReplicaSetUpdated", format!("ReplicaSet \"{}\" is progressing.", rs_name(obj)))
            };
            json!({
                "observedGeneration": generation,
                "replicas": updated + old_ready,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": want.saturating_sub(ready),
                "conditions": [
                    {"type": "Available", "status": if available { "True" } else { "False" },
                     "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                     "message": if available { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
                     "lastUpdateTime": now, "lastTransitionTime": now},
                    {"type": "Progressing", "status": p_status, "reason": p_reason, "message": p_message,
                     "lastUpdateTime": now, "lastTransitionTime": now},
                ],
            })
        }
        Workload::StatefulSet => json!({
            "observedGeneration": generation,
            "replicas": updated + old_ready,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": if done { want } else { old_ready },
            "updatedReplicas": updated,
            "currentRevision": if done { revision_name(obj, generation) } else { revision_name(obj, rollout.generation - 1) },
            "updateRevision": revision_name(obj, generation),
        }),
        Workload::DaemonSet => json!({
            "observedGeneration": generation,
            "desiredNumberScheduled": want,
            "currentNumberScheduled": want,
            "updatedNumberScheduled": updated,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": want.saturating_sub(ready),
            "numberMisscheduled": 0,
        }),
    };
    (new_status, done || timed_out)
}

fn rs_name(obj: &Value) -> String {
    revision_name(obj, obj["metadata"]["generation"].as_i64().unwrap_or(1))
}

fn revision_name(obj: &Value, generation: i64) -> String {
    format!("{}-{:x}", obj["metadata"]["name"].as_str().unwrap_or("app"), generation.max(0) * 0x5f3759 % 0xfffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::builtin;

    fn deploy(image: &str, replicas: u64, generation: i64) -> Value {
        json!({"metadata": {"name": "kafka", "generation": generation}, "spec": {"replicas": replicas,
            "template": {"spec": {"containers": [{"name": "k", "image": image}]}}}, "status": {}})
    }

    fn run(ty: &ResourceType, mut obj: Value, settings: &WorkloadSettings, ticks: usize) -> (Value, bool) {
        let mut start = None;
        let mut settled = false;
        for _ in 0..ticks {
            let (status, s) = advance(ty, &obj, &mut start, settings);
            obj["status"] = status;
            settled = s;
            if s {
                break;
            }
        }
        (obj, settled)
    }

    #[test]
    fn a_healthy_deployment_becomes_ready_one_pod_at_a_time() {
        let ty = builtin().into_iter().find(|t| t.kind == "Deployment").unwrap();
        let settings = WorkloadSettings::default();
        let (obj, settled) = run(&ty, deploy("kafka:3.7", 3, 1), &settings, 2);
        assert!(!settled);
        assert_eq!(obj["status"]["readyReplicas"], 2);
        let (obj, settled) = run(&ty, deploy("kafka:3.7", 3, 1), &settings, 10);
        assert!(settled);
        assert_eq!(obj["status"]["readyReplicas"], 3);
        assert_eq!(obj["status"]["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert!(is_settled(&ty, &obj));
    }

    #[test]
    fn a_broken_image_never_becomes_ready_and_times_out() {
        let ty = builtin().into_iter().find(|t| t.kind == "Deployment").unwrap();
        let settings = WorkloadSettings { progress_deadline: Duration::ZERO, ..Default::default() };
        let (obj, settled) = run(&ty, deploy("kafka:3.8.1-broken", 1, 1), &settings, 20);
        assert!(settled, "stops being simulated once the deadline passed");
        assert_eq!(obj["status"]["readyReplicas"], 0);
        assert_eq!(obj["status"]["conditions"][1]["reason"], "ProgressDeadlineExceeded");
        assert!(is_settled(&ty, &obj));
    }

    #[test]
    fn an_upgrade_to_a_broken_image_keeps_the_old_pods_serving() {
        let ty = builtin().into_iter().find(|t| t.kind == "Deployment").unwrap();
        let settings = WorkloadSettings { progress_deadline: Duration::from_secs(3600), ..Default::default() };
        let (healthy, _) = run(&ty, deploy("kafka:3.7", 4, 1), &settings, 10);
        let mut upgraded = deploy("kafka:3.8.1-broken", 4, 2);
        upgraded["status"] = healthy["status"].clone();
        let (obj, settled) = run(&ty, upgraded, &settings, 10);
        assert!(!settled);
        assert_eq!(obj["status"]["readyReplicas"], 3, "one old pod may be unavailable");
        assert_eq!(obj["status"]["updatedReplicas"], 1);
        assert_eq!(obj["status"]["observedGeneration"], 2);
    }

    #[test]
    fn daemonsets_run_on_every_node() {
        let ty = builtin().into_iter().find(|t| t.kind == "DaemonSet").unwrap();
        let (obj, settled) = run(&ty, deploy("agent:1", 1, 1), &WorkloadSettings::default(), 10);
        assert!(settled);
        assert_eq!(obj["status"]["numberReady"], 3);
        assert_eq!(obj["status"]["desiredNumberScheduled"], 3);
    }
}
