//! The store's own thread: async code sends it closures and awaits their results, so SQLite is
//! only ever touched from one blocking thread.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Result, Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A cloneable handle to the store thread. The thread stops when every handle is dropped.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Job>,
}

impl Handle {
    pub fn spawn(mut store: Store) -> (Handle, std::thread::JoinHandle<Store>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("evals-store".into())
            .spawn(move || {
                for job in rx {
                    job(&mut store);
                }
                store
            })
            .expect("spawn store thread");
        (Handle { tx }, thread)
    }

    /// Queue `f` on the store thread without waiting: jobs run in the order queued, so a later
    /// `call` sees its effect. For hot paths that must not stall on the disk.
    pub fn submit<F>(&self, f: F) -> Result<()>
    where
        F: FnOnce(&mut Store) + Send + 'static,
    {
        self.tx.send(Box::new(f)).map_err(|_| StoreError::Closed)
    }

    /// Run `f` on the store thread and wait for its answer.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Box::new(move |s: &mut Store| {
                let _ = reply.send(f(s));
            }))
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_run_on_the_store_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("e.db")).unwrap();
        let (h, thread) = Handle::spawn(store);
        let name = h.call(|_| Ok(std::thread::current().name().map(str::to_string))).await.unwrap();
        assert_eq!(name.as_deref(), Some("evals-store"));
        let err = h.call(|s| s.resolve_trace("nope")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        drop(h);
        thread.join().unwrap();
    }
}
