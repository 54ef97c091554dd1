//! The capture writer: one task that groups what the routes received into one store transaction
//! at a time (group commit), so throughput does not depend on request size and a crash loses at
//! most the group in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::store::Handle;
use crate::trace::{Batch, Span, Trace};

/// Records per transaction, at most (a group is whatever queued while the last one was written).
const GROUP_RECORDS: usize = 8192;

/// What a route hands the writer: exported records and/or a proxy recording, already passed
/// through the privacy filter.
pub struct Write {
    pub batch: Batch,
    pub recording: Option<(Trace, Span)>,
    /// Told when the write is committed (or failed); `None` for fire-and-forget.
    pub done: Option<oneshot::Sender<Result<(), String>>>,
}

/// Totals since start, for the closing line and the tests.
#[derive(Debug, Default)]
pub struct Totals {
    pub spans: AtomicU64,
    pub traces: AtomicU64,
    pub recordings: AtomicU64,
    pub transactions: AtomicU64,
    pub failed: AtomicU64,
}

impl Totals {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Write everything received until every sender is gone, then return.
pub async fn run(mut rx: mpsc::Receiver<Write>, store: Handle, totals: Arc<Totals>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Batch::default();
        let mut recordings = Vec::new();
        let mut waiting = Vec::new();
        let mut size = 0;
        let mut next = Some(first);
        while let Some(w) = next.take() {
            size += w.batch.traces.len() + w.batch.spans.len() + w.recording.is_some() as usize;
            batch.extend(w.batch);
            recordings.extend(w.recording);
            waiting.extend(w.done);
            if size < GROUP_RECORDS {
                next = rx.try_recv().ok();
            }
        }
        let counts = (batch.spans.len() as u64, batch.traces.len() as u64, recordings.len() as u64);
        let result = store.call(move |s| s.capture(batch, recordings)).await;
        totals.transactions.fetch_add(1, Ordering::Relaxed);
        let answer = match result {
            Ok(_) => {
                totals.spans.fetch_add(counts.0, Ordering::Relaxed);
                totals.traces.fetch_add(counts.1, Ordering::Relaxed);
                totals.recordings.fetch_add(counts.2, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                totals.failed.fetch_add(size as u64, Ordering::Relaxed);
                let e = crate::text::chain(&e);
                eprintln!("collect: could not store {size} records: {e}");
                Err(format!("store error: {e}"))
            }
        };
        for done in waiting {
            let _ = done.send(answer.clone());
        }
    }
}
