//! Validated names. Each newtype can only be built through `parse`, so holding one proves
//! the value is well-formed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A Kubernetes-style name (RFC 1123 label): 1–63 lowercase alphanumerics or `-`,
/// starting and ending alphanumeric. Clusters, workspaces and projects (which become
/// namespaces) are named this way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceName(String);

impl ResourceName {
    pub fn parse(field: &'static str, s: &str) -> Result<Self> {
        check_dns_label(field, s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's short name, used in URLs (`/t/<slug>/login`). Same rules as [`ResourceName`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    /// The tenant created on first start, home of the platform admin.
    pub const DEFAULT: &'static str = "default";

    pub fn parse(s: &str) -> Result<Self> {
        check_dns_label("tenant", s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn default_tenant() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A local account's login name: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
/// Compared case-insensitively, stored lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid("username", "enter a username"));
        }
        if s.chars().count() > 64 {
            return Err(Error::invalid("username", "at most 64 characters"));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))) {
            return Err(Error::invalid("username", format!("'{c}' is not allowed (letters, digits, . _ - @)")));
        }
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_dns_label(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid(field, "enter a name"));
    }
    if s.len() > 63 {
        return Err(Error::invalid(field, format!("at most 63 characters (this one has {})", s.len())));
    }
    if let Some(c) = s.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(Error::invalid(field, format!("'{c}' is not allowed: use lowercase letters, digits and '-'")));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(Error::invalid(field, "must start and end with a letter or digit"));
    }
    Ok(())
}

macro_rules! string_newtype_impls {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
string_newtype_impls!(ResourceName, TenantSlug, Username);

/// Checks a password someone chooses (the bootstrap admin's, a local account's, a new one):
/// at least 12 characters, not one character or a few repeated, and not one of the passwords
/// every guesser tries first. Errors concern the `password` field.
pub fn check_new_password(password: &str) -> Result<()> {
    const MIN: usize = 12;
    const COMMON: &[&str] =
        &["password1234", "123456789012", "qwertyuiopas", "passwordpassword", "adminadminadmin", "changemechangeme"];
    if password.chars().count() < MIN {
        return Err(Error::invalid("password", format!("at least {MIN} characters")));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 5 || COMMON.contains(&password.to_lowercase().as_str()) {
        return Err(Error::invalid("password", "too easy to guess: use more different characters, or a few words"));
    }
    Ok(())
}

impl TryFrom<String> for ResourceName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse("name", &s)
    }
}
impl TryFrom<String> for TenantSlug {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}
impl TryFrom<String> for Username {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_passwords_are_long_and_not_trivial() {
        assert!(check_new_password("correct horse battery").is_ok());
        for weak in ["short", "aaaaaaaaaaaaaaaa", "abababababab", "Password1234", "123456789012"] {
            assert_eq!(check_new_password(weak).unwrap_err().field(), "password", "{weak}");
        }
    }

    #[test]
    fn dns_labels_accept_kubernetes_names() {
        for ok in ["a", "prod-eu-1", "kafka", "x0", &"a".repeat(63)] {
            assert!(ResourceName::parse("name", ok).is_ok(), "{ok} should be valid");
        }
    }

    #[test]
    fn dns_labels_refuse_with_a_reason() {
        let cases = [
            ("", "enter a name"),
            ("Prod", "'P' is not allowed"),
            ("-a", "must start and end"),
            ("a-", "must start and end"),
            ("a_b", "'_' is not allowed"),
        ];
        for (input, reason) in cases {
            let err = ResourceName::parse("workspace", input).unwrap_err();
            assert_eq!(err.field(), "workspace");
            assert!(err.to_string().contains(reason), "{input:?}: {err}");
        }
        let long = "a".repeat(64);
        assert!(ResourceName::parse("name", &long).unwrap_err().to_string().contains("at most 63"));
    }

    #[test]
    fn usernames_are_trimmed_and_lowercased() {
        assert_eq!(Username::parse("  Admin ").unwrap().as_str(), "admin");
        assert_eq!(Username::parse("jane.doe@example.com").unwrap().as_str(), "jane.doe@example.com");
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").unwrap_err().to_string().contains("' ' is not allowed"));
    }

    #[test]
    fn conversions_from_strings_validate() {
        // serde goes through TryFrom<String>, so deserialising can't bypass validation.
        let ok = TenantSlug::try_from("default".to_owned()).unwrap();
        assert_eq!(ok.as_str(), TenantSlug::DEFAULT);
        assert!(TenantSlug::try_from("Not Valid".to_owned()).is_err());
    }
}
