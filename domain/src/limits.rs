//! How much one person's input may weigh: every way in is bounded, so that one tenant cannot
//! exhaust the hub's memory, database or members for everyone else. The server's request
//! limits, the parsers and the store all take their bounds from here.

/// The largest object template, as stored (JSON). Kubernetes itself refuses a ConfigMap or
/// Secret over 1 MiB, and etcd an object over 1.5 MiB.
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// The largest YAML or JSON text taken for one object (comments and indentation included).
pub const MAX_MANIFEST_BYTES: usize = 2 * 1024 * 1024;

/// How deeply a manifest may nest (Kubernetes objects rarely go past 15).
pub const MAX_MANIFEST_DEPTH: usize = 48;

/// How many YAML nodes one manifest may hold.
pub const MAX_MANIFEST_NODES: usize = 100_000;

/// The largest kubeconfig taken when registering clusters.
pub const MAX_KUBECONFIG_BYTES: usize = 512 * 1024;

/// How many resources one project, or one workspace itself, may hold.
pub const MAX_RESOURCES_PER_HOME: i64 = 2_000;

/// How many revisions of a resource are kept: the current one and those before it, newest
/// first. Older ones are removed when a new revision is saved.
pub const REVISIONS_KEPT: i64 = 50;

/// The largest app archive a tenant may upload (compressed, as sent).
pub const MAX_APP_ARCHIVE_BYTES: usize = 1024 * 1024;

/// How many app versions of its own one tenant's catalog may hold (uploads).
pub const MAX_TENANT_APP_VERSIONS: i64 = 200;

/// The largest request body for endpoints that take manifests or kubeconfigs (form encoding
/// can triple a YAML text), and for every other endpoint.
pub const MAX_LARGE_REQUEST_BYTES: usize = 3 * MAX_MANIFEST_BYTES;
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// `bytes` in words (`64 KiB`, `2 MiB`).
pub fn size_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}
