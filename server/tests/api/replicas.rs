//! Two hub replicas (two servers) over one PostgreSQL database, as a load balancer would put
//! them in front of people: a session started on one works on the other, and the live stream
//! on one shows what is done through the other and the statuses the other's engine reports.
//! Run when the test command gives them PostgreSQL (FLOTILLA_TEST_POSTGRES).

use std::collections::BTreeSet;
use std::time::Duration;

use flotilla_domain::{Clearance, ResourceName};
use flotilla_simulator::{ClusterSpec, SimSettings, Simulator};
use flotilla_store::{Actor, NewCluster, ResourceHome, ResourceSpec};
use secrecy::SecretString;
use serde_json::json;

use crate::events::read_until;
use crate::helpers::{ADMIN_PASSWORD, spawn_app_in, spawn_app_with};

fn on_postgres() -> bool {
    let shared = std::env::var(flotilla_testkit::TEST_POSTGRES_ENV).is_ok_and(|v| !v.is_empty());
    if !shared {
        eprintln!("skipped: replicas share a PostgreSQL database ({} is not set)", flotilla_testkit::TEST_POSTGRES_ENV);
    }
    shared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_on_one_replica_works_on_the_other_whose_live_stream_shows_what_the_first_did() {
    if !on_postgres() {
        return;
    }
    // Replicas share the database and the secret key (cluster credentials, sealed logins).
    let key = SecretString::from("5a".repeat(32));
    let a = spawn_app_with(|args| args.secret_key = Some(key.clone())).await;
    let url = flotilla_testkit::database_url(a.data_dir.path()).await;
    let b = spawn_app_in(tempfile::tempdir().unwrap(), |args| {
        args.secret_key = Some(key.clone());
        args.database_url = Some(url.clone());
    })
    .await;

    // Rendezvous hashing: with 16 clusters the chance that one replica gets none is 2^-15
    // (with 8 it was 1 in 128).
    let names: Vec<String> = (0..16).map(|i| format!("r{i:02}")).collect();
    let specs = names.iter().map(|n| ClusterSpec::new(n.as_str())).collect();
    let sim = Simulator::start("127.0.0.1:0".parse().unwrap(), specs, SimSettings::default()).await.unwrap();
    let tenant = a.store.tenant_by_slug("default").await.unwrap().unwrap().id;
    let rn = |s: &str| ResourceName::parse("name", s).unwrap();
    let mut cluster_ids = BTreeSet::new();
    for name in &names {
        let cluster = NewCluster {
            name: rn(name),
            api_server_url: sim.server_url(name),
            ca_pem: sim.ca_pem().map(str::to_owned),
            token: SecretString::from(sim.cluster(name).unwrap().token.clone()),
            labels: [("env".to_owned(), "prod".to_owned())].into(),
        };
        cluster_ids.insert(a.store.register_cluster(&tenant, "test", &cluster, false).await.unwrap());
    }
    // Both replicas work some of the clusters.
    flotilla_testkit::eventually("the clusters shared by both replicas", Duration::from_secs(10), || async {
        let holders: BTreeSet<String> = a
            .store
            .leases()
            .await
            .unwrap()
            .into_iter()
            .filter(|(name, _, _, expires)| name.starts_with("cluster:") && *expires > flotilla_store::now_ms())
            .filter_map(|(_, holder, _, _)| holder)
            .collect();
        holders.len() == 2
    })
    .await;

    // Logged in through A; the same cookie opens B's live stream.
    let client = a.client();
    assert_eq!(a.login(&client, "admin", ADMIN_PASSWORD).await.status(), 200);
    let mut stream = client.get(b.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200, "the session made on A is good on B");

    // Made through A: B's stream hears of it, and of its status in every cluster, from
    // both engines.
    let actor = Actor::system("test");
    let ws = a.store.create_workspace(&tenant, &actor, &rn("prod"), "env=prod").await.unwrap();
    let project =
        a.store.create_project(&tenant, &actor, Clearance::TenantAdmin, &ws.id, &rn("shop"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "shop")) };
    let cm = ResourceSpec::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}));
    let id = a.store.create_resource(&tenant, &actor, Clearance::TenantAdmin, home, &cm).await.unwrap();
    let mut announced = false;
    let mut synced = BTreeSet::new();
    let mut seen = Vec::new();
    read_until(
        &mut stream,
        |name, event| {
            announced |= name == "changed" && event["what"] == "resource" && event["id"] == id.as_str();
            if name == "status" && event["resource_id"] == id.as_str() && event["code"] == "Synced" {
                synced.insert(event["cluster_id"].as_str().unwrap().to_owned());
            }
            announced && synced == cluster_ids
        },
        &mut seen,
    )
    .await;
    let _ = b.stop().await;
    let _ = a.stop().await;
}
