//! Rendering an app version's templates with MiniJinja (Jinja2's syntax, as Ansible and
//! Salt users know it): pure, deterministic and bounded — templates a tenant uploads run
//! with a fuel budget (instructions and bytes allocated), strict undefined variables and no
//! access to anything but the values given. The result is ordinary objects, checked for the
//! app's scope, that become the install's federated resources.

use std::collections::BTreeSet;

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{Map, Value, json};

use super::definition::{AppDefinition, AppScope};
use super::params::check_values;
use super::rules::{ValueRule, check_rules};
use crate::limits::{MAX_MANIFEST_BYTES, size_text};
use crate::overrides::{self, ClusterOverride, OverridePatch};
use crate::render::{ObjectKey, validate_template};
use crate::{Error, Result, parse_manifest};

/// The work one render may do: about this many instructions, or 64 times as many bytes
/// allocated (MiniJinja's fuel). Kafka's templates use under a tenth of it.
pub const RENDER_FUEL: u64 = 400_000;
/// The most objects one install may render to.
pub const MAX_INSTALL_OBJECTS: usize = 200;

/// Where an install lives, as templates see it (`install.name`, `install.namespace`).
#[derive(Debug, Clone, Copy)]
pub struct InstallTarget<'a> {
    /// The install's name, a DNS label (`kafka`); objects are usually named after it.
    pub name: &'a str,
    /// The project's namespace; `None` for a workspace install.
    pub namespace: Option<&'a str>,
}

/// One object an install renders to.
#[derive(Debug, Clone, PartialEq)]
pub struct AppObject {
    pub key: ObjectKey,
    pub object: Value,
    /// The template file it came from.
    pub source: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(RENDER_FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    if let Ok(syntax) = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        env.set_syntax(syntax);
    }
    env
}

/// Checks that every template parses (called when a definition is read).
pub(crate) fn compile(definition: &AppDefinition) -> Result<()> {
    let env = environment();
    for file in &definition.templates {
        env.template_from_named_str(&file.path, &file.text).map_err(|e| template_error(&e))?;
    }
    Ok(())
}

/// The labels every object of an install should carry (`labels`), and the subset that is
/// stable across versions, for selectors (`selectorLabels`).
fn labels(definition: &AppDefinition, install: &InstallTarget<'_>) -> (Value, Value) {
    let selector = json!({
        "app.kubernetes.io/name": definition.meta.name,
        "app.kubernetes.io/instance": install.name,
    });
    let mut all = selector.clone();
    if let Some(map) = all.as_object_mut() {
        let version: String = definition
            .meta
            .app_version
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(63)
            .collect();
        map.insert("app.kubernetes.io/version".into(), Value::String(version));
    }
    (all, selector)
}

/// Renders an app version for an install with checked values (`check_values`). Each
/// template may hold several YAML documents (`---`); empty ones are skipped, so a template
/// can be switched off by a condition. Every object must fit the app's scope and be named
/// once.
pub fn render_app(
    definition: &AppDefinition,
    install: &InstallTarget<'_>,
    values: &Map<String, Value>,
) -> Result<Vec<AppObject>> {
    let scope_namespace = match definition.meta.scope {
        AppScope::Project => Some(install.namespace.ok_or_else(|| {
            Error::invalid("app", format!("{} is installed in a project", definition.meta.display_name))
        })?),
        AppScope::Workspace if install.namespace.is_some() => {
            return Err(Error::invalid("app", format!("{} is installed in a workspace", definition.meta.display_name)));
        }
        AppScope::Workspace => None,
    };
    let (labels, selector_labels) = labels(definition, install);
    let context = minijinja::Value::from(minijinja::value::Serde(json!({
        "app": {
            "name": definition.meta.name,
            "version": definition.meta.version.to_string(),
            "appVersion": definition.meta.app_version,
        },
        "install": { "name": install.name, "namespace": install.namespace },
        "values": values,
        "labels": labels,
        "selectorLabels": selector_labels,
    })));
    let env = environment();
    let mut objects = Vec::new();
    let mut seen = BTreeSet::new();
    for file in &definition.templates {
        let text = env.render_named_str(&file.path, &file.text, context.clone()).map_err(|e| template_error(&e))?;
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(Error::invalid(
                "app",
                format!("{} renders to more than {}", file.path, size_text(MAX_MANIFEST_BYTES)),
            ));
        }
        for (n, document) in documents(&text).enumerate() {
            let at = |why: &str| Error::invalid("app", format!("{}, document {}: {why}", file.path, n + 1));
            let object = parse_manifest(document).map_err(|e| at(e.reason()))?;
            let key = validate_template(&object, scope_namespace).map_err(|e| at(e.reason()))?;
            if !seen.insert(key.clone()) {
                return Err(at(&format!("{key} is rendered twice")));
            }
            objects.push(AppObject { key, object, source: file.path.clone() });
            if objects.len() > MAX_INSTALL_OBJECTS {
                return Err(Error::invalid(
                    "app",
                    format!("an install renders to at most {MAX_INSTALL_OBJECTS} objects"),
                ));
            }
        }
    }
    if objects.is_empty() {
        return Err(Error::invalid("app", "with these values the app renders no object"));
    }
    Ok(objects)
}

/// One object of an install with its per-cluster overrides (from the install's rules).
#[derive(Debug, Clone, PartialEq)]
pub struct InstallObject {
    pub object: AppObject,
    pub overrides: Vec<ClusterOverride>,
}

/// Renders an install: its values (`values` as given; defaults fill the rest) for every
/// cluster, and each rule's values on top of them as overrides of the objects that differ —
/// the difference between the two renders as patches, for the rule's cluster or selector. A
/// rule may change objects, not which objects there are. Every object gets an entry for a
/// rule when a later rule changes it, so that a cluster takes one rule for all of them.
pub fn render_install(
    definition: &AppDefinition,
    install: &InstallTarget<'_>,
    values: &Map<String, Value>,
    rules: &[ValueRule],
) -> Result<Vec<InstallObject>> {
    check_rules(rules)?;
    let parameters = &definition.meta.parameters;
    let base = render_app(definition, install, &check_values(parameters, values).map_err(Error::from)?)?;
    let mut patches: Vec<Vec<Vec<OverridePatch>>> = vec![Vec::with_capacity(rules.len()); base.len()];
    for (n, rule) in rules.iter().enumerate().map(|(n, r)| (n + 1, r)) {
        let at = |why: &str| Error::invalid("overrides", format!("rule {n} ({}): {why}", rule.target()));
        let mut merged = values.clone();
        merged.extend(rule.values.clone());
        let checked = check_values(parameters, &merged).map_err(|e| at(Error::from(e).reason()))?;
        let variant = render_app(definition, install, &checked).map_err(|e| at(e.reason()))?;
        let keys = |objects: &[AppObject]| objects.iter().map(|o| o.key.to_string()).collect::<Vec<_>>();
        let (want, got) = (keys(&base), keys(&variant));
        if want != got {
            let added: Vec<&String> = got.iter().filter(|k| !want.contains(k)).collect();
            let dropped: Vec<&String> = want.iter().filter(|k| !got.contains(k)).collect();
            return Err(at(&format!(
                "with these values the app renders other objects (adds {added:?}, drops {dropped:?}): per-cluster \
                 values may change objects, not which objects there are"
            )));
        }
        for (i, (from, to)) in base.iter().zip(&variant).enumerate() {
            patches[i].push(overrides::diff(&from.object, &to.object));
        }
    }
    Ok(base
        .into_iter()
        .zip(patches)
        .map(|(object, per_rule)| {
            let last = per_rule.iter().rposition(|p| !p.is_empty());
            let overrides = rules
                .iter()
                .zip(per_rule)
                .take(last.map_or(0, |l| l + 1))
                .map(|(rule, patches)| ClusterOverride {
                    cluster: rule.cluster.clone(),
                    selector: rule.selector.clone(),
                    patches,
                })
                .collect();
            InstallObject { object, overrides }
        })
        .collect())
}

/// The YAML documents of a rendered text that hold something besides comments.
fn documents(text: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            parts.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|doc| doc.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')))
}

fn template_error(error: &minijinja::Error) -> Error {
    let place = match (error.name(), error.line()) {
        (Some(name), Some(line)) => format!("{name}, line {line}: "),
        (Some(name), None) => format!("{name}: "),
        _ => String::new(),
    };
    let detail = error.detail().map_or_else(|| error.kind().to_string(), str::to_owned);
    let detail = if error.kind() == minijinja::ErrorKind::OutOfFuel {
        "the template does too much work (it ran out of its rendering budget)".to_owned()
    } else {
        detail
    };
    Error::invalid("app", format!("{place}{detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{check_values, parse_definition};

    const META: &str = "name: web\nversion: 1.0.0\nappVersion: '1.0'\ndisplayName: Web\nscope: project\n\
                        parameters:\n- {name: replicas, type: integer, default: 2}\n\
                        - {name: config, type: boolean, default: true}\n";
    const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ install.name }}
  labels: {{ labels | tojson }}
spec:
  replicas: {{ values.replicas }}
  selector: {matchLabels: {{ selectorLabels | tojson }}}
  template:
    metadata: {labels: {{ selectorLabels | tojson }}}
    spec: {containers: [{name: web, image: 'nginx:{{ app.appVersion }}'}]}
{% if values.config %}
---
# the optional part
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ install.name }}-config}
data: {replicas: '{{ values.replicas }}'}
{% endif %}
";

    fn web(templates: &[(&str, &str)]) -> AppDefinition {
        let mut files = vec![("app.yaml", META)];
        files.extend_from_slice(templates);
        parse_definition(files).unwrap()
    }

    fn render(def: &AppDefinition, values: serde_json::Value) -> Result<Vec<AppObject>> {
        let values = check_values(&def.meta.parameters, values.as_object().unwrap()).unwrap();
        render_app(def, &InstallTarget { name: "shop", namespace: Some("team-a") }, &values)
    }

    #[test]
    fn templates_render_to_checked_objects_in_the_projects_namespace() {
        let def = web(&[("templates/deploy.yaml", DEPLOY)]);
        let objects = render(&def, json!({"replicas": 4})).unwrap();
        let names: Vec<String> = objects.iter().map(|o| o.key.to_string()).collect();
        assert_eq!(names, ["Deployment team-a/shop", "ConfigMap team-a/shop-config"]);
        let deploy = &objects[0].object;
        assert_eq!(deploy["spec"]["replicas"], 4);
        assert_eq!(deploy["metadata"]["labels"]["app.kubernetes.io/instance"], "shop");
        assert_eq!(deploy["spec"]["selector"]["matchLabels"].as_object().unwrap().len(), 2);
        assert_eq!(deploy["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.0");

        let without = render(&def, json!({"config": false})).unwrap();
        assert_eq!(without.len(), 1, "a condition switches a document off");
        assert_eq!(render(&def, json!({})).unwrap(), render(&def, json!({})).unwrap(), "deterministic");
    }

    #[test]
    fn rules_become_overrides_of_the_objects_their_values_change() {
        let a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {r: '{{ values.replicas }}'}\n";
        let b = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {c: '{{ values.config }}'}\n";
        let def = web(&[("templates/a.yaml", a), ("templates/b.yaml", b)]);
        let target = InstallTarget { name: "shop", namespace: Some("team-a") };
        let rule = |cluster: &str, selector: Option<&str>, values: serde_json::Value| ValueRule {
            cluster: cluster.into(),
            selector: selector.map(Into::into),
            values: values.as_object().unwrap().clone(),
        };
        let rules = [rule("", Some("tier=1"), json!({"replicas": 5})), rule("edge-3", None, json!({"config": false}))];
        let objects = render_install(&def, &target, json!({"replicas": 3}).as_object().unwrap(), &rules).unwrap();
        assert_eq!(objects[0].object.object["data"]["r"], "3", "the install's own values everywhere else");
        // a: only the first rule changes it. b: the second does, so the first gets an empty
        // entry — a tier=1 cluster named edge-3 takes the first rule for every object.
        let a_overrides = &objects[0].overrides;
        assert_eq!(a_overrides.len(), 1);
        assert_eq!(a_overrides[0].selector.as_deref(), Some("tier=1"));
        assert_eq!(a_overrides[0].patches, [OverridePatch::replace("/data/r", json!("5"))]);
        let b_overrides = &objects[1].overrides;
        assert_eq!(b_overrides.len(), 2);
        assert!(b_overrides[0].patches.is_empty());
        assert_eq!((b_overrides[1].cluster.as_str(), b_overrides[1].selector.as_ref()), ("edge-3", None));
        assert_eq!(b_overrides[1].patches, [OverridePatch::replace("/data/c", json!("False"))]);
        // (MiniJinja prints booleans as Python does.)

        // A rule's values are checked as the install's are, and may not change which objects
        // there are.
        let err = |rules: &[ValueRule], templates: &[(&str, &str)]| {
            render_install(&web(templates), &target, &Map::new(), rules).unwrap_err().reason().to_owned()
        };
        let bad = err(&[rule("", Some("tier=1"), json!({"replicas": "many"}))], &[("templates/a.yaml", a)]);
        assert!(bad.starts_with("rule 1 (clusters where tier=1): ") && bad.contains("replicas"), "{bad}");
        let fewer = err(&[rule("edge-3", None, json!({"config": false}))], &[("templates/deploy.yaml", DEPLOY)]);
        assert!(fewer.contains("drops [\"ConfigMap team-a/shop-config\"]"), "{fewer}");
        let unknown = err(&[rule("edge-3", None, json!({"colour": "red"}))], &[("templates/a.yaml", a)]);
        assert!(unknown.contains("colour"), "{unknown}");
    }

    #[test]
    fn template_errors_name_the_file_and_line() {
        let err = parse_definition([("app.yaml", META), ("templates/x.yaml", "a: {{ values.replicas ")]).unwrap_err();
        assert!(err.reason().starts_with("templates/x.yaml, line 1:"), "{err}");

        let def = web(&[("templates/x.yaml", "kind: {{ values.missing }}\n")]);
        let err = render(&def, json!({})).unwrap_err();
        assert!(err.reason().contains("templates/x.yaml, line 1"), "{err}");
        assert!(err.reason().contains("undefined"), "strict undefined: {err}");

        let def = web(&[("templates/x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n")]);
        let err = render(&def, json!({})).unwrap_err();
        assert!(err.reason().starts_with("templates/x.yaml, document 2:"), "{err}");
    }

    #[test]
    fn objects_must_fit_the_scope_and_be_named_once() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.io}\n";
        let err = render(&web(&[("templates/crd.yaml", crd)]), json!({})).unwrap_err();
        assert!(err.reason().contains("cluster-scoped: add it to the workspace"), "{err}");

        let foreign = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n";
        let err = render(&web(&[("templates/cm.yaml", foreign)]), json!({})).unwrap_err();
        assert!(err.reason().contains("kube-system"), "{err}");

        let twice = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let err = render(&web(&[("templates/cm.yaml", twice)]), json!({})).unwrap_err();
        assert!(err.reason().contains("rendered twice"), "{err}");
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel_instead_of_memory() {
        let bomb = "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}";
        let err = render(&web(&[("templates/bomb.yaml", bomb)]), json!({})).unwrap_err();
        assert!(err.reason().contains("rendering budget"), "{err}");
        let doubling = "{% set s = 'x' * 90000000 %}{% set t = s ~ s ~ s ~ s %}{{ t | length }}";
        let err = render(&web(&[("templates/bomb.yaml", doubling)]), json!({})).unwrap_err();
        assert!(err.reason().contains("rendering budget"), "{err}");
    }

    #[test]
    fn a_workspace_app_installs_in_a_workspace_only() {
        let meta = META.replace("scope: project", "scope: workspace");
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.io}\n";
        let def = parse_definition([("app.yaml", meta.as_str()), ("templates/crd.yaml", crd)]).unwrap();
        let values = check_values(&def.meta.parameters, &Map::new()).unwrap();
        let objects = render_app(&def, &InstallTarget { name: "gw", namespace: None }, &values).unwrap();
        assert_eq!(objects[0].key.namespace, None);
        let err = render_app(&def, &InstallTarget { name: "gw", namespace: Some("team-a") }, &values).unwrap_err();
        assert!(err.reason().contains("installed in a workspace"), "{err}");
    }
}
