//! How a running rollout moves, as a pure function: from the rollout's state, every
//! cluster's step and what each cluster shows now (healthy, progressing, degraded, at the
//! revision its step expects), the transitions to make. The driver persists them (each
//! decision in one transaction) and the engine follows: a cluster whose step is released
//! renders the new revision, every other cluster the stable one.
//!
//! A cluster's path: `Pending` → `Updating` (released; waiting for every workload of the
//! change to be healthy at the new revision) → `Soaking` (must stay healthy for the soak) →
//! `Done`. A cluster that does not become healthy within the progress deadline, or turns
//! degraded, fails: it goes `RollingBack` (held at the stable revision again) → `RolledBack`
//! once healthy there, or, when the version says rolling back is unsafe, stays `Failed` on
//! the new revision for a person to decide. A failure in the canary, or more failures than
//! the strategy tolerates, pauses the rollout.

use serde::{Deserialize, Serialize};

use super::{Approval, Strategy, WaveSize};

/// Where one cluster stands in a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepState {
    Pending,
    Updating,
    Soaking,
    Done,
    Failed,
    RollingBack,
    RolledBack,
    Skipped,
}

impl StepState {
    pub const ALL: [StepState; 8] = [
        Self::Pending,
        Self::Updating,
        Self::Soaking,
        Self::Done,
        Self::Failed,
        Self::RollingBack,
        Self::RolledBack,
        Self::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Updating => "Updating",
            Self::Soaking => "Soaking",
            Self::Done => "Done",
            Self::Failed => "Failed",
            Self::RollingBack => "RollingBack",
            Self::RolledBack => "RolledBack",
            Self::Skipped => "Skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the cluster renders the new revision (every other state holds it at the
    /// stable one).
    pub fn released(self) -> bool {
        matches!(self, Self::Updating | Self::Soaking | Self::Done | Self::Failed)
    }

    /// Whether its wave may move on past it.
    pub fn settled(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::RolledBack | Self::Skipped)
    }

    /// Counts against the strategy's failures.
    pub fn failed(self) -> bool {
        matches!(self, Self::Failed | Self::RollingBack | Self::RolledBack)
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "waiting",
            Self::Updating => "updating",
            Self::Soaking => "soaking",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::RollingBack => "rolling back",
            Self::RolledBack => "rolled back",
            Self::Skipped => "skipped",
        }
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RolloutState {
    Running,
    Paused,
    AwaitingApproval,
    /// Rolling every updated cluster back (in waves), then ending as `Aborted`.
    Aborting,
    Succeeded,
    Aborted,
}

impl RolloutState {
    pub const ALL: [RolloutState; 6] =
        [Self::Running, Self::Paused, Self::AwaitingApproval, Self::Aborting, Self::Succeeded, Self::Aborted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Paused => "Paused",
            Self::AwaitingApproval => "AwaitingApproval",
            Self::Aborting => "Aborting",
            Self::Succeeded => "Succeeded",
            Self::Aborted => "Aborted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Aborted)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::AwaitingApproval => "awaiting approval",
            Self::Aborting => "aborting",
            Self::Succeeded => "succeeded",
            Self::Aborted => "aborted",
        }
    }
}

/// One cluster's step as the decision reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub cluster_id: String,
    pub cluster_name: String,
    /// 0 is the canary.
    pub wave: u32,
    pub state: StepState,
    /// When it entered `state` (ms since the epoch).
    pub since_ms: i64,
    pub message: String,
}

/// What a cluster shows for the change, judged at the revision its step expects (the new one
/// when released, the stable one otherwise), never on a status older than that revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Healthy,
    /// Not there yet: not written, not observed by its controller, not all replicas updated
    /// and ready; or the cluster is unreachable. What is missing, for people.
    Progressing(String),
    /// It will not get there by itself (e.g. `ProgressDeadlineExceeded`, a refused write).
    Degraded(String),
}

/// The rollout as the decision reads it.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub state: RolloutState,
    pub current_wave: u32,
    pub strategy: &'a Strategy,
    pub rollback_safe: bool,
}

/// A step's new state, and why (shown on the rollout page and in its timeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepChange {
    pub index: usize,
    pub state: StepState,
    pub message: String,
}

/// What to persist; empty when nothing moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub steps: Vec<StepChange>,
    pub state: Option<(RolloutState, String)>,
    pub current_wave: Option<u32>,
}

impl Decision {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.state.is_none() && self.current_wave.is_none()
    }
}

impl Strategy {
    /// The progress deadline in milliseconds (it counts once exceeded).
    fn deadline_ms(&self) -> i64 {
        i64::from(self.progress_deadline_seconds) * 1000
    }

    /// The soak in milliseconds.
    fn soak_ms(&self) -> i64 {
        i64::from(self.soak_seconds) * 1000
    }

    /// How many clusters may roll back at once when a rollout is aborted: a wave's size.
    pub fn batch(&self, total: usize) -> usize {
        match self.wave_size {
            WaveSize::Clusters(n) => n as usize,
            WaveSize::Percent(p) => (total * usize::from(p)).div_ceil(100),
        }
        .max(1)
    }
}

/// Decides the next transitions of a rollout at `now_ms`. `observe` is asked only about
/// clusters whose step waits on something.
pub fn decide(p: &Progress<'_>, steps: &[Step], mut observe: impl FnMut(&Step) -> Observed, now_ms: i64) -> Decision {
    let mut d = Decision::default();
    if p.state.finished() {
        return d;
    }
    let mut states: Vec<StepState> = steps.iter().map(|s| s.state).collect();
    let (deadline_ms, soak_ms) = (p.strategy.deadline_ms(), p.strategy.soak_ms());
    let mut set = |d: &mut Decision, states: &mut Vec<StepState>, index: usize, state: StepState, message: String| {
        states[index] = state;
        d.steps.retain(|c| c.index != index);
        d.steps.push(StepChange { index, state, message });
    };
    let failed_to = if p.rollback_safe { StepState::RollingBack } else { StepState::Failed };
    let mut new_failures: Vec<(usize, String)> = Vec::new();

    // What the clusters in flight show.
    for (i, step) in steps.iter().enumerate() {
        let waited = now_ms - step.since_ms;
        match step.state {
            StepState::Updating => match observe(step) {
                Observed::Healthy if soak_ms == 0 => {
                    set(&mut d, &mut states, i, StepState::Done, "healthy on the new revision".into());
                }
                Observed::Healthy => {
                    let m = format!("healthy on the new revision; soaking {} s", p.strategy.soak_seconds);
                    set(&mut d, &mut states, i, StepState::Soaking, m);
                }
                Observed::Degraded(why) => new_failures.push((i, why)),
                Observed::Progressing(why) if waited > deadline_ms => new_failures.push((
                    i,
                    format!(
                        "not healthy within the progress deadline ({} s): {why}",
                        p.strategy.progress_deadline_seconds
                    ),
                )),
                Observed::Progressing(_) => {}
            },
            StepState::Soaking => match observe(step) {
                Observed::Healthy if waited >= soak_ms => {
                    set(&mut d, &mut states, i, StepState::Done, "stayed healthy through the soak".into());
                }
                Observed::Healthy => {}
                Observed::Progressing(why) | Observed::Degraded(why) => {
                    new_failures.push((i, format!("unhealthy while soaking: {why}")));
                }
            },
            StepState::RollingBack => match observe(step) {
                Observed::Healthy => {
                    set(&mut d, &mut states, i, StepState::RolledBack, "back on the previous revision, healthy".into());
                }
                Observed::Progressing(why) | Observed::Degraded(why) if waited > deadline_ms => {
                    let m = format!("the previous revision is not healthy again either: {why}");
                    if step.message != m {
                        set(&mut d, &mut states, i, StepState::RollingBack, m);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    for (i, why) in &new_failures {
        let suffix = match (p.rollback_safe, p.state) {
            (true, _) | (false, RolloutState::Aborting) => "; rolling back",
            (false, _) => "; this version cannot be rolled back safely: decide (retry, skip or abort)",
        };
        let to = if p.state == RolloutState::Aborting { StepState::RollingBack } else { failed_to };
        set(&mut d, &mut states, *i, to, format!("{why}{suffix}"));
    }

    match p.state {
        RolloutState::Aborting => abort_moves(p, steps, &mut states, &mut d, &mut set),
        RolloutState::Running | RolloutState::Paused | RolloutState::AwaitingApproval => {
            if let Some((i, why)) = new_failures.first() {
                let failures = states.iter().filter(|s| s.failed()).count();
                let canary = steps[*i].wave == 0;
                if canary || failures > p.strategy.max_failures as usize {
                    let what = if canary { "the canary" } else { "a cluster" };
                    let m = format!("paused: {what} {} failed: {why}", steps[*i].cluster_name);
                    d.state = Some((RolloutState::Paused, m));
                    return d;
                }
            }
            if p.state == RolloutState::Running {
                wave_moves(p, steps, &mut states, &mut d, &mut set);
            }
        }
        RolloutState::Succeeded | RolloutState::Aborted => {}
    }
    d
}

/// The next moment at which time alone could change a decision on `steps`: a soak that ends
/// or a progress deadline that passes. Everything else moves when a cluster's status does,
/// so a driver looks again at this moment or when a status changes, whichever comes first.
pub fn next_check(p: &Progress<'_>, steps: &[Step]) -> Option<i64> {
    if p.state.finished() {
        return None;
    }
    let (deadline_ms, soak_ms) = (p.strategy.deadline_ms(), p.strategy.soak_ms());
    steps
        .iter()
        .filter_map(|s| match s.state {
            StepState::Soaking => Some(s.since_ms + soak_ms),
            // The deadline counts once exceeded (`waited > deadline`).
            StepState::Updating | StepState::RollingBack => Some(s.since_ms + deadline_ms + 1),
            _ => None,
        })
        .min()
}

type Set<'s> = dyn FnMut(&mut Decision, &mut Vec<StepState>, usize, StepState, String) + 's;

/// Releases the current wave, and moves to the next wave (or asks for approval, or ends)
/// once every cluster of the current one has settled.
fn wave_moves(p: &Progress<'_>, steps: &[Step], states: &mut Vec<StepState>, d: &mut Decision, set: &mut Set<'_>) {
    let mut wave = p.current_wave;
    loop {
        for (i, step) in steps.iter().enumerate() {
            if step.wave == wave && states[i] == StepState::Pending {
                set(d, states, i, StepState::Updating, "updating to the new revision".into());
            }
        }
        let settled = steps.iter().enumerate().filter(|(_, s)| s.wave == wave).all(|(i, _)| states[i].settled());
        if !settled {
            break;
        }
        // Nothing goes past a canary that failed: a person retries it, skips it or aborts.
        if let Some(i) = (0..steps.len()).find(|i| steps[*i].wave == 0 && wave == 0 && states[*i].failed()) {
            let m = format!("paused: the canary {} failed: retry it, skip it, or abort", steps[i].cluster_name);
            d.state = Some((RolloutState::Paused, m));
            break;
        }
        let Some(next) = steps.iter().map(|s| s.wave).filter(|w| *w > wave).min() else {
            // Ending would lift the hold and give the new revision to clusters that failed on
            // it: a person decides for them first (retry, skip: take it anyway, or abort).
            let failed: Vec<&str> =
                (0..steps.len()).filter(|i| states[*i].failed()).map(|i| steps[i].cluster_name.as_str()).collect();
            if !failed.is_empty() {
                let m = format!(
                    "paused: every wave is through, but {} failed ({}): retry, skip (they take the new revision) or abort",
                    if failed.len() == 1 { "1 cluster".to_owned() } else { format!("{} clusters", failed.len()) },
                    failed.join(", ")
                );
                d.state = Some((RolloutState::Paused, m));
                break;
            }
            let done = states.iter().filter(|s| **s == StepState::Done).count();
            let m = format!("{done} of {} clusters updated", steps.len());
            d.state = Some((RolloutState::Succeeded, m));
            break;
        };
        wave = next;
        d.current_wave = Some(next);
        let ask = match p.strategy.approval {
            Approval::Never => false,
            Approval::AfterCanary => next == 1 && steps.iter().any(|s| s.wave == 0),
            Approval::BetweenWaves => true,
        };
        if ask {
            let m = format!("wave {} is ready: approve to go on", next);
            d.state = Some((RolloutState::AwaitingApproval, m));
            break;
        }
    }
}

/// Holds every released cluster at the stable revision again, at most a wave's size of them
/// rolling back at once; ends the rollout once none is released or rolling back.
fn abort_moves(p: &Progress<'_>, steps: &[Step], states: &mut Vec<StepState>, d: &mut Decision, set: &mut Set<'_>) {
    let batch = p.strategy.batch(steps.len());
    let mut rolling = states.iter().filter(|s| **s == StepState::RollingBack).count();
    for i in 0..steps.len() {
        if rolling >= batch {
            break;
        }
        if states[i].released() {
            set(d, states, i, StepState::RollingBack, "aborted: rolling back".into());
            rolling += 1;
        }
    }
    if !states.iter().any(|s| s.released() || *s == StepState::RollingBack) {
        let back = states.iter().filter(|s| **s == StepState::RolledBack).count();
        d.state = Some((RolloutState::Aborted, format!("aborted; {back} clusters rolled back")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollout::Canary;

    fn steps(waves: &[u32]) -> Vec<Step> {
        waves
            .iter()
            .enumerate()
            .map(|(i, w)| Step {
                cluster_id: format!("id{i}"),
                cluster_name: format!("c{i}"),
                wave: *w,
                state: StepState::Pending,
                since_ms: 0,
                message: String::new(),
            })
            .collect()
    }

    fn apply(steps: &mut [Step], d: &Decision, now: i64) {
        for c in &d.steps {
            steps[c.index].state = c.state;
            steps[c.index].since_ms = now;
            steps[c.index].message = c.message.clone();
        }
    }

    fn strategy() -> Strategy {
        Strategy { soak_seconds: 10, progress_deadline_seconds: 60, ..Strategy::default() }
    }

    fn states(steps: &[Step]) -> Vec<StepState> {
        steps.iter().map(|s| s.state).collect()
    }

    use StepState::*;

    #[test]
    fn the_next_check_is_the_first_soak_to_end_or_deadline_to_pass() {
        let s = strategy(); // soak 10 s, deadline 60 s
        let mut st = steps(&[0, 1, 1, 2]);
        let p = Progress { state: RolloutState::Running, current_wave: 1, strategy: &s, rollback_safe: true };
        assert_eq!(next_check(&p, &st), None, "nothing in flight: only a status can move it");
        st[0].state = Done;
        st[1].state = Soaking;
        st[1].since_ms = 5_000;
        st[2].state = Updating;
        st[2].since_ms = 1_000;
        assert_eq!(next_check(&p, &st), Some(15_000));
        st[1].state = Done;
        assert_eq!(next_check(&p, &st), Some(61_001));
        // The decision agrees: nothing at the deadline, a failure just past it.
        let progressing = |_: &Step| Observed::Progressing("0/2 ready".into());
        assert!(decide(&p, &st, progressing, 61_000).steps.is_empty());
        assert_eq!(decide(&p, &st, progressing, 61_001).steps[0].state, RollingBack);
        let finished = Progress { state: RolloutState::Succeeded, ..p };
        assert_eq!(next_check(&finished, &st), None);
    }

    #[test]
    fn a_healthy_rollout_goes_wave_by_wave_through_soak_to_success() {
        let s = strategy();
        let mut st = steps(&[0, 1, 1, 2]);
        let mut p = Progress { state: RolloutState::Running, current_wave: 0, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        assert_eq!(d.steps.len(), 1, "only the canary is released: {d:?}");
        apply(&mut st, &d, 0);
        assert_eq!(states(&st), [Updating, Pending, Pending, Pending]);
        // Progressing keeps it updating; healthy starts the soak; the soak must pass.
        assert!(decide(&p, &st, |_| Observed::Progressing("1/3 ready".into()), 5_000).is_empty());
        let d = decide(&p, &st, |_| Observed::Healthy, 6_000);
        apply(&mut st, &d, 6_000);
        assert_eq!(st[0].state, Soaking);
        assert!(decide(&p, &st, |_| Observed::Healthy, 15_000).is_empty(), "soak not over");
        let d = decide(&p, &st, |_| Observed::Healthy, 16_000);
        assert_eq!(d.current_wave, Some(1));
        apply(&mut st, &d, 16_000);
        assert_eq!(states(&st), [Done, Updating, Updating, Pending], "the next wave released at once");
        p.current_wave = 1;
        let d = decide(&p, &st, |_| Observed::Healthy, 17_000);
        apply(&mut st, &d, 17_000);
        let d = decide(&p, &st, |_| Observed::Healthy, 27_000);
        apply(&mut st, &d, 27_000);
        p.current_wave = 2;
        let d = decide(&p, &st, |_| Observed::Healthy, 28_000);
        apply(&mut st, &d, 28_000);
        let d = decide(&p, &st, |_| Observed::Healthy, 38_000);
        assert_eq!(d.state.as_ref().map(|s| s.0), Some(RolloutState::Succeeded), "{d:?}");
    }

    #[test]
    fn a_failing_canary_pauses_and_rolls_back_and_nothing_else_is_released() {
        let s = strategy();
        let mut st = steps(&[0, 1, 1]);
        let p = Progress { state: RolloutState::Running, current_wave: 0, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        apply(&mut st, &d, 0);
        let d = decide(&p, &st, |_| Observed::Progressing("0/3 ready".into()), 61_000);
        assert_eq!(d.steps, [StepChange { index: 0, state: RollingBack, message: d.steps[0].message.clone() }]);
        assert!(d.steps[0].message.contains("progress deadline (60 s): 0/3 ready"), "{}", d.steps[0].message);
        let (state, why) = d.state.clone().unwrap();
        assert_eq!(state, RolloutState::Paused);
        assert!(why.contains("the canary c0 failed"), "{why}");
        apply(&mut st, &d, 61_000);
        let paused = Progress { state: RolloutState::Paused, ..p };
        let d = decide(&paused, &st, |_| Observed::Healthy, 62_000);
        assert_eq!(d.steps[0].state, RolledBack);
        apply(&mut st, &d, 62_000);
        assert_eq!(states(&st), [RolledBack, Pending, Pending]);
        assert!(decide(&paused, &st, |_| Observed::Healthy, 99_000).is_empty(), "paused: nothing moves");
    }

    #[test]
    fn resuming_after_a_failed_canary_does_not_go_on_until_it_is_retried_or_skipped() {
        let s = strategy();
        let mut st = steps(&[0, 1]);
        st[0].state = RolledBack;
        let p = Progress { state: RolloutState::Running, current_wave: 0, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        assert_eq!(d.state.as_ref().map(|s| s.0), Some(RolloutState::Paused), "{d:?}");
        assert!(d.steps.is_empty() && d.current_wave.is_none(), "nothing released: {d:?}");
        st[0].state = Skipped;
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        assert_eq!(d.current_wave, Some(1), "a skipped canary lets it go on");
    }

    #[test]
    fn an_unsafe_rollback_leaves_the_cluster_failed_and_asks() {
        let s = strategy();
        let mut st = steps(&[0, 1]);
        let p = Progress { state: RolloutState::Running, current_wave: 0, strategy: &s, rollback_safe: false };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        apply(&mut st, &d, 0);
        let d = decide(&p, &st, |_| Observed::Degraded("ProgressDeadlineExceeded".into()), 1_000);
        assert_eq!(d.steps[0].state, Failed);
        assert!(d.steps[0].message.contains("cannot be rolled back safely"));
        assert_eq!(d.state.unwrap().0, RolloutState::Paused);
    }

    #[test]
    fn failures_within_the_tolerance_roll_back_and_the_rollout_goes_on() {
        let s = Strategy { canary: Canary::None, max_failures: 1, wave_size: WaveSize::Clusters(2), ..strategy() };
        let mut st = steps(&[1, 1, 2]);
        let p = Progress { state: RolloutState::Running, current_wave: 1, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        apply(&mut st, &d, 0);
        let d = decide(
            &p,
            &st,
            |s| {
                if s.wave == 1 && s.cluster_name == "c0" { Observed::Degraded("bad".into()) } else { Observed::Healthy }
            },
            1_000,
        );
        assert!(d.state.is_none(), "one failure is tolerated: {d:?}");
        apply(&mut st, &d, 1_000);
        assert_eq!(states(&st), [RollingBack, Soaking, Pending]);
        let d = decide(&p, &st, |_| Observed::Healthy, 2_000);
        apply(&mut st, &d, 2_000);
        let d = decide(&p, &st, |_| Observed::Healthy, 12_000);
        assert_eq!(d.current_wave, Some(2));
        apply(&mut st, &d, 12_000);
        assert_eq!(states(&st), [RolledBack, Done, Updating]);
        // The last wave through: it does not end while a cluster is rolled back.
        let p2 = Progress { current_wave: 2, ..p.clone() };
        let d = decide(&p2, &st, |_| Observed::Healthy, 13_000);
        apply(&mut st, &d, 13_000);
        let d = decide(&p2, &st, |_| Observed::Healthy, 23_000);
        let (state, why) = d.state.unwrap();
        assert_eq!(state, RolloutState::Paused);
        assert!(why.contains("1 cluster failed (c0)"), "{why}");
        st[0].state = Skipped;
        let d = decide(&p2, &st, |_| Observed::Healthy, 24_000);
        assert_eq!(d.state.unwrap().0, RolloutState::Succeeded);
    }

    #[test]
    fn approval_after_the_canary_waits_for_a_person() {
        let s = Strategy { soak_seconds: 0, approval: Approval::AfterCanary, ..strategy() };
        let mut st = steps(&[0, 1]);
        let p = Progress { state: RolloutState::Running, current_wave: 0, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Healthy, 0);
        apply(&mut st, &d, 0);
        let d = decide(&p, &st, |_| Observed::Healthy, 1_000);
        assert_eq!(d.state.as_ref().unwrap().0, RolloutState::AwaitingApproval);
        assert_eq!(d.current_wave, Some(1));
        apply(&mut st, &d, 1_000);
        assert_eq!(st[1].state, Pending, "nothing released before approval");
        let waiting = Progress { state: RolloutState::AwaitingApproval, current_wave: 1, ..p.clone() };
        assert!(decide(&waiting, &st, |_| Observed::Healthy, 2_000).is_empty());
        let approved = Progress { state: RolloutState::Running, current_wave: 1, ..p };
        let d = decide(&approved, &st, |_| Observed::Healthy, 3_000);
        assert_eq!(d.steps[0].state, Updating);
    }

    #[test]
    fn abort_rolls_back_in_batches_then_ends() {
        let s = Strategy { wave_size: WaveSize::Clusters(2), ..strategy() };
        let mut st = steps(&[1, 1, 1, 2]);
        for step in &mut st[..3] {
            step.state = Done;
        }
        let p = Progress { state: RolloutState::Aborting, current_wave: 1, strategy: &s, rollback_safe: true };
        let d = decide(&p, &st, |_| Observed::Progressing("rolling".into()), 0);
        apply(&mut st, &d, 0);
        assert_eq!(states(&st), [RollingBack, RollingBack, Done, Pending], "two at a time");
        let d = decide(&p, &st, |_| Observed::Healthy, 1_000);
        apply(&mut st, &d, 1_000);
        assert_eq!(states(&st), [RolledBack, RolledBack, RollingBack, Pending]);
        let d = decide(&p, &st, |_| Observed::Healthy, 2_000);
        assert_eq!(d.state.unwrap().0, RolloutState::Aborted);
    }

    #[test]
    fn states_round_trip_through_text() {
        for s in StepState::ALL {
            assert_eq!(StepState::parse(s.as_str()), Some(s));
        }
        for s in RolloutState::ALL {
            assert_eq!(RolloutState::parse(s.as_str()), Some(s));
        }
    }
}
