//! A worker's inbox: an unbounded queue that costs nothing while empty (a fleet has a
//! thousand mostly idle workers; a channel would keep a block of slots for each).

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

struct Shared<T> {
    /// `None` once the receiver is gone.
    queue: Mutex<Option<Vec<T>>>,
    notify: Notify,
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

pub(crate) fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared { queue: Mutex::new(Some(Vec::new())), notify: Notify::new() });
    (Sender(shared.clone()), Receiver(shared))
}

/// The receiver has gone.
#[derive(Debug)]
pub(crate) struct Closed;

impl<T> Sender<T> {
    pub fn send(&self, item: T) -> Result<(), Closed> {
        let mut queue = crate::locks::lock(&self.0.queue);
        queue.as_mut().ok_or(Closed)?.push(item);
        drop(queue);
        self.0.notify.notify_one();
        Ok(())
    }
}

impl<T> Receiver<T> {
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
        crate::locks::lock(&self.0.queue).as_mut().map(std::mem::take).unwrap_or_default()
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
