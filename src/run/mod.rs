//! A suite run end to end: resolve what to run, plan it, replay and grade every sample, record
//! the results as they finish, compare with the baseline, and decide the gate. The caller
//! brings the shutdown signal and the event sink, and renders what comes back.

mod budget;
mod events;
mod execute;
pub mod owner;
mod resolve;
mod spill;

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
use crate::record::StoredRuns;
use crate::record::{FindRunError, Run, RunFileError};
use crate::store::{Store, StoreError};
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
    #[error("run {run_id} is live: process {pid} on {host} is running it")]
    Live { run_id: String, pid: u32, host: String },
    #[error("no interrupted run to resume: the newest unfinished one, {run_id}, is live (process {pid} on {host})")]
    OnlyLive { run_id: String, pid: u32, host: String },
    #[error("{} changed since run {run_id} started; resuming would mix two suites", path.display())]
    SuiteChanged { path: PathBuf, run_id: String },
    #[error("nothing to run: {}", if *loaded == 0 {
        format!("the datasets of {} hold no cases", suite.display())
    } else {
        format!("none of the {loaded} cases matches the filter and shard")
    })]
    NothingSelected { suite: PathBuf, loaded: usize },
    #[error("nothing to run: no case failed or errored in run {run_id}")]
    NothingFailed { run_id: String },
    #[error("{var} is not set (the suite's provider.api_key_env)")]
    NoApiKey { var: String },
    #[error("repeat {repeat} is not between 1 and {}", crate::suite::MAX_REPEAT)]
    Repeat { repeat: u32 },
    #[error("concurrency {concurrency} is not between 1 and {}", crate::suite::MAX_CONCURRENCY)]
    Concurrency { concurrency: usize },
    #[error("cannot start the mock model server")]
    Mock(#[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot keep the checked cases in a temporary file")]
    Spill(#[source] std::io::Error),
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
    /// The run's header and summary as stored. Its results stay in the store (read them with
    /// [`StoredRuns::results`](crate::record::StoredRuns::results)): a large run is never held
    /// whole.
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
    // A comparison pairs every case of both runs, so it reads this one back whole.
    let comparison = match &baseline {
        Some(b) => Some(compare_in(store, b, &Store::open_existing(store)?.load_run(&run.id)?)?),
        None => None,
    };
    let decision = gate::decide(&gate, &run, comparison.as_ref());
    Ok(Outcome { run, comparison, decision })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{CaseResult, Status, Summary};

    /// Every event, in order, as a short word (and the finished case ids).
    #[derive(Default)]
    struct Recorder {
        seen: Vec<String>,
        finished: Vec<String>,
    }

    impl Events for Recorder {
        fn event(&mut self, e: Event<'_>) {
            self.seen.push(match e {
                Event::NoBaseline { .. } => "no_baseline".into(),
                Event::Started { total, finished, .. } => format!("started {total} ({} done)", finished.len()),
                Event::CaseFinished(r) => {
                    self.finished.push(r.case_id.clone());
                    "case".into()
                }
                Event::NotStored { .. } => "not_stored".into(),
                Event::Replayed => "replayed".into(),
            });
        }
    }

    /// A project with `n` one-message cases and a suite over the built-in mock (which answers
    /// in capitals, so `contains: ASK` passes).
    fn project(n: usize, gate: &str) -> (tempfile::TempDir, Request) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("datasets/d")).unwrap();
        for i in 0..n {
            std::fs::write(
                dir.path().join(format!("datasets/d/c{i}.yaml")),
                format!(
                    "id: c{i}\nsource: {{trace_id: t{i}}}\ninput:\n  items: [{{role: user, content: 'ask {i}'}}]\n\
                     recorded: {{output: {{text: 'ASK {i}'}}}}\nprivacy: {{status: clean}}\ncontent_hash: h{i}\n"
                ),
            )
            .unwrap();
        }
        std::fs::create_dir_all(dir.path().join("evals")).unwrap();
        let suite = dir.path().join("evals/s.yaml");
        std::fs::write(
            &suite,
            format!(
                "name: s\ntarget: {{model: m}}\nprovider: {{mock: builtin, concurrency: 1}}\ncases: [../datasets/d]\n\
                 graders: [{{type: contains, value: ASK}}]\n{gate}"
            ),
        )
        .unwrap();
        let request = Request { suite: Some(suite), baseline_branch: "main".into(), ..Request::default() };
        (dir, request)
    }

    fn store(dir: &tempfile::TempDir) -> std::path::PathBuf {
        dir.path().join("e.db")
    }

    #[test]
    fn a_run_reports_its_events_and_returns_the_stored_run_and_verdict() {
        let (dir, req) = project(3, "");
        let mut events = Recorder::default();
        let outcome = run(&store(&dir), &req, &mut events, std::future::pending()).unwrap();
        assert_eq!(events.seen, ["started 3 (0 done)", "case", "case", "case", "replayed"]);
        assert!(outcome.run.results.is_empty(), "the results stay in the store");
        let stored = Store::open(&store(&dir)).unwrap().load_run(&outcome.run.id).unwrap();
        let ids: Vec<&str> = stored.results.iter().map(|r| r.case_id.as_str()).collect();
        assert_eq!(ids, ["c0", "c1", "c2"], "results come back from the store in case order");
        assert!(stored.results.iter().all(|r| r.status == Status::Pass && r.grades.len() == 1));
        assert_eq!(outcome.run.summary, Summary::of(&stored.results), "the summary streamed from the store");
        assert_eq!(outcome.run.summary.passed, 3);
        assert!(outcome.decision.passed && outcome.comparison.is_none());
        assert_eq!(stored.header(), outcome.run);
    }

    /// Runs `edit` on the project folder once the run has started: every case is checked, no
    /// request sent yet.
    struct EditOnStart<F: FnMut()>(Option<F>);

    impl<F: FnMut()> Events for EditOnStart<F> {
        fn event(&mut self, e: Event<'_>) {
            if let (Event::Started { .. }, Some(mut edit)) = (e, self.0.take()) {
                edit();
            }
        }
    }

    #[test]
    fn case_files_edited_during_the_run_do_not_change_it() {
        let (dir, req) = project(3, "");
        let cases = dir.path().join("datasets/d");
        let mut events = EditOnStart(Some(|| {
            std::fs::write(cases.join("c1.yaml"), "id: c1\ninput: [broken\n").unwrap();
            std::fs::remove_file(cases.join("c2.yaml")).unwrap();
        }));
        let outcome = run(&store(&dir), &req, &mut events, std::future::pending()).unwrap();
        let results = Store::open(&store(&dir)).unwrap().load_run(&outcome.run.id).unwrap().results;
        let seen: Vec<(&str, &str, Option<&str>)> =
            results.iter().map(|r| (r.case_id.as_str(), r.output.text.as_str(), r.case_file.as_deref())).collect();
        // The run replays the cases it checked and hashed, not what the files hold now.
        let file = |i| cases.join(format!("c{i}.yaml")).display().to_string();
        assert_eq!(
            seen,
            [
                ("c0", "ASK 0", Some(file(0).as_str())),
                ("c1", "ASK 1", Some(file(1).as_str())),
                ("c2", "ASK 2", Some(file(2).as_str()))
            ]
        );
        assert_eq!(outcome.run.summary.passed, 3);
    }

    #[test]
    fn a_template_that_no_longer_renders_ends_its_samples_as_case_errors() {
        let (dir, req) = project(2, "");
        let prompts = dir.path().join("evals/prompts");
        std::fs::create_dir_all(&prompts).unwrap();
        std::fs::write(prompts.join("main.j2"), "{% include 'rules.j2' %}").unwrap();
        std::fs::write(prompts.join("rules.j2"), "Answer in capitals.").unwrap();
        let suite = req.suite.clone().unwrap();
        let text = std::fs::read_to_string(&suite)
            .unwrap()
            .replace("target: {model: m}", "target: {model: m, instructions: {file: prompts/main.j2}}");
        std::fs::write(&suite, text).unwrap();
        let mut events = EditOnStart(Some(|| std::fs::remove_file(prompts.join("rules.j2")).unwrap()));
        let outcome = run(&store(&dir), &req, &mut events, std::future::pending()).unwrap();
        let results = Store::open(&store(&dir)).unwrap().load_run(&outcome.run.id).unwrap().results;
        for r in &results {
            assert_eq!((r.status, r.cause.as_deref(), r.model_calls), (Status::Error, Some("case"), 0), "{r:?}");
            let error = r.error.as_deref().unwrap();
            assert!(error.starts_with("the case no longer plans: ") && error.contains("rules.j2"), "{error}");
            assert_eq!(r.trace_id.as_deref(), Some(format!("t{}", &r.case_id[1..]).as_str()));
        }
        assert_eq!((results.len(), outcome.run.summary.errored), (2, 2));
    }

    #[test]
    fn a_spent_budget_stops_new_cases() {
        let (dir, req) = project(2, "gate: {max_tokens: 1}\n");
        let outcome = run(&store(&dir), &req, &mut Silent, std::future::pending()).unwrap();
        let results = Store::open(&store(&dir)).unwrap().load_run(&outcome.run.id).unwrap().results;
        let by_status: Vec<(Status, Option<&str>)> =
            results.iter().map(|r: &CaseResult| (r.status, r.cause.as_deref())).collect();
        assert_eq!(by_status, [(Status::Pass, None), (Status::Error, Some("budget"))]);
        assert!(results[1].error.as_deref().unwrap().contains("gate.max_tokens 1"));
        assert!(!outcome.decision.passed);
    }

    #[test]
    fn a_shutdown_keeps_the_run_resumable_and_resume_replays_only_what_is_missing() {
        let (dir, mut req) = project(3, "");
        // Slow answers, so the shutdown below lands while the second case is in flight.
        let script = dir.path().join("evals/slow.yaml");
        std::fs::write(&script, "latency_ms: 150\ndefault:\n  text: '{{ user | upper }}'\n").unwrap();
        let suite = req.suite.clone().unwrap();
        let text =
            std::fs::read_to_string(&suite).unwrap().replace("mock: builtin", &format!("mock: '{}'", script.display()));
        std::fs::write(&suite, text).unwrap();
        let db = store(&dir);
        let one_stored = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                let s = crate::store::Store::open(&db).unwrap();
                if let Some((id, _)) = s.unfinished_runs().unwrap().first()
                    && !s.load_run(id).unwrap().results.is_empty()
                {
                    return;
                }
            }
        };
        let err = run(&db, &req, &mut Silent, one_stored).err().unwrap();
        let RunError::Interrupted { run_id } = err else { panic!("{err}") };
        req.resume = Some(Resume::Latest);
        req.suite = None;
        let mut events = Recorder::default();
        let outcome = run(&db, &req, &mut events, std::future::pending()).unwrap();
        assert_eq!(outcome.run.id, run_id);
        assert_eq!(events.seen[0], "started 3 (1 done)");
        assert_eq!(events.finished, ["c1", "c2"], "only the missing cases are replayed");
        assert_eq!(outcome.run.summary.cases, 3, "the summary counts the cases of both sessions");
        req.resume = Some(Resume::Id(run_id));
        let again = run(&db, &req, &mut Silent, std::future::pending());
        assert!(matches!(again, Err(RunError::AlreadyFinished { .. })), "a finished run is not resumed");
    }
}
