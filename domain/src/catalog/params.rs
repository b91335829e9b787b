//! An app version's parameters: a small typed schema (string, integer, boolean, Kubernetes
//! quantity; choices, bounds, lengths) with defaults and descriptions. The install form is
//! generated from it and checks each field as it is typed, with the same rules the server
//! applies before rendering.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

/// The most parameters one app version may declare.
pub const MAX_PARAMETERS: usize = 64;
/// The longest string value a parameter takes (an image reference, a listener list).
pub const MAX_STRING_VALUE: usize = 1024;

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    /// A Kubernetes quantity as a string: `10Gi`, `500m`, `1.5`.
    Quantity,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Quantity => "quantity",
        })
    }
}

/// One parameter as `app.yaml` declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    /// An identifier: the name templates use (`values.brokers`).
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// The form's label; the name when empty.
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The value when the installer gives none; `None` makes the parameter required.
    #[serde(default)]
    pub default: Option<Value>,
    /// The only values allowed (strings and quantities).
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

impl Parameter {
    pub fn label(&self) -> &str {
        if self.title.is_empty() { &self.name } else { &self.title }
    }

    /// Checks a value for this parameter; the message is meant for the form field.
    pub fn check(&self, value: &Value) -> Result<Value, String> {
        match self.kind {
            ParamType::Integer => {
                let n = value.as_i64().ok_or("must be a whole number")?;
                if let Some(min) = self.minimum.filter(|min| n < *min) {
                    return Err(format!("must be at least {min}"));
                }
                if let Some(max) = self.maximum.filter(|max| n > *max) {
                    return Err(format!("must be at most {max}"));
                }
                Ok(Value::from(n))
            }
            ParamType::Boolean => value.as_bool().map(Value::Bool).ok_or_else(|| "must be true or false".to_owned()),
            ParamType::String | ParamType::Quantity => {
                let text = value.as_str().ok_or("must be text")?;
                if let Some(choices) = &self.choices
                    && !choices.iter().any(|c| c == text)
                {
                    return Err(format!("must be one of {}", choices.join(", ")));
                }
                let max = self.max_length.unwrap_or(MAX_STRING_VALUE).min(MAX_STRING_VALUE);
                let chars = text.chars().count();
                if chars > max {
                    return Err(format!("must be at most {max} characters"));
                }
                if let Some(min) = self.min_length.filter(|min| chars < *min) {
                    return Err(if min == 1 {
                        "must not be empty".to_owned()
                    } else {
                        format!("must be at least {min} characters")
                    });
                }
                if text.chars().any(char::is_control) {
                    return Err("must be one line without control characters".to_owned());
                }
                if self.kind == ParamType::Quantity {
                    check_quantity(text)?;
                }
                Ok(Value::String(text.to_owned()))
            }
        }
    }

    /// The value a form field's text stands for, checked.
    pub fn from_text(&self, text: &str) -> Result<Value, String> {
        let text = text.trim();
        let value = match self.kind {
            ParamType::Integer => Value::from(text.parse::<i64>().map_err(|_| "must be a whole number".to_owned())?),
            ParamType::Boolean => match text {
                "true" | "on" | "yes" => Value::Bool(true),
                "false" | "off" | "no" | "" => Value::Bool(false),
                _ => return Err("must be true or false".to_owned()),
            },
            ParamType::String | ParamType::Quantity => Value::String(text.to_owned()),
        };
        self.check(&value)
    }

    /// How a value shows in a form field (as an override row's value does).
    pub fn to_text(value: &Value) -> String {
        crate::overrides::value_to_text(value)
    }
}

/// A Kubernetes resource quantity (`resource.Quantity`): a decimal number, then a binary
/// (`Ki`…`Ei`) or decimal (`n`, `u`, `m`, `k`, `M`…`E`) suffix or an exponent (`e3`).
pub fn check_quantity(text: &str) -> Result<(), String> {
    let bad = || format!("`{text}` is not a quantity (e.g. 10Gi, 500m, 2)");
    let digits_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    let valid_number = !number.is_empty() && number.matches('.').count() <= 1 && number != "." && number.len() <= 40;
    if !valid_number {
        return Err(bad());
    }
    let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"];
    if suffixes.contains(&suffix) {
        return Ok(());
    }
    let exponent = suffix.strip_prefix(['e', 'E']).map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    match exponent {
        Some(e) if !e.is_empty() && e.len() <= 3 && e.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(bad()),
    }
}

/// Checks a parameter declaration itself (names, bounds, the default against its own rules).
pub(crate) fn check_declarations(params: &[Parameter]) -> Result<(), Error> {
    let invalid = |reason: String| Error::invalid("app", reason);
    if params.len() > MAX_PARAMETERS {
        return Err(invalid(format!("at most {MAX_PARAMETERS} parameters, not {}", params.len())));
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in params {
        let identifier = !p.name.is_empty()
            && p.name.len() <= 63
            && p.name.as_bytes()[0].is_ascii_alphabetic()
            && p.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !identifier {
            return Err(invalid(format!(
                "parameter `{}`: a name is letters, digits and `_`, starting with a letter",
                p.name
            )));
        }
        if !seen.insert(p.name.as_str()) {
            return Err(invalid(format!("parameter `{}` is declared twice", p.name)));
        }
        let numeric = p.minimum.is_some() || p.maximum.is_some();
        if numeric && p.kind != ParamType::Integer {
            return Err(invalid(format!("parameter `{}`: minimum and maximum are for integers", p.name)));
        }
        let textual = p.choices.is_some() || p.min_length.is_some() || p.max_length.is_some();
        if textual && !matches!(p.kind, ParamType::String | ParamType::Quantity) {
            return Err(invalid(format!("parameter `{}`: enum and lengths are for strings", p.name)));
        }
        if let (Some(min), Some(max)) = (p.minimum, p.maximum)
            && min > max
        {
            return Err(invalid(format!("parameter `{}`: minimum {min} is above maximum {max}", p.name)));
        }
        if p.choices.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid(format!("parameter `{}`: enum lists no value", p.name)));
        }
        if let Some(default) = &p.default {
            p.check(default).map_err(|why| invalid(format!("parameter `{}`: the default {why}", p.name)))?;
        }
    }
    Ok(())
}

/// What is wrong with the values given for an install, by parameter name (`""` for the
/// values as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueErrors(pub BTreeMap<String, String>);

impl ValueErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<ValueErrors> for Error {
    fn from(errors: ValueErrors) -> Self {
        let text = errors.0.iter().map(|(name, why)| format!("`{name}` {why}")).collect::<Vec<_>>().join("; ");
        Error::invalid("values", text)
    }
}

/// Checks the values given for an install against the parameters and fills in defaults.
/// Unknown names and missing required values are errors, as are values of the wrong type.
pub fn check_values(params: &[Parameter], given: &Map<String, Value>) -> Result<Map<String, Value>, ValueErrors> {
    let mut errors = BTreeMap::new();
    let mut values = Map::new();
    for name in given.keys() {
        if !params.iter().any(|p| &p.name == name) {
            errors.insert(name.clone(), "is not a parameter of this app version".to_owned());
        }
    }
    for p in params {
        match given.get(&p.name).filter(|v| !v.is_null()).or(p.default.as_ref()) {
            Some(value) => match p.check(value) {
                Ok(value) => {
                    values.insert(p.name.clone(), value);
                }
                Err(why) => {
                    errors.insert(p.name.clone(), why);
                }
            },
            None => {
                errors.insert(p.name.clone(), "is required".to_owned());
            }
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(ValueErrors(errors)) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn param(yaml: &str) -> Parameter {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn integers_are_bounded_and_typed() {
        let brokers = param("{name: brokers, type: integer, default: 3, minimum: 1, maximum: 9}");
        assert_eq!(brokers.check(&json!(5)), Ok(json!(5)));
        assert_eq!(brokers.check(&json!(0)), Err("must be at least 1".into()));
        assert_eq!(brokers.check(&json!(10)), Err("must be at most 9".into()));
        assert_eq!(brokers.check(&json!("3")), Err("must be a whole number".into()));
        assert_eq!(brokers.check(&json!(2.5)), Err("must be a whole number".into()));
        assert_eq!(brokers.from_text(" 7 "), Ok(json!(7)));
        assert!(brokers.from_text("seven").is_err());
    }

    #[test]
    fn quantities_follow_kubernetes_syntax() {
        for ok in ["10Gi", "500m", "1", "1.5", "2e3", "1E-2", "0.5Ti", "100M"] {
            assert_eq!(check_quantity(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Gi", "10 Gi", "10GB", "-1", "1.2.3", ".", "1e", "10gi", "1e1234"] {
            assert!(check_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_respect_choices_lengths_and_one_line() {
        let listener = param("{name: protocol, type: string, default: PLAINTEXT, enum: [PLAINTEXT, SSL]}");
        assert!(listener.check(&json!("SSL")).is_ok());
        assert_eq!(listener.check(&json!("SASL")), Err("must be one of PLAINTEXT, SSL".into()));
        let image = param("{name: image, type: string, minLength: 1}");
        assert_eq!(image.check(&json!("")), Err("must not be empty".into()));
        assert!(image.check(&json!("a\nb")).is_err());
        assert!(image.check(&json!("x".repeat(MAX_STRING_VALUE + 1))).is_err());
    }

    #[test]
    fn values_get_defaults_and_every_problem_is_named() {
        let params = vec![
            param("{name: brokers, type: integer, default: 3, minimum: 1}"),
            param("{name: storage, type: quantity, default: 10Gi}"),
            param("{name: clusterId, type: string}"),
        ];
        let values = check_values(&params, json!({"clusterId": "abc"}).as_object().unwrap()).unwrap();
        assert_eq!(Value::Object(values), json!({"brokers": 3, "storage": "10Gi", "clusterId": "abc"}));

        let errors =
            check_values(&params, json!({"brokers": 0, "storage": "lots", "color": "red"}).as_object().unwrap())
                .unwrap_err();
        let names: Vec<&str> = errors.0.keys().map(String::as_str).collect();
        assert_eq!(names, ["brokers", "clusterId", "color", "storage"]);
        assert_eq!(errors.0["clusterId"], "is required");
        let error: Error = errors.into();
        assert_eq!(error.field(), "values");
        assert!(error.reason().contains("`color` is not a parameter"), "{error}");
    }

    #[test]
    fn declarations_are_checked() {
        let bad = |yaml: &str| check_declarations(&[param(yaml)]).unwrap_err().reason().to_owned();
        assert!(bad("{name: 1st, type: string}").contains("starting with a letter"));
        assert!(bad("{name: n, type: string, minimum: 1}").contains("for integers"));
        assert!(bad("{name: n, type: integer, default: 0, minimum: 1}").contains("the default must be at least 1"));
        assert!(bad("{name: n, type: integer, minimum: 3, maximum: 1}").contains("above maximum"));
        let twice = [param("{name: a, type: string}"), param("{name: a, type: integer}")];
        assert!(check_declarations(&twice).unwrap_err().reason().contains("declared twice"));
    }
}
