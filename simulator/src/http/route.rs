//! Parsing a Kubernetes API path (below the cluster prefix) into what it addresses.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiPath {
    Version,
    CoreVersions,
    Groups,
    ResourceList { group: String, version: String },
    OpenApiIndex,
    OpenApiDoc { group: String, version: String },
    Object(ObjectPath),
}

/// A path to a collection, an object or an object's subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

pub fn parse(path: &str) -> Option<ApiPath> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Some(ApiPath::Version),
        ["api"] => Some(ApiPath::CoreVersions),
        ["apis"] => Some(ApiPath::Groups),
        ["api", v] => Some(ApiPath::ResourceList { group: String::new(), version: (*v).into() }),
        ["apis", g, v] => Some(ApiPath::ResourceList { group: (*g).into(), version: (*v).into() }),
        ["openapi", "v3"] => Some(ApiPath::OpenApiIndex),
        ["openapi", "v3", "api", v] => Some(ApiPath::OpenApiDoc { group: String::new(), version: (*v).into() }),
        ["openapi", "v3", "apis", g, v] => Some(ApiPath::OpenApiDoc { group: (*g).into(), version: (*v).into() }),
        ["api", v, rest @ ..] => object_path("", v, rest).map(ApiPath::Object),
        ["apis", g, v, rest @ ..] => object_path(g, v, rest).map(ApiPath::Object),
        _ => None,
    }
}

fn object_path(group: &str, version: &str, rest: &[&str]) -> Option<ObjectPath> {
    let mk = |ns: Option<&str>, plural: &str, name: Option<&str>, sub: Option<&str>| ObjectPath {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        namespace: ns.map(Into::into),
        name: name.map(Into::into),
        subresource: sub.map(Into::into),
    };
    match rest {
        [plural] => Some(mk(None, plural, None, None)),
        // A namespace's own subresources (`/api/v1/namespaces/x/status`) look like a
        // collection inside namespace x; the API server resolves it the same way.
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            Some(mk(None, "namespaces", Some(name), Some(sub)))
        }
        [plural, name] => Some(mk(None, plural, Some(name), None)),
        ["namespaces", ns, plural] => Some(mk(Some(ns), plural, None, None)),
        [plural, name, sub] => Some(mk(None, plural, Some(name), Some(sub))),
        ["namespaces", ns, plural, name] => Some(mk(Some(ns), plural, Some(name), None)),
        ["namespaces", ns, plural, name, sub] => Some(mk(Some(ns), plural, Some(name), Some(sub))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse("/version"), Some(ApiPath::Version));
        assert_eq!(parse("/apis/apps/v1"), Some(ApiPath::ResourceList { group: "apps".into(), version: "v1".into() }));
        let ApiPath::Object(o) = parse("/apis/apps/v1/namespaces/a/deployments/web/status").unwrap() else { panic!() };
        assert_eq!(
            (o.namespace.as_deref(), o.name.as_deref(), o.subresource.as_deref()),
            (Some("a"), Some("web"), Some("status"))
        );
        let ApiPath::Object(o) = parse("/api/v1/namespaces/team").unwrap() else { panic!() };
        assert_eq!((o.plural.as_str(), o.name.as_deref(), o.namespace), ("namespaces", Some("team"), None));
        let ApiPath::Object(o) = parse("/api/v1/namespaces/team/configmaps").unwrap() else { panic!() };
        assert_eq!((o.plural.as_str(), o.namespace.as_deref(), o.name), ("configmaps", Some("team"), None));
        let ApiPath::Object(o) = parse("/api/v1/namespaces/team/status").unwrap() else { panic!() };
        assert_eq!(
            (o.plural.as_str(), o.name.as_deref(), o.subresource.as_deref()),
            ("namespaces", Some("team"), Some("status"))
        );
        assert_eq!(parse("/nope"), None);
    }
}
