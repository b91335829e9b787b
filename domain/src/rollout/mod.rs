//! Rollout plans: how a change moves across clusters. Canary clusters first (named, or by a
//! selector), then waves of at most N (or N %) clusters, optionally one label value per wave
//! (region by region) and in an order given by selectors (`tier=2` before `tier=1`). Pure and
//! deterministic: the same strategy and clusters give the same plan, which the rollout page
//! shows before anything starts and the driver then follows.
//!
//! The anchors are OCM's rollout strategies (progressive per group, max concurrency), Fleet's
//! partitions, Argo CD's progressive syncs (RollingSync steps by label) and KubeFleet's staged
//! update runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, LabelSelector, Result};

mod progress;

pub use progress::{Decision, Observed, Progress, RolloutState, Step, StepChange, StepState, decide, next_check};

/// Which clusters go first, alone, with no failure tolerated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum Canary {
    /// No canary: the first wave starts at once.
    None,
    /// These clusters, by name.
    Names(Vec<String>),
    /// The clusters a label selector matches.
    Selector(String),
    /// The first cluster in the rollout's order (the default).
    First,
}

/// How many clusters one wave may update at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "value")]
pub enum WaveSize {
    Clusters(u32),
    /// A share of the clusters after the canary, rounded up.
    Percent(u8),
}

/// When a person must approve before the rollout goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    #[default]
    Never,
    AfterCanary,
    BetweenWaves,
}

/// How a rollout moves, with defaults sensible for a fleet of about fifty clusters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Strategy {
    pub canary: Canary,
    pub wave_size: WaveSize,
    /// A label key: each wave holds clusters of one value of it (e.g. `region`).
    pub wave_per: Option<String>,
    /// Label selectors giving the order: clusters the first matches go first, then those the
    /// second matches, …; the rest last. Within that, by `wave_per` value, then by name.
    pub order: Vec<String>,
    /// How long a cluster must stay healthy on the new revision to count as done.
    pub soak_seconds: u32,
    /// How long a cluster has to become healthy before it counts as failed.
    pub progress_deadline_seconds: u32,
    /// Failed clusters tolerated outside the canary before the rollout pauses.
    pub max_failures: u32,
    pub approval: Approval,
}

impl Default for Strategy {
    fn default() -> Self {
        Self {
            canary: Canary::First,
            wave_size: WaveSize::Percent(25),
            wave_per: None,
            order: Vec::new(),
            soak_seconds: 30,
            progress_deadline_seconds: 600,
            max_failures: 0,
            approval: Approval::Never,
        }
    }
}

/// The longest soak or deadline a strategy may ask for (a day).
pub const MAX_WAIT_SECONDS: u32 = 86_400;

/// A cluster as planning sees it.
#[derive(Debug, Clone, Copy)]
pub struct PlanCluster<'a> {
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

/// One wave of a plan: 0 is the canary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    pub index: u32,
    /// `canary`, `wave 3`, or `wave 3 · region=eu`.
    pub label: String,
    pub clusters: Vec<String>,
}

impl Strategy {
    /// Checks the strategy on its own (the clusters are checked by [`plan`]).
    pub fn check(&self) -> Result<()> {
        let invalid = |reason: String| Error::invalid("strategy", reason);
        match self.wave_size {
            WaveSize::Clusters(0) => return Err(invalid("a wave holds at least one cluster".into())),
            WaveSize::Percent(p) if p == 0 || p > 100 => {
                return Err(invalid("a wave's share is between 1 and 100 %".into()));
            }
            _ => {}
        }
        if let Some(key) = &self.wave_per {
            let one_key = LabelSelector::parse(key).map(|s| s.to_string() == key.trim()).unwrap_or(false);
            if !one_key || key.trim().is_empty() || key.contains([',', '=', '!', '(', ' ']) {
                return Err(invalid(format!("`{key}` is not a label key")));
            }
        }
        for (i, selector) in self.order.iter().enumerate() {
            LabelSelector::parse(selector).map_err(|e| invalid(format!("order {}: {}", i + 1, e.reason())))?;
        }
        if let Canary::Selector(s) = &self.canary {
            LabelSelector::parse(s).map_err(|e| invalid(format!("canary: {}", e.reason())))?;
        }
        for (what, seconds) in [("soak", self.soak_seconds), ("progress deadline", self.progress_deadline_seconds)] {
            if seconds > MAX_WAIT_SECONDS {
                return Err(invalid(format!("the {what} is at most a day ({MAX_WAIT_SECONDS} s)")));
            }
        }
        if self.progress_deadline_seconds == 0 {
            return Err(invalid("the progress deadline must be at least a second".into()));
        }
        Ok(())
    }
}

/// Plans waves over `clusters` (any order; the plan sorts them). Every cluster is in exactly
/// one wave. Errors name what does not fit (a canary cluster that is not among them, a
/// canary selector that matches none).
pub fn plan(strategy: &Strategy, clusters: &[PlanCluster<'_>]) -> Result<Vec<Wave>> {
    strategy.check()?;
    let invalid = |reason: String| Error::invalid("strategy", reason);
    let order: Vec<LabelSelector> =
        strategy.order.iter().map(|s| LabelSelector::parse(s)).collect::<Result<Vec<_>>>()?;
    let rank = |c: &PlanCluster<'_>| order.iter().position(|s| s.matches(c.labels)).unwrap_or(order.len());
    let group = |c: &PlanCluster<'_>| strategy.wave_per.as_ref().map(|k| c.labels.get(k.trim()).cloned());
    let mut sorted: Vec<PlanCluster<'_>> = clusters.to_vec();
    sorted.sort_by(|a, b| (rank(a), group(a), a.name).cmp(&(rank(b), group(b), b.name)));
    sorted.dedup_by(|a, b| a.name == b.name);

    let is_canary: Box<dyn Fn(&PlanCluster<'_>) -> bool> = match &strategy.canary {
        Canary::None => Box::new(|_| false),
        Canary::First => {
            let first = sorted.first().map(|c| c.name.to_owned());
            Box::new(move |c| Some(c.name) == first.as_deref())
        }
        Canary::Names(names) => {
            if names.is_empty() {
                return Err(invalid("name at least one canary cluster".into()));
            }
            for name in names {
                if !sorted.iter().any(|c| c.name == name) {
                    return Err(invalid(format!("the canary cluster {name} is not among the rollout's clusters")));
                }
            }
            let names = names.clone();
            Box::new(move |c| names.iter().any(|n| n == c.name))
        }
        Canary::Selector(text) => {
            let selector = LabelSelector::parse(text)?;
            if !sorted.iter().any(|c| selector.matches(c.labels)) {
                return Err(invalid(format!("the canary selector {text} matches none of the rollout's clusters")));
            }
            Box::new(move |c| selector.matches(c.labels))
        }
    };
    let (canary, rest): (Vec<PlanCluster<'_>>, Vec<PlanCluster<'_>>) = sorted.into_iter().partition(|c| is_canary(c));

    let size = match strategy.wave_size {
        WaveSize::Clusters(n) => n as usize,
        WaveSize::Percent(p) => (rest.len() * usize::from(p)).div_ceil(100),
    }
    .max(1);
    let mut waves = Vec::new();
    if !canary.is_empty() {
        waves.push(Wave {
            index: 0,
            label: "canary".into(),
            clusters: canary.iter().map(|c| c.name.to_owned()).collect(),
        });
    }
    let mut index = 1;
    let mut start = 0;
    while start < rest.len() {
        let key = group(&rest[start]);
        let end = rest[start..].iter().position(|c| group(c) != key).map_or(rest.len(), |n| start + n);
        for chunk in rest[start..end].chunks(size) {
            let label = match (&strategy.wave_per, &key) {
                (Some(k), Some(Some(v))) => format!("wave {index} · {}={v}", k.trim()),
                (Some(k), Some(None)) => format!("wave {index} · no {}", k.trim()),
                _ => format!("wave {index}"),
            };
            waves.push(Wave { index, label, clusters: chunk.iter().map(|c| c.name.to_owned()).collect() });
            index += 1;
        }
        start = end;
    }
    Ok(waves)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<(String, BTreeMap<String, String>)> {
        (0..n)
            .map(|i| {
                let region = ["eu", "us", "ap"][i % 3];
                let tier = if i % 5 == 0 { "1" } else { "2" };
                let labels = [("region", region), ("tier", tier)].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
                (format!("c{i:02}"), labels)
            })
            .collect()
    }

    fn clusters(fleet: &[(String, BTreeMap<String, String>)]) -> Vec<PlanCluster<'_>> {
        fleet.iter().map(|(name, labels)| PlanCluster { name, labels }).collect()
    }

    fn sizes(waves: &[Wave]) -> Vec<usize> {
        waves.iter().map(|w| w.clusters.len()).collect()
    }

    #[test]
    fn the_default_is_one_canary_then_quarters() {
        let f = fleet(50);
        let waves = plan(&Strategy::default(), &clusters(&f)).unwrap();
        assert_eq!(waves[0].label, "canary");
        assert_eq!(waves[0].clusters, ["c00"]);
        assert_eq!(sizes(&waves), [1, 13, 13, 13, 10]);
        let mut all: Vec<&String> = waves.iter().flat_map(|w| &w.clusters).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 50, "every cluster exactly once");
        assert_eq!(plan(&Strategy::default(), &clusters(&f)).unwrap(), waves, "deterministic");
    }

    #[test]
    fn waves_go_region_by_region_in_the_given_order() {
        let f = fleet(12);
        let strategy = Strategy {
            canary: Canary::Names(vec!["c04".into()]),
            wave_size: WaveSize::Clusters(2),
            wave_per: Some("region".into()),
            order: vec!["tier=2".into()],
            ..Strategy::default()
        };
        let waves = plan(&strategy, &clusters(&f)).unwrap();
        let labels: Vec<&str> = waves.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "canary",
                "wave 1 · region=ap",
                "wave 2 · region=ap",
                "wave 3 · region=eu",
                "wave 4 · region=eu",
                "wave 5 · region=us",
                "wave 6 · region=ap",
                "wave 7 · region=eu",
                "wave 8 · region=us",
            ]
        );
        // tier=2 first (c00, c05 and c10 are tier 1, last); no wave mixes regions.
        assert_eq!(waves[0].clusters, ["c04"]);
        assert_eq!(waves[1].clusters, ["c02", "c08"]);
        assert_eq!(waves[5].clusters, ["c01", "c07"]);
        assert_eq!(waves[6].clusters, ["c05"]);
        assert_eq!(waves[8].clusters, ["c10"]);
        for w in &waves[1..] {
            let regions: std::collections::BTreeSet<&String> =
                w.clusters.iter().map(|c| &f.iter().find(|(n, _)| n == c).unwrap().1["region"]).collect();
            assert_eq!(regions.len(), 1, "{w:?}");
        }
    }

    #[test]
    fn a_canary_by_selector_and_no_canary() {
        let f = fleet(10);
        let by_selector = Strategy { canary: Canary::Selector("tier=1".into()), ..Strategy::default() };
        assert_eq!(plan(&by_selector, &clusters(&f)).unwrap()[0].clusters, ["c00", "c05"]);
        let none = Strategy { canary: Canary::None, wave_size: WaveSize::Percent(100), ..Strategy::default() };
        let waves = plan(&none, &clusters(&f)).unwrap();
        assert_eq!(sizes(&waves), [10]);
        assert_eq!(waves[0].label, "wave 1");
        assert!(plan(&Strategy::default(), &[]).unwrap().is_empty(), "no clusters, no waves");
    }

    #[test]
    fn a_strategy_that_cannot_work_says_why() {
        let f = fleet(5);
        let err = |s: Strategy| plan(&s, &clusters(&f)).unwrap_err().reason().to_owned();
        assert!(err(Strategy { canary: Canary::Names(vec!["nope".into()]), ..Strategy::default() }).contains("nope"));
        assert!(
            err(Strategy { canary: Canary::Selector("tier=3".into()), ..Strategy::default() }).contains("matches none")
        );
        assert!(err(Strategy { wave_size: WaveSize::Clusters(0), ..Strategy::default() }).contains("at least one"));
        assert!(err(Strategy { wave_size: WaveSize::Percent(120), ..Strategy::default() }).contains("1 and 100"));
        assert!(
            err(Strategy { wave_per: Some("region=eu".into()), ..Strategy::default() }).contains("not a label key")
        );
        assert!(err(Strategy { order: vec!["tier in (".into()], ..Strategy::default() }).starts_with("order 1"));
        assert!(err(Strategy { soak_seconds: 100_000, ..Strategy::default() }).contains("at most a day"));
    }
}
