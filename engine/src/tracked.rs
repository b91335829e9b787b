//! What a cluster's worker knows of each object it manages there: the object's name, what
//! the member accepted last (revision, rendered hash, and the versions the member answered
//! with — KubeFed's method), the status shown, and workload health. A fleet holds one per
//! (cluster × object), so it is kept small: the object's name is shared with the model, the
//! hash is binary, strings are boxed.

use std::sync::Arc;

use flotilla_domain::{ObjectKey, StatusCode, WorkloadHealth};

use crate::member::Accepted;

#[derive(Debug, Clone)]
pub(crate) struct Tracked {
    pub key: Option<Arc<ObjectKey>>,
    /// What the member accepted last; `None` when Flotilla never wrote it (refused, not ours).
    pub applied: Option<Applied>,
    pub code: StatusCode,
    pub message: Box<str>,
    pub health: Option<WorkloadHealth>,
    /// What the member holds may be ahead of `applied`: loaded from the store at start (a hub
    /// that stopped hard between a write and storing its outcome, stored in batches, finds
    /// the member a write ahead), or a write went unanswered. Such an object is read before
    /// it is written, and not written again if it holds the content already.
    pub unconfirmed: bool,
}

impl Tracked {
    pub fn pending() -> Self {
        Self {
            key: None,
            applied: None,
            code: StatusCode::Pending,
            message: Box::default(),
            health: None,
            unconfirmed: false,
        }
    }

    /// Points at the model's shared copy of the object's name when it is the one rendered.
    pub fn set_key(&mut self, shared: Option<&Arc<ObjectKey>>, key: &ObjectKey) {
        if self.key.as_deref() == Some(key) {
            return;
        }
        self.key = Some(match shared {
            Some(shared) if **shared == *key => shared.clone(),
            _ => Arc::new(key.clone()),
        });
    }
}

/// What the member accepted from Flotilla last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub revision: i64,
    /// The rendered content hash (128 bits, stored as 32 hex digits).
    pub hash: u128,
    pub generation: Option<i64>,
    pub resource_version: Option<Box<str>>,
}

impl Applied {
    /// Whether the member's object is still the one Flotilla wrote: same generation where the
    /// kind has one (status updates do not count), else same resourceVersion.
    pub fn still_holds(&self, now: &Accepted) -> bool {
        match (self.generation, now.generation) {
            (Some(a), Some(b)) => a == b,
            _ => self.resource_version.as_deref() == now.resource_version.as_deref(),
        }
    }

    /// The hash as the store keeps it.
    pub fn hash_text(&self) -> String {
        format!("{:032x}", self.hash)
    }
}

/// A rendered content hash as the engine keeps it; `None` for text that is not one.
pub(crate) fn parse_hash(hex: &str) -> Option<u128> {
    (hex.len() == 32).then(|| u128::from_str_radix(hex, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(generation: Option<i64>, rv: &str) -> Accepted {
        Accepted { generation, resource_version: Some(rv.into()), health: None }
    }

    #[test]
    fn generation_decides_where_the_kind_has_one_else_the_resource_version() {
        let applied = |generation| Applied { revision: 1, hash: 7, generation, resource_version: Some("10".into()) };
        // A status update moves the resourceVersion, not the generation: still ours.
        assert!(applied(Some(2)).still_holds(&accepted(Some(2), "11")));
        assert!(!applied(Some(2)).still_holds(&accepted(Some(3), "11")));
        assert!(applied(None).still_holds(&accepted(None, "10")));
        assert!(!applied(None).still_holds(&accepted(None, "11")));
    }

    #[test]
    fn hashes_round_trip_through_text() {
        let a = Applied { revision: 1, hash: 0xabc, generation: None, resource_version: None };
        assert_eq!(parse_hash(&a.hash_text()), Some(0xabc));
        assert_eq!(parse_hash("abc"), None);
        assert_eq!(parse_hash(&"z".repeat(32)), None);
    }
}
