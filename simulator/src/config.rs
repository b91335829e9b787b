//! Which clusters to simulate: a TOML file, the demo fleet, or N generated clusters.
//!
//! ```toml
//! [[clusters]]
//! name = "prod-eu-1"
//! labels = { env = "prod", region = "eu" }
//! version = "v1.31.2"   # optional
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::Error;
use crate::cluster::ClusterSpec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    clusters: Vec<ClusterSpec>,
}

pub fn from_file(path: &Path) -> Result<Vec<ClusterSpec>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let file: FleetFile = toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Ok(file.clusters)
}

/// The demo fleet: 12 clusters, prod and staging in regions eu and us; the first prod
/// cluster of each region is tier 1.
pub fn demo() -> Vec<ClusterSpec> {
    let mut out = Vec::new();
    for (env, per_region) in [("prod", 4), ("staging", 2)] {
        for region in ["eu", "us"] {
            for i in 1..=per_region {
                let tier = if env == "prod" && i == 1 { "1" } else { "2" };
                out.push(
                    ClusterSpec::new(format!("{env}-{region}-{i}"))
                        .label("env", env)
                        .label("region", region)
                        .label("tier", tier),
                );
            }
        }
    }
    out
}

/// `count` clusters `sim-00001`… with labels cycling through env, region and tier.
pub fn generated(count: usize) -> Vec<ClusterSpec> {
    let envs = ["prod", "staging", "dev"];
    let regions = ["eu", "us", "ap"];
    (0..count)
        .map(|i| {
            ClusterSpec::new(format!("sim-{:05}", i + 1))
                .label("env", envs[i % envs.len()])
                .label("region", regions[(i / envs.len()) % regions.len()])
                .label("tier", if i % 10 == 0 { "1" } else { "2" })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fleet_spans_envs_and_regions() {
        let fleet = demo();
        assert_eq!(fleet.len(), 12);
        for (k, v) in [("env", "prod"), ("env", "staging"), ("region", "eu"), ("region", "us")] {
            assert!(fleet.iter().any(|c| c.labels.get(k).map(String::as_str) == Some(v)), "{k}={v}");
        }
        let mut names: Vec<_> = fleet.iter().map(|c| c.name.clone()).collect();
        names.dedup();
        assert_eq!(names.len(), 12, "names are unique");
    }

    #[test]
    fn fleet_files_parse_and_refuse_typos() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.toml");
        std::fs::write(&path, "[[clusters]]\nname = \"a\"\nlabels = { env = \"prod\" }\n").unwrap();
        let specs = from_file(&path).unwrap();
        assert_eq!(specs[0].labels["env"], "prod");
        assert_eq!(specs[0].version, "v1.32.4");
        std::fs::write(&path, "[[clusters]]\nnmae = \"a\"\n").unwrap();
        assert!(from_file(&path).unwrap_err().to_string().contains("nmae"));
    }
}
