//! Helpers shared by the simulator's HTTP tests.
#![allow(dead_code)]

use std::time::Duration;

use flotilla_simulator::{ClusterSpec, SimSettings, Simulator, WorkloadSettings};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// A simulator with clusters `a` (env=prod) and `b` (env=staging), fast workloads.
pub async fn start() -> Simulator {
    let settings = SimSettings {
        tick: Duration::from_millis(20),
        workloads: WorkloadSettings { progress_deadline: Duration::from_millis(600), ..WorkloadSettings::default() },
        ..SimSettings::default()
    };
    Simulator::start(
        "127.0.0.1:0".parse().unwrap(),
        vec![ClusterSpec::new("a").label("env", "prod"), ClusterSpec::new("b").label("env", "staging")],
        settings,
    )
    .await
    .expect("simulator starts")
}

/// A kube client for cluster `name`, built from the kubeconfig the simulator writes.
pub async fn client(sim: &Simulator, name: &str) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig(name).expect("cluster exists")).expect("kubeconfig parses");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config");
    // kube-rs retries 503 up to 15 times with backoff (minutes against an offline cluster);
    // the tests want to see each answer.
    config.default_retry = false;
    Client::try_from(config).expect("client")
}

/// The HTTP status code of a kube API error.
pub fn code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A kube client for cluster `name` that authenticates with `token` instead of the admin's.
pub async fn client_with_token(sim: &Simulator, name: &str, token: &str) -> Client {
    let admin_token = sim.cluster(name).expect("cluster exists").token.clone();
    let yaml = sim.kubeconfig(name).expect("cluster exists").replace(&admin_token, token);
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config");
    config.default_retry = false;
    Client::try_from(config).expect("client")
}
