//! A worker's inbox: a queue that costs nothing while empty (a fleet has a thousand mostly
//! idle workers; a channel would keep a block of slots for each), and that never grows
//! without bound: when it holds [`Coalesce::LIMIT`] messages, they are merged into the fewer
//! that mean the same to the receiver (a burst of changes becomes "check everything"), so a
//! sender is never blocked and nothing is lost.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Messages that can be merged when too many wait.
pub(crate) trait Coalesce: Sized {
    /// How many messages may wait before they are merged.
    const LIMIT: usize;
    /// `queue`, in fewer messages that mean the same to the receiver.
    fn coalesce(queue: Vec<Self>) -> Vec<Self>;
}

struct Shared<T> {
    /// `None` once the receiver is gone.
    queue: Mutex<Option<Queue<T>>>,
    notify: Notify,
}

struct Queue<T> {
    items: Vec<T>,
    /// Merged at this length: the limit, or twice what merging last left (so that messages
    /// that cannot be merged further do not make every send merge again).
    merge_at: usize,
}

/// The sending side; cheap to clone.
pub(crate) struct Sender<T>(Arc<Shared<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The receiving side; dropping it makes every later send fail.
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

pub(crate) fn mailbox<T: Coalesce>() -> (Sender<T>, Receiver<T>) {
    let queue = Queue { items: Vec::new(), merge_at: T::LIMIT };
    let shared = Arc::new(Shared { queue: Mutex::new(Some(queue)), notify: Notify::new() });
    (Sender(shared.clone()), Receiver(shared))
}

/// The receiver has gone.
#[derive(Debug)]
pub(crate) struct Closed;

impl<T: Coalesce> Sender<T> {
    pub fn send(&self, item: T) -> Result<(), Closed> {
        let mut queue = crate::locks::lock(&self.0.queue);
        let queue_ref = queue.as_mut().ok_or(Closed)?;
        queue_ref.items.push(item);
        if queue_ref.items.len() >= queue_ref.merge_at {
            queue_ref.items = T::coalesce(std::mem::take(&mut queue_ref.items));
            queue_ref.merge_at = T::LIMIT.max(queue_ref.items.len() * 2);
        }
        drop(queue);
        self.0.notify.notify_one();
        Ok(())
    }
}

impl<T: Coalesce> Receiver<T> {
    /// Everything sent since the last call, in order, waiting until there is something.
    /// Cancel-safe: nothing is taken until it is returned.
    pub async fn recv_all(&mut self) -> Vec<T> {
        loop {
            let taken = self.try_recv_all();
            if !taken.is_empty() {
                return taken;
            }
            self.0.notify.notified().await;
        }
    }

    pub fn try_recv_all(&mut self) -> Vec<T> {
        crate::locks::lock(&self.0.queue)
            .as_mut()
            .map(|q| {
                q.merge_at = T::LIMIT;
                std::mem::take(&mut q.items)
            })
            .unwrap_or_default()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        *crate::locks::lock(&self.0.queue) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test messages: a non-negative number means "check everything" (any number of them
    /// merge into one 0); a negative one cannot be merged.
    impl Coalesce for i32 {
        const LIMIT: usize = 4;
        fn coalesce(queue: Vec<Self>) -> Vec<Self> {
            let mut kept: Vec<i32> = queue.iter().copied().filter(|n| *n < 0).collect();
            if queue.iter().any(|n| *n >= 0) {
                kept.push(0);
            }
            kept
        }
    }

    #[tokio::test]
    async fn a_full_mailbox_merges_what_can_be_merged_and_keeps_the_rest() {
        let (tx, mut rx) = mailbox::<i32>();
        for n in 1..=1000 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.try_recv_all(), vec![0], "a thousand changes are one check of everything");
        for n in 1..=10 {
            tx.send(-n).unwrap();
            tx.send(n).unwrap();
        }
        let got = rx.try_recv_all();
        assert_eq!(got.iter().filter(|n| **n < 0).count(), 10, "nothing unmergeable is lost: {got:?}");
        assert!(got.len() < 20, "{got:?}");
    }

    #[tokio::test]
    async fn delivers_in_order_wakes_the_receiver_and_fails_once_it_is_gone() {
        let (tx, mut rx) = mailbox();
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(rx.recv_all().await, vec![1, 2]);
        assert!(rx.try_recv_all().is_empty());
        let later = tx.clone();
        let waiter = tokio::spawn(async move { rx.recv_all().await });
        tokio::task::yield_now().await;
        later.send(3).unwrap();
        assert_eq!(waiter.await.unwrap(), vec![3]);
        assert!(tx.send(4).is_err(), "the receiver was dropped with its task");
    }
}
