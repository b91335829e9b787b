//! The decision of a sync pass, as a pure function: from what should be in a member cluster
//! (the model's [`Desired`] per resource), what the member accepted from Flotilla last
//! ([`Tracked`]) and what its watches saw since ([`drifted`](plan)), the steps to take, in the
//! order to take them. No I/O: the cluster worker executes the steps and records the outcome
//! (see `cluster_worker/write.rs`). Unchanged → no step, so no write.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use flotilla_domain::{ObjectKey, StatusCode};
use flotilla_store::DeletionPolicy;

use crate::model::Desired;
use crate::tracked::Tracked;

/// What should be in the member for one resource, as far as the plan needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// Placed here, rendered to content with this hash.
    Present { hash: u128, order: u8 },
    /// Placed here, but it cannot be written to this cluster: it cannot be rendered (a bad
    /// override, `ApplyOverridesFailed`) or the policy refuses it as rendered (`Refused`).
    Invalid { order: u8, code: StatusCode, message: &'a str },
    /// Not placed here (or deleted). `order` and `policy` are unknown for a resource the
    /// model no longer has.
    Absent { order: Option<u8>, policy: Option<DeletionPolicy> },
}

/// Something the plan can read a [`Target`] from; the steps hand it back to the executor.
pub(crate) trait Wanted {
    fn target(&self) -> Target<'_>;
}

impl Wanted for Desired {
    fn target(&self) -> Target<'_> {
        match self {
            Desired::Present { resource, output } => Target::Present { hash: output.hash, order: resource.order },
            Desired::Invalid { resource, code, message } => {
                Target::Invalid { order: resource.order, code: *code, message }
            }
            Desired::Absent { resource } => Target::Absent {
                order: resource.as_ref().map(|r| r.order),
                policy: resource.as_ref().map(|r| r.deletion_policy),
            },
        }
    }
}

/// One step of a sync pass.
#[derive(Debug)]
pub(crate) enum Step<D> {
    /// The member holds what it should; only the status is behind (it says otherwise).
    MarkSynced { id: String },
    /// Write `desired`: create it when Flotilla never wrote it there, else update it. With
    /// `verify_first`, read it first and write only if the member does not hold it already:
    /// either the content is what the member accepted but a watch saw the object change
    /// since (the event may have been our own write), or what the member accepted is known
    /// only from the store, which may be a write behind after a hard stop.
    Apply { id: String, desired: D, create: bool, verify_first: bool },
    /// It cannot be written to this cluster: say why (with `code`), write nothing, leave
    /// what is there.
    Invalid { id: String, code: StatusCode, message: String },
    /// Remove Flotilla's object from the member.
    Delete { id: String, key: Arc<ObjectKey> },
    /// Stop tracking it and leave the member as it is (never Flotilla's, or orphaned).
    Forget { id: String },
}

impl<D> Step<D> {
    pub fn id(&self) -> &str {
        match self {
            Self::MarkSynced { id }
            | Self::Apply { id, .. }
            | Self::Invalid { id, .. }
            | Self::Delete { id, .. }
            | Self::Forget { id } => id,
        }
    }
}

/// The steps that make the member hold `work` (resource id → what should be there), in the
/// order to take them: creates and updates in apply order (namespaces, CRDs, the rest, custom
/// resources), then removals in the reverse order. Resources that need nothing get no step.
pub(crate) fn plan<D: Wanted>(
    work: Vec<(String, D)>,
    tracked: &HashMap<Box<str>, Tracked>,
    drifted: &HashSet<String>,
) -> Vec<Step<D>> {
    let mut keyed: Vec<((u8, i16), Step<D>)> = work
        .into_iter()
        .filter_map(|(id, desired)| {
            let known = tracked.get(id.as_str());
            let drifted = drifted.contains(&id);
            let (sort, step) = match desired.target() {
                Target::Present { hash, order } => {
                    let applied = known.and_then(|t| t.applied.as_ref());
                    let same = applied.is_some_and(|a| a.hash == hash);
                    let step = if same && !drifted {
                        known.filter(|t| t.code != StatusCode::Synced).map(|_| Step::MarkSynced { id })?
                    } else {
                        let unconfirmed = applied.is_some() && known.is_some_and(|t| t.unconfirmed);
                        Step::Apply { id, desired, create: applied.is_none(), verify_first: same || unconfirmed }
                    };
                    ((0, i16::from(order)), step)
                }
                Target::Invalid { order, code, message } => {
                    let message = message.to_owned();
                    ((0, i16::from(order)), Step::Invalid { id, code, message })
                }
                Target::Absent { order, policy } => {
                    let known = known?;
                    let sort = (1, -i16::from(order.unwrap_or(2)));
                    let ours = known.applied.is_some() && policy != Some(DeletionPolicy::Orphan);
                    match (&known.key, ours) {
                        (Some(key), true) => (sort, Step::Delete { id, key: key.clone() }),
                        _ => (sort, Step::Forget { id }),
                    }
                }
            };
            Some((sort, step))
        })
        .collect();
    keyed.sort_by_key(|(sort, _)| *sort);
    keyed.into_iter().map(|(_, step)| step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracked::Applied;

    /// A resource as a test states it.
    #[derive(Debug, Clone, PartialEq)]
    enum W {
        Present(u128, u8),
        Invalid(u8),
        Absent(Option<u8>, Option<DeletionPolicy>),
    }

    impl Wanted for W {
        fn target(&self) -> Target<'_> {
            match *self {
                W::Present(hash, order) => Target::Present { hash, order },
                W::Invalid(order) => {
                    Target::Invalid { order, code: StatusCode::ApplyOverridesFailed, message: "bad override" }
                }
                W::Absent(order, policy) => Target::Absent { order, policy },
            }
        }
    }

    fn key(name: &str) -> Arc<ObjectKey> {
        Arc::new(ObjectKey { api_version: "v1".into(), kind: "ConfigMap".into(), namespace: None, name: name.into() })
    }

    /// Written by Flotilla with content `hash`, now showing `code`.
    fn written(name: &str, hash: u128, code: StatusCode) -> Tracked {
        Tracked {
            key: Some(key(name)),
            applied: Some(Applied { revision: 1, hash, generation: None, resource_version: Some("5".into()) }),
            code,
            message: Box::default(),
            health: None,
            unconfirmed: false,
        }
    }

    /// Known but never written (refused, or not Flotilla's).
    fn refused(name: &str) -> Tracked {
        Tracked { key: Some(key(name)), applied: None, code: StatusCode::AlreadyExists, ..Tracked::pending() }
    }

    fn tracked(entries: &[(&str, Tracked)]) -> HashMap<Box<str>, Tracked> {
        entries.iter().map(|(id, t)| (Box::from(*id), t.clone())).collect()
    }

    fn work(entries: &[(&str, W)]) -> Vec<(String, W)> {
        entries.iter().map(|(id, w)| ((*id).to_owned(), w.clone())).collect()
    }

    /// The steps as short text, in order.
    fn show(steps: &[Step<W>]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::MarkSynced { id } => format!("synced {id}"),
                Step::Apply { id, create: true, .. } => format!("create {id}"),
                Step::Apply { id, verify_first: true, .. } => format!("verify {id}"),
                Step::Apply { id, .. } => format!("update {id}"),
                Step::Invalid { id, code, message } => format!("invalid {id} ({code}): {message}"),
                Step::Delete { id, key } => format!("delete {id} ({})", key.name),
                Step::Forget { id } => format!("forget {id}"),
            })
            .collect()
    }

    #[test]
    fn nothing_changed_means_no_step() {
        let known = tracked(&[("a", written("a", 1, StatusCode::Synced)), ("b", written("b", 2, StatusCode::Synced))]);
        let steps = plan(work(&[("a", W::Present(1, 2)), ("b", W::Present(2, 2))]), &known, &HashSet::new());
        assert!(steps.is_empty(), "{:?}", show(&steps));
        // Nor for a resource that is neither placed here nor known.
        assert!(plan(work(&[("c", W::Absent(Some(2), None))]), &known, &HashSet::new()).is_empty());
    }

    #[test]
    fn new_content_is_created_changed_content_updated_and_a_stale_status_corrected() {
        let known = tracked(&[
            ("changed", written("changed", 1, StatusCode::Synced)),
            ("behind", written("behind", 3, StatusCode::ClusterNotReady)),
            ("refused", refused("refused")),
        ]);
        let steps = plan(
            work(&[
                ("behind", W::Present(3, 2)),
                ("changed", W::Present(2, 2)),
                ("new", W::Present(9, 2)),
                ("refused", W::Present(4, 2)),
            ]),
            &known,
            &HashSet::new(),
        );
        // Never written before (even if known as refused): create.
        assert_eq!(show(&steps), ["synced behind", "update changed", "create new", "create refused"]);
    }

    #[test]
    fn drift_seen_by_a_watch_is_checked_before_writing_the_same_content_again() {
        let known = tracked(&[("a", written("a", 1, StatusCode::Synced)), ("b", written("b", 1, StatusCode::Synced))]);
        let drifted = HashSet::from(["a".to_owned(), "b".to_owned()]);
        let steps = plan(work(&[("a", W::Present(1, 2)), ("b", W::Present(2, 2))]), &known, &drifted);
        // Same content: verify first. New content: write it anyway.
        assert_eq!(show(&steps), ["verify a", "update b"]);
    }

    #[test]
    fn what_is_known_only_from_the_store_is_read_before_it_is_written() {
        // Loaded at start: the store may be a write behind the member.
        let loaded = |t: Tracked| Tracked { unconfirmed: true, ..t };
        let known = tracked(&[
            ("a", loaded(written("a", 1, StatusCode::Synced))),
            ("b", loaded(written("b", 1, StatusCode::Synced))),
            ("c", loaded(refused("c"))),
        ]);
        let work = work(&[("a", W::Present(2, 2)), ("b", W::Present(1, 2)), ("c", W::Present(3, 2))]);
        // Unchanged needs nothing. Never written is created: a create that landed before the
        // stop is found by its AlreadyExists answer, and the member's copy checked then.
        assert_eq!(show(&plan(work, &known, &HashSet::new())), ["verify a", "create c"]);
    }

    #[test]
    fn unplaced_objects_are_deleted_if_flotilla_wrote_them_else_forgotten() {
        let known = tracked(&[
            ("ours", written("ours", 1, StatusCode::Synced)),
            ("orphaned", written("orphaned", 1, StatusCode::Synced)),
            ("not-ours", refused("not-ours")),
            ("unnamed", Tracked { key: None, ..written("x", 1, StatusCode::Synced) }),
        ]);
        let steps = plan(
            work(&[
                ("not-ours", W::Absent(Some(2), None)),
                ("orphaned", W::Absent(Some(2), Some(DeletionPolicy::Orphan))),
                ("ours", W::Absent(None, Some(DeletionPolicy::Delete))),
                ("unnamed", W::Absent(Some(2), None)),
            ]),
            &known,
            &HashSet::new(),
        );
        assert_eq!(show(&steps), ["forget not-ours", "forget orphaned", "delete ours (ours)", "forget unnamed"]);
    }

    #[test]
    fn an_override_that_does_not_apply_is_reported_not_written() {
        let known = tracked(&[("a", written("a", 1, StatusCode::Synced))]);
        let steps = plan(work(&[("a", W::Invalid(2))]), &known, &HashSet::new());
        assert_eq!(show(&steps), ["invalid a (ApplyOverridesFailed): bad override"]);
    }

    #[test]
    fn creates_go_in_apply_order_and_removals_after_them_in_reverse() {
        // Orders: 0 namespace, 1 CRD, 2 the rest, 3 custom resources.
        let known = tracked(&[
            ("old-ns", written("old-ns", 1, StatusCode::Synced)),
            ("old-crd", written("old-crd", 1, StatusCode::Synced)),
            ("old-cr", written("old-cr", 1, StatusCode::Synced)),
            ("old-cm", written("old-cm", 1, StatusCode::Synced)),
        ]);
        let steps = plan(
            work(&[
                ("cr", W::Present(5, 3)),
                ("cm", W::Present(5, 2)),
                ("old-ns", W::Absent(Some(0), None)),
                ("old-cm", W::Absent(None, None)),
                ("crd", W::Present(5, 1)),
                ("old-cr", W::Absent(Some(3), None)),
                ("ns", W::Present(5, 0)),
                ("old-crd", W::Absent(Some(1), None)),
            ]),
            &known,
            &HashSet::new(),
        );
        assert_eq!(
            show(&steps),
            [
                "create ns",
                "create crd",
                "create cm",
                "create cr",
                "delete old-cr (old-cr)",
                "delete old-cm (old-cm)",
                "delete old-crd (old-crd)",
                "delete old-ns (old-ns)",
            ]
        );
    }
}
