//! The hub as a separate process, killed with SIGKILL at random moments while it rolls an app
//! upgrade across 200 simulated clusters, and started again each time: the rollout completes,
//! every cluster ends healthy on the new revision, no cluster is skipped, and the members'
//! write logs show no object written twice with the same revision (a write whose outcome the
//! hub had not stored yet when it died is not sent again).
//!
//! The seed of the kill moments is printed; `FLOTILLA_CRASH_SEED=<n>` replays a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flotilla_domain::rollout::{Canary, RolloutState, StepState, Strategy, WaveSize};
use flotilla_domain::{Clearance, ResourceName};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator, WorkloadSettings};
use flotilla_store::{Actor, AppUpgrade, InstallHome, NewCluster, NewInstall, SecretCipher, SecretKey, Store};
use flotilla_testkit::eventually;
use secrecy::SecretString;

const CLUSTERS: usize = 200;
const KILLS: usize = 20;
/// The longest a hub runs before it is killed (the shortest is 0: killed while starting).
const MAX_LIFE: Duration = Duration::from_millis(2500);
/// The most the hubs live altogether: drawn lives are scaled down to it, so every kill comes
/// while the rollout runs (its 11 steps soak 3 s each: at least 33 s, even with no hub up).
const MAX_TOTAL_LIFE: Duration = Duration::from_secs(20);
const SOAK_SECONDS: u32 = 3;
const LONG: Duration = Duration::from_secs(240);

/// Moments to kill at, from a seed (SplitMix64: reproducible, no dependency).
struct Moments(u64);

impl Moments {
    /// `n` lives, scaled down together when they add up to more than `MAX_TOTAL_LIFE`.
    fn lives(&mut self, n: usize) -> Vec<Duration> {
        let lives: Vec<Duration> = (0..n).map(|_| self.next()).collect();
        let total: Duration = lives.iter().sum();
        if total <= MAX_TOTAL_LIFE {
            return lives;
        }
        let scale = MAX_TOTAL_LIFE.as_secs_f64() / total.as_secs_f64();
        lives.into_iter().map(|life| life.mul_f64(scale)).collect()
    }

    fn next(&mut self) -> Duration {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        MAX_LIFE.mul_f64((z % 10_000) as f64 / 10_000.0)
    }
}

/// The tests that run hub processes take turns: each runs several at once beside a simulated
/// fleet, and two such tests together on two cores starve each other's hubs of time.
pub(crate) static HUB_PROCESSES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A hub process; killed (SIGKILL) when dropped, so a failing test leaves none behind.
pub(crate) struct Hub(Child);

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `flotilla` as an operator starts it, on the test's database and data folder; its log is
/// appended to `hub.log` there (printed when the test fails).
pub(crate) fn start_hub(dir: &Path, database_url: &str) -> Hub {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("hub.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "off", "--outbound-loopback", "https"])
        .args(["--log", "warn,flotilla_engine=info", "--log-format", "text"])
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(database_url)
        .env_remove("FLOTILLA_DEMO")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Hub)
        .expect("the flotilla binary starts")
}

/// SIGKILL: no chance to finish a write or store a status.
pub(crate) fn kill(hub: Hub) {
    drop(hub);
}

/// The revision of the podinfo Deployment in `cluster`, and whether it has rolled out.
pub(crate) fn deployment(sim: &Simulator, cluster: &str) -> Option<(i64, bool)> {
    let d = sim.cluster(cluster)?.get_object("apps/v1", "deployments", Some("shop"), "podinfo").ok()?;
    flotilla_testkit::deployment_revision(&d)
}

/// What a hub process finds when it starts: simulated clusters `<prefix>NNN` (writes
/// recorded) registered in the bootstrap tenant of a database of its own, a project `shop` on
/// all of them, podinfo 6.6.3 installed there; the database's folder holds the secret key file
/// every hub started on it uses.
pub(crate) struct Fleet {
    pub sim: Simulator,
    pub names: Vec<String>,
    pub dir: tempfile::TempDir,
    pub url: String,
    pub store: Store,
    pub tenant: String,
    pub actor: Actor,
    pub workspace: String,
    pub project: String,
    /// podinfo's catalog version ids by version.
    pub versions: BTreeMap<String, String>,
    pub install: String,
}

pub(crate) async fn seed_fleet(prefix: &str, clusters: usize) -> Fleet {
    let names: Vec<String> = (0..clusters).map(|i| format!("{prefix}{i:03}")).collect();
    let sim_settings = SimSettings {
        tick: Duration::from_millis(50),
        workloads: WorkloadSettings { progress_deadline: Duration::from_secs(5), ..WorkloadSettings::default() },
        ..SimSettings::default()
    };
    let specs = names.iter().map(|n| ClusterSpec::new(n.as_str())).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), specs, sim_settings).await.unwrap();
    for name in &names {
        sim.cluster(name).unwrap().record_writes();
    }

    let dir = tempfile::tempdir().unwrap();
    let (key, _) = SecretKey::load_or_create(None, &dir.path().join("secret.key")).unwrap();
    let url = flotilla_testkit::database_url(dir.path()).await;
    let store = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let tenant = store.bootstrap(None).await.unwrap().tenant_id;
    store.sync_builtin_catalog(&flotilla_catalog::builtin().unwrap()).await.unwrap();
    let actor = Actor::system("hub-test");
    let rn = |s: &str| ResourceName::parse("name", s).unwrap();
    for name in &names {
        let cluster = NewCluster {
            name: rn(name),
            api_server_url: sim.server_url(name),
            ca_pem: sim.ca_pem().map(str::to_owned),
            token: SecretString::from(sim.cluster(name).unwrap().token.clone()),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
        };
        store.register_cluster(&tenant, "hub-test", &cluster, false).await.unwrap();
    }
    let ws = store.create_workspace(&tenant, &actor, &rn("prod"), "env=prod").await.unwrap();
    let project = store.create_project(&tenant, &actor, Clearance::TenantAdmin, &ws.id, &rn("shop"), "").await.unwrap();
    let versions: BTreeMap<String, String> = store
        .catalog(&tenant)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.definition.meta.name == "podinfo")
        .map(|v| (v.definition.meta.version.to_string(), v.id))
        .collect();
    let home = InstallHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let values = serde_json::Map::new();
    let new = NewInstall { version_id: &versions["6.6.3"], name: "podinfo", values: &values, rules: &[] };
    let install = store.install_app(&tenant, &actor, Clearance::TenantAdmin, home, new).await.unwrap();
    Fleet { sim, names, dir, url, store, tenant, actor, workspace: ws.id, project: project.id, versions, install }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_survives_twenty_hard_kills_of_the_hub_without_skipping_or_repeating_a_write() {
    let seed = std::env::var("FLOTILLA_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("crash test seed {seed} (FLOTILLA_CRASH_SEED={seed} replays it)");
    let _turn = HUB_PROCESSES.lock().await;
    let mut moments = Moments(seed);

    let Fleet { sim, names, dir, url, store, tenant, actor, versions, install, .. } = seed_fleet("m", CLUSTERS).await;

    let hub = start_hub(dir.path(), &url);
    let all_at = |revision: i64| {
        let sim = &sim;
        let names = &names;
        move || async move { names.iter().all(|n| deployment(sim, n) == Some((revision, true))) }
    };
    eventually("podinfo 6.6.3 healthy in every cluster", LONG, all_at(1)).await;
    kill(hub);

    // The upgrade, started while no hub runs (as if through another replica's UI): a canary,
    // then waves of 10 % that each soak three seconds.
    let strategy = Strategy {
        canary: Canary::First,
        wave_size: WaveSize::Percent(10),
        soak_seconds: SOAK_SECONDS,
        ..Strategy::default()
    };
    let installs = [(install.as_str(), Clearance::TenantAdmin)];
    let upgrade = AppUpgrade { installs: &installs, to_version_id: &versions["6.7.1"], strategy: &strategy };
    let rollout = store.start_app_upgrade(&tenant, &actor, upgrade).await.unwrap();
    let mut target = None;
    for id in store.get_install(&tenant, &install).await.unwrap().resource_ids {
        let resource = store.get_resource(&tenant, &id).await.unwrap();
        if resource.kind == "Deployment" {
            target = Some(resource.revision);
        }
    }
    let target = target.expect("podinfo has a Deployment");
    assert!(target > 1);

    for life in moments.lives(KILLS) {
        let hub = start_hub(dir.path(), &url);
        tokio::time::sleep(life).await;
        kill(hub);
    }
    let detail = store.get_rollout(&tenant, &rollout).await.unwrap();
    let released = detail.clusters.iter().filter(|c| c.state != StepState::Pending).count();
    println!("after {KILLS} kills: {} with {released} of {CLUSTERS} clusters released", detail.record.state.as_str());
    assert_eq!(detail.record.state, RolloutState::Running, "the kills all came during the rollout");

    let hub = start_hub(dir.path(), &url);
    let done = eventually("the rollout succeeded", LONG, || async {
        let r = store.get_rollout(&tenant, &rollout).await.unwrap();
        assert!(
            !matches!(r.record.state, RolloutState::Paused | RolloutState::Aborted | RolloutState::Aborting),
            "the rollout stopped: {:?}",
            r.events.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
        );
        (r.record.state == RolloutState::Succeeded).then_some(r)
    })
    .await;
    kill(hub);

    // No cluster skipped; each done on the new revision, healthy there.
    assert_eq!(done.clusters.len(), CLUSTERS);
    let not_done: Vec<_> = done.clusters.iter().filter(|c| c.state != StepState::Done).collect();
    assert!(not_done.is_empty(), "{not_done:?}");
    for name in &names {
        assert_eq!(deployment(&sim, name), Some((target, true)), "{name}");
    }

    // Every object each member holds was written at most once per revision.
    let mut twice = Vec::new();
    for name in &names {
        let mut seen: BTreeMap<(String, Option<String>, String, Option<String>), usize> = BTreeMap::new();
        for w in sim.cluster(name).unwrap().write_log().into_iter().filter(|w| w.verb != "delete") {
            *seen.entry((w.plural, w.namespace, w.name, w.revision)).or_default() += 1;
        }
        twice.extend(seen.into_iter().filter(|(_, n)| *n > 1).map(|(k, n)| format!("{name}: {k:?} ×{n}")));
    }
    if !twice.is_empty() {
        println!("{}", std::fs::read_to_string(dir.path().join("hub.log")).unwrap_or_default());
    }
    assert!(twice.is_empty(), "written twice with the same revision: {twice:#?}");
}
