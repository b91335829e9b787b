//! What each fuzz target checks, for any input: the parser never panics, and what it accepts
//! behaves (a selector prints back to itself, a redirect target stays on the site, an
//! override that validates also applies). `cargo fuzz run <target>` drives these with
//! libFuzzer (see the README); `cargo test` here runs them over the seeds and a few thousand
//! generated inputs, as the test command's smoke run.

use std::collections::BTreeMap;

use flotilla_domain::overrides::{self, ClusterOverride};
use flotilla_domain::{LabelSelector, Placement, parse_labels, parse_manifest};
use serde_json::Value;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Label selectors and `key=value` label lists, as people type them.
pub fn selector(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(selector) = LabelSelector::parse(text) {
        let printed = selector.to_string();
        let again = LabelSelector::parse(&printed).expect("a printed selector parses");
        assert_eq!(again.to_string(), printed, "printing is stable");
        let labels: BTreeMap<String, String> =
            [("env", "prod"), ("tier", "1")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(selector.matches(&labels), again.matches(&labels));
    }
    let _ = parse_labels(text);
    let _ = Placement::selector(text).resolve();
}

/// Override paths and values against a template: the input is a template and overrides as
/// JSON, or override text as the form takes it.
pub fn overrides(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let template = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "b"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
    });
    if let Ok(list) = serde_json::from_str::<Vec<ClusterOverride>>(text) {
        if overrides::validate(&template, &list).is_ok() {
            for o in &list {
                let mut copy = template.clone();
                overrides::apply(&mut copy, &o.patches).expect("validated overrides apply");
            }
        }
    }
    let (path, value) = text.split_once('\n').unwrap_or((text, ""));
    let _ = overrides::value_from_text(&template, path, value);
}

/// A YAML or JSON object as pasted into the editor, then checked as a project's resource.
pub fn manifest(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(object) = parse_manifest(text) {
        let _ = flotilla_domain::resource::check_resource(&object, &Placement::everywhere(), &[], Some("p"));
        let _ = flotilla_domain::resource::check_resource(&object, &Placement::everywhere(), &[], None);
        let _: Value = object;
    }
}

/// A kubeconfig as uploaded when registering clusters.
pub fn kubeconfig(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(contexts) = flotilla_engine::kubeconfig::contexts(text) {
        for c in contexts {
            let _ = flotilla_engine::kubeconfig::access(text, &c.name);
        }
    }
}

/// The `next` parameter after login: whatever passes is a path on this site.
pub fn next(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Some(path) = flotilla_domain::redirect::local_path(text) {
        assert!(path.starts_with('/'), "{path:?}");
        assert!(!path.starts_with("//") && !path.starts_with("/\\"), "{path:?}");
        assert!(path.bytes().all(|b| b.is_ascii_graphic()), "{path:?}");
    }
}

/// Cluster and provider URLs: what the outbound policy lets through is https (or http) to a
/// host, and an address it refuses is never let through.
pub fn outbound_url(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let policy = flotilla_outbound::OutboundPolicy::default();
    if let Ok(url) = flotilla_outbound::parse_target(text) {
        assert!(matches!(url.scheme(), "https" | "http"));
        assert!(url.query().is_none() && url.fragment().is_none() && url.password().is_none());
        if policy.check_url(&url).is_ok() {
            if let Some(url::Host::Ipv4(ip)) = url.host() {
                let class = flotilla_outbound::classify(ip.into());
                assert!(
                    matches!(class, flotilla_outbound::AddressClass::Public | flotilla_outbound::AddressClass::Private),
                    "{url} let through as {class:?}"
                );
            }
        }
    }
}

/// An app version as a tenant uploads it: `app.yaml` and a template (the input holds both,
/// split by a `--8<--` line, or only the template under a fixed `app.yaml`), rendered with
/// its defaults. Whatever renders is objects that fit the app's scope.
pub fn app_definition(data: &[u8]) {
    use flotilla_domain::catalog::{AppScope, InstallTarget, check_values, parse_definition, render_app};
    const APP: &str = "name: fuzz\nversion: 1.0.0\nappVersion: '1'\ndisplayName: Fuzz\nscope: project\n\
                       parameters:\n- {name: replicas, type: integer, default: 2}\n- {name: image, type: string, default: x}\n";
    let Some(text) = text(data) else { return };
    let (meta, template) = text.split_once("\n--8<--\n").unwrap_or((APP, text));
    let Ok(definition) = parse_definition([("app.yaml", meta), ("templates/t.yaml", template)]) else { return };
    let Ok(values) = check_values(&definition.meta.parameters, &serde_json::Map::new()) else { return };
    let namespace = (definition.meta.scope == AppScope::Project).then_some("team");
    if let Ok(objects) = render_app(&definition, &InstallTarget { name: "fuzz", namespace }, &values) {
        for o in objects {
            flotilla_domain::resource::check_resource(&o.object, &Placement::everywhere(), &[], namespace)
                .expect("a rendered object passes the resource rules");
        }
    }
}

#[cfg(test)]
mod smoke {
    //! The test command's short run: every target over its seeds, then over inputs made by
    //! cutting, splicing and flipping bytes of them (a fixed sequence, so a failure repeats).

    use std::path::Path;

    type Target = fn(&[u8]);

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|f| std::fs::read(f.unwrap().path()).unwrap())
            .collect();
        out.sort();
        out
    }

    fn run(name: &str, target: Target) {
        let seeds = seeds(name);
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for seed in &seeds {
            target(seed);
        }
        const BYTES: &[u8] = b" \n\t:=,/\\[]{}()!#%&*-~'\"0123456789azAZ.?@\xc3\xa9\xff\x00";
        for _ in 0..3000 {
            let mut input = seeds[(next() as usize) % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let at = if input.is_empty() { 0 } else { (next() as usize) % input.len() };
                match next() % 4 {
                    0 => input.truncate(at),
                    1 => input.insert(at, BYTES[(next() as usize) % BYTES.len()]),
                    2 if !input.is_empty() => input[at] = BYTES[(next() as usize) % BYTES.len()],
                    _ => {
                        let other = &seeds[(next() as usize) % seeds.len()];
                        let from = (next() as usize) % (other.len() + 1);
                        input.splice(at..at, other[from..].iter().copied());
                    }
                }
            }
            target(&input);
        }
    }

    #[test]
    fn selector() {
        run("selector", super::selector);
    }

    #[test]
    fn overrides() {
        run("overrides", super::overrides);
    }

    #[test]
    fn manifest() {
        run("manifest", super::manifest);
    }

    #[test]
    fn kubeconfig() {
        run("kubeconfig", super::kubeconfig);
    }

    #[test]
    fn next() {
        run("next", super::next);
    }

    #[test]
    fn app_definition() {
        run("app_definition", super::app_definition);
    }

    #[test]
    fn outbound_url() {
        run("outbound_url", super::outbound_url);
    }
}
