//! The simulator through the real kube-rs client over HTTP: every point of its contract.
// Tests, benches and examples may unwrap and print (the workspace lints forbid both elsewhere).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::time::Duration;

use common::{client, code, start};
use flotilla_testkit::eventually;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    WatchEvent, WatchParams,
};
use kube::discovery::Discovery;
use serde_json::json;

fn cm(name: &str, labels: serde_json::Value, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "data": data})).unwrap()
}

fn deployment(name: &str, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "main", "image": image}]}}}
    }))
    .unwrap()
}

#[tokio::test]
async fn clusters_share_a_port_under_path_prefixes_and_check_tokens() {
    let sim = start().await;
    assert!(sim.server_url("a").ends_with("/clusters/a"));
    let a = client(&sim, "a").await;
    let b = client(&sim, "b").await;
    let version = a.apiserver_version().await.unwrap();
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "32"));

    // What is created in one cluster does not exist in another.
    Api::<ConfigMap>::namespaced(a.clone(), "default")
        .create(&PostParams::default(), &cm("x", json!({}), json!({})))
        .await
        .unwrap();
    let in_b = Api::<ConfigMap>::namespaced(b, "default").get("x").await.unwrap_err();
    assert_eq!(code(in_b), 404);

    // Another cluster's token is refused.
    let mut wrong = sim.kubeconfig("a").unwrap();
    wrong = wrong.replace(&sim.cluster("a").unwrap().token, &sim.cluster("b").unwrap().token);
    let kc = kube::config::Kubeconfig::from_yaml(&wrong).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap();
    config.default_retry = false;
    let intruder = kube::Client::try_from(config).unwrap();
    let err = Api::<Namespace>::all(intruder).list(&ListParams::default()).await.unwrap_err();
    assert_eq!(code(err), 401);
}

#[tokio::test]
async fn discovery_lists_the_built_in_kinds() {
    let sim = start().await;
    let discovery = Discovery::new(client(&sim, "a").await).run().await.unwrap();
    let mut kinds = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            kinds.push((ar.kind.clone(), caps.scope == kube::discovery::Scope::Namespaced));
        }
    }
    for (kind, namespaced) in [
        ("Namespace", false),
        ("ConfigMap", true),
        ("Secret", true),
        ("ServiceAccount", true),
        ("Service", true),
        ("Deployment", true),
        ("StatefulSet", true),
        ("DaemonSet", true),
        ("ResourceQuota", true),
        ("LimitRange", true),
        ("Role", true),
        ("RoleBinding", true),
        ("ClusterRole", false),
        ("ClusterRoleBinding", false),
        ("NetworkPolicy", true),
        ("CustomResourceDefinition", false),
    ] {
        assert!(kinds.contains(&(kind.to_owned(), namespaced)), "{kind} missing from discovery: {kinds:?}");
    }
}

#[tokio::test]
async fn objects_behave_as_on_a_real_api_server() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "default");
    let pp = PostParams::default();

    let created = cms.create(&pp, &cm("app", json!({"team": "a"}), json!({"k": "1"}))).await.unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    let rv1: u64 = meta.resource_version.as_deref().unwrap().parse().unwrap();

    assert_eq!(code(cms.create(&pp, &cm("app", json!({}), json!({}))).await.unwrap_err()), 409);
    assert_eq!(code(cms.get("missing").await.unwrap_err()), 404);
    let in_missing_ns =
        Api::<ConfigMap>::namespaced(c.clone(), "nope").create(&pp, &cm("x", json!({}), json!({}))).await;
    assert_eq!(code(in_missing_ns.unwrap_err()), 404);
    let invalid = cms.create(&pp, &cm("Not_Valid", json!({}), json!({}))).await.unwrap_err();
    assert_eq!(code(invalid), 422);

    // Update with the current resourceVersion works; with a stale one it conflicts.
    let mut next = created.clone();
    next.data = Some([("k".to_owned(), "2".to_owned())].into());
    let updated = cms.replace("app", &pp, &next).await.unwrap();
    let rv2: u64 = updated.metadata.resource_version.as_deref().unwrap().parse().unwrap();
    assert!(rv2 > rv1, "resourceVersion increases");
    assert_eq!(code(cms.replace("app", &pp, &next).await.unwrap_err()), 409, "stale resourceVersion");

    // The resourceVersion is cluster-wide: another object's write moves past it.
    let other = cms.create(&pp, &cm("other", json!({}), json!({}))).await.unwrap();
    assert!(other.metadata.resource_version.unwrap().parse::<u64>().unwrap() > rv2);
}

#[tokio::test]
async fn generation_moves_only_with_spec_and_status_has_its_own_endpoint() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let deploys = Api::<Deployment>::namespaced(c, "default");
    let d = deploys.create(&PostParams::default(), &deployment("web", "nginx:1", 1)).await.unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    let labelled = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})))
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(1), "metadata change keeps generation");
    let scaled =
        deploys.patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 2}}))).await.unwrap();
    assert_eq!(scaled.metadata.generation, Some(2), "spec change bumps generation");

    // Status sent to the main endpoint is ignored; the status subresource changes it.
    let ignored = deploys
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"status": {"observedGeneration": 99}})))
        .await
        .unwrap();
    assert_ne!(ignored.status.and_then(|s| s.observed_generation), Some(99));
    let via_status = deploys
        .patch_status("web", &PatchParams::default(), &Patch::Merge(json!({"status": {"collisionCount": 7}})))
        .await
        .unwrap();
    assert_eq!(via_status.status.unwrap().collision_count, Some(7));
    assert_eq!(via_status.metadata.generation, Some(2));
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "default");
    for (name, env, region) in
        [("p-eu", "prod", "eu"), ("p-us", "prod", "us"), ("s-eu", "staging", "eu"), ("legacy", "prod", "eu")]
    {
        let mut labels = json!({"env": env, "region": region});
        if name == "legacy" {
            labels["legacy"] = json!("true");
        }
        cms.create(&PostParams::default(), &cm(name, labels, json!({}))).await.unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| {
        let mut n: Vec<String> = list.items.into_iter().filter_map(|c| c.metadata.name).collect();
        n.sort();
        n
    };
    let cases = [
        ("env=prod", vec!["legacy", "p-eu", "p-us"]),
        ("env!=prod", vec!["s-eu"]),
        ("region in (us,ap)", vec!["p-us"]),
        ("region notin (eu)", vec!["p-us"]),
        ("legacy", vec!["legacy"]),
        ("env=prod,!legacy", vec!["p-eu", "p-us"]),
    ];
    for (selector, want) in cases {
        assert_eq!(names(cms.list(&ListParams::default().labels(selector)).await.unwrap()), want, "{selector}");
    }
    assert_eq!(names(cms.list(&ListParams::default().fields("metadata.name=p-us")).await.unwrap()), ["p-us"]);
    let all_ns = Api::<ConfigMap>::all(c);
    let listed = all_ns.list(&ListParams::default().fields("metadata.namespace=default")).await.unwrap();
    assert_eq!(listed.items.len(), 4);
    assert!(listed.metadata.resource_version.is_some());
}

#[tokio::test]
async fn watches_resume_from_a_resource_version_and_expire() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let cms = Api::<ConfigMap>::namespaced(c, "default");
    let list = cms.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.unwrap();
    cms.create(&PostParams::default(), &cm("w", json!({"watch": "me"}), json!({"v": "1"}))).await.unwrap();
    cms.create(&PostParams::default(), &cm("unwatched", json!({}), json!({}))).await.unwrap();

    let mut stream = cms
        .watch(&WatchParams::default().labels("watch=me"), &from)
        .await
        .unwrap()
        .try_filter(|e| futures::future::ready(!matches!(e, WatchEvent::Bookmark(_))))
        .boxed();
    let first = stream.try_next().await.unwrap().unwrap();
    assert!(matches!(first, WatchEvent::Added(ref o) if o.metadata.name.as_deref() == Some("w")), "{first:?}");
    cms.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "2"}}))).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.unwrap().unwrap().unwrap();
    match second {
        WatchEvent::Modified(o) => assert_eq!(o.data.unwrap()["v"], "2"),
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    cms.delete("w", &DeleteParams::default()).await.unwrap();
    let third = tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.unwrap().unwrap().unwrap();
    assert!(matches!(third, WatchEvent::Deleted(_)), "{third:?}");

    // Enough churn pushes the first resourceVersion out of the history: 410 Gone.
    for i in 0..1100 {
        cms.patch("unwatched", &PatchParams::default(), &Patch::Merge(json!({"data": {"i": i.to_string()}})))
            .await
            .unwrap();
    }
    let mut stale = cms.watch(&WatchParams::default(), &from).await.unwrap().boxed();
    match stale.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => assert_eq!(e.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn metadata_only_lists_gets_and_watches_carry_no_data() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "default");
    cms.create(&PostParams::default(), &cm("m", json!({"watch": "me"}), json!({"secret-ish": "payload"})))
        .await
        .unwrap();

    // kube's metadata calls send `Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`.
    let listed = cms.list_metadata(&ListParams::default().labels("watch=me")).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let item = &listed.items[0];
    assert_eq!(item.types.as_ref().map(|t| t.kind.as_str()), Some("PartialObjectMetadata"));
    assert_eq!(item.metadata.labels.as_ref().unwrap()["watch"], "me");
    let from = listed.metadata.resource_version.clone().unwrap();
    let got = cms.get_metadata("m").await.unwrap();
    assert_eq!(got.metadata.name.as_deref(), Some("m"));
    assert!(got.metadata.resource_version.is_some());

    let mut stream = cms.watch_metadata(&WatchParams::default().labels("watch=me"), &from).await.unwrap().boxed();
    cms.patch("m", &PatchParams::default(), &Patch::Merge(json!({"data": {"secret-ish": "changed"}}))).await.unwrap();
    let event = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next()).await.unwrap().unwrap().unwrap() {
            WatchEvent::Bookmark(_) => continue,
            other => break other,
        }
    };
    let WatchEvent::Modified(o) = event else { panic!("expected MODIFIED, got {event:?}") };
    assert_eq!(o.types.as_ref().map(|t| t.api_version.as_str()), Some("meta.k8s.io/v1"));
    assert_ne!(o.metadata.resource_version.as_deref(), Some(from.as_str()));

    // The answer on the wire holds metadata only: no `data`.
    let raw = kube::core::Request::new("/api/v1/namespaces/default/configmaps")
        .list_metadata(&ListParams::default())
        .unwrap();
    let text = c.request_text(raw).await.unwrap();
    assert!(text.contains(r#""name":"m""#) && !text.contains("secret-ish"), "{text}");
}

#[tokio::test]
async fn every_patch_type_and_apply_creates() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let deploys = Api::<Deployment>::namespaced(c.clone(), "default");
    // Server-side apply creates when missing.
    let applied = deploys
        .patch(
            "api",
            &PatchParams::apply("flotilla"),
            &Patch::Apply(serde_json::to_value(deployment("api", "api:1", 1)).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(applied.metadata.generation, Some(1));
    // Strategic merge updates one container by name.
    let smp = deploys
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "api:2"}]}}}}),
            ),
        )
        .await
        .unwrap();
    let containers = smp.spec.unwrap().template.spec.unwrap().containers;
    assert_eq!((containers.len(), containers[0].image.as_deref()), (1, Some("api:2")));
    // JSON patch, and one that cannot apply.
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])).unwrap();
    let patched = deploys.patch("api", &PatchParams::default(), &Patch::<()>::Json(jp)).await.unwrap();
    assert_eq!(patched.spec.unwrap().replicas, Some(3));
    let bad: json_patch::Patch = serde_json::from_value(json!([{"op": "remove", "path": "/spec/nothing"}])).unwrap();
    assert_eq!(code(deploys.patch("api", &PatchParams::default(), &Patch::<()>::Json(bad)).await.unwrap_err()), 422);
    // A merge patch to something missing is 404 (only apply creates).
    let missing = Api::<ConfigMap>::namespaced(c, "default")
        .patch("nope", &PatchParams::default(), &Patch::Merge(json!({})))
        .await;
    assert_eq!(code(missing.unwrap_err()), 404);
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_is_in_it() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let nss = Api::<Namespace>::all(c.clone());
    nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "team"}})).unwrap())
        .await
        .unwrap();
    let secrets = Api::<Secret>::namespaced(c.clone(), "team");
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"password": "x"}})).unwrap();
    let stored = secrets.create(&PostParams::default(), &secret).await.unwrap();
    assert_eq!(stored.data.unwrap()["password"].0, b"x", "stringData folded into data");
    nss.delete("team", &DeleteParams::default()).await.unwrap();
    assert_eq!(code(secrets.get("s").await.unwrap_err()), 404);
    assert_eq!(code(nss.get("team").await.unwrap_err()), 404);
}

#[tokio::test]
async fn crds_become_established_and_serve_custom_resources() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let crds = Api::<CustomResourceDefinition>::all(c.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": {"name": "kafkatopics.streams.example.com"},
        "spec": {"group": "streams.example.com", "scope": "Namespaced",
            "names": {"plural": "kafkatopics", "singular": "kafkatopic", "kind": "KafkaTopic", "shortNames": ["kt"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .unwrap();
    crds.create(&PostParams::default(), &crd).await.unwrap();
    eventually("the simulator gets there", Duration::from_secs(5), || {
        let crds = crds.clone();
        async move {
            let crd = crds.get("kafkatopics.streams.example.com").await.ok()?;
            crd.status?.conditions?.iter().any(|c| c.type_ == "Established" && c.status == "True").then_some(())
        }
    })
    .await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("streams.example.com", "v1", "KafkaTopic"),
        "kafkatopics",
    );
    let topics = Api::<DynamicObject>::namespaced_with(c.clone(), "default", &ar);
    let topic: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "streams.example.com/v1", "kind": "KafkaTopic", "metadata": {"name": "orders"}, "spec": {"partitions": 6}})).unwrap();
    topics.create(&PostParams::default(), &topic).await.unwrap();
    assert_eq!(topics.get("orders").await.unwrap().data["spec"]["partitions"], 6);
    let discovery = Discovery::new(c).run().await.unwrap();
    assert!(discovery.groups().any(|g| g.name() == "streams.example.com"), "custom group discoverable");
}

#[tokio::test]
async fn workloads_roll_out_over_time_and_broken_images_never_get_ready() {
    let sim = start().await;
    let c = client(&sim, "a").await;
    let deploys = Api::<Deployment>::namespaced(c, "default");
    deploys.create(&PostParams::default(), &deployment("good", "kafka:3.7.0", 3)).await.unwrap();
    deploys.create(&PostParams::default(), &deployment("bad", "kafka:3.8.1-broken", 2)).await.unwrap();

    // Not ready at once: status catches up over ticks.
    let fresh = deploys.get("good").await.unwrap();
    assert_ne!(fresh.status.and_then(|s| s.ready_replicas), Some(3));
    let ready = eventually("the simulator gets there", Duration::from_secs(5), || {
        let deploys = deploys.clone();
        async move {
            let s = deploys.get("good").await.ok()?.status?;
            (s.ready_replicas == Some(3) && s.updated_replicas == Some(3) && s.observed_generation == Some(1))
                .then_some(s)
        }
    })
    .await;
    let progressing = ready.conditions.unwrap().into_iter().find(|c| c.type_ == "Progressing").unwrap();
    assert_eq!(progressing.reason.as_deref(), Some("NewReplicaSetAvailable"));

    let stuck = eventually("the simulator gets there", Duration::from_secs(5), || {
        let deploys = deploys.clone();
        async move {
            let s = deploys.get("bad").await.ok()?.status?;
            let p = s.conditions.as_ref()?.iter().find(|c| c.type_ == "Progressing")?.clone();
            (p.reason.as_deref() == Some("ProgressDeadlineExceeded")).then_some(s)
        }
    })
    .await;
    assert_eq!(stuck.ready_replicas.unwrap_or(0), 0, "a broken image never becomes ready");
}

#[tokio::test]
async fn faults_are_injected_per_cluster() {
    let sim = start().await;
    let a = client(&sim, "a").await;
    let b = client(&sim, "b").await;
    let nss_a = Api::<Namespace>::all(a.clone());
    let nss_b = Api::<Namespace>::all(b);

    sim.set_faults("a", flotilla_simulator::Faults { offline: true, ..Default::default() });
    assert_eq!(code(nss_a.list(&ListParams::default()).await.unwrap_err()), 503);
    nss_b.list(&ListParams::default()).await.expect("other clusters unaffected");

    sim.set_faults("a", flotilla_simulator::Faults { error_rate: 1.0, ..Default::default() });
    assert_eq!(code(nss_a.list(&ListParams::default()).await.unwrap_err()), 500);

    sim.set_faults("a", flotilla_simulator::Faults { forbidden_kinds: vec!["Secret".into()], ..Default::default() });
    assert_eq!(
        code(Api::<Secret>::namespaced(a.clone(), "default").list(&ListParams::default()).await.unwrap_err()),
        403
    );
    Api::<ConfigMap>::namespaced(a.clone(), "default").list(&ListParams::default()).await.expect("other kinds allowed");

    sim.set_faults("a", flotilla_simulator::Faults { latency_ms: 300, ..Default::default() });
    let started = std::time::Instant::now();
    nss_a.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    // A stalled watch delivers nothing; when the stall lifts the stream ends so the client
    // re-watches and catches up.
    sim.set_faults("a", flotilla_simulator::Faults { stall_watches: true, ..Default::default() });
    let cms = Api::<ConfigMap>::namespaced(a, "default");
    let rv = cms.list(&ListParams::default()).await.unwrap().metadata.resource_version.unwrap();
    let mut stream = cms.watch(&WatchParams::default().disable_bookmarks(), &rv).await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("during-stall", json!({}), json!({}))).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(400), stream.next()).await.is_err(), "stalled watch delivered");
    sim.set_faults("a", flotilla_simulator::Faults::default());
    let ended = tokio::time::timeout(Duration::from_secs(3), stream.next()).await.expect("stream ends after the stall");
    assert!(ended.is_none());
    let mut again = cms.watch(&WatchParams::default().disable_bookmarks(), &rv).await.unwrap().boxed();
    let caught_up = again.try_next().await.unwrap().unwrap();
    assert!(matches!(caught_up, WatchEvent::Added(o) if o.metadata.name.as_deref() == Some("during-stall")));

    assert!(sim.cluster("a").unwrap().counts().writes >= 1, "writes are counted");
}
