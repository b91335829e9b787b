//! The engine against simulated member clusters over HTTPS: fan-out with placement and
//! overrides, zero writes when nothing changed (resync and restart), offline clusters,
//! writes that time out, failing members, joins and relabels, drift made with kubectl, adoption, ordering,
//! deletion and orphaning, deregistration.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::time::Duration;

use common::{WAIT, configmap, fleet, fleet_with, settings};
use flotilla_domain::{ClusterOverride, OverridePatch, Placement, StatusCode};
use flotilla_engine::{EngineHandle, StatusEvent};
use flotilla_simulator::Faults;
use flotilla_store::DeletionPolicy;
use flotilla_testkit::eventually;
use serde_json::json;

#[tokio::test]
async fn fans_out_with_placement_and_overrides_then_writes_nothing_when_unchanged() {
    let mut s = settings();
    s.resync = Duration::from_millis(300);
    let f = fleet_with(&[("a", "env=prod"), ("b", "env=prod,tier=1"), ("c", "env=staging")], s).await;
    let mut events = f.engine.subscribe();
    let (ws, project) = f.project("env=prod", "payments", "").await;
    let mut spec = configmap("settings", json!({"mode": "fast"}));
    spec.overrides = vec![ClusterOverride {
        cluster: "b".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/data/mode", json!("slow"))],
    }];
    let id = f.add(&ws, Some((&project, "payments")), &spec).await;

    for cluster in ["a", "b"] {
        let st = f.wait_synced_rev(&id, cluster, 1).await;
        assert!(st.member_resource_version.is_some() && st.applied_hash.is_some());
    }
    assert_eq!(f.member_configmap("a", "payments", "settings").await.unwrap(), json!({"mode": "fast"}));
    assert_eq!(f.member_configmap("b", "payments", "settings").await.unwrap(), json!({"mode": "slow"}));
    // c is outside the workspace: nothing there, no status.
    assert!(f.member_get("c", "v1", "Namespace", None, "payments").await.is_none());
    assert!(f.status(&id, "c").await.is_none());
    let ns = f.member_get("a", "v1", "Namespace", None, "payments").await.unwrap();
    assert_eq!(ns.metadata.labels.unwrap()["app.kubernetes.io/managed-by"], "flotilla");
    let cm = f.member_get("a", "v1", "ConfigMap", Some("payments"), "settings").await.unwrap();
    assert_eq!(cm.metadata.annotations.unwrap()["flotilla.io/resource-id"], id);

    // The live stream said so too.
    let mut synced_live = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(&*e, StatusEvent::Resource(r) if r.resource_id == id && r.code == StatusCode::Synced) {
            synced_live += 1;
        }
    }
    assert_eq!(synced_live, 2);

    // Several resyncs later (300 ms each), not one write.
    let before = (f.writes("a"), f.writes("b"), f.writes("c"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((f.writes("a"), f.writes("b"), f.writes("c")), before, "resync wrote to a member");

    // A restarted engine remembers what the members hold: still no writes.
    f.engine.shutdown().await;
    let engine = EngineHandle::start(f.store.clone(), settings()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    engine.flush().await;
    assert_eq!((f.writes("a"), f.writes("b"), f.writes("c")), before, "restart wrote to a member");

    // An update reaches both, with the override kept on b only.
    let mut spec2 = spec.clone();
    spec2.template["data"]["mode"] = json!("turbo");
    spec2.template["data"]["extra"] = json!("1");
    let rev = f.update(&id, &spec2).await;
    for cluster in ["a", "b"] {
        // The restarted engine picks it up (the first one was shut down).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            engine.flush().await;
            let st = f.status(&id, cluster).await;
            if st.as_ref().is_some_and(|s| s.applied_revision == Some(rev) && s.code == StatusCode::Synced) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{cluster} never synced revision {rev}: {st:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(f.member_configmap("a", "payments", "settings").await.unwrap(), json!({"mode": "turbo", "extra": "1"}));
    assert_eq!(f.member_configmap("b", "payments", "settings").await.unwrap(), json!({"mode": "slow", "extra": "1"}));
    engine.shutdown().await;
}

#[tokio::test]
async fn writes_whose_outcome_the_store_missed_are_not_sent_again_after_a_restart() {
    let f = fleet(&[("a", "env=prod")]).await;
    let member = f.sim.cluster("a").unwrap();
    member.record_writes();
    let (ws, project) = f.project("env=prod", "shop", "").await;
    let home = Some((project.as_str(), "shop"));
    let settings_id = f.add(&ws, home, &configmap("settings", json!({"v": "1"}))).await;
    let before_update = f.wait_synced_rev(&settings_id, "a", 1).await;
    let rev = f.update(&settings_id, &configmap("settings", json!({"v": "2"}))).await;
    f.wait_synced_rev(&settings_id, "a", rev).await;
    let added = f.add(&ws, home, &configmap("added", json!({"v": "1"}))).await;
    f.wait_synced_rev(&added, "a", 1).await;
    f.engine.shutdown().await;

    // As after a hard stop between the writes and storing their outcome (statuses are stored
    // in batches): the store says `settings` is at its first revision and knows nothing of
    // `added`, while the member holds both as last written.
    let cluster = f.cluster_id("a").await;
    f.store.save_statuses(&[before_update], &[(added.clone(), cluster)]).await.unwrap();
    let written = member.write_log().len();

    let engine = EngineHandle::start(f.store.clone(), settings()).await.unwrap();
    for (id, revision) in [(&settings_id, rev), (&added, 1)] {
        eventually(&format!("{id} Synced at {revision} again"), WAIT, || async {
            engine.flush().await;
            let statuses = f.store.resource_statuses(&f.tenant, id).await.unwrap();
            statuses.iter().any(|s| s.code == StatusCode::Synced && s.applied_revision == Some(revision))
        })
        .await;
    }
    // The member was read, not written: it held both already.
    assert_eq!(member.write_log()[written..], [], "the restart wrote again what the member held");
    assert_eq!(f.member_configmap("a", "shop", "settings").await.unwrap(), json!({"v": "2"}));

    // A change after the restart is written once, as ever.
    let rev = f.update(&settings_id, &configmap("settings", json!({"v": "3"}))).await;
    eventually("settings at its third revision", WAIT, || async {
        f.member_configmap("a", "shop", "settings").await == Some(json!({"v": "3"}))
    })
    .await;
    let log = member.write_log();
    let revisions: Vec<_> =
        log[written..].iter().map(|w| (w.verb.as_str(), w.name.as_str(), w.revision.clone())).collect();
    assert_eq!(revisions, [("update", "settings", Some(rev.to_string()))]);
    engine.shutdown().await;
}

#[tokio::test]
async fn an_offline_cluster_waits_and_converges_when_it_returns() {
    let f = fleet(&[("a", "env=prod"), ("b", "env=prod")]).await;
    let (ws, project) = f.project("", "shop", "").await;
    let id = f.add(&ws, Some((&project, "shop")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;
    f.wait_synced_rev(&id, "b", 1).await;

    f.sim.set_faults("b", Faults { offline: true, ..Faults::default() });
    let rev = f.update(&id, &configmap("cfg", json!({"v": "2"}))).await;
    // a is not held up by b.
    f.wait_synced_rev(&id, "a", rev).await;
    let waiting = f.wait_code(&id, "b", StatusCode::ClusterNotReady).await;
    assert!(waiting.message.contains("offline"), "{}", waiting.message);
    assert_eq!(waiting.applied_revision, Some(1), "b still holds revision 1");
    let b = f.store.list_clusters(&f.tenant).await.unwrap().into_iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b.health, "Offline");
    assert!(!b.health_reason.is_empty());

    f.sim.set_faults("b", Faults::default());
    f.wait_synced_rev(&id, "b", rev).await;
    assert_eq!(f.member_configmap("b", "shop", "cfg").await.unwrap(), json!({"v": "2"}));
    let b = f.store.list_clusters(&f.tenant).await.unwrap().into_iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b.health, "Ready");
    assert!(b.server_version.is_some());
}

/// A status the database could not take (busy, unreachable, here: its table gone for a
/// while) is kept and saved once it can be; the worker, which reports a status only when it
/// changes, never sends it again, so a status dropped there would be wrong in the store for good.
#[tokio::test]
async fn statuses_the_database_refused_are_saved_once_it_takes_them() {
    let f = fleet(&[("a", "")]).await;
    let (ws, project) = f.project("", "shop", "").await;
    let id = f.add(&ws, Some((&project, "shop")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;
    let db = f.store.pool_for_tests();
    sqlx::raw_sql("ALTER TABLE propagation_status RENAME TO propagation_status_away").execute(db).await.unwrap();
    let mut events = f.engine.subscribe();
    f.sim.set_faults("a", Faults { offline: true, ..Faults::default() });
    // The worker reports the change (live), and the store cannot take it.
    tokio::time::timeout(WAIT, async {
        loop {
            if let StatusEvent::Resource(r) = &*events.recv().await.unwrap()
                && r.resource_id == id
                && r.code == StatusCode::ClusterNotReady
            {
                return;
            }
        }
    })
    .await
    .expect("ClusterNotReady reported");
    f.engine.flush().await; // one attempt made, and refused
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::raw_sql("ALTER TABLE propagation_status_away RENAME TO propagation_status").execute(db).await.unwrap();
    let saved = f.wait_code(&id, "a", StatusCode::ClusterNotReady).await;
    assert_eq!(saved.applied_revision, Some(1), "what a still holds");
}

#[tokio::test]
async fn a_write_without_an_answer_in_time_is_timed_out_not_offline_and_retried() {
    let f = fleet_with(
        &[("a", ""), ("b", "")],
        flotilla_engine::EngineSettings { request_timeout: Duration::from_millis(300), ..settings() },
    )
    .await;
    let (ws, project) = f.project("", "slow", "").await;
    let id = f.add(&ws, Some((&project, "slow")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "b", 1).await;

    // b answers probes and reads at once but takes a second per write.
    f.sim.set_faults("b", Faults { write_latency_ms: 1000, ..Faults::default() });
    let rev = f.update(&id, &configmap("cfg", json!({"v": "2"}))).await;
    f.wait_synced_rev(&id, "a", rev).await;
    let slow = f.wait_code(&id, "b", StatusCode::UpdateTimedOut).await;
    assert!(slow.message.contains("no answer within 0.3 s"), "{}", slow.message);
    let b = f.store.list_clusters(&f.tenant).await.unwrap().into_iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b.health, "Ready", "a slow write is not an offline cluster");

    // Retried with backoff; once writes are fast again it lands.
    f.sim.set_faults("b", Faults::default());
    f.wait_synced_rev(&id, "b", rev).await;
    assert_eq!(f.member_configmap("b", "slow", "cfg").await.unwrap(), json!({"v": "2"}));

    // A create that times out says so too.
    f.sim.set_faults("b", Faults { write_latency_ms: 1000, ..Faults::default() });
    let other = f.add(&ws, Some((&project, "slow")), &configmap("other", json!({}))).await;
    f.wait_code(&other, "b", StatusCode::CreationTimedOut).await;
    f.sim.set_faults("b", Faults::default());
    f.wait_synced_rev(&other, "b", 1).await;
}

#[tokio::test]
async fn server_errors_are_retried_and_refusals_reported() {
    let f = fleet(&[("a", "")]).await;
    f.sim.set_faults("a", Faults { forbidden_kinds: vec!["ConfigMap".into()], ..Faults::default() });
    let (ws, project) = f.project("", "team", "").await;
    let id = f.add(&ws, Some((&project, "team")), &configmap("cfg", json!({"v": "1"}))).await;
    let failed = f.wait_code(&id, "a", StatusCode::CreationFailed).await;
    assert!(failed.message.contains("403"), "{}", failed.message);

    // Half of all requests fail with 500: retried with backoff until it lands.
    f.sim.set_faults("a", Faults { error_rate: 0.5, ..Faults::default() });
    f.wait_synced_rev(&id, "a", 1).await;
    f.sim.set_faults("a", Faults::default());
    assert_eq!(f.member_configmap("a", "team", "cfg").await.unwrap(), json!({"v": "1"}));
}

#[tokio::test]
async fn clusters_joining_or_relabelled_get_or_lose_what_they_should() {
    let f = fleet(&[("a", "env=prod")]).await;
    let (ws, project) = f.project("env=prod", "web", "").await;
    let id = f.add(&ws, Some((&project, "web")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;

    // A cluster registered later, matching: receives the namespace and the ConfigMap.
    f.register("late", "env=prod").await;
    f.wait_synced_rev(&id, "late", 1).await;
    assert_eq!(f.member_configmap("late", "web", "cfg").await.unwrap(), json!({"v": "1"}));

    // Relabelled out of the workspace: Flotilla's objects are removed.
    let a = f.cluster_id("a").await;
    let version = f.cluster_version(&a).await;
    f.store.set_cluster_labels(&f.tenant, "tester", &a, version, &common::labels("env=staging")).await.unwrap();
    f.wait_no_status(&id, "a").await;
    eventually("namespace removed from a", WAIT, || async {
        f.member_get("a", "v1", "Namespace", None, "web").await.is_none()
    })
    .await;
    assert!(f.member_configmap("late", "web", "cfg").await.is_some(), "late keeps it");
}

#[tokio::test]
async fn drift_made_with_kubectl_is_corrected() {
    let f = fleet(&[("a", "")]).await;
    let (ws, project) = f.project("", "ops", "").await;
    let id = f.add(&ws, Some((&project, "ops")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;

    let kubeconfig = f.dir.path().join("a.kubeconfig");
    std::fs::write(&kubeconfig, f.sim.kubeconfig("a").unwrap()).unwrap();
    let kubectl = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new("/usr/bin/kubectl");
        cmd.arg("--kubeconfig").arg(&kubeconfig).arg("--cache-dir").arg(f.dir.path().join("cache")).args(args);
        cmd
    };
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        assert!(std::env::var_os("CI").is_none(), "kubectl is missing: the drift test cannot run");
        eprintln!("\n*** SKIPPED: /usr/bin/kubectl not found; drift via kubectl not tested ***\n");
        return;
    }
    let out = kubectl(&["-n", "ops", "patch", "configmap", "cfg", "--type=merge", "-p", r#"{"data":{"v":"hacked"}}"#])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "kubectl patch: {}", String::from_utf8_lossy(&out.stderr));
    eventually("the engine restores the ConfigMap", WAIT, || async {
        f.member_configmap("a", "ops", "cfg").await == Some(json!({"v": "1"}))
    })
    .await;

    // Deleted behind Flotilla's back: created again.
    let out = kubectl(&["-n", "ops", "delete", "configmap", "cfg"]).output().await.unwrap();
    assert!(out.status.success(), "kubectl delete: {}", String::from_utf8_lossy(&out.stderr));
    eventually("the engine recreates the ConfigMap", WAIT, || async {
        f.member_configmap("a", "ops", "cfg").await == Some(json!({"v": "1"}))
    })
    .await;
    f.wait_synced_rev(&id, "a", 1).await;
}

#[tokio::test]
async fn pre_existing_objects_are_refused_unless_adopted() {
    let f = fleet(&[("a", "")]).await;
    let (ws, project) = f.project("", "data", "").await;
    f.wait_code(&f.store.list_resources(&f.tenant, &ws, Some(&project)).await.unwrap()[0].id, "a", StatusCode::Synced)
        .await;
    let member = f.sim.cluster("a").unwrap();
    member
        .create_object(
            "v1",
            "configmaps",
            Some("data"),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "legacy", "namespace": "data"}, "data": {"owner": "someone-else"}}),
        )
        .unwrap();

    let mut spec = configmap("legacy", json!({"owner": "flotilla"}));
    let id = f.add(&ws, Some((&project, "data")), &spec).await;
    let refused = f.wait_code(&id, "a", StatusCode::AlreadyExists).await;
    assert!(refused.message.contains("not created by Flotilla"), "{}", refused.message);
    assert_eq!(f.member_configmap("a", "data", "legacy").await.unwrap(), json!({"owner": "someone-else"}));

    spec.adopt_existing = true;
    let rev = f.update(&id, &spec).await;
    f.wait_synced_rev(&id, "a", rev).await;
    assert_eq!(f.member_configmap("a", "data", "legacy").await.unwrap(), json!({"owner": "flotilla"}));
}

#[tokio::test]
async fn namespaces_and_crds_come_before_what_needs_them() {
    let f = fleet(&[("a", "")]).await;
    // Everything is declared while the cluster is offline, so it arrives in one pass.
    f.sim.set_faults("a", Faults { offline: true, ..Faults::default() });
    let (ws, project) = f.project("", "widgets", "").await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}});
    let widget_id = f.add(&ws, Some((&project, "widgets")), &flotilla_store::ResourceSpec::new(widget)).await;
    let crd_id = f.add(&ws, None, &flotilla_store::ResourceSpec::new(crd)).await;
    let cm_id = f.add(&ws, Some((&project, "widgets")), &configmap("cfg", json!({}))).await;
    f.wait_code(&cm_id, "a", StatusCode::ClusterNotReady).await;

    f.sim.set_faults("a", Faults::default());
    f.wait_synced_rev(&crd_id, "a", 1).await;
    f.wait_synced_rev(&cm_id, "a", 1).await;
    f.wait_synced_rev(&widget_id, "a", 1).await;
    let w = f.member_get("a", "example.com/v1", "Widget", Some("widgets"), "w1").await.unwrap();
    assert_eq!(w.data["spec"]["size"], 3);
}

#[tokio::test]
async fn deleted_resources_are_removed_or_orphaned_then_purged() {
    let f = fleet(&[("a", ""), ("b", "")]).await;
    let (ws, project) = f.project("", "tmp", "").await;
    let gone = f.add(&ws, Some((&project, "tmp")), &configmap("gone", json!({}))).await;
    // The policy is chosen when deleting (the spec's own is only the default).
    let kept = f.add(&ws, Some((&project, "tmp")), &configmap("kept", json!({}))).await;
    for c in ["a", "b"] {
        f.wait_synced_rev(&gone, c, 1).await;
        f.wait_synced_rev(&kept, c, 1).await;
    }
    for (id, policy) in [(&gone, DeletionPolicy::Delete), (&kept, DeletionPolicy::Orphan)] {
        let version = f.store.get_resource(&f.tenant, id).await.unwrap().version;
        f.store
            .delete_resource(&f.tenant, &common::actor(), flotilla_domain::Clearance::TenantAdmin, id, version, policy)
            .await
            .unwrap();
    }
    for c in ["a", "b"] {
        eventually("deleted from the member", WAIT, || async { f.member_configmap(c, "tmp", "gone").await.is_none() })
            .await;
        f.wait_no_status(&kept, c).await;
    }
    eventually("both purged", WAIT, || async {
        f.engine.flush().await;
        f.store.engine_resource(&gone).await.unwrap().is_none()
            && f.store.engine_resource(&kept).await.unwrap().is_none()
    })
    .await;
    assert!(f.member_configmap("a", "tmp", "kept").await.is_some(), "orphaned objects stay");

    // Placement narrowed to b: removed from a only.
    let mut spec = configmap("narrow", json!({}));
    let narrow = f.add(&ws, Some((&project, "tmp")), &spec).await;
    f.wait_synced_rev(&narrow, "a", 1).await;
    spec.placement = Placement::clusters(["b"]);
    let rev = f.update(&narrow, &spec).await;
    f.wait_synced_rev(&narrow, "b", rev).await;
    f.wait_no_status(&narrow, "a").await;
    assert!(f.member_configmap("a", "tmp", "narrow").await.is_none());
}

#[tokio::test]
async fn a_deleted_resource_no_cluster_ever_held_is_purged() {
    let f = fleet(&[("a", "")]).await;
    let (ws, project) = f.project("", "idle", "").await;
    let held = f.add(&ws, Some((&project, "idle")), &configmap("held", json!({}))).await;
    f.wait_synced_rev(&held, "a", 1).await;
    // Placed on no cluster (as the grant binding of a project without joined clusters is):
    // no worker ever held it, so none says it is gone.
    let spec = flotilla_store::ResourceSpec {
        placement: Placement::clusters(["not-registered"]),
        ..configmap("nowhere", json!({}))
    };
    let nowhere = f.add(&ws, Some((&project, "idle")), &spec).await;
    let version = f.store.get_resource(&f.tenant, &nowhere).await.unwrap().version;
    f.store
        .delete_resource(
            &f.tenant,
            &common::actor(),
            flotilla_domain::Clearance::TenantAdmin,
            &nowhere,
            version,
            DeletionPolicy::Delete,
        )
        .await
        .unwrap();
    eventually("purged", WAIT, || async {
        f.engine.flush().await;
        f.store.engine_resource(&nowhere).await.unwrap().is_none()
    })
    .await;
    // What a cluster holds is not purged by it.
    assert!(f.store.engine_resource(&held).await.unwrap().is_some());
    assert!(f.member_configmap("a", "idle", "held").await.is_some());
}

#[tokio::test]
async fn deregistering_cleans_up_or_leaves_objects() {
    let f = fleet(&[("a", ""), ("b", "")]).await;
    let (ws, project) = f.project("", "svc", "").await;
    let id = f.add(&ws, Some((&project, "svc")), &configmap("cfg", json!({}))).await;
    f.wait_synced_rev(&id, "a", 1).await;
    f.wait_synced_rev(&id, "b", 1).await;
    let (a, b) = (f.cluster_id("a").await, f.cluster_id("b").await);
    let (va, vb) = (f.cluster_version(&a).await, f.cluster_version(&b).await);
    f.store.deregister_cluster(&f.tenant, "tester", &a, va, true).await.unwrap();
    f.store.deregister_cluster(&f.tenant, "tester", &b, vb, false).await.unwrap();
    eventually("both forgotten", WAIT, || async { f.store.list_clusters(&f.tenant).await.unwrap().is_empty() }).await;
    assert!(f.member_get("a", "v1", "Namespace", None, "svc").await.is_none(), "a cleaned up");
    assert!(f.member_configmap("b", "svc", "cfg").await.is_some(), "b left in place");
}

#[tokio::test]
async fn workload_health_follows_the_rollout_and_a_broken_image_degrades() {
    use flotilla_domain::Health;
    let f = fleet(&[("a", "env=prod"), ("b", "env=prod")]).await;
    let (ws, project) = f.project("env=prod", "streaming", "").await;
    let deployment = |image: &str| {
        flotilla_store::ResourceSpec::new(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kafka"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kafka"}},
                "template": {"metadata": {"labels": {"app": "kafka"}},
                    "spec": {"containers": [{"name": "kafka", "image": image}]}}}
        }))
    };
    let mut spec = deployment("kafka:3.7.0");
    spec.overrides = vec![ClusterOverride {
        cluster: "b".into(),
        selector: None,
        patches: vec![OverridePatch::replace("/spec/template/spec/containers/0/image", json!("kafka:3.8.0-broken"))],
    }];
    let id = f.add(&ws, Some((&project, "streaming")), &spec).await;

    // The write is accepted at once (Synced); health then comes from the member's watch
    // as the simulator rolls pods out one per tick.
    let healthy = f
        .wait_status(&id, "a", "Healthy 3/3", |s| {
            s.is_some_and(|s| s.code == StatusCode::Synced && s.health.is_some_and(|h| h.health == Health::Healthy))
        })
        .await
        .unwrap();
    let h = healthy.health.unwrap();
    assert_eq!((h.desired, h.updated, h.ready), (3, 3, 3));
    assert_eq!(h.to_string(), "Healthy 3/3");

    // b never becomes ready: Progressing, then Degraded after the progress deadline (2 s).
    let degraded = f
        .wait_status(&id, "b", "Degraded", |s| {
            s.is_some_and(|s| s.health.is_some_and(|h| h.health == Health::Degraded))
        })
        .await
        .unwrap();
    assert_eq!(degraded.code, StatusCode::Synced, "the member accepted the spec; the rollout is what failed");
    assert_eq!(degraded.health.unwrap().ready, 0);
    // Watching health is not drift: the engine never rewrote the Deployments.
    assert_eq!(f.writes("a"), 2, "the namespace and the Deployment, once each");
}

#[tokio::test]
async fn a_workload_the_tightened_pod_security_level_forbids_is_refused_in_the_member_not_rewritten() {
    use flotilla_domain::{Clearance, PodSecurity};
    let f = fleet(&[("a", "env=prod")]).await;
    let (ws, project) = f.project("env=prod", "shop", "").await;
    let web = flotilla_store::ResourceSpec::new(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    }));
    let id = f.add(&ws, Some((&project, "shop")), &web).await;
    f.wait_code(&id, "a", StatusCode::Synced).await;
    let writes = f.writes("a");

    f.store
        .set_project_pod_security(&f.tenant, &common::actor(), Clearance::Admin, &project, PodSecurity::Restricted, 1)
        .await
        .unwrap();
    let refused = f.wait_code(&id, "a", StatusCode::Refused).await;
    assert!(refused.message.contains("Pod Security level restricted"), "{}", refused.message);
    // The namespace took the new labels; the Deployment was left as the member had it.
    let ns = f.member_get("a", "v1", "Namespace", None, "shop").await.unwrap();
    let labels = ns.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("pod-security.kubernetes.io/enforce").map(String::as_str), Some("restricted"));
    assert!(f.member_get("a", "apps/v1", "Deployment", Some("shop"), "web").await.is_some());
    assert_eq!(f.writes("a"), writes + 1, "only the namespace was written");
}

#[tokio::test]
async fn nothing_is_written_into_a_namespace_flotilla_does_not_own_until_a_tenant_admin_adopts_it() {
    use flotilla_domain::Clearance;
    let f = fleet(&[("a", "")]).await;
    let member = f.sim.cluster("a").unwrap();
    member
        .create_object(
            "v1",
            "namespaces",
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy"}}),
        )
        .unwrap();
    let (ws, project) = f.project("", "legacy", "").await;
    let namespace = f.store.list_resources(&f.tenant, &ws, Some(&project)).await.unwrap()[0].id.clone();
    f.wait_code(&namespace, "a", StatusCode::AlreadyExists).await;
    let id = f.add(&ws, Some((&project, "legacy")), &configmap("settings", json!({"a": "b"}))).await;
    let blocked = f.wait_code(&id, "a", StatusCode::WaitingForDependency).await;
    assert!(blocked.message.contains("not Flotilla's"), "{}", blocked.message);
    assert!(f.member_configmap("a", "legacy", "settings").await.is_none(), "nothing written into it");

    let refused = f.store.adopt_project_namespace(&f.tenant, &common::actor(), Clearance::Admin, &project).await;
    assert!(refused.unwrap_err().to_string().contains("only a tenant admin"));
    f.store.adopt_project_namespace(&f.tenant, &common::actor(), Clearance::TenantAdmin, &project).await.unwrap();
    f.wait_code(&namespace, "a", StatusCode::Synced).await;
    f.wait_code(&id, "a", StatusCode::Synced).await;
    assert!(f.member_configmap("a", "legacy", "settings").await.is_some());
}

/// #16 point 13: the periodic check reads versions only, and reads again only what changed
/// without an event (here: a change written to the database behind the store's back, as a
/// restore or another tool might). It never reloads, let alone decrypts, everything.
#[tokio::test]
async fn the_periodic_check_reads_only_what_changed_without_an_event() {
    let settings = flotilla_engine::EngineSettings { resync: Duration::from_millis(200), ..settings() };
    let f = fleet_with(&[("a", "env=prod"), ("b", "")], settings).await;
    let (ws, project) = f.project("env=prod", "web", "").await;
    let id = f.add(&ws, Some((&project, "web")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;
    let metrics = f.engine.metrics();
    tokio::time::sleep(Duration::from_millis(700)).await; // a few periods
    assert_eq!((metrics.store_reloads(), metrics.caught_up()), (1, 0), "the start's load only, nothing caught up");

    // b gains the workspace's label with no event sent.
    let b = f.cluster_id("b").await;
    sqlx::query("UPDATE clusters SET labels = '{\"env\":\"prod\"}', version = version + 1 WHERE id = $1")
        .bind(&b)
        .execute(f.store.pool_for_tests())
        .await
        .unwrap();
    f.wait_synced_rev(&id, "b", 1).await;
    assert_eq!(f.member_configmap("b", "web", "cfg").await.unwrap(), json!({"v": "1"}));
    assert_eq!((metrics.store_reloads(), metrics.caught_up()), (1, 1), "that one cluster was read again");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(metrics.caught_up(), 1, "and only once");
}

#[tokio::test]
async fn a_router_that_missed_events_reads_only_the_rows_that_changed() {
    let f = fleet(&[("a", "env=prod")]).await;
    let (ws, project) = f.project("env=prod", "web", "").await;
    let id = f.add(&ws, Some((&project, "web")), &configmap("cfg", json!({"v": "1"}))).await;
    f.wait_synced_rev(&id, "a", 1).await;
    let reloads = f.engine.metrics().store_reloads();
    let caught_up = f.engine.metrics().caught_up();

    // The cluster leaves the workspace behind the feed's back (its row changes, no event
    // says so), and a flood of events the router ignores makes it lag.
    let a = f.cluster_id("a").await;
    sqlx::query("UPDATE clusters SET labels = '{\"env\":\"staging\"}', version = version + 1 WHERE id = $1")
        .bind(&a)
        .execute(f.store.pool_for_tests())
        .await
        .unwrap();
    for _ in 0..20_000 {
        f.store
            .announce_for_tests(flotilla_store::Change::ClusterHealth { tenant_id: f.tenant.clone(), id: a.clone() });
    }

    // It finds the change from the rows' versions: the ConfigMap leaves the cluster, and
    // nothing was read again wholesale.
    f.wait_no_status(&id, "a").await;
    assert!(f.engine.metrics().caught_up() > caught_up, "the changed row was read again");
    assert_eq!(f.engine.metrics().store_reloads(), reloads, "no reload of everything");
}

/// A CustomResourceDefinition whose plural no rule derives from its kind.
fn octopus_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "octopi.zoo.example.com"},
        "spec": {"group": "zoo.example.com", "scope": "Namespaced",
                 "names": {"plural": "octopi", "singular": "octopus", "kind": "Octopus"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

#[tokio::test]
async fn kinds_are_addressed_by_what_each_member_serves_and_a_missing_one_says_so() {
    let f = fleet(&[("a", ""), ("b", "")]).await;
    // Installed in `a` by its admin; `b` lacks the type.
    f.member_create("a", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", &octopus_crd()).await;
    let (ws, project) = f.project("", "sea", "").await;
    let octopus = json!({"apiVersion": "zoo.example.com/v1", "kind": "Octopus", "metadata": {"name": "otto"},
                         "spec": {"arms": 8}});
    let id = f.add(&ws, Some((&project, "sea")), &flotilla_store::ResourceSpec::new(octopus)).await;

    // Written at the plural `a`'s discovery names (a guess from the kind would say "octopuses").
    f.wait_synced_rev(&id, "a", 1).await;
    let otto = f.member_get("a", "zoo.example.com/v1", "Octopus", Some("sea"), "otto").await.unwrap();
    assert_eq!(otto.data["spec"]["arms"], 8);
    let missing = f.wait_code(&id, "b", StatusCode::TypeNotServed).await;
    assert!(missing.message.contains("does not serve zoo.example.com/v1 Octopus"), "{}", missing.message);

    // The store holds what each cluster serves.
    let types = f.store.fleet_types(&f.tenant).await.unwrap();
    let served = |cluster: &str| {
        let c = types.clusters.iter().find(|c| c.cluster_name == cluster).unwrap();
        types.sets[c.digest.as_deref().unwrap()].clone()
    };
    let octopi = served("a").into_iter().find(|t| t.kind == "Octopus").expect("a serves Octopus");
    assert_eq!((octopi.plural.as_str(), octopi.namespaced), ("octopi", true));
    assert!(served("b").iter().all(|t| t.kind != "Octopus"));
    assert!(served("b").iter().any(|t| t.kind == "Deployment" && t.plural == "deployments"));

    // Once `b`'s admin installs the type, the object arrives there too (and `b`'s stored set follows).
    f.member_create("b", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", &octopus_crd()).await;
    f.wait_synced_rev(&id, "b", 1).await;
    assert!(f.member_get("b", "zoo.example.com/v1", "Octopus", Some("sea"), "otto").await.is_some());
    let types = f.store.fleet_types(&f.tenant).await.unwrap();
    let digests: std::collections::BTreeSet<_> = types.clusters.iter().map(|c| c.digest.clone()).collect();
    assert_eq!(digests.len(), 1, "both serve the same set now, stored once: {digests:?}");
}
