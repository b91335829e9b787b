//! Every built-in app version reads, renders with its defaults into objects that pass the
//! same rules as a resource a person saves, and the upgrade paths hold together.
// Tests may unwrap (the workspace lints forbid it elsewhere).
#![allow(clippy::unwrap_used)]

use flotilla_domain::catalog::{AppDefinition, AppScope, InstallTarget, check_values, render_app};
use flotilla_domain::policy::{self, Clearance, Home, PodSecurity};
use flotilla_domain::resource::check_resource;
use flotilla_domain::{Placement, Result};
use serde_json::{Value, json};

fn catalog() -> Vec<AppDefinition> {
    flotilla_catalog::builtin().unwrap()
}

fn version<'a>(all: &'a [AppDefinition], app: &str, version: &str) -> &'a AppDefinition {
    all.iter().find(|d| d.meta.name == app && d.meta.version.to_string() == version).unwrap()
}

fn target(def: &AppDefinition) -> InstallTarget<'static> {
    match def.meta.scope {
        AppScope::Project => InstallTarget { name: "kafka", namespace: Some("payments") },
        AppScope::Workspace => InstallTarget { name: "gateways", namespace: None },
    }
}

fn render(def: &AppDefinition, values: Value) -> Result<Vec<flotilla_domain::catalog::AppObject>> {
    let values =
        check_values(&def.meta.parameters, values.as_object().unwrap()).map_err(flotilla_domain::Error::from)?;
    render_app(def, &target(def), &values)
}

#[test]
fn the_catalog_holds_kafka_in_four_versions_and_two_other_apps() {
    let all = catalog();
    let listed: Vec<String> = all.iter().map(|d| format!("{} {}", d.meta.name, d.meta.version)).collect();
    assert_eq!(
        listed,
        [
            "gateway-api 1.1.0",
            "gateway-api 1.2.0",
            "kafka 3.7.1",
            "kafka 3.8.0",
            "kafka 3.8.1",
            "kafka 3.9.0",
            "podinfo 6.6.3",
            "podinfo 6.7.1"
        ]
    );
}

#[test]
fn every_version_renders_with_its_defaults_into_objects_its_installer_may_save() {
    for def in catalog() {
        let what = format!("{} {}", def.meta.name, def.meta.version);
        let objects = render(&def, json!({})).unwrap_or_else(|e| panic!("{what}: {e}"));
        let namespace = target(&def).namespace;
        // Project apps need no more than a project editor under the default Pod Security
        // level; workspace apps (CRDs, cluster RBAC) need a tenant admin.
        let (home, clearance) = match namespace {
            Some(ns) => (Home { namespace: Some(ns), pod_security: PodSecurity::Restricted }, Clearance::Edit),
            None => (Home { namespace: None, pod_security: PodSecurity::Baseline }, Clearance::TenantAdmin),
        };
        for o in &objects {
            check_resource(&o.object, &Placement::default(), &[], namespace)
                .unwrap_or_else(|e| panic!("{what}: {} from {}: {e}", o.key, o.source));
            policy::check(&o.object, home, clearance).unwrap_or_else(|e| panic!("{what}: {}: {e}", o.key));
        }
        if namespace.is_none() {
            let crd = objects.iter().find(|o| o.key.kind == "CustomResourceDefinition").unwrap();
            assert!(policy::check(&crd.object, home, Clearance::Admin).is_err(), "{what}: a CRD needs a tenant admin");
        }
    }
}

#[test]
fn each_version_after_the_first_upgrades_from_an_earlier_one() {
    let all = catalog();
    for def in &all {
        let earlier: Vec<&AppDefinition> =
            all.iter().filter(|d| d.meta.name == def.meta.name && d.meta.version < def.meta.version).collect();
        let from: Vec<String> =
            earlier.iter().filter(|d| def.meta.upgrades(&d.meta.version)).map(|d| d.meta.version.to_string()).collect();
        assert_eq!(
            from.len(),
            earlier.len(),
            "{} {} upgrades from every earlier version",
            def.meta.name,
            def.meta.version
        );
    }
    let kafka_390 = version(&all, "kafka", "3.9.0");
    assert!(!kafka_390.meta.rollback_safe, "3.9.0 is a one-way upgrade");
    assert!(version(&all, "kafka", "3.8.1").meta.rollback_safe);
}

#[test]
fn kafka_runs_in_kraft_mode_on_the_official_image() {
    let all = catalog();
    let def = version(&all, "kafka", "3.8.1");
    let objects = render(def, json!({"brokers": 5, "storage": "50Gi", "storageClass": "fast"})).unwrap();
    let kinds: Vec<String> = objects.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(
        kinds,
        [
            "ConfigMap payments/kafka-config",
            "PodDisruptionBudget payments/kafka",
            "Service payments/kafka-headless",
            "Service payments/kafka",
            "StatefulSet payments/kafka"
        ]
    );
    let find = |kind: &str| &objects.iter().find(|o| o.key.kind == kind).unwrap().object;
    let config = &find("ConfigMap")["data"];
    assert_eq!(config["KAFKA_PROCESS_ROLES"], "broker,controller");
    let voters = config["KAFKA_CONTROLLER_QUORUM_VOTERS"].as_str().unwrap();
    assert_eq!(voters.split(',').count(), 5);
    assert!(voters.starts_with("0@kafka-0.kafka-headless.payments.svc.cluster.local:9093,1@kafka-1."), "{voters}");
    assert_eq!(config["KAFKA_DEFAULT_REPLICATION_FACTOR"], "3");
    assert_eq!(config["KAFKA_MIN_INSYNC_REPLICAS"], "2");
    // Every value is a string, as a ConfigMap requires.
    assert!(config.as_object().unwrap().values().all(Value::is_string));

    let sts = find("StatefulSet");
    assert_eq!(sts["spec"]["replicas"], 5);
    assert_eq!(sts["spec"]["serviceName"], "kafka-headless");
    let container = &sts["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "apache/kafka:3.8.1");
    assert_eq!(container["env"][0]["value"], "-Xms1024m -Xmx1024m", "half of the 2Gi memory default");
    let claim = &sts["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(claim["resources"]["requests"]["storage"], "50Gi");
    assert_eq!(claim["storageClassName"], "fast");
    // The pods' selector labels stay the same across versions; the version label does not.
    let selector = &sts["spec"]["selector"]["matchLabels"];
    assert_eq!(selector, &find("PodDisruptionBudget")["spec"]["selector"]["matchLabels"]);
    assert!(selector.get("app.kubernetes.io/version").is_none());
    let older = render(version(&all, "kafka", "3.7.1"), json!({"brokers": 5})).unwrap();
    let older_sts = &older.iter().find(|o| o.key.kind == "StatefulSet").unwrap().object;
    assert_eq!(older_sts["spec"]["selector"], sts["spec"]["selector"]);

    let single = render(def, json!({"brokers": 1})).unwrap();
    let config = &single.iter().find(|o| o.key.kind == "ConfigMap").unwrap().object["data"];
    assert_eq!(config["KAFKA_DEFAULT_REPLICATION_FACTOR"], "1");
    let no_class = render(def, json!({})).unwrap();
    let sts = &no_class.iter().find(|o| o.key.kind == "StatefulSet").unwrap().object;
    assert!(sts["spec"]["volumeClaimTemplates"][0]["spec"].get("storageClassName").is_none());
}

#[test]
fn kafka_refuses_values_outside_its_schema() {
    let all = catalog();
    let def = version(&all, "kafka", "3.8.1");
    let errors = check_values(
        &def.meta.parameters,
        json!({"brokers": 12, "storage": "lots", "memory": "3Gi", "clusterId": "short"}).as_object().unwrap(),
    )
    .unwrap_err();
    let named: Vec<&str> = errors.0.keys().map(String::as_str).collect();
    assert_eq!(named, ["brokers", "clusterId", "memory", "storage"]);
}

#[test]
fn gateway_api_defines_its_crds_before_the_class_that_needs_them() {
    let all = catalog();
    let def = version(&all, "gateway-api", "1.2.0");
    let objects = render(def, json!({"className": "internal"})).unwrap();
    let crds: Vec<&str> =
        objects.iter().filter(|o| o.key.kind == "CustomResourceDefinition").map(|o| o.key.name.as_str()).collect();
    assert_eq!(
        crds,
        [
            "gatewayclasses.gateway.networking.k8s.io",
            "gateways.gateway.networking.k8s.io",
            "httproutes.gateway.networking.k8s.io"
        ]
    );
    let class = objects.iter().find(|o| o.key.kind == "GatewayClass").unwrap();
    assert_eq!(class.key.name, "internal");
    assert_eq!(class.key.api_version, "gateway.networking.k8s.io/v1");
    assert!(
        flotilla_domain::kinds::apply_order("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            < flotilla_domain::kinds::apply_order("gateway.networking.k8s.io/v1", "GatewayClass")
    );
    let without_role = render(def, json!({"readerRole": false})).unwrap();
    assert_eq!(without_role.len(), objects.len() - 1);
}

#[test]
fn podinfo_is_a_plain_deployment_app() {
    let all = catalog();
    let def = version(&all, "podinfo", "6.7.1");
    let objects = render(def, json!({"replicas": 3, "message": "hi \"there\""})).unwrap();
    let deploy = &objects.iter().find(|o| o.key.kind == "Deployment").unwrap().object;
    assert_eq!(deploy["spec"]["replicas"], 3);
    assert_eq!(deploy["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/stefanprodan/podinfo:6.7.1");
    let ui = &objects.iter().find(|o| o.key.kind == "ConfigMap").unwrap().object;
    assert_eq!(ui["data"]["PODINFO_UI_MESSAGE"], "hi \"there\"", "values are quoted, not pasted");
}
