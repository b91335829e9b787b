//! Rollouts as the pages show them: the plan before one starts, every cluster's step while
//! it runs, the timeline, and what the caller may do.

use flotilla_domain::rollout::{RolloutState, StepState, Strategy, Wave};
use serde::{Deserialize, Serialize};

/// What the upgrade form sends: the installs to move (all of one app), the version, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeInput {
    pub install_ids: Vec<String>,
    pub to_version_id: String,
    pub strategy: Strategy,
}

/// The waves an upgrade would go in, shown before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub waves: Vec<Wave>,
    pub clusters: usize,
}

/// A rollout as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutSummary {
    pub id: String,
    pub title: String,
    pub state: RolloutState,
    pub message: String,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// One cluster's step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub cluster_id: String,
    pub name: String,
    pub state: StepState,
    pub message: String,
    pub since: i64,
}

/// A wave with its clusters' steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveView {
    pub index: u32,
    pub label: String,
    pub steps: Vec<StepView>,
}

/// A line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: i64,
    pub cluster: Option<String>,
    pub state: String,
    pub message: String,
    pub actor: Option<String>,
}

/// One rollout, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutView {
    pub summary: RolloutSummary,
    pub current_wave: u32,
    pub strategy: Strategy,
    pub rollback_safe: bool,
    pub waves: Vec<WaveView>,
    /// Newest first.
    pub events: Vec<EventView>,
    /// The caller may act on it (edit rights wherever it moves things).
    pub can_act: bool,
    /// The server's clock when this was read (elapsed times are counted from it).
    pub now: i64,
}

impl RolloutView {
    fn steps(&self) -> impl Iterator<Item = &StepView> {
        self.waves.iter().flat_map(|w| &w.steps)
    }

    pub fn total(&self) -> usize {
        self.steps().count()
    }

    /// Clusters that need nothing more (done, skipped, rolled back).
    pub fn settled(&self) -> usize {
        self.steps().filter(|s| s.state.settled() && s.state != StepState::Failed).count()
    }

    pub fn count(&self, state: StepState) -> usize {
        self.steps().filter(|s| s.state == state).count()
    }

    /// Milliseconds since it started (until it ended).
    pub fn elapsed_ms(&self) -> i64 {
        self.summary.finished_at.unwrap_or(self.now) - self.summary.created_at
    }

    /// A guess at the time left, from the pace so far: `None` before any cluster settled,
    /// and while it is not running (paused, waiting for approval, ended).
    pub fn expected_left_ms(&self) -> Option<i64> {
        let settled = self.settled();
        if settled == 0 || self.summary.state != RolloutState::Running {
            return None;
        }
        let left = self.total().saturating_sub(settled) as i64;
        Some(self.elapsed_ms() / settled as i64 * left)
    }

    /// The actions the rollout's state allows, as (action, label).
    pub fn actions(&self) -> Vec<(&'static str, &'static str)> {
        match self.summary.state {
            RolloutState::Running => vec![("pause", "Pause"), ("abort", "Abort and roll back")],
            RolloutState::AwaitingApproval => {
                vec![("approve", "Approve next wave"), ("pause", "Pause"), ("abort", "Abort and roll back")]
            }
            RolloutState::Paused => vec![("resume", "Resume"), ("abort", "Abort and roll back")],
            RolloutState::Aborting | RolloutState::Succeeded | RolloutState::Aborted => Vec::new(),
        }
    }
}

/// `ms` as `1 h 02 min`, `3 min 05 s` or `12 s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(states: &[StepState], finished: bool) -> RolloutView {
        RolloutView {
            summary: RolloutSummary {
                id: "r".into(),
                title: "t".into(),
                state: if finished { RolloutState::Succeeded } else { RolloutState::Running },
                message: String::new(),
                created_by: "ana".into(),
                created_at: 0,
                finished_at: finished.then_some(90_000),
            },
            current_wave: 1,
            strategy: Strategy::default(),
            rollback_safe: true,
            waves: vec![WaveView {
                index: 1,
                label: "wave 1".into(),
                steps: states
                    .iter()
                    .enumerate()
                    .map(|(i, s)| StepView {
                        cluster_id: i.to_string(),
                        name: format!("c{i}"),
                        state: *s,
                        message: String::new(),
                        since: 0,
                    })
                    .collect(),
            }],
            events: Vec::new(),
            can_act: true,
            now: 60_000,
        }
    }

    #[test]
    fn progress_and_time_left_come_from_the_steps() {
        use StepState::*;
        let v = view(&[Done, Done, Updating, Pending], false);
        assert_eq!((v.settled(), v.total()), (2, 4));
        assert_eq!(v.expected_left_ms(), Some(60_000), "two more at 30 s each");
        assert_eq!(view(&[Pending], false).expected_left_ms(), None);
        let done = view(&[Done], true);
        assert_eq!(done.elapsed_ms(), 90_000);
        assert_eq!(done.expected_left_ms(), None);
        assert!(done.actions().is_empty());
        assert_eq!(duration(62_000), "1 min 02 s");
        assert_eq!(duration(3_720_000), "1 h 02 min");
    }
}
