//! Two and three `flotilla` processes on one PostgreSQL database and one simulated fleet, one
//! of them killed with SIGKILL in the middle of a fan-out and then in the middle of a rollout:
//! the clusters it worked converge through the others, its rollout is driven on by another,
//! within the 15 s the scale-out promises; and no cluster ever receives writes from two
//! replicas in turn (the members' write logs name the writer). Run when the test command gives
//! them PostgreSQL (FLOTILLA_TEST_POSTGRES).

use std::time::Duration;

use flotilla_domain::Clearance;
use flotilla_domain::rollout::{Canary, RolloutState, Strategy, WaveSize};
use flotilla_simulator::Simulator;
use flotilla_store::{AppUpgrade, ResourceHome, ResourceSpec, Store};
use flotilla_testkit::eventually;
use serde_json::json;

use crate::crash::{Fleet, HUB_PROCESSES, Hub, deployment, kill, seed_fleet, start_hub};

const CLUSTERS: usize = 40;
/// What the scale-out promises: a dead replica's clusters are worked again within this.
const TAKEOVER: Duration = Duration::from_secs(15);
const LONG: Duration = Duration::from_secs(120);

/// The replicas alive, oldest first.
async fn replicas(store: &Store) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM replicas WHERE heartbeat_at > $1 ORDER BY started_at, id")
        .bind(flotilla_store::now_ms() - 5_000)
        .fetch_all(store.pool_for_tests())
        .await
        .unwrap()
}

/// Starts a hub and waits until it heartbeats; returns it with its replica id.
async fn start_replica(dir: &std::path::Path, url: &str, store: &Store) -> (Hub, String) {
    let before = replicas(store).await;
    let hub = start_hub(dir, url);
    let id = eventually("the new replica heartbeats", Duration::from_secs(30), || async {
        replicas(store).await.into_iter().find(|r| !before.contains(r))
    })
    .await;
    (hub, id)
}

fn configmap(value: &str) -> ResourceSpec {
    ResourceSpec::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"v": value}}),
    )
}

/// The `flotilla.io/revision` of ConfigMap `cfg` in `cluster`.
fn configmap_revision(sim: &Simulator, cluster: &str) -> Option<String> {
    let cm = sim.cluster(cluster)?.get_object("v1", "configmaps", Some("shop"), "cfg").ok()?;
    cm.pointer("/metadata/annotations/flotilla.io~1revision").and_then(|v| v.as_str()).map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_fan_out_and_mid_rollout_has_its_work_taken_over_within_15_s() {
    if !std::env::var(flotilla_testkit::TEST_POSTGRES_ENV).is_ok_and(|v| !v.is_empty()) {
        eprintln!("skipped: replicas share a PostgreSQL database ({} is not set)", flotilla_testkit::TEST_POSTGRES_ENV);
        return;
    }
    let _turn = HUB_PROCESSES.lock().await;
    // Every replica uses the fleet's folder (so its key file) and database.
    let Fleet { sim, names, dir, url, store, tenant, actor, workspace, project, versions, install } =
        seed_fleet("k", CLUSTERS).await;
    let resource_home = ResourceHome { workspace_id: &workspace, project: Some((&project, "shop")) };
    let cm =
        store.create_resource(&tenant, &actor, Clearance::TenantAdmin, resource_home, &configmap("1")).await.unwrap();

    let (a, a_id) = start_replica(dir.path(), &url, &store).await;
    let (b, b_id) = start_replica(dir.path(), &url, &store).await;
    let all_healthy_at = |revision: i64| {
        let (sim, names) = (&sim, &names);
        move || async move { names.iter().all(|n| deployment(sim, n) == Some((revision, true))) }
    };
    eventually("podinfo 6.6.3 healthy in every cluster", LONG, all_healthy_at(1)).await;
    let held_by = |replica: String| {
        let store = &store;
        move || {
            let replica = replica.clone();
            async move {
                store
                    .leases()
                    .await
                    .unwrap()
                    .iter()
                    .filter(|(n, h, _, _)| n.starts_with("cluster:") && *h == Some(replica.clone()))
                    .count()
            }
        }
    };
    eventually("both replicas work clusters", Duration::from_secs(20), || async {
        held_by(a_id.clone())().await > 0 && held_by(b_id.clone())().await > 0
    })
    .await;

    // A fan-out, and A killed 30 ms into it: B works A's clusters after A's leases expire.
    let version = store.get_resource(&tenant, &cm).await.unwrap().version;
    store.update_resource(&tenant, &actor, Clearance::TenantAdmin, &cm, version, &configmap("2")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    kill(a);
    let killed = tokio::time::Instant::now();
    eventually("the ConfigMap's revision 2 in every cluster", TAKEOVER, || async {
        names.iter().all(|n| configmap_revision(&sim, n).as_deref() == Some("2"))
    })
    .await;
    println!("fan-out: every cluster at revision 2 {:?} after A was killed", killed.elapsed());

    // Three replicas now (B and a new C), then an upgrade; the replica driving it is killed
    // once its first wave is out, and another drives it to the end.
    let (c, c_id) = start_replica(dir.path(), &url, &store).await;
    let strategy =
        Strategy { canary: Canary::First, wave_size: WaveSize::Percent(25), soak_seconds: 1, ..Strategy::default() };
    let installs = [(install.as_str(), Clearance::TenantAdmin)];
    let upgrade = AppUpgrade { installs: &installs, to_version_id: &versions["6.7.1"], strategy: &strategy };
    let rollout = store.start_app_upgrade(&tenant, &actor, upgrade).await.unwrap();
    let lease = format!("rollout:{rollout}");
    let driver = eventually("a replica drives the rollout and has released its canary", LONG, || async {
        let r = store.get_rollout(&tenant, &rollout).await.unwrap();
        if r.record.current_wave == 0 {
            return None;
        }
        store.leases().await.unwrap().into_iter().find(|(n, _, _, _)| *n == lease).and_then(|(_, h, _, _)| h)
    })
    .await;
    let (victim, survivor) = if driver == b_id { (b, c) } else { (c, b) };
    assert!(driver == b_id || driver == c_id, "the rollout is driven by a live replica: {driver}");
    kill(victim);
    let killed = tokio::time::Instant::now();
    let before = store.get_rollout(&tenant, &rollout).await.unwrap().events.len();
    eventually("another replica drives the rollout on", TAKEOVER, || async {
        store.get_rollout(&tenant, &rollout).await.unwrap().events.len() > before
    })
    .await;
    println!("rollout: driven on {:?} after its driver was killed", killed.elapsed());
    eventually("the rollout succeeded", LONG, || async {
        let r = store.get_rollout(&tenant, &rollout).await.unwrap();
        assert!(!matches!(r.record.state, RolloutState::Paused | RolloutState::Aborted), "{:?}", r.record.message);
        r.record.state == RolloutState::Succeeded
    })
    .await;
    let upgraded = store.get_install(&tenant, &install).await.unwrap();
    assert_eq!(upgraded.version_id, versions["6.7.1"]);
    kill(survivor);

    // Each cluster's writers, in order: a replica writes again after another only if that
    // other one was killed meanwhile (its clusters came back); never two live ones in turn.
    let killed = [a_id.clone(), driver.clone()];
    for name in &names {
        let mut runs: Vec<String> = Vec::new();
        for w in sim.cluster(name).unwrap().write_log() {
            let agent = w.user_agent.unwrap_or_default();
            if runs.last() == Some(&agent) {
                continue;
            }
            if let Some(last) = runs.iter().rposition(|r| *r == agent) {
                let between = &runs[last + 1..];
                assert!(
                    between.iter().all(|r| killed.iter().any(|k| r.ends_with(k.as_str()))),
                    "{name}: {agent} wrote again after a replica that was alive: {runs:?}"
                );
            }
            runs.push(agent);
        }
    }
}
