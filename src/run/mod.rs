//! A suite run end to end: resolve what to run, plan it, replay and grade every sample, record
//! the results as they finish, compare with the baseline, and decide the gate. The caller
//! brings the shutdown signal and the event sink, and renders what comes back.

mod budget;
mod events;
mod execute;
mod resolve;

use std::future::Future;
use std::path::{Path, PathBuf};

pub use budget::Budget;
pub use events::{Event, Events, Silent};
pub use resolve::{Request, Resume};

use crate::compare::gate::{self, Decision};
use crate::compare::{Comparison, compare_in};
use crate::dataset::DatasetError;
use crate::mock::MockError;
use crate::provider::client::BadBaseUrl;
use crate::record::{FindRunError, Run, RunFileError};
use crate::store::StoreError;
use crate::suite::SuiteError;
use crate::suite::select::SelectError;
use crate::yaml::YamlError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no suite given, and no run to resume")]
    NoSuite,
    #[error("no unfinished run to resume in the store")]
    NothingToResume,
    #[error("run {run_id} is finished; nothing to resume")]
    AlreadyFinished { run_id: String },
    #[error("{} changed since run {run_id} started; resuming would mix two suites", path.display())]
    SuiteChanged { path: PathBuf, run_id: String },
    #[error("nothing to run: {}", if *loaded == 0 {
        format!("the datasets of {} hold no cases", suite.display())
    } else {
        format!("none of the {loaded} cases matches the filter and shard")
    })]
    NothingSelected { suite: PathBuf, loaded: usize },
    #[error("{var} is not set (the suite's provider.api_key_env)")]
    NoApiKey { var: String },
    #[error("repeat must be at least 1")]
    NoRepeat,
    #[error("cannot start the mock model server")]
    Mock(#[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("interrupted: the finished cases of run {run_id} are stored")]
    Interrupted { run_id: String },
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Script(#[from] MockError),
    #[error(transparent)]
    BaseUrl(#[from] BadBaseUrl),
    #[error(transparent)]
    RunFile(#[from] RunFileError),
    #[error(transparent)]
    FindRun(#[from] FindRunError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A finished run and its verdict.
pub struct Outcome {
    /// The run as stored, every result included, in case and repeat order.
    pub run: Run,
    pub comparison: Option<Comparison>,
    pub decision: Decision,
}

/// Run a suite (or finish an interrupted run) against the store at `store`. `events` hears what
/// happens as it happens; when `shutdown` completes, the run stops, keeps what finished, and
/// fails with [`RunError::Interrupted`].
pub fn run(
    store: &Path,
    request: &Request,
    events: &mut dyn Events,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, RunError> {
    let mut resolved = resolve::resolve(store, request, events)?;
    let (baseline, gate) = (resolved.baseline.take(), resolved.suite.gate.clone());
    let run = execute::execute(store, resolved, request.out.as_deref(), events, shutdown)?;
    let comparison = baseline.as_ref().map(|b| compare_in(store, b, &run)).transpose()?;
    let decision = gate::decide(&gate, &run, comparison.as_ref());
    Ok(Outcome { run, comparison, decision })
}
