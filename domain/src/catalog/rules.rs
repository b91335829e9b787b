//! Per-cluster values of an install (Fleet's target customizations, Helm values per
//! cluster): "5 brokers where `tier=1`", "small storage in cluster `edge-3`". A rule names a
//! cluster or holds a selector, and gives values on top of the install's own. A cluster
//! takes the first rule that names or selects it; a selector follows clusters that join or
//! are relabelled later.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, LabelSelector, ResourceName, Result};

/// The most rules one install may hold.
pub const MAX_VALUE_RULES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueRule {
    /// The cluster it is for, by name; empty when `selector` is set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The clusters it is for, by label selector (`tier=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Parameter values, on top of the install's.
    pub values: Map<String, Value>,
}

impl ValueRule {
    /// Whom it is for, in words: `cluster edge-3`, `clusters where tier=1`.
    pub fn target(&self) -> String {
        match &self.selector {
            Some(selector) => format!("clusters where {selector}"),
            None => format!("cluster {}", self.cluster),
        }
    }
}

/// Checks the rules' targets and count (their values are checked when rendered). Errors name
/// the `overrides` field and the rule, counted from 1.
pub fn check_rules(rules: &[ValueRule]) -> Result<()> {
    if rules.len() > MAX_VALUE_RULES {
        return Err(Error::invalid("overrides", format!("at most {MAX_VALUE_RULES} per-cluster rules")));
    }
    for (n, rule) in rules.iter().enumerate().map(|(n, r)| (n + 1, r)) {
        let invalid = |why: String| Error::invalid("overrides", format!("rule {n}: {why}"));
        match (&rule.selector, rule.cluster.is_empty()) {
            (Some(text), true) => {
                if text.trim().is_empty() {
                    return Err(invalid("a selector such as tier=1 is needed".into()));
                }
                LabelSelector::parse(text).map_err(|e| invalid(format!("selector `{text}`: {}", e.reason())))?;
            }
            (None, false) => {
                ResourceName::parse("overrides", &rule.cluster)
                    .map_err(|_| invalid(format!("`{}` is not a cluster name", rule.cluster)))?;
            }
            (None, true) => return Err(invalid("choose a cluster or give a selector".into())),
            (Some(_), false) => return Err(invalid("a cluster or a selector, not both".into())),
        }
        if rule.values.is_empty() {
            return Err(invalid("it sets no value".into()));
        }
        if rules[..n - 1].iter().any(|r| r.cluster == rule.cluster && r.selector == rule.selector) {
            return Err(invalid(format!("{} has a rule already (rule order decides; merge them)", rule.target())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(cluster: &str, selector: Option<&str>, values: Value) -> ValueRule {
        let Value::Object(values) = values else { unreachable!() };
        ValueRule { cluster: cluster.into(), selector: selector.map(Into::into), values }
    }

    #[test]
    fn rules_name_a_cluster_or_a_selector_and_set_something() {
        let five = json!({"brokers": 5});
        assert!(check_rules(&[rule("", Some("tier=1"), five.clone()), rule("edge-3", None, five.clone())]).is_ok());
        let error = |rules: &[ValueRule]| check_rules(rules).unwrap_err().reason().to_owned();
        assert!(error(&[rule("", None, five.clone())]).contains("rule 1: choose a cluster"));
        assert!(error(&[rule("a", Some("x=1"), five.clone())]).contains("not both"));
        assert!(error(&[rule("", Some("tier in ("), five.clone())]).contains("selector `tier in (`"));
        assert!(error(&[rule("Bad Name", None, five.clone())]).contains("not a cluster name"));
        assert!(error(&[rule("a", None, json!({}))]).contains("sets no value"));
        assert!(
            error(&[rule("a", None, five.clone()), rule("a", None, five.clone())])
                .contains("rule 2: cluster a has a rule")
        );
        let many = vec![rule("a", None, five); MAX_VALUE_RULES + 1];
        assert!(error(&many).contains("at most"));
    }
}
