//! Rollouts against simulated member clusters over HTTPS, with the driver running inside the
//! engine: waves asserted from what the members held (never from the planner), a broken
//! canary rolled back with no other cluster ever seeing the new revision, an unsafe rollback
//! that pauses instead, abort, and a cluster that joins mid-rollout.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{Fleet, actor, fleet};
use flotilla_domain::Clearance;
use flotilla_domain::catalog::{AppDefinition, parse_definition};
use flotilla_domain::rollout::{Canary, RolloutState, StepState, Strategy, WaveSize};
use flotilla_store::{AppUpgrade, InstallHome, NewInstall, RolloutAction, RolloutDetail};
use flotilla_testkit::eventually;
use serde_json::{Map, Value};

const LONG: Duration = Duration::from_secs(60);

/// App "web": a Deployment whose image tag is the app version. Versions whose app version
/// says `broken` never become ready in the simulator.
fn web(version: &str, app_version: &str, rollback_safe: bool) -> AppDefinition {
    let meta = format!(
        "name: web\nversion: {version}\nappVersion: {app_version}\ndisplayName: Web\ndescription: A test app.\n\
         changelog: test\nupgradesFrom: \">=1.0.0, <{version}\"\nscope: project\nrollbackSafe: {rollback_safe}\nparameters:\n  \
         - name: replicas\n    type: integer\n    title: Replicas\n    default: 2\n"
    );
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ install.name }}\nspec:\n  \
         replicas: {{ values.replicas }}\n  selector:\n    matchLabels: {{ selectorLabels | tojson }}\n  template:\n    \
         metadata:\n      labels: {{ selectorLabels | tojson }}\n    spec:\n      containers:\n        - name: web\n          \
         image: \"example.com/web:{{ app.appVersion }}\"\n";
    parse_definition([("app.yaml", meta.as_str()), ("templates/deployment.yaml", deployment)]).unwrap()
}

fn catalog() -> Vec<AppDefinition> {
    vec![
        web("1.0.0", "1.0.0", true),
        web("1.1.0", "1.1.0", true),
        web("1.2.0", "broken-1.2.0", true),
        web("1.3.0", "broken-1.3.0", false),
    ]
}

struct Setup {
    fleet: Fleet,
    install: String,
    versions: BTreeMap<String, String>,
    resource: String,
}

/// `clusters` simulated clusters, app "web" 1.0.0 installed in a project on all of them and
/// healthy everywhere.
async fn setup(clusters: usize) -> Setup {
    let names: Vec<String> = (1..=clusters).map(|i| format!("c{i}")).collect();
    let spec: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "env=prod")).collect();
    let fleet = fleet(&spec).await;
    fleet.store.sync_builtin_catalog(&catalog()).await.unwrap();
    let versions: BTreeMap<String, String> = fleet
        .store
        .catalog(&fleet.tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.definition.meta.version.to_string(), v.id))
        .collect();
    let (ws, project) = fleet.project("env=prod", "shop", "").await;
    let home = InstallHome { workspace_id: &ws, project: Some((&project, "shop")) };
    let values = Map::new();
    let new = NewInstall { version_id: &versions["1.0.0"], name: "web", values: &values, rules: &[] };
    let install = fleet.store.install_app(&fleet.tenant, &actor(), Clearance::TenantAdmin, home, new).await.unwrap();
    let resource = fleet.store.get_install(&fleet.tenant, &install).await.unwrap().resource_ids[0].clone();
    let setup = Setup { fleet, install, versions, resource };
    for name in &names {
        setup.wait_healthy_at(name, 1).await;
    }
    setup
}

impl Setup {
    /// The Deployment in member `cluster`.
    fn deployment(&self, cluster: &str) -> Option<Value> {
        let c = self.fleet.sim.cluster(cluster)?;
        c.get_object("apps/v1", "deployments", Some("shop"), "web").ok().map(|o| (*o).clone())
    }

    /// The revision the member's Deployment carries, and whether it is rolled out there.
    fn member_revision(&self, cluster: &str) -> Option<(i64, bool)> {
        flotilla_testkit::deployment_revision(&self.deployment(cluster)?)
    }

    async fn wait_healthy_at(&self, cluster: &str, revision: i64) {
        eventually(&format!("{cluster} healthy at revision {revision}"), LONG, || async {
            self.member_revision(cluster) == Some((revision, true))
        })
        .await;
    }

    async fn upgrade(&self, to: &str, strategy: &Strategy) -> String {
        let installs = [(self.install.as_str(), Clearance::TenantAdmin)];
        let up = AppUpgrade { installs: &installs, to_version_id: &self.versions[to], strategy };
        self.fleet.store.start_app_upgrade(&self.fleet.tenant, &actor(), up).await.unwrap()
    }

    async fn rollout(&self, id: &str) -> RolloutDetail {
        self.fleet.store.get_rollout(&self.fleet.tenant, id).await.unwrap()
    }

    async fn wait_state(&self, id: &str, state: RolloutState) -> RolloutDetail {
        eventually(&format!("rollout {}", state.as_str()), LONG, || async {
            let r = self.rollout(id).await;
            (r.record.state == state).then_some(r)
        })
        .await
    }

    fn step(detail: &RolloutDetail, cluster: &str) -> StepState {
        detail.clusters.iter().find(|c| c.cluster_name == cluster).unwrap().state
    }
}

fn quick(wave: u32) -> Strategy {
    Strategy {
        canary: Canary::Names(vec!["c1".into()]),
        wave_size: WaveSize::Clusters(wave),
        soak_seconds: 0,
        progress_deadline_seconds: 20,
        ..Strategy::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_never_update_more_clusters_at_once_than_the_strategy_allows() {
    let s = setup(7).await;
    let names: Vec<String> = (1..=7).map(|i| format!("c{i}")).collect();
    let id = s.upgrade("1.1.0", &Strategy { soak_seconds: 1, ..quick(2) }).await;
    // Watch the members: a cluster is updating from the moment it holds revision 2 until it
    // is rolled out there.
    let mut most = 0;
    let mut first_updated: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let mut updating = 0;
        let mut done = 0;
        for name in &names {
            match s.member_revision(name) {
                Some((2, false)) => updating += 1,
                Some((2, true)) => done += 1,
                _ => continue,
            }
            if !first_updated.contains(name) {
                first_updated.push(name.clone());
            }
        }
        most = most.max(updating);
        if done == names.len() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the rollout did not finish: {:?}", s.rollout(&id).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(most <= 2, "{most} clusters were updating at once");
    assert!(most >= 1);
    assert_eq!(first_updated[0], "c1", "the canary went first: {first_updated:?}");
    let detail = s.wait_state(&id, RolloutState::Succeeded).await;
    assert!(detail.clusters.iter().all(|c| c.state == StepState::Done), "{:?}", detail.clusters);
    let waves: BTreeSet<u32> = detail.clusters.iter().map(|c| c.wave).collect();
    assert_eq!(waves.len(), 4, "canary + 3 waves of at most 2");
    // The hold is lifted: the resource is no longer refused for editing.
    let install = s.fleet.store.get_install(&s.fleet.tenant, &s.install).await.unwrap();
    assert_eq!(install.version_id, s.versions["1.1.0"]);
    assert!(detail.events.len() >= 7 * 3, "every transition is on the timeline");
    // Each cluster soaked a second, healthy, before it counted as done.
    for name in &names {
        let at = |state: &str| {
            detail.events.iter().find(|e| e.cluster_name.as_deref() == Some(name) && e.state == state).map(|e| e.at)
        };
        let (soaking, done) = (at("Soaking").unwrap(), at("Done").unwrap());
        assert!(done - soaking >= 1000, "{name} soaked {} ms", done - soaking);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_canary_is_rolled_back_and_no_other_cluster_ever_gets_it() {
    let s = setup(4).await;
    let id = s.upgrade("1.2.0", &quick(2)).await;
    // The simulator's deployments give up after 2 s: Degraded, the canary fails.
    let detail = s.wait_state(&id, RolloutState::Paused).await;
    assert!(detail.record.message.contains("the canary c1 failed"), "{}", detail.record.message);
    let detail = eventually("the canary rolled back", LONG, || async {
        let d = s.rollout(&id).await;
        (Setup::step(&d, "c1") == StepState::RolledBack).then_some(d)
    })
    .await;
    let canary = detail.clusters.iter().find(|c| c.cluster_name == "c1").unwrap();
    assert!(canary.message.contains("previous revision"), "{}", canary.message);
    // Revision 1 is back on the canary, healthy; the others never left it.
    s.wait_healthy_at("c1", 1).await;
    let failed = detail.events.iter().find(|e| e.state == "RollingBack").unwrap();
    assert!(failed.message.contains("Deployment web"), "the failure names the workload: {}", failed.message);
    for other in ["c2", "c3", "c4"] {
        assert_eq!(s.member_revision(other), Some((1, true)), "{other} never received revision 2");
        assert_eq!(Setup::step(&detail, other), StepState::Pending);
    }
    // Abort: the change returns to where it was, and the install to 1.0.0.
    s.fleet.store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Abort).await.unwrap();
    s.wait_state(&id, RolloutState::Aborted).await;
    let install = s.fleet.store.get_install(&s.fleet.tenant, &s.install).await.unwrap();
    assert_eq!(install.version_id, s.versions["1.0.0"]);
    let revision = s.fleet.store.get_resource(&s.fleet.tenant, &s.resource).await.unwrap().revision;
    assert_eq!(revision, 3, "a new revision equal to the first");
    for c in ["c1", "c2", "c3", "c4"] {
        s.wait_healthy_at(c, 3).await;
    }
    let image = s.deployment("c2").unwrap()["spec"]["template"]["spec"]["containers"][0]["image"].clone();
    assert_eq!(image, "example.com/web:1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsafe_rollback_pauses_and_leaves_the_cluster_for_a_person() {
    let s = setup(2).await;
    let id = s.upgrade("1.3.0", &quick(1)).await;
    let detail = s.wait_state(&id, RolloutState::Paused).await;
    assert_eq!(Setup::step(&detail, "c1"), StepState::Failed);
    let message = &detail.clusters[0].message;
    assert!(message.contains("cannot be rolled back safely"), "{message}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.member_revision("c1").map(|r| r.0), Some(2), "left on the new revision");
    assert_eq!(s.member_revision("c2"), Some((1, true)));
    // A second rollout of the same install is refused while this one is active.
    let installs = [(s.install.as_str(), Clearance::TenantAdmin)];
    let up = AppUpgrade { installs: &installs, to_version_id: &s.versions["1.1.0"], strategy: &quick(1) };
    let err = s.fleet.store.start_app_upgrade(&s.fleet.tenant, &actor(), up).await.unwrap_err();
    assert!(err.to_string().contains("already being rolled out"), "{err}");
    // Editing a held resource by hand is refused too.
    let version = s.fleet.store.get_resource(&s.fleet.tenant, &s.resource).await.unwrap().version;
    let err = s
        .fleet
        .store
        .delete_resource(&s.fleet.tenant, &actor(), Clearance::TenantAdmin, &s.resource, version, Default::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is moving it across the fleet"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_pause_resume_and_a_cluster_that_joins_mid_rollout() {
    let s = setup(3).await;
    let strategy = Strategy { approval: flotilla_domain::rollout::Approval::AfterCanary, ..quick(1) };
    let id = s.upgrade("1.1.0", &strategy).await;
    let detail = s.wait_state(&id, RolloutState::AwaitingApproval).await;
    assert_eq!(Setup::step(&detail, "c1"), StepState::Done);
    // A cluster joins while the rollout waits: it gets the stable revision, and a step.
    s.fleet.register("c4", "env=prod").await;
    s.wait_healthy_at("c4", 1).await;
    let detail = eventually("c4 has a step", LONG, || async {
        let d = s.rollout(&id).await;
        d.clusters.iter().any(|c| c.cluster_name == "c4").then_some(d)
    })
    .await;
    let joined = detail.clusters.iter().find(|c| c.cluster_name == "c4").unwrap();
    assert!(joined.message.contains("joined during the rollout"), "{}", joined.message);
    assert_eq!(s.member_revision("c2"), Some((1, true)), "nothing moves before approval");
    let store = &s.fleet.store;
    let err = store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Resume).await.unwrap_err();
    assert!(err.to_string().contains("cannot resume"), "{err}");
    store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Approve).await.unwrap();
    store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Pause).await.unwrap();
    store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Resume).await.unwrap();
    let detail = s.wait_state(&id, RolloutState::Succeeded).await;
    assert_eq!(detail.clusters.len(), 4);
    for c in ["c1", "c2", "c3", "c4"] {
        s.wait_healthy_at(c, 2).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_resource_edit_can_be_rolled_out_instead_of_applied_everywhere_at_once() {
    let s = setup(3).await;
    let (ws, project) = s.fleet.project("env=prod", "cfg", "").await;
    let id = s
        .fleet
        .add(&ws, Some((&project, "cfg")), &common::configmap("settings", serde_json::json!({"level": "1"})))
        .await;
    for c in ["c1", "c2", "c3"] {
        s.fleet.wait_synced_rev(&id, c, 1).await;
    }
    let store = &s.fleet.store;
    let version = store.get_resource(&s.fleet.tenant, &id).await.unwrap().version;
    let spec = common::configmap("settings", serde_json::json!({"level": "2"}));
    let strategy = Strategy { approval: flotilla_domain::rollout::Approval::AfterCanary, ..quick(1) };
    let rollout = store
        .start_resource_rollout(&s.fleet.tenant, &actor(), Clearance::TenantAdmin, &id, version, &spec, &strategy)
        .await
        .unwrap();
    let detail = s.wait_state(&rollout, RolloutState::AwaitingApproval).await;
    assert_eq!(detail.record.title, "ConfigMap settings: revision 1 → 2");
    let level = |c: &str| {
        let cm = s.fleet.sim.cluster(c).unwrap().get_object("v1", "configmaps", Some("cfg"), "settings").unwrap();
        cm["data"]["level"].as_str().unwrap().to_owned()
    };
    assert_eq!((level("c1"), level("c2"), level("c3")), ("2".into(), "1".into(), "1".into()), "only the canary moved");
    store.rollout_action(&s.fleet.tenant, &actor(), &rollout, &RolloutAction::Approve).await.unwrap();
    s.wait_state(&rollout, RolloutState::Succeeded).await;
    for c in ["c2", "c3"] {
        s.fleet.wait_synced_rev(&id, c, 2).await;
        assert_eq!(level(c), "2");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_offline_mid_rollout_counts_against_the_deadline_and_is_decided_for_before_the_end() {
    let s = setup(3).await;
    s.fleet.sim.set_faults("c2", flotilla_simulator::Faults { offline: true, ..Default::default() });
    let strategy = Strategy { max_failures: 1, progress_deadline_seconds: 2, ..quick(1) };
    let id = s.upgrade("1.1.0", &strategy).await;
    let detail = eventually("c2 failed on its deadline", LONG, || async {
        let d = s.rollout(&id).await;
        (Setup::step(&d, "c2") == StepState::RollingBack).then_some(d)
    })
    .await;
    let failed = detail.events.iter().find(|e| e.cluster_name.as_deref() == Some("c2") && e.state == "RollingBack");
    assert!(failed.unwrap().message.contains("progress deadline"), "{failed:?}");
    assert_eq!(Setup::step(&detail, "c3"), StepState::Pending, "the wave waits for c2 to be back");
    s.fleet.sim.set_faults("c2", flotilla_simulator::Faults::default());
    // Back online: on the stable revision, healthy; the last wave goes; then the rollout
    // stops short of ending, since ending would hand c2 the revision it failed on.
    let detail = s.wait_state(&id, RolloutState::Paused).await;
    assert_eq!(Setup::step(&detail, "c2"), StepState::RolledBack);
    assert_eq!(Setup::step(&detail, "c3"), StepState::Done);
    assert!(detail.record.message.contains("1 cluster failed (c2)"), "{}", detail.record.message);
    assert_eq!(s.member_revision("c2"), Some((1, true)));
    let c2 = detail.clusters.iter().find(|c| c.cluster_name == "c2").unwrap().cluster_id.clone();
    s.fleet.store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Skip(c2)).await.unwrap();
    s.fleet.store.rollout_action(&s.fleet.tenant, &actor(), &id, &RolloutAction::Resume).await.unwrap();
    s.wait_state(&id, RolloutState::Succeeded).await;
    s.wait_healthy_at("c2", 2).await;
}

/// The Ready condition of custom resource `name` in member `cluster`, as its controller
/// would write it (through the status subresource).
async fn set_ready(fleet: &Fleet, cluster: &str, name: &str, status: &str, generation: i64) {
    let ar = kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk("example.com", "v1", "Widget"));
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(fleet.kube(cluster).await, "widgets", &ar);
    let patch = serde_json::json!({"status": {"conditions": [
        {"type": "Ready", "status": status, "observedGeneration": generation, "reason": "Reconciled"}]}});
    api.patch_status(name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_resource_passes_the_gate_when_its_ready_condition_says_so_at_the_new_generation() {
    let fleet = fleet(&[("c1", "env=prod"), ("c2", "env=prod")]).await;
    let (ws, project) = fleet.project("env=prod", "widgets", "").await;
    let crd = serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let widget = |size: i64| {
        flotilla_store::ResourceSpec::new(serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1"}, "spec": {"size": size}}))
    };
    fleet.add(&ws, None, &flotilla_store::ResourceSpec::new(crd)).await;
    let id = fleet.add(&ws, Some((&project, "widgets")), &widget(1)).await;
    for c in ["c1", "c2"] {
        fleet.wait_synced_rev(&id, c, 1).await;
        // Its controller says it is ready: the status shows it.
        set_ready(&fleet, c, "w1", "True", 1).await;
        fleet
            .wait_status(&id, c, "Healthy", |s| {
                s.and_then(|s| s.health).is_some_and(|h| h.to_string() == "Healthy 1/1")
            })
            .await;
    }

    let store = &fleet.store;
    let version = store.get_resource(&fleet.tenant, &id).await.unwrap().version;
    let strategy = quick(1);
    let rollout = store
        .start_resource_rollout(&fleet.tenant, &actor(), Clearance::TenantAdmin, &id, version, &widget(2), &strategy)
        .await
        .unwrap();
    // The canary has the new generation, but its controller has not said Ready for it: the
    // step waits, and c2 keeps the old revision.
    fleet.wait_synced_rev(&id, "c1", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let detail = store.get_rollout(&fleet.tenant, &rollout).await.unwrap();
    let c1 = detail.clusters.iter().find(|c| c.cluster_name == "c1").unwrap();
    assert_eq!(c1.state, StepState::Updating, "{}", c1.message);
    let health = fleet.status(&id, "c1").await.unwrap().health.unwrap().to_string();
    assert_eq!(health, "Progressing 0/1 updated, 0/1 ready", "Ready is for generation 1, the object is at 2");
    assert_eq!(fleet.status(&id, "c2").await.unwrap().applied_revision, Some(1));

    set_ready(&fleet, "c1", "w1", "True", 2).await;
    eventually("c2 released once c1 is ready", LONG, || async {
        fleet.status(&id, "c2").await.is_some_and(|s| s.applied_revision == Some(2))
    })
    .await;
    set_ready(&fleet, "c2", "w1", "True", 2).await;
    eventually("the rollout succeeded", LONG, || async {
        store.get_rollout(&fleet.tenant, &rollout).await.unwrap().record.state == RolloutState::Succeeded
    })
    .await;
}
