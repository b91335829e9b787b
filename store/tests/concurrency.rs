//! Concurrent writers, as several replicas are: two stores (two connection pools) on one
//! database, tasks racing on the same rows. On SQLite the single writer serialises them; on
//! PostgreSQL (the test command runs this file there too) serializable transactions, retried
//! when they lose a race, and version checks must give the same answers: no lost update, one
//! winner per version, no duplicate.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::name;
use flotilla_domain::Clearance;
use flotilla_store::{Actor, Error, ResourceHome, ResourceSpec, SecretCipher, SecretKey, Store};
use serde_json::json;

/// Two stores on one new database, with the bootstrap tenant; and the tenant's id.
async fn two_replicas() -> (Store, Store, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = flotilla_testkit::database_url(dir.path()).await;
    let key = SecretKey::generate();
    let a = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let b = Store::connect(&url, SecretCipher::new(&key)).await.unwrap();
    let tenant = a.bootstrap(None).await.unwrap().tenant_id;
    (a, b, tenant, dir)
}

fn counter(n: u64) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"}, "data": {"n": n.to_string()}})
}

/// A project with a ConfigMap `counter` (n = 0); returns the resource's id.
async fn counter_resource(store: &Store, tenant: &str) -> String {
    let actor = Actor::system("setup");
    let ws = store.create_workspace(tenant, &actor, &name("w"), "").await.unwrap();
    let project = store.create_project(tenant, &actor, Clearance::TenantAdmin, &ws.id, &name("p"), "").await.unwrap();
    let home = ResourceHome { workspace_id: &ws.id, project: Some((&project.id, "p")) };
    store.create_resource(tenant, &actor, Clearance::TenantAdmin, home, &ResourceSpec::new(counter(0))).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_modify_write_loops_on_two_replicas_lose_no_update() {
    let (a, b, tenant, _dir) = two_replicas().await;
    let id = counter_resource(&a, &tenant).await;
    const WRITERS: usize = 6;
    const EACH: u64 = 5;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        let (tenant, id) = (tenant.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::system(&format!("writer-{w}"));
            let mut stale = 0;
            for _ in 0..EACH {
                // Read, add one, write at the version read; a stale version means someone
                // else got there first: read again.
                loop {
                    let record = store.get_resource(&tenant, &id).await.unwrap();
                    let template = store.resource_revision(&tenant, &id, None).await.unwrap().spec.template;
                    let n: u64 = template["data"]["n"].as_str().unwrap().parse().unwrap();
                    match store
                        .update_resource(
                            &tenant,
                            &actor,
                            Clearance::TenantAdmin,
                            &id,
                            record.version,
                            &ResourceSpec::new(counter(n + 1)),
                        )
                        .await
                    {
                        Ok(_) => break,
                        Err(Error::Stale { .. }) => stale += 1,
                        Err(e) => panic!("writer {w}: {e:?}"),
                    }
                }
            }
            stale
        }));
    }
    let mut stale = 0;
    for task in tasks {
        stale += task.await.unwrap();
    }
    let total = WRITERS as u64 * EACH;
    let template = a.resource_revision(&tenant, &id, None).await.unwrap().spec.template;
    assert_eq!(template["data"]["n"], total.to_string(), "every increment counted ({stale} stale attempts redone)");
    let record = b.get_resource(&tenant, &id).await.unwrap();
    assert_eq!(record.revision, 1 + total as i64, "one revision per increment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edits_made_at_the_same_version_let_exactly_one_through() {
    let (a, b, tenant, _dir) = two_replicas().await;
    let id = counter_resource(&a, &tenant).await;
    let version = a.get_resource(&tenant, &id).await.unwrap().version;
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        let (tenant, id) = (tenant.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::system(&format!("editor-{w}"));
            store
                .update_resource(
                    &tenant,
                    &actor,
                    Clearance::TenantAdmin,
                    &id,
                    version,
                    &ResourceSpec::new(counter(100 + w)),
                )
                .await
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(revision) => won.push(revision),
            Err(Error::Stale { by, .. }) => assert!(by.starts_with("editor-"), "names who won: {by}"),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won, [2], "one edit at version {version} is saved, as revision 2");
    let history = b.list_revisions(&tenant, &id).await.unwrap();
    assert_eq!(history.len(), 2, "no revision from the losers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_name_created_at_once_on_two_replicas_exists_once() {
    let (a, b, tenant, _dir) = two_replicas().await;
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            store.create_workspace(&tenant, &Actor::system(&format!("creator-{w}")), &name("payments"), "").await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => assert!(e.to_string().contains("exists"), "a clear refusal, not a database error: {e}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(a.list_workspaces(&tenant).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_change_committed_through_one_replica_is_announced_on_the_other() {
    let (a, b, tenant, _dir) = two_replicas().await;
    if a.backend() != flotilla_store::Backend::Postgres {
        // One SQLite process has no other replica to tell.
        return;
    }
    let mut heard = b.subscribe_changes();
    let id = counter_resource(&a, &tenant).await;
    let deadline = std::time::Duration::from_secs(5);
    let change = tokio::time::timeout(deadline, async {
        loop {
            match heard.recv().await.unwrap() {
                flotilla_store::Change::Resource { id: heard_id, .. } if heard_id == id => return heard_id,
                _ => continue,
            }
        }
    })
    .await
    .expect("replica B hears of the resource made through A");
    assert_eq!(change, id);
}

/// A replica follows the change log past a number that never commits (a rolled-back
/// transaction) with more rows after it than one page: every row is delivered at once, not
/// when the gap is given up (30 s), and the follower does not read the same page over and over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_is_followed_past_a_rolled_back_number_with_many_rows_after_it() {
    let (a, _b, _tenant, _dir) = two_replicas().await;
    if a.backend() != flotilla_store::Backend::Postgres {
        return; // one SQLite process has no change log
    }
    let mut heard = a.subscribe_changes();
    let db = a.pool_for_tests();
    let payload = |id: &str| {
        serde_json::to_string(&[flotilla_store::Change::Cluster { tenant_id: "elsewhere".into(), id: id.into() }])
            .unwrap()
    };
    // A number handed out and rolled back: a gap below everything that follows.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("INSERT INTO change_log (replica, payload, at) VALUES ('other', $1, $2)")
        .bind(payload("never"))
        .bind(flotilla_store::now_ms())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    const ROWS: usize = 2500;
    for i in 0..ROWS {
        sqlx::query("INSERT INTO change_log (replica, payload, at) VALUES ('other', $1, $2)")
            .bind(payload(&format!("c{i}")))
            .bind(flotilla_store::now_ms())
            .execute(db)
            .await
            .unwrap();
    }
    let mut delivered = std::collections::BTreeSet::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while delivered.len() < ROWS {
            if let flotilla_store::Change::Cluster { tenant_id, id } = heard.recv().await.unwrap()
                && tenant_id == "elsewhere"
            {
                assert_ne!(id, "never");
                delivered.insert(id);
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} of {ROWS} rows delivered within 10 s", delivered.len()));
}

/// A lease is one replica's until released or expired; the holder may take it again (a new
/// epoch, which fences what still ran under the old one), another may not.
#[tokio::test]
async fn a_lease_is_taken_by_one_replica_and_again_only_by_its_holder() {
    let (a, b, _tenant, _dir) = two_replicas().await;
    let ttl = std::time::Duration::from_secs(30);
    assert_eq!(a.take_lease("cluster:x", ttl).await.unwrap(), Some(1));
    assert_eq!(b.take_lease("cluster:x", ttl).await.unwrap(), None, "held by A");
    assert_eq!(a.take_lease("cluster:x", ttl).await.unwrap(), Some(2), "A again: a new epoch");
    a.release_lease("cluster:x", 1).await.unwrap();
    assert_eq!(b.take_lease("cluster:x", ttl).await.unwrap(), None, "releasing an old epoch releases nothing");
    a.release_lease("cluster:x", 2).await.unwrap();
    assert_eq!(b.take_lease("cluster:x", ttl).await.unwrap(), Some(3), "released: B's");

    // Many at once (more than one statement's worth): only the free ones, and the holder's own.
    let names: Vec<String> = (0..1200).map(|i| format!("cluster:{i}")).collect();
    let mut got = a.take_leases(&names[..700], ttl).await.unwrap();
    assert_eq!(got.len(), 700);
    let b_got = b.take_leases(&names, ttl).await.unwrap();
    assert_eq!(b_got.len(), 500, "the 500 A does not hold");
    assert!(b_got.iter().all(|l| l.epoch == 1 && names[700..].contains(&l.name)));
    got.truncate(600);
    a.release_leases(&got).await.unwrap();
    let retaken = b.take_leases(&names[..700], ttl).await.unwrap();
    assert_eq!(retaken.len(), 600, "the 600 A released");
    assert!(retaken.iter().all(|l| l.epoch == 2));
    assert_eq!(a.take_leases(&names[600..700], ttl).await.unwrap().len(), 100, "A's own, again");
}
