//! Propagation status per (resource, cluster), KubeFed's codes, and workload health.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a resource stands in one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatusCode {
    /// Placed, not yet attempted (the worker has not reached it).
    Pending,
    /// The member accepted the rendered object and still holds it.
    Synced,
    /// The cluster cannot be reached; the resource will be applied when it can.
    ClusterNotReady,
    CreationFailed,
    UpdateFailed,
    DeletionFailed,
    /// An object of that name existed before and the resource does not adopt it.
    AlreadyExists,
    /// The cluster's overrides do not apply to the template.
    ApplyOverridesFailed,
    /// No longer placed (or deleted); removal from the member is under way.
    WaitingForRemoval,
    /// The namespace or CRD the object needs is not there yet.
    WaitingForDependency,
    CreationTimedOut,
    UpdateTimedOut,
    DeletionTimedOut,
    /// The cluster does not serve the object's kind (its API group or CRD is missing there,
    /// or the version is not served): its discovery says so. Retried, and picked up when
    /// the type appears.
    TypeNotServed,
    /// Flotilla refuses to write it as rendered for this cluster: its author was not cleared
    /// for it (`policy.rs`), it breaks the project's Pod Security level, or a stored selector
    /// or placement it depends on no longer parses (then it is left as it is, not removed).
    Refused,
}

impl StatusCode {
    pub const ALL: [StatusCode; 15] = [
        Self::Pending,
        Self::Synced,
        Self::ClusterNotReady,
        Self::CreationFailed,
        Self::UpdateFailed,
        Self::DeletionFailed,
        Self::AlreadyExists,
        Self::ApplyOverridesFailed,
        Self::WaitingForRemoval,
        Self::WaitingForDependency,
        Self::CreationTimedOut,
        Self::UpdateTimedOut,
        Self::DeletionTimedOut,
        Self::TypeNotServed,
        Self::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Synced => "Synced",
            Self::ClusterNotReady => "ClusterNotReady",
            Self::CreationFailed => "CreationFailed",
            Self::UpdateFailed => "UpdateFailed",
            Self::DeletionFailed => "DeletionFailed",
            Self::AlreadyExists => "AlreadyExists",
            Self::ApplyOverridesFailed => "ApplyOverridesFailed",
            Self::WaitingForRemoval => "WaitingForRemoval",
            Self::WaitingForDependency => "WaitingForDependency",
            Self::CreationTimedOut => "CreationTimedOut",
            Self::UpdateTimedOut => "UpdateTimedOut",
            Self::DeletionTimedOut => "DeletionTimedOut",
            Self::TypeNotServed => "TypeNotServed",
            Self::Refused => "Refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Failed outright (as opposed to waiting or done).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::CreationFailed
                | Self::UpdateFailed
                | Self::DeletionFailed
                | Self::AlreadyExists
                | Self::ApplyOverridesFailed
                | Self::CreationTimedOut
                | Self::UpdateTimedOut
                | Self::DeletionTimedOut
                | Self::TypeNotServed
                | Self::Refused
        )
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workload's rollout health in one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Health {
    Progressing,
    Healthy,
    Degraded,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Progressing => "Progressing",
            Self::Healthy => "Healthy",
            Self::Degraded => "Degraded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Progressing, Self::Healthy, Self::Degraded].into_iter().find(|h| h.as_str() == s)
    }
}

/// Health with its counts: `updated`/`ready` of `desired` replicas (pods for DaemonSets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadHealth {
    pub health: Health,
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
}

impl fmt::Display for WorkloadHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.health {
            Health::Healthy => write!(f, "Healthy {}/{}", self.ready, self.desired),
            h => write!(
                f,
                "{} {}/{} updated, {}/{} ready",
                h.as_str(),
                self.updated,
                self.desired,
                self.ready,
                self.desired
            ),
        }
    }
}

/// Reads a Deployment/StatefulSet/DaemonSet's health from its status as the member reports
/// it. `None` when the object is not a workload or has no status yet.
pub fn workload_health(object: &serde_json::Value) -> Option<WorkloadHealth> {
    let kind = object.get("kind")?.as_str()?;
    let status = object.get("status");
    let int = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_i64).unwrap_or(0) as i32;
    let st = |f: &str| int(status.and_then(|s| s.get(f)));
    let generation = object.pointer("/metadata/generation").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let observed = status.and_then(|s| s.get("observedGeneration")).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let (desired, updated, ready) = match kind {
        "Deployment" | "StatefulSet" => {
            let desired = object.pointer("/spec/replicas").map_or(1, |v| int(Some(v)));
            (desired, st("updatedReplicas"), st("readyReplicas"))
        }
        "DaemonSet" => (st("desiredNumberScheduled"), st("updatedNumberScheduled"), st("numberReady")),
        _ => return None,
    };
    let conditions = status.and_then(|s| s.get("conditions")).and_then(serde_json::Value::as_array);
    let deadline_exceeded = conditions.is_some_and(|cs| {
        cs.iter().any(|c| {
            c.get("type").and_then(|t| t.as_str()) == Some("Progressing")
                && c.get("reason").and_then(|r| r.as_str()) == Some("ProgressDeadlineExceeded")
        })
    });
    let health = if deadline_exceeded {
        Health::Degraded
    } else if observed >= generation && updated >= desired && ready >= desired {
        Health::Healthy
    } else {
        Health::Progressing
    };
    Some(WorkloadHealth { health, desired, updated, ready })
}

/// An object's health as the member reports it: a workload's from its replica counts
/// ([`workload_health`]); any other object's from its `Ready` condition, the convention of
/// controllers of custom resources (kstatus): `True` at the object's current generation is
/// healthy (1/1), anything else progressing (`updated` says whether the controller has seen
/// the current generation), and `Stalled=True` degraded. `None` when it has no such
/// condition (nothing to wait for).
pub fn object_health(object: &serde_json::Value) -> Option<WorkloadHealth> {
    if let Some(h) = workload_health(object) {
        return Some(h);
    }
    let conditions = object.pointer("/status/conditions")?.as_array()?;
    let condition = |kind: &str| conditions.iter().find(|c| c.get("type").and_then(|t| t.as_str()) == Some(kind));
    let is_true = |c: &serde_json::Value| c.get("status").and_then(|s| s.as_str()) == Some("True");
    let ready = condition("Ready")?;
    let generation = object.pointer("/metadata/generation").and_then(serde_json::Value::as_i64);
    let observed = ready
        .get("observedGeneration")
        .or_else(|| object.pointer("/status/observedGeneration"))
        .and_then(serde_json::Value::as_i64);
    let current = match (generation, observed) {
        (Some(g), Some(o)) => o >= g,
        _ => true, // a controller that does not say which generation it saw
    };
    let health = if condition("Stalled").is_some_and(is_true) {
        Health::Degraded
    } else if current && is_true(ready) {
        Health::Healthy
    } else {
        Health::Progressing
    };
    let ready = i32::from(current && is_true(ready));
    Some(WorkloadHealth { health, desired: 1, updated: i32::from(current), ready })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn codes_round_trip_through_text() {
        for c in StatusCode::ALL {
            assert_eq!(StatusCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(StatusCode::parse("Nope"), None);
        assert!(StatusCode::AlreadyExists.is_failure());
        assert!(!StatusCode::ClusterNotReady.is_failure());
    }

    #[test]
    fn custom_resources_report_health_by_their_ready_condition_at_the_current_generation() {
        let cr = |status: serde_json::Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 3}, "status": status});
        let ready = |s: &str, generation: i64| json!({"type": "Ready", "status": s, "observedGeneration": generation});
        let health = |o: serde_json::Value| object_health(&o).map(|h| h.to_string());
        assert_eq!(health(cr(json!({"conditions": [ready("True", 3)]}))).as_deref(), Some("Healthy 1/1"));
        // Ready, but for the generation before: not yet.
        assert_eq!(
            health(cr(json!({"conditions": [ready("True", 2)]}))).as_deref(),
            Some("Progressing 0/1 updated, 0/1 ready")
        );
        assert_eq!(
            health(cr(json!({"conditions": [ready("False", 3)]}))).as_deref(),
            Some("Progressing 1/1 updated, 0/1 ready")
        );
        // The generation may come from the status instead of the condition.
        let top = cr(json!({"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "True"}]}));
        assert_eq!(object_health(&top).unwrap().health, Health::Healthy);
        // kstatus: Stalled means the controller gave up.
        let stalled = cr(json!({"conditions": [ready("False", 3), {"type": "Stalled", "status": "True"}]}));
        assert_eq!(object_health(&stalled).unwrap().health, Health::Degraded);
        // No Ready condition (or no status): nothing to wait for.
        assert_eq!(object_health(&cr(json!({"conditions": [{"type": "Accepted", "status": "True"}]}))), None);
        assert_eq!(object_health(&json!({"kind": "Widget", "metadata": {}})), None);
        // Workloads keep their replica counts.
        let d = json!({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 2}});
        assert_eq!(object_health(&d).unwrap().to_string(), "Healthy 2/2");
    }

    #[test]
    fn deployment_health_from_status() {
        let mut d = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "updatedReplicas": 3, "readyReplicas": 3}});
        let h = workload_health(&d).unwrap();
        assert_eq!(h.health, Health::Healthy);
        assert_eq!(h.to_string(), "Healthy 3/3");
        d["status"]["readyReplicas"] = json!(1);
        d["status"]["updatedReplicas"] = json!(2);
        let h = workload_health(&d).unwrap();
        assert_eq!(h.health, Health::Progressing);
        assert_eq!(h.to_string(), "Progressing 2/3 updated, 1/3 ready");
        // A spec change the controller has not seen yet is progressing, whatever the counts.
        d["status"] = json!({"observedGeneration": 1, "updatedReplicas": 3, "readyReplicas": 3});
        assert_eq!(workload_health(&d).unwrap().health, Health::Progressing);
        d["status"]["conditions"] =
            json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
        assert_eq!(workload_health(&d).unwrap().health, Health::Degraded);
        assert!(workload_health(&json!({"kind": "ConfigMap"})).is_none());
    }

    #[test]
    fn daemonset_health_counts_scheduled_pods() {
        let ds = json!({"kind": "DaemonSet", "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 4, "updatedNumberScheduled": 4, "numberReady": 4}});
        assert_eq!(
            workload_health(&ds).unwrap(),
            WorkloadHealth { health: Health::Healthy, desired: 4, updated: 4, ready: 4 }
        );
    }
}
