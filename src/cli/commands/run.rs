//! `evals run`: load a suite, replay its cases, store and report the run, and gate.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chrono::Utc;

use super::{ReportArgs, compare_runs, diff::load_run, finish, open_store, runtime};
use crate::cli::CliError;
use crate::cli::progress::Progress;
use crate::compare::gate;
use crate::dataset::{self, CaseFile};
use crate::grade::{Edge, Graders};
use crate::mock::{Script, server::Server};
use crate::replay::{self, Budget, Replayer, cache::Cache, client, client::Client};
use crate::report;
use crate::run::{
    self as runrec, CaseResult, GitInfo, Run, RunOptions, SCHEMA_VERSION, SuiteInfo, Summary, TargetInfo,
};
use crate::store::Handle;
use crate::suite::select::{self, Filter, Shard};
use crate::suite::{self, CasePlan, Mock, Suite};

#[derive(clap::Args)]
pub struct Args {
    /// The suite file (with --resume: taken from the run when omitted).
    suite: Option<PathBuf>,
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
    /// Samples per case (overrides the suite's `repeat`).
    #[arg(long)]
    repeat: Option<u32>,
    /// Ask the model every time: neither read nor write the response cache.
    #[arg(long)]
    no_cache: bool,
    /// Finish an interrupted run (the newest unfinished one, or this id): only what is missing.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "RUN_ID")]
    resume: Option<String>,
    /// Only cases matching: `tag:T`, `failure:F`, `id:REGEX` (or a bare id regex); repeatable, all must match.
    #[arg(long)]
    filter: Vec<String>,
    /// Run shard K of N (`--shard 2/4`), chosen by a hash of the case id.
    #[arg(long)]
    shard: Option<String>,
    /// Override a suite key: `--set target.model=gpt-4.1-mini` (the value is YAML); repeatable.
    #[arg(long, value_name = "KEY.PATH=VALUE")]
    set: Vec<String>,
    /// No progress output on stderr.
    #[arg(long, short)]
    quiet: bool,
}

const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

pub fn run(store: &Path, a: Args) -> Result<ExitCode, CliError> {
    // A resumed run keeps its suite and selection; only what is missing is replayed.
    let prior = match &a.resume {
        None => None,
        Some(id) => {
            let s = open_store(store)?;
            let id = if id.is_empty() {
                s.latest_unfinished_run()?
                    .ok_or_else(|| CliError::Usage("no unfinished run to resume in the store".into()))?
            } else {
                s.resolve_run(id)?
            };
            let run = s.load_run(&id)?;
            if run.finished_at.is_some() {
                return Err(CliError::Usage(format!("run {id} is finished; nothing to resume")));
            }
            Some(run)
        }
    };
    let options = match &prior {
        Some(p) => p.options.clone(),
        None => RunOptions {
            repeat: 0,
            filter: a.filter.clone(),
            shard: a.shard.clone(),
            set: a.set.clone(),
            no_cache: a.no_cache,
            datasets_hash: None,
            missing_shards: Vec::new(),
        },
    };
    let suite_path = match (&a.suite, &prior) {
        (Some(p), _) => p.clone(),
        (None, Some(r)) => PathBuf::from(&r.suite.path),
        (None, None) => return Err(CliError::Usage("give the suite file (or --resume)".into())),
    };
    let suite = Suite::load_with(&suite_path, &options.set)?;
    if let Some(p) = &prior
        && p.suite.hash != suite.hash
    {
        return Err(CliError::Usage(format!(
            "{} changed since run {} started; resuming would mix two suites: start a new run",
            suite_path.display(),
            p.id
        )));
    }
    let filters = options.filter.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?;
    let shard = options.shard.as_deref().map(Shard::parse).transpose()?;
    let mut cases: Vec<CaseFile> = Vec::new();
    for dir in &suite.datasets {
        cases.extend(dataset::load_dir(dir)?);
    }
    let loaded = cases.len();
    let datasets_hash = suite::dataset_hash(&cases);
    let cases = select::select(cases, &filters, shard);
    if cases.is_empty() {
        return Err(CliError::NothingSelected(if loaded == 0 {
            format!("the datasets of {} hold no cases", suite_path.display())
        } else {
            format!("none of the {loaded} cases matches the filter and shard")
        }));
    }
    let dataset_hash = suite::dataset_hash(&cases);
    let plans = suite.plan(cases)?;
    // Read the baseline before spending anything on requests.
    let baseline = baseline(store, &suite, &a)?;
    // Checked before the run exists, so a typo leaves no unfinished run behind.
    let api_base_url = match &suite.provider.mock {
        Some(_) => None,
        None => {
            let url = (suite.provider.base_url.clone().or_else(|| std::env::var("OPENAI_BASE_URL").ok()))
                .unwrap_or_else(|| DEFAULT_BASE_URL.into());
            client::base_url_ok(&url)?;
            Some(url)
        }
    };
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
    let repeat = match &prior {
        Some(p) => p.options.repeat,
        None => a.repeat.unwrap_or(suite.repeat),
    };
    if repeat == 0 {
        return Err(CliError::Usage("--repeat must be at least 1".into()));
    }

    let mut record = match prior {
        Some(p) => p,
        None => {
            let started_at = Utc::now();
            Run {
                schema_version: SCHEMA_VERSION,
                id: runrec::new_id(started_at),
                suite: SuiteInfo {
                    name: suite.name.clone(),
                    path: suite_path.display().to_string(),
                    hash: suite.hash.clone(),
                },
                started_at,
                finished_at: None,
                git: git_info(suite_path.parent().unwrap_or(Path::new("."))),
                target: TargetInfo {
                    model: distinct(plans.iter().map(|p| p.model.as_str())),
                    instructions_hash: suite::instructions_hash(&plans),
                },
                dataset_hash,
                options: RunOptions { repeat, datasets_hash: Some(datasets_hash), ..options },
                gate: suite.gate.clone(),
                summary: Summary::default(),
                results: Vec::new(),
            }
        }
    };
    let mut s = open_store(store)?;
    if a.resume.is_none() {
        s.create_run(&record)?;
    }
    let done: HashSet<(&str, u32)> = record.results.iter().map(|r| (r.case_id.as_str(), r.repeat)).collect();
    let plans: Vec<Arc<CasePlan>> = plans.into_iter().map(Arc::new).collect();
    let jobs: Vec<replay::Job> = (0..repeat)
        .flat_map(|k| plans.iter().map(move |p| (p.clone(), k)))
        .filter(|(p, k)| !done.contains(&(p.case.id.as_str(), *k)))
        .collect();
    let total = (plans.len() * repeat as usize) as u64;
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
            None => api_base_url.clone().expect("resolved when there is no mock"),
        };
        let client = Client::new(&base_url, api_key.clone(), suite.provider.timeout)?.with_retry(suite.provider.retry);
        let budget = Budget::new(suite.gate.max_cost_usd, suite.gate.max_tokens);
        for r in &record.results {
            budget.add(r.cost_usd, &r.usage);
        }
        let mut graders = Graders::new(suite.graders.clone(), suite.threshold);
        // Judges use the suite's provider (and its retry policy) and cache their answers in the store.
        graders.edge = Some(Arc::new(Edge::new(
            &base_url,
            api_key,
            suite.provider.timeout,
            suite.provider.retry,
            suite.prices.clone(),
            // --no-cache covers judge answers too.
            (!record.options.no_cache).then(|| handle.clone()),
        )?));
        let replayer = Replayer {
            client,
            graders,
            prices: suite.prices.clone(),
            cache: (!record.options.no_cache).then(|| Cache::new(handle.clone(), None)),
            budget,
        };
        let run_id = record.id.clone();
        let mut progress = Progress::new(total, &record.results, a.quiet);
        let progress_ref = &mut progress;
        // Results wait here for the store thread; one job commits all that are waiting, so the
        // store keeps up however fast cases finish.
        let waiting: Arc<Mutex<Vec<CaseResult>>> = Arc::default();
        let work = replay::run_all(Arc::new(replayer), jobs, concurrency, |result| {
            progress_ref.record(result);
            // Commit each result as it finishes, so an interrupted run keeps its work; queued,
            // not awaited, so the disk never holds back the next case.
            let mut queue = waiting.lock().expect("result queue lock");
            queue.push(result.clone());
            if queue.len() > 1 {
                return; // a commit job is already queued and takes this one too
            }
            let (run_id, waiting) = (run_id.clone(), waiting.clone());
            let queued = handle.submit(move |s| {
                let batch = std::mem::take(&mut *waiting.lock().expect("result queue lock"));
                if let Err(e) = s.save_results(&run_id, &batch) {
                    // A batch can hold hundreds of results: name the first, count the rest.
                    let first = batch.first().map_or("", |r| r.case_id.as_str());
                    eprintln!("warning: {} results (from {first}) not stored: {e}", batch.len());
                }
            });
            if queued.is_err() {
                eprintln!("warning: result of {} not stored: the store thread has stopped", result.case_id);
            }
        });
        let results = tokio::select! {
            results = work => results,
            _ = tokio::signal::ctrl_c() => return Ok::<_, CliError>(None),
        };
        progress.finish();
        record.results.extend(results);
        record.sort_results();
        record.summary = Summary::of(&record.results);
        record.finished_at = Some(Utc::now());
        let finished = record.header();
        handle.call(move |s| s.finish_run(&finished)).await?;
        Ok(Some(()))
    });
    drop(handle);
    // The run file is written while the store thread closes the database (a WAL checkpoint).
    let saved = match (&outcome, &a.out) {
        (Ok(Some(())), Some(out)) => Some(record.save(out)),
        _ => None,
    };
    let _ = store_thread.join();
    if outcome?.is_none() {
        eprintln!(
            "interrupted: finished cases of {} are stored; `evals run --resume {}` finishes it",
            record.id, record.id
        );
        return Err(CliError::Interrupted);
    }
    saved.transpose()?;
    print!("{}", report::run::run(&record, report::run::Paint(report::use_color())));
    let cmp = baseline.as_ref().map(|b| compare_runs(store, b, &record)).transpose()?;
    let decision = gate::decide(&suite.gate, &record, cmp.as_ref());
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
