//! What a run tells its observer while it goes: the progress bar, a log, a web page. The run
//! never prints; its consumer decides what to show.

use crate::record::CaseResult;
use crate::store::StoreError;

/// One thing that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// No stored run of the suite on the baseline branch: the run is gated without a baseline.
    NoBaseline { suite: &'a str, branch: &'a str },
    /// Replay starts: `total` samples in all, of which `finished` are done already (a resumed run).
    Started { run_id: &'a str, total: u64, finished: &'a [CaseResult] },
    /// One sample is replayed and graded.
    CaseFinished(&'a CaseResult),
    /// A batch of results could not be committed: they are missing from the stored run.
    NotStored { count: usize, first_case: &'a str, error: &'a StoreError },
    /// Every sample is replayed; the run is being recorded and compared.
    Replayed,
}

/// A consumer of run events.
pub trait Events {
    fn event(&mut self, event: Event<'_>);
}

/// Events nobody watches.
pub struct Silent;

impl Events for Silent {
    fn event(&mut self, _: Event<'_>) {}
}
