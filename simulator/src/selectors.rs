//! Label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and the field
//! selectors the API server supports on every type (`metadata.name`, `metadata.namespace`).

use serde_json::Value;

use crate::api_error::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for term in split_terms(text) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            reqs.push(parse_term(term).ok_or_else(|| {
                ApiError::bad_request(format!("unable to parse requirement: invalid label selector term {term:?}"))
            })?);
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn parse_set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect())
}

fn parse_term(term: &str) -> Option<Requirement> {
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        return valid_key(key).then(|| Requirement::NotExists(key.to_owned()));
    }
    if let Some((k, v)) = term.split_once("!=") {
        let k = k.trim();
        return valid_key(k).then(|| Requirement::NotEquals(k.to_owned(), v.trim().to_owned()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        let k = k.trim();
        return valid_key(k).then(|| Requirement::Equals(k.to_owned(), v.trim().to_owned()));
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = words.next()?.trim();
    let rest = words.next().map(str::trim).unwrap_or("");
    if rest.is_empty() {
        return valid_key(key).then(|| Requirement::Exists(key.to_owned()));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return valid_key(key).then(|| parse_set(set)).flatten().map(|vs| Requirement::NotIn(key.to_owned(), vs));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return valid_key(key).then(|| parse_set(set)).flatten().map(|vs| Requirement::In(key.to_owned(), vs));
    }
    None
}

/// A field selector over `metadata.name` / `metadata.namespace` (`=`, `==`, `!=`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!("invalid field selector term {term:?}")));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace") {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field} (supported: metadata.name, metadata.namespace)"
                )));
            }
            reqs.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let actual = match field.as_str() {
                "metadata.name" => object["metadata"]["name"].as_str().unwrap_or(""),
                _ => object["metadata"]["namespace"].as_str().unwrap_or(""),
            };
            (actual == value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_operator() {
        let l = labels(json!({"env": "prod", "region": "eu", "tier": "1"}));
        let yes = [
            "env=prod",
            "env==prod",
            "env!=dev",
            "region in (eu, us)",
            "region notin (us)",
            "tier",
            "!legacy",
            "env=prod,region in (eu,us),!legacy",
            "",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).unwrap().matches(Some(&l)), "{s}");
        }
        let no = ["env=dev", "env!=prod", "region in (us)", "region notin (eu,us)", "legacy", "!tier"];
        for s in no {
            assert!(!LabelSelector::parse(s).unwrap().matches(Some(&l)), "{s}");
        }
        assert!(LabelSelector::parse("x notin (a)").unwrap().matches(None), "notin matches a missing key");
    }

    #[test]
    fn bad_selectors_are_refused() {
        for s in ["env in prod", "=x", "a b c", "!"] {
            assert!(LabelSelector::parse(s).is_err(), "{s}");
        }
        assert!(FieldSelector::parse("spec.x=1").unwrap_err().message.contains("not supported"));
    }

    #[test]
    fn field_selectors() {
        let o = json!({"metadata": {"name": "a", "namespace": "ns1"}});
        assert!(FieldSelector::parse("metadata.name=a").unwrap().matches(&o));
        assert!(FieldSelector::parse("metadata.namespace!=ns2,metadata.name==a").unwrap().matches(&o));
        assert!(!FieldSelector::parse("metadata.name=b").unwrap().matches(&o));
    }
}
