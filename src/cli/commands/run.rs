//! `evals run`: load a suite, replay its cases, store and report the run, and gate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Utc;

use super::{ReportArgs, diff::load_run, finish, open_store, runtime};
use crate::cli::CliError;
use crate::compare::{compare, gate};
use crate::dataset::{self, CaseFile};
use crate::grade::{Edge, Graders};
use crate::mock::{Script, server::Server};
use crate::pricing::PriceTable;
use crate::replay::{self, Replayer, client::Client};
use crate::report;
use crate::run::{self as runrec, GitInfo, Run, SCHEMA_VERSION, SuiteInfo, Summary, TargetInfo};
use crate::store::Handle;
use crate::suite::{self, Mock, Suite};

#[derive(clap::Args)]
pub struct Args {
    /// The suite file.
    suite: PathBuf,
    /// Also write the run as JSON to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compare with this run and gate on regressions: a run file, a stored run id, or `auto`
    /// (the newest stored run of the suite on --baseline-branch). Default: the suite's gate.baseline.
    #[arg(long)]
    baseline: Option<String>,
    /// The git branch `--baseline auto` takes its run from.
    #[arg(long, default_value = "main", env = "EVALS_BASELINE_BRANCH")]
    baseline_branch: String,
    /// Cases replayed at once (overrides provider.concurrency).
    #[arg(long)]
    concurrency: Option<usize>,
    #[command(flatten)]
    reports: ReportArgs,
}

const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

pub fn run(store: &Path, a: Args) -> Result<ExitCode, CliError> {
    let suite = Suite::load(&a.suite)?;
    let mut cases: Vec<CaseFile> = Vec::new();
    for dir in &suite.datasets {
        cases.extend(dataset::load_dir(dir)?);
    }
    if cases.is_empty() {
        return Err(CliError::NothingSelected(format!("the datasets of {} hold no cases", a.suite.display())));
    }
    let plans = suite.plan(&cases)?;
    // Read the baseline before spending anything on requests.
    let baseline = baseline(store, &suite, &a)?;
    let api_key = match &suite.provider.mock {
        Some(_) => None,
        None => Some(std::env::var(&suite.provider.api_key_env).map_err(|_| {
            CliError::Usage(format!(
                "{} is not set (the suite's provider.api_key_env); or set provider.mock to run offline",
                suite.provider.api_key_env
            ))
        })?),
    };
    let concurrency = a.concurrency.unwrap_or(suite.provider.concurrency).max(1);

    let started_at = Utc::now();
    let mut record = Run {
        schema_version: SCHEMA_VERSION,
        id: runrec::new_id(started_at),
        suite: SuiteInfo { name: suite.name.clone(), path: a.suite.display().to_string(), hash: suite.hash.clone() },
        started_at,
        finished_at: None,
        git: git_info(a.suite.parent().unwrap_or(Path::new("."))),
        target: TargetInfo {
            model: distinct(plans.iter().map(|p| p.model.as_str())),
            instructions_hash: suite::instructions_hash(&plans),
        },
        dataset_hash: suite::dataset_hash(&cases),
        gate: suite.gate.clone(),
        summary: Summary::default(),
        results: Vec::new(),
    };
    let mut s = open_store(store)?;
    s.create_run(&record)?;
    let (handle, store_thread) = Handle::spawn(s);

    let outcome = runtime()?.block_on(async {
        let mock = match &suite.provider.mock {
            Some(m) => {
                let script = match m {
                    Mock::Builtin => Script::builtin(),
                    Mock::Script(p) => Script::load(p)?,
                };
                let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
                Some(
                    Server::start(script, addr)
                        .await
                        .map_err(|e| CliError::Io(format!("cannot start the mock: {e}")))?,
                )
            }
            None => None,
        };
        let base_url = match &mock {
            Some(m) => m.base_url(),
            None => suite
                .provider
                .base_url
                .clone()
                .or_else(|| std::env::var("OPENAI_BASE_URL").ok())
                .unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        };
        let client = Client::new(&base_url, api_key.clone(), suite.provider.timeout);
        let run_id = record.id.clone();
        let mut graders = Graders::new(suite.graders.clone(), suite.threshold);
        // Judges use the suite's provider and cache their answers in the store.
        graders.edge = Some(Arc::new(Edge::new(&base_url, api_key, suite.provider.timeout, Some(handle.clone()))));
        let replayer = Replayer { client, graders, prices: PriceTable::default() };
        let work = replay::run_all(Arc::new(replayer), plans, concurrency, |result| {
            let handle = handle.clone();
            let run_id = run_id.clone();
            async move {
                let saved = result.clone();
                // Commit each result as it finishes, so an interrupted run keeps its work.
                if let Err(e) = handle.call(move |s| s.save_result(&run_id, &saved)).await {
                    eprintln!("warning: result of {} not stored: {e}", result.case_id);
                }
                result
            }
        });
        let results = tokio::select! {
            results = work => results,
            _ = tokio::signal::ctrl_c() => return Ok::<_, CliError>(None),
        };
        record.results = results;
        record.sort_results();
        record.summary = Summary::of(&record.results);
        record.finished_at = Some(Utc::now());
        let finished = record.clone();
        handle.call(move |s| s.finish_run(&finished)).await?;
        Ok(Some(()))
    });
    drop(handle);
    let _ = store_thread.join();
    if outcome?.is_none() {
        eprintln!("interrupted: finished cases of {} are stored", record.id);
        return Err(CliError::Interrupted);
    }

    if let Some(out) = &a.out {
        record.save(out)?;
    }
    print!("{}", report::run::run(&record, report::run::Paint(report::use_color())));
    let cmp = baseline.as_ref().map(|b| compare(b, &record));
    let decision = gate::decide(&suite.gate, &record.summary, cmp.as_ref());
    finish(store, &record, cmp.as_ref(), &decision, &a.reports)
}

/// The run to compare with: `--baseline`, else the suite's `gate.baseline` (a path in it is
/// relative to the suite); `auto` is the newest stored run of the suite on the baseline branch.
fn baseline(store: &Path, suite: &Suite, a: &Args) -> Result<Option<Run>, CliError> {
    let (name, from_suite) = match (&a.baseline, &suite.gate.baseline) {
        (Some(b), _) => (b.as_str(), false),
        (None, Some(b)) => (b.as_str(), true),
        (None, None) => return Ok(None),
    };
    if name == "auto" {
        let s = open_store(store)?;
        return match s.latest_run_on_branch(&suite.name, &a.baseline_branch)? {
            Some(id) => Ok(Some(s.load_run(&id)?)),
            None => {
                eprintln!(
                    "note: no stored run of suite {} on branch {}; gating without a baseline",
                    suite.name, a.baseline_branch
                );
                Ok(None)
            }
        };
    }
    let relative = suite.path.parent().map(|d| d.join(name)).filter(|p| from_suite && p.is_file());
    match relative {
        Some(p) => Ok(Some(Run::load(&p)?)),
        None => load_run(store, name).map(Some),
    }
}

fn distinct<'a>(models: impl Iterator<Item = &'a str>) -> String {
    let mut v: Vec<&str> = models.collect();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}

/// The commit and branch of the repository holding the suite, when git knows them.
fn git_info(dir: &Path) -> Option<GitInfo> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    Some(GitInfo { commit: git(&["rev-parse", "HEAD"])?, branch: git(&["rev-parse", "--abbrev-ref", "HEAD"]) })
}
