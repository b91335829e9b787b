//! Label selectors with Kubernetes semantics, in the text form users type
//! (`env=prod,region in (eu,us),!legacy`) and the structured form of Kubernetes objects
//! (`matchLabels` + `matchExpressions`).
//!
//! Semantics follow `k8s.io/apimachinery/pkg/labels`: requirements are ANDed; `!=` and
//! `notin` also match objects without the key; the empty selector matches everything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::{Error, Result};

const FIELD: &str = "selector";

/// How a requirement compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `key=v`, `key==v`, `key in (a,b)`
    In,
    /// `key!=v`, `key notin (a,b)`
    NotIn,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
}

impl Operator {
    /// The operator's name in `matchExpressions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "In",
            Self::NotIn => "NotIn",
            Self::Exists => "Exists",
            Self::DoesNotExist => "DoesNotExist",
        }
    }
}

/// One clause of a selector.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: BTreeSet<String>,
}

impl Requirement {
    /// Builds a requirement, checking the key, the values and that the operator has the
    /// number of values it needs.
    pub fn new(key: &str, operator: Operator, values: impl IntoIterator<Item = String>) -> Result<Self> {
        check_key(key)?;
        let values: BTreeSet<String> = values.into_iter().collect();
        for v in &values {
            check_value(key, v)?;
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(Error::invalid(FIELD, format!("`{key}`: {} needs at least one value", operator.as_str())));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(Error::invalid(FIELD, format!("`{key}`: {} takes no values", operator.as_str())));
            }
            _ => {}
        }
        Ok(Self { key: key.to_owned(), operator, values })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(String::as_str)
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = || self.values.iter().map(String::as_str).collect::<Vec<_>>().join(",");
        match (self.operator, self.values.len()) {
            (Operator::In, 1) => write!(f, "{}={}", self.key, list()),
            (Operator::NotIn, 1) => write!(f, "{}!={}", self.key, list()),
            (Operator::In, _) => write!(f, "{} in ({})", self.key, list()),
            (Operator::NotIn, _) => write!(f, "{} notin ({})", self.key, list()),
            (Operator::Exists, _) => write!(f, "{}", self.key),
            (Operator::DoesNotExist, _) => write!(f, "!{}", self.key),
        }
    }
}

/// A set of requirements, all of which must hold. Kept sorted, so two selectors that mean
/// the same compare equal and print the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// The selector that matches every cluster.
    pub fn everything() -> Self {
        Self::default()
    }

    pub fn from_requirements(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        let mut requirements: Vec<Requirement> = requirements.into_iter().collect();
        requirements.sort();
        requirements.dedup();
        Self { requirements }
    }

    /// Parses the text form. Whitespace is free; the empty string selects everything.
    pub fn parse(text: &str) -> Result<Self> {
        Parser { text, pos: 0 }.selector()
    }

    /// Builds a selector from the structured form (`matchLabels` and `matchExpressions`).
    pub fn from_match(
        match_labels: &BTreeMap<String, String>,
        match_expressions: &[(String, String, Vec<String>)],
    ) -> Result<Self> {
        let mut requirements = Vec::new();
        for (key, value) in match_labels {
            requirements.push(Requirement::new(key, Operator::In, [value.clone()])?);
        }
        for (key, operator, values) in match_expressions {
            let operator = match operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(Error::invalid(
                        FIELD,
                        format!("`{key}`: unknown operator `{other}` (use In, NotIn, Exists or DoesNotExist)"),
                    ));
                }
            };
            requirements.push(Requirement::new(key, operator, values.iter().cloned())?);
        }
        Ok(Self::from_requirements(requirements))
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "k8s")]
mod k8s {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

    use super::*;

    impl TryFrom<&meta::LabelSelector> for LabelSelector {
        type Error = Error;

        fn try_from(s: &meta::LabelSelector) -> Result<Self> {
            let expressions: Vec<(String, String, Vec<String>)> = s
                .match_expressions
                .iter()
                .flatten()
                .map(|e| (e.key.clone(), e.operator.clone(), e.values.clone().unwrap_or_default()))
                .collect();
            Self::from_match(&s.match_labels.clone().unwrap_or_default(), &expressions)
        }
    }

    impl From<&LabelSelector> for meta::LabelSelector {
        fn from(s: &LabelSelector) -> Self {
            let match_expressions = s
                .requirements
                .iter()
                .map(|r| meta::LabelSelectorRequirement {
                    key: r.key.clone(),
                    operator: r.operator.as_str().to_owned(),
                    values: (!r.values.is_empty()).then(|| r.values.iter().cloned().collect()),
                })
                .collect::<Vec<_>>();
            Self { match_labels: None, match_expressions: Some(match_expressions) }
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn selector(mut self) -> Result<LabelSelector> {
        let mut requirements = Vec::new();
        self.skip_space();
        if self.at_end() {
            return Ok(LabelSelector::everything());
        }
        loop {
            requirements.push(self.requirement()?);
            self.skip_space();
            if self.at_end() {
                break;
            }
            self.expect(',')?;
        }
        Ok(LabelSelector::from_requirements(requirements))
    }

    fn requirement(&mut self) -> Result<Requirement> {
        self.skip_space();
        if self.eat('!') {
            let key = self.word("a label key after `!`")?;
            return Requirement::new(key, Operator::DoesNotExist, []);
        }
        let key = self.word("a label key")?;
        self.skip_space();
        if self.at_end() || self.peek() == Some(',') {
            return Requirement::new(key, Operator::Exists, []);
        }
        if self.eat_str("==") || self.eat('=') {
            self.skip_space();
            let value = self.optional_word();
            return Requirement::new(key, Operator::In, [value.to_owned()]);
        }
        if self.eat_str("!=") {
            self.skip_space();
            let value = self.optional_word();
            return Requirement::new(key, Operator::NotIn, [value.to_owned()]);
        }
        let start = self.pos;
        let operator = match self.optional_word() {
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            "" => return Err(self.error(&format!("expected `=`, `!=`, `in`, `notin` or `,` after `{key}`"))),
            other => {
                self.pos = start;
                return Err(self
                    .error(&format!("unexpected `{other}` after `{key}` (expected `=`, `!=`, `in`, `notin` or `,`)")));
            }
        };
        self.skip_space();
        self.expect('(')?;
        self.skip_space();
        if self.eat(')') {
            return Err(self.error(&format!("`{key}`: {} needs at least one value", operator.as_str())));
        }
        let mut values = Vec::new();
        loop {
            self.skip_space();
            values.push(self.optional_word().to_owned());
            self.skip_space();
            if self.eat(')') {
                break;
            }
            if self.at_end() {
                return Err(self.error(&format!("missing `)` to close the values of `{key}`")));
            }
            self.expect(',')?;
        }
        Requirement::new(key, operator, values)
    }

    fn word(&mut self, what: &str) -> Result<&'a str> {
        self.skip_space();
        let w = self.optional_word();
        if w.is_empty() { Err(self.error(&format!("expected {what}"))) } else { Ok(w) }
    }

    /// Characters allowed in keys and values (validated precisely afterwards).
    fn optional_word(&mut self) -> &'a str {
        let rest: &'a str = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<()> {
        self.skip_space();
        if self.eat(c) {
            Ok(())
        } else {
            let found = self.peek().map_or("the end".to_owned(), |f| format!("`{f}`"));
            Err(self.error(&format!("expected `{c}` but found {found}")))
        }
    }

    fn error(&self, reason: &str) -> Error {
        Error::invalid(FIELD, format!("{reason} at column {}", self.pos + 1))
    }
}

/// Labels as typed: `key=value` pairs separated by commas (`env=prod, region=eu`), each key
/// and value checked as Kubernetes checks them. Errors concern the `labels` field.
pub fn parse_labels(text: &str) -> Result<BTreeMap<String, String>> {
    const LABELS: &str = "labels";
    let mut labels = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(Error::invalid(LABELS, format!("`{part}`: write key=value")));
        };
        let (key, value) = (key.trim(), value.trim());
        check_key(key).and_then(|()| check_value(key, value)).map_err(|e| Error::invalid(LABELS, e.reason()))?;
        if labels.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(Error::invalid(LABELS, format!("`{key}` is given twice")));
        }
    }
    Ok(labels)
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
fn check_key(key: &str) -> Result<()> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !ok {
            return Err(Error::invalid(FIELD, format!("`{key}`: the prefix before `/` must be a DNS subdomain")));
        }
    }
    if name.is_empty() {
        return Err(Error::invalid(FIELD, format!("`{key}`: a label key needs a name")));
    }
    check_label_chars(name).map_err(|why| Error::invalid(FIELD, format!("`{key}`: the key {why}")))
}

fn check_value(key: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Ok(());
    }
    check_label_chars(value).map_err(|why| Error::invalid(FIELD, format!("`{key}`: the value `{value}` {why}")))
}

fn check_label_chars(s: &str) -> std::result::Result<(), &'static str> {
    if s.len() > 63 {
        return Err("is longer than 63 characters");
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err("may contain only letters, digits, `-`, `_` and `.`");
    }
    let first = s.as_bytes()[0];
    let last = s.as_bytes()[s.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err("must start and end with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn reason(s: &str) -> String {
        LabelSelector::parse(s).expect_err(s).to_string()
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert!(sel("").matches(&labels(&[])));
        assert!(sel("  ").matches(&labels(&[("env", "prod")])));
        assert!(sel("").is_everything());
    }

    #[test]
    fn equality_and_inequality() {
        let prod = labels(&[("env", "prod"), ("region", "eu")]);
        let bare = labels(&[]);
        assert!(sel("env=prod").matches(&prod));
        assert!(sel("env==prod").matches(&prod));
        assert!(!sel("env=staging").matches(&prod));
        assert!(!sel("env=prod").matches(&bare));
        assert!(sel("env!=staging").matches(&prod));
        assert!(!sel("env!=prod").matches(&prod));
        // `!=` matches objects without the key, as in Kubernetes.
        assert!(sel("env!=prod").matches(&bare));
    }

    #[test]
    fn set_based_requirements() {
        let eu = labels(&[("region", "eu")]);
        let ap = labels(&[("region", "ap")]);
        let bare = labels(&[]);
        assert!(sel("region in (eu,us)").matches(&eu));
        assert!(!sel("region in (eu, us)").matches(&ap));
        assert!(!sel("region in (eu)").matches(&bare));
        assert!(sel("region notin (eu,us)").matches(&ap));
        assert!(sel("region notin (eu,us)").matches(&bare));
        assert!(!sel("region notin (eu)").matches(&eu));
        assert!(sel("region").matches(&eu));
        assert!(!sel("region").matches(&bare));
        assert!(sel("!legacy").matches(&eu));
        assert!(!sel("!region").matches(&eu));
    }

    #[test]
    fn requirements_are_anded() {
        let s = sel("env=prod, region in (eu,us), !legacy");
        assert!(s.matches(&labels(&[("env", "prod"), ("region", "us")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("region", "us"), ("legacy", "true")])));
        assert!(!s.matches(&labels(&[("env", "staging"), ("region", "us")])));
    }

    #[test]
    fn canonical_text_is_sorted_and_stable() {
        let s = sel(" region in (us , eu) ,env = prod,!legacy");
        assert_eq!(s.to_string(), "env=prod,!legacy,region in (eu,us)");
        assert_eq!(sel(&s.to_string()), s);
        assert_eq!(sel("a=1,b=2"), sel("b=2,a=1"));
        assert_eq!(sel("tier notin (1)").to_string(), "tier!=1");
    }

    #[test]
    fn prefixed_keys_and_empty_values() {
        let l = labels(&[("topology.kubernetes.io/zone", "eu-1a"), ("note", "")]);
        assert!(sel("topology.kubernetes.io/zone=eu-1a").matches(&l));
        assert!(sel("note=").matches(&l));
        assert!(sel("note in (,x)").matches(&l));
    }

    #[test]
    fn parse_errors_say_what_and_where() {
        assert_eq!(reason("env=prod,"), "selector: expected a label key at column 10");
        assert_eq!(reason("env=prod region=eu"), "selector: expected `,` but found `r` at column 10");
        assert_eq!(
            reason("region within (eu)"),
            "selector: unexpected `within` after `region` (expected `=`, `!=`, `in`, `notin` or `,`) at column 8"
        );
        assert_eq!(reason("region in eu"), "selector: expected `(` but found `e` at column 11");
        assert_eq!(reason("region in (eu,us"), "selector: missing `)` to close the values of `region` at column 17");
        assert_eq!(reason("env=pr*d"), "selector: expected `,` but found `*` at column 7");
        assert!(reason("-env=prod").contains("must start and end"), "{}", reason("-env=prod"));
        assert!(reason("Env_=x").contains("must start and end"), "{}", reason("Env_=x"));
        assert!(reason(&format!("k={}", "v".repeat(64))).contains("longer than 63"));
        assert!(reason("Bad.Prefix/k=v").contains("DNS subdomain"));
        assert!(reason("=prod").contains("expected a label key"));
        assert_eq!(reason("region in ()"), "selector: `region`: In needs at least one value at column 13");
    }

    #[test]
    fn structured_form_round_trip() {
        let s = LabelSelector::from_match(
            &labels(&[("env", "prod")]),
            &[
                ("region".into(), "In".into(), vec!["eu".into(), "us".into()]),
                ("legacy".into(), "DoesNotExist".into(), vec![]),
            ],
        )
        .unwrap();
        assert_eq!(s, sel("env=prod,region in (eu,us),!legacy"));
        let bad = LabelSelector::from_match(&BTreeMap::new(), &[("a".into(), "Equals".into(), vec!["x".into()])]);
        assert!(bad.unwrap_err().to_string().contains("unknown operator `Equals`"));
        let no_values = LabelSelector::from_match(&BTreeMap::new(), &[("a".into(), "In".into(), vec![])]);
        assert!(no_values.unwrap_err().to_string().contains("needs at least one value"));
        let stray = LabelSelector::from_match(&BTreeMap::new(), &[("a".into(), "Exists".into(), vec!["x".into()])]);
        assert!(stray.unwrap_err().to_string().contains("takes no values"));
    }
}

#[cfg(test)]
mod label_tests {
    use super::parse_labels;

    #[test]
    fn labels_parse_with_kubernetes_rules() {
        let labels = parse_labels(" env=prod, region=eu ,tier=").unwrap();
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            [
                ("env".to_owned(), "prod".to_owned()),
                ("region".to_owned(), "eu".to_owned()),
                ("tier".to_owned(), String::new())
            ]
        );
        assert!(parse_labels("").unwrap().is_empty());
        for bad in ["env", "env=prod,env=dev", "-x=1", "x=-1", "a b=c", "example.com/=x"] {
            let e = parse_labels(bad).unwrap_err();
            assert_eq!(e.field(), "labels", "{bad}");
        }
    }
}
