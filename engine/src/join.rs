//! Join, unjoin and credential rotation: Flotilla's own identity in a member
//! (`flotilla_domain::join` says what it is and may do).
//!
//! - [`join`] uses an admin's access once: it applies the identity's objects (server-side
//!   apply, so joining again updates the grant and keeps the identity), asks for a new
//!   token, checks that the token works, removes the identity's older tokens and answers
//!   the access Flotilla stores in place of the admin's, which it never keeps.
//! - [`rotate`] does the token part with the identity's own access (no admin needed), the
//!   old tokens removed by [`Rotation::finish`] once the new one is stored.
//! - [`regrant`] applies a new grant with an admin's access, and rotates the token likewise.
//! - [`unjoin`] uses an admin's access to remove everything a join created, and the grant
//!   bindings in project namespaces.
//!
//! A member has one identity, marked with the tenant it works for: a join, grant or unjoin
//! by another tenant (of this hub or another) is refused before anything is written, since
//! it would take over or remove the first one's access.
//!
//! Every connection goes through the hub's outbound policy, as the engine's own do.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use flotilla_domain::ObjectKey;
use flotilla_domain::join::{self as identity, JoinGrant};
use flotilla_outbound::OutboundPolicy;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, Resource as _};
use secrecy::SecretString;
use serde_json::Value;

use crate::client::MemberClient;
use crate::kubeconfig::{ClusterAccess, connect};

const RBAC: &str = "rbac.authorization.k8s.io";

/// One of the built-in kinds a join writes, by the names Kubernetes gives them.
fn builtin(key: &ObjectKey) -> Result<ApiResource, String> {
    let (group, plural) = match key.kind.as_str() {
        "Namespace" => ("", "namespaces"),
        "ServiceAccount" => ("", "serviceaccounts"),
        "Secret" => ("", "secrets"),
        "ClusterRole" => (RBAC, "clusterroles"),
        "ClusterRoleBinding" => (RBAC, "clusterrolebindings"),
        "Role" => (RBAC, "roles"),
        "RoleBinding" => (RBAC, "rolebindings"),
        // The objects of `flotilla_domain::join` are of the kinds above (a test checks).
        other => return Err(format!("a join does not write {other} objects")),
    };
    Ok(ApiResource {
        group: group.to_owned(),
        version: "v1".to_owned(),
        api_version: if group.is_empty() { "v1".to_owned() } else { format!("{group}/v1") },
        kind: key.kind.clone(),
        plural: plural.to_owned(),
    })
}

/// Requests for `key`'s kind and namespace.
fn request(key: &ObjectKey) -> Result<kube::core::Request, String> {
    Ok(crate::member::request(&builtin(key)?, key.namespace.as_deref()))
}

/// The field manager of a join's writes.
const MANAGER: &str = "flotilla-join";
/// How long a new token may take to be filled in by the member's token controller.
const TOKEN_WAIT: Duration = Duration::from_secs(15);

/// The key of a manifest (apiVersion, kind, namespace, name).
fn key_of(object: &Value) -> ObjectKey {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    ObjectKey {
        api_version: text("/apiVersion").unwrap_or_default(),
        kind: text("/kind").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name").unwrap_or_default(),
    }
}

/// Runs one request, its failure worded for a person (`what` says what was being done).
async fn call<T: serde::de::DeserializeOwned>(
    client: &MemberClient,
    timeout: Duration,
    what: &str,
    request: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<T, String> {
    call_status(client, timeout, what, request).await.map_err(|(_, why)| why)
}

/// The same, a refusal coming with the API's status code.
async fn call_status<T: serde::de::DeserializeOwned>(
    client: &MemberClient,
    timeout: Duration,
    what: &str,
    request: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<T, (Option<u16>, String)> {
    let request = request.map_err(|e| (None, format!("{what}: cannot build the request: {e}")))?;
    match tokio::time::timeout(timeout, client.request::<T>(request)).await {
        Err(_) => Err((None, format!("{what}: no answer within {} s", timeout.as_secs_f32()))),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(kube::Error::Api(status))) => {
            Err((Some(status.code), format!("{what}: {} ({})", status.message, status.reason)))
        }
        Ok(Err(e)) => Err((None, format!("{what}: {}", crate::member::classify(e).reason()))),
    }
}

async fn apply(client: &MemberClient, timeout: Duration, object: &Value) -> Result<(), String> {
    let key = key_of(object);
    let params = PatchParams::apply(MANAGER).force();
    let patch = request(&key)?.patch(&key.name, &params, &Patch::Apply(object));
    call::<serde::de::IgnoredAny>(client, timeout, &format!("applying {key}"), patch).await.map(|_| ())
}

/// Deletes the object; already gone counts as done.
async fn delete(client: &MemberClient, timeout: Duration, key: &ObjectKey) -> Result<(), String> {
    let ar = builtin(key)?;
    crate::member::delete(client, timeout, &ar, key).await.map_err(|why| format!("deleting {key}: {}", why.reason()))
}

/// The identity's token Secrets, by name.
async fn token_secrets(client: &MemberClient, timeout: Duration) -> Result<Vec<String>, String> {
    let key = secret_key("");
    let params = ListParams::default().labels(&format!("{}={}", identity::JOIN_LABEL, identity::SERVICE_ACCOUNT));
    let list: kube::core::ObjectList<DynamicObject> =
        call(client, timeout, "listing the identity's tokens", request(&key)?.list(&params)).await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|s| s.meta().name.clone())
        .filter(|n| n.starts_with(identity::TOKEN_SECRET_PREFIX))
        .collect())
}

fn secret_key(name: &str) -> ObjectKey {
    ObjectKey {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: Some(identity::NAMESPACE.into()),
        name: name.into(),
    }
}

/// Creates a new token Secret and waits for the member to fill it; answers its name and token.
async fn new_token(client: &MemberClient, timeout: Duration) -> Result<(String, SecretString), String> {
    let suffix: String = (0..6).map(|_| char::from(b'a' + rand::random::<u8>() % 26)).collect();
    let name = format!("{}{suffix}", identity::TOKEN_SECRET_PREFIX);
    let body = serde_json::to_vec(&identity::token_secret_object(&name)).map_err(|e| e.to_string())?;
    let key = secret_key(&name);
    call::<serde::de::IgnoredAny>(
        client,
        timeout,
        "creating a token",
        request(&key)?.create(&PostParams::default(), body),
    )
    .await?;
    let deadline = tokio::time::Instant::now() + TOKEN_WAIT;
    loop {
        let secret: Value =
            call(client, timeout, "reading the new token", request(&key)?.get(&name, &Default::default())).await?;
        let token = secret["data"]["token"]
            .as_str()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|t| !t.is_empty());
        if let Some(token) = token {
            return Ok((name, SecretString::from(token)));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the member did not fill token Secret {}/{name} within {} s (is its token controller running?)",
                identity::NAMESPACE,
                TOKEN_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Who the identity in the member works for: `None` when there is no identity, `Some(None)`
/// when it is unmarked (made before identities were).
async fn identity_owner(client: &MemberClient, timeout: Duration) -> Result<Option<Option<String>>, String> {
    let key = ObjectKey {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
        namespace: Some(identity::NAMESPACE.into()),
        name: identity::SERVICE_ACCOUNT.into(),
    };
    let get = request(&key)?.get(&key.name, &kube::api::GetParams::default());
    match call_status::<DynamicObject>(client, timeout, &format!("reading {key}"), get).await {
        Ok(account) => {
            let annotations = account.meta().annotations.as_ref();
            Ok(Some(annotations.and_then(|a| a.get(identity::OWNER_ANNOTATION).cloned())))
        }
        Err((Some(404), _)) => Ok(None),
        Err((_, why)) => Err(why),
    }
}

/// Refuses when the member's identity works for someone other than `owner`.
async fn check_owner(client: &MemberClient, timeout: Duration, owner: &str) -> Result<(), String> {
    match identity_owner(client, timeout).await? {
        Some(Some(theirs)) if theirs != owner => Err(format!(
            "Flotilla's identity in this cluster ({}/{}) works for another Flotilla tenant or hub: one cluster has \
             one identity, so unjoin it there first, or register the cluster here with a token of its own",
            identity::NAMESPACE,
            identity::SERVICE_ACCOUNT
        )),
        _ => Ok(()),
    }
}

/// Checks that `access` works as the identity: it may list namespaces (its grant).
async fn check_identity(access: &ClusterAccess, policy: Arc<OutboundPolicy>, timeout: Duration) -> Result<(), String> {
    let client = connect(access, policy, timeout).await?;
    let namespaces =
        ObjectKey { api_version: "v1".into(), kind: "Namespace".into(), namespace: None, name: String::new() };
    let params = ListParams::default().limit(1);
    let list = request(&namespaces)?.list(&params);
    call::<serde::de::IgnoredAny>(&client, timeout, "checking the new identity", list).await.map(|_| ())
}

/// Removes the identity's token Secrets other than `keep`.
async fn drop_tokens_but(client: &MemberClient, timeout: Duration, keep: &str) -> Result<(), String> {
    for name in token_secrets(client, timeout).await?.into_iter().filter(|n| n != keep) {
        delete(client, timeout, &secret_key(&name)).await?;
    }
    Ok(())
}

/// Joins the cluster `admin` reaches (see the file's comment); answers the identity's access.
pub async fn join(
    admin: &ClusterAccess,
    owner: &str,
    grant: &JoinGrant,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<ClusterAccess, String> {
    let rotation = regrant(admin, owner, grant, policy.clone(), timeout).await?;
    rotation.finish(policy, timeout).await?;
    Ok(rotation.access)
}

/// Applies `grant` to the identity working for `owner` with an admin's access (server-side
/// apply: the roles widen or narrow to it; the identity is made if missing, and refused if
/// it works for someone else) and makes the identity a new token, checked to work. The
/// older tokens stay until [`Rotation::finish`], called once the new one is stored, so that
/// a failure in between leaves the cluster reachable.
pub async fn regrant(
    admin: &ClusterAccess,
    owner: &str,
    grant: &JoinGrant,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<Rotation, String> {
    let client = connect(admin, policy.clone(), timeout).await?;
    check_owner(&client, timeout, owner).await?;
    for object in &identity::identity_objects(grant, owner) {
        apply(&client, timeout, object).await?;
    }
    let (name, token) = new_token(&client, timeout).await?;
    let access = ClusterAccess::with_token(admin.server.clone(), admin.ca_pem.clone(), token.clone());
    check_identity(&access, policy, timeout).await?;
    Ok(Rotation { access, token, token_secret: name })
}

/// A new token for the identity, made with its own `current` access and checked to work.
/// The older tokens stay until [`Rotation::finish`], called once the new one is stored, so
/// that a failure in between leaves the cluster reachable.
pub async fn rotate(
    current: &ClusterAccess,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<Rotation, String> {
    let client = connect(current, policy.clone(), timeout).await?;
    let (name, token) = new_token(&client, timeout).await?;
    let access = ClusterAccess::with_token(current.server.clone(), current.ca_pem.clone(), token.clone());
    check_identity(&access, policy, timeout).await?;
    Ok(Rotation { access, token, token_secret: name })
}

/// A rotation under way: the new access, and its token Secret's name.
#[derive(Debug)]
pub struct Rotation {
    pub access: ClusterAccess,
    /// The identity's new token (the access's), to store.
    pub token: SecretString,
    token_secret: String,
}

impl Rotation {
    /// Removes the identity's other tokens, with the new one.
    pub async fn finish(&self, policy: Arc<OutboundPolicy>, timeout: Duration) -> Result<(), String> {
        let client = connect(&self.access, policy, timeout).await?;
        drop_tokens_but(&client, timeout, &self.token_secret).await
    }
}

/// The identity's grant bindings in project namespaces, as (namespace, name).
async fn grant_bindings(client: &MemberClient, timeout: Duration) -> Result<Vec<ObjectKey>, String> {
    let bindings = ObjectKey {
        api_version: "rbac.authorization.k8s.io/v1".into(),
        kind: "RoleBinding".into(),
        namespace: None,
        name: String::new(),
    };
    let params = ListParams::default().fields(&format!("metadata.name={}", identity::HUB_GRANT_BINDING));
    let list: kube::core::ObjectList<DynamicObject> =
        call(client, timeout, "listing the grant bindings", request(&bindings)?.list(&params)).await?;
    Ok(list
        .items
        .into_iter()
        .filter(|binding| binding.data["roleRef"]["name"] == identity::NAMESPACE_ROLE)
        .filter_map(|binding| {
            let (namespace, name) = (binding.meta().namespace.clone()?, binding.meta().name.clone()?);
            Some(ObjectKey { namespace: Some(namespace), name, ..bindings.clone() })
        })
        .collect())
}

/// Checks, changing nothing, that `admin` reaches its cluster, that its identity (if any)
/// works for `owner`, and that `admin` may read what an [`unjoin`] removes (a credential
/// that cannot is refused before anything starts).
pub async fn check_unjoin(
    admin: &ClusterAccess,
    owner: &str,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<(), String> {
    let client = connect(admin, policy, timeout).await?;
    check_owner(&client, timeout, owner).await?;
    grant_bindings(&client, timeout).await.map(|_| ())
}

/// Removes the identity working for `owner` from the cluster `admin` reaches: the grant
/// bindings in project namespaces, then everything a join created, in reverse order.
/// Idempotent; refused when the identity works for someone else.
pub async fn unjoin(
    admin: &ClusterAccess,
    owner: &str,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
) -> Result<(), String> {
    let client = connect(admin, policy, timeout).await?;
    check_owner(&client, timeout, owner).await?;
    for binding in grant_bindings(&client, timeout).await? {
        delete(&client, timeout, &binding).await?;
    }
    for object in identity::identity_objects(&JoinGrant::standard(), owner).iter().rev() {
        delete(&client, timeout, &key_of(object)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_manifests() {
        let objects = identity::identity_objects(&JoinGrant::standard(), "tenant-1");
        let keys: Vec<String> = objects.iter().map(|o| key_of(o).to_string()).collect();
        assert_eq!(keys[0], "Namespace flotilla-system");
        assert_eq!(keys[1], "ServiceAccount flotilla-system/flotilla-hub");
        assert!(keys.contains(&"ClusterRole flotilla:hub".to_owned()), "{keys:?}");
        for object in objects.iter().chain([&identity::token_secret_object("t")]) {
            assert!(request(&key_of(object)).is_ok(), "{object}");
        }
    }
}
