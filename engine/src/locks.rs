//! One policy for poisoned locks, used by every lock in the engine.
//!
//! A lock is poisoned when a thread panicked while holding it. The engine's locked data is
//! always changed by whole-entry replacement (a model entry, a queue, a connection table), so
//! what a panicking holder left behind is still a consistent value, and the periodic reload
//! rebuilds the model from the store anyway. A poisoned lock is therefore used as it is,
//! with a log line: never turned into an error (which stopped the change router) nor read as
//! "empty" (which, for the model, would mean "nothing is placed here" and remove objects
//! from members).

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

fn recovered<G>(e: PoisonError<G>) -> G {
    tracing::error!("a lock was poisoned by a panic; going on with its data as left");
    e.into_inner()
}

/// `lock()` under the policy above.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(recovered)
}

/// `read()` under the policy above.
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(recovered)
}

/// `write()` under the policy above.
pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(recovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_gives_its_data_as_left() {
        let l = std::sync::Arc::new(RwLock::new(vec![1]));
        let held = l.clone();
        let _ = std::thread::spawn(move || {
            let mut v = held.write().unwrap();
            v.push(2);
            panic!("while holding the lock");
        })
        .join();
        assert!(l.is_poisoned());
        assert_eq!(*read(&l), [1, 2]);
        write(&l).push(3);
        assert_eq!(*read(&l), [1, 2, 3]);
    }
}
