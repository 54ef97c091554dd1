//! Resolving a run request into a run ready to execute: the suite (or the interrupted run being
//! resumed), the selected and planned cases, the baseline, and where the model answers from.
//! Everything that can be wrong is found here, before any request is paid for.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::spill::{self, Spill, Spilled};
use super::{RunError, owner};
use crate::dataset::{self, Case};
use crate::grade::Graders;
use crate::provider::client;
use crate::record::{
    self, GitInfo, Run, RunOptions, SCHEMA_VERSION, Status, StoredRuns, SuiteInfo, Summary, TargetInfo,
};
use crate::store::Store;
use crate::suite::select::{self, Filter, Shard};
use crate::suite::{self, Mock, Suite};

const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// What to run: a suite with its selection, or an interrupted run to finish.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The suite file; with `resume`, taken from the run when absent.
    pub suite: Option<PathBuf>,
    pub resume: Option<Resume>,
    /// A run file, a stored run id, or `auto`; absent, the suite's `gate.baseline`.
    pub baseline: Option<String>,
    /// The git branch whose newest stored run `auto` takes.
    pub baseline_branch: String,
    /// Cases replayed at once; absent, the suite's `provider.concurrency`.
    pub concurrency: Option<usize>,
    /// Samples per case; absent, the suite's `repeat`.
    pub repeat: Option<u32>,
    pub no_cache: bool,
    pub filter: Vec<String>,
    pub shard: Option<String>,
    /// Suite overrides, `key.path=YAML`.
    pub set: Vec<String>,
    /// Also write the finished run to this file.
    pub out: Option<PathBuf>,
    /// Replay only the cases that failed or errored in this run (a run file or a stored run id);
    /// its suite is the default.
    pub failed: Option<String>,
}

/// Which interrupted run to finish.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    Latest,
    Id(String),
}

/// Where model answers come from.
pub enum Endpoint {
    /// The suite's mock, started in-process for the run.
    Mock(Mock),
    Api {
        base_url: String,
        api_key: String,
    },
}

/// A run ready to execute.
pub struct Resolved {
    pub suite: Suite,
    pub graders: Graders,
    /// The run's header, and for a resumed run the results it already has.
    pub record: Run,
    /// The selected cases, each checked and planned once and kept as checked; replay plans each
    /// again from that copy.
    pub cases: Vec<Selected>,
    /// The samples still to replay: (case index, repeat).
    pub jobs: Vec<(usize, u32)>,
    pub baseline: Option<Run>,
    pub endpoint: Endpoint,
    pub concurrency: usize,
    /// The selected cases as checked.
    pub spill: Spill,
}

impl Resolved {
    /// Samples in the whole run, finished or not.
    pub fn total(&self) -> u64 {
        (self.cases.len() * self.record.options.repeat as usize) as u64
    }
}

pub fn resolve(store: &Path, req: &Request, events: &mut dyn super::Events) -> Result<Resolved, RunError> {
    let prior = match &req.resume {
        None => None,
        Some(which) => Some(interrupted_run(store, which)?),
    };
    let rerun = match (&req.failed, &prior) {
        (Some(name), None) => Some(failed_cases(store, name)?),
        _ => None,
    };
    let options = match &prior {
        Some(p) => p.options.clone(),
        None => RunOptions {
            repeat: 0,
            filter: req.filter.iter().cloned().chain(rerun.as_ref().map(|r| r.filter.clone())).collect(),
            shard: req.shard.clone(),
            set: req.set.clone(),
            no_cache: req.no_cache,
            datasets_hash: None,
            missing_shards: Vec::new(),
        },
    };
    let suite_path = match (&req.suite, &prior, &rerun) {
        (Some(p), _, _) => p.clone(),
        (None, Some(r), _) => PathBuf::from(&r.suite.path),
        (None, None, Some(r)) => PathBuf::from(&r.suite_path),
        (None, None, None) => return Err(RunError::NoSuite),
    };
    let suite = Suite::load_with(&suite_path, &options.set)?;
    if let Some(p) = &prior
        && p.suite.hash != suite.hash
    {
        return Err(RunError::SuiteChanged { path: suite_path, run_id: p.id.clone() });
    }
    let graders = Graders::load(&suite)?;
    let spill = Spill::create().map_err(RunError::Spill)?;
    let checked = check_cases(&suite, &graders, &options, &spill)?;
    // Read the baseline and check the endpoint before spending anything on requests.
    let baseline = baseline(store, &suite, req, events)?;
    let endpoint = endpoint(&suite)?;
    let concurrency = req.concurrency.unwrap_or(suite.provider.concurrency);
    let repeat = match &prior {
        Some(p) => p.options.repeat,
        None => req.repeat.unwrap_or(suite.repeat),
    };
    if !(1..=suite::MAX_REPEAT).contains(&repeat) {
        return Err(RunError::Repeat { repeat });
    }
    if !(1..=suite::MAX_CONCURRENCY).contains(&concurrency) {
        return Err(RunError::Concurrency { concurrency });
    }
    let record = match prior {
        Some(p) => p,
        None => {
            let started_at = Utc::now();
            let record = Run {
                schema_version: SCHEMA_VERSION,
                id: record::new_id(started_at),
                suite: SuiteInfo {
                    name: suite.name.clone(),
                    path: suite_path.display().to_string(),
                    hash: suite.hash.clone(),
                },
                started_at,
                finished_at: None,
                git: git_info(suite_path.parent().unwrap_or(Path::new("."))),
                target: checked.target,
                dataset_hash: checked.dataset_hash,
                options: RunOptions { repeat, datasets_hash: Some(checked.datasets_hash), ..options },
                gate: suite.gate.clone(),
                summary: Summary::default(),
                results: Vec::new(),
            };
            Store::open(store)?.create_run(&record, &owner::me(Utc::now()))?;
            record
        }
    };
    let cases = checked.cases;
    let done: HashSet<(&str, u32)> = record.results.iter().map(|r| (r.case_id.as_str(), r.repeat)).collect();
    let jobs = (0..repeat)
        .flat_map(|k| (0..cases.len()).map(move |i| (i, k)))
        .filter(|&(i, k)| !done.contains(&(cases[i].id.as_str(), k)))
        .collect();
    Ok(Resolved { suite, graders, record, cases, jobs, baseline, endpoint, concurrency, spill })
}

/// The interrupted run to finish: the newest unfinished one whose owner is gone, or the one
/// named; this process then owns it. A live run is never taken over.
fn interrupted_run(store: &Path, which: &Resume) -> Result<Run, RunError> {
    let mut s = Store::open_existing(store)?;
    let now = Utc::now();
    let id = match which {
        Resume::Latest => owner::pick(&s.unfinished_runs()?, now)?,
        Resume::Id(id) => s.resolve_run(id)?,
    };
    let run = s.load_run(&id)?;
    if run.finished_at.is_some() {
        return Err(RunError::AlreadyFinished { run_id: id });
    }
    if let Some(o) = s.claim_run(&id, &owner::me(now), |o| owner::is_live(o, now))? {
        return Err(RunError::Live { run_id: id, pid: o.pid, host: o.host });
    }
    Ok(run)
}

/// What `--failed RUN` replays: an id filter matching exactly the cases of the run that did not
/// pass in some sample. Kept as a filter in the run's options, so `--resume` selects the same.
struct Rerun {
    filter: String,
    suite_path: String,
}

fn failed_cases(store: &Path, name: &str) -> Result<Rerun, RunError> {
    let run = record::find_run(store, name)?;
    let mut ids: Vec<&str> =
        run.results.iter().filter(|r| r.status != Status::Pass).map(|r| r.case_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(RunError::NothingFailed { run_id: run.id.clone() });
    }
    let alternatives: Vec<String> = ids.iter().map(|id| regex::escape(id)).collect();
    Ok(Rerun { filter: format!("id:^(?:{})$", alternatives.join("|")), suite_path: run.suite.path.clone() })
}

/// A selected case as the run checked it: its id, its file as a reader would type it where the
/// run runs, and where the case itself is in the run's [`Spill`]. A run keeps this much of each
/// case while it goes, so memory grows with concurrency, not with the number of cases; and it
/// replays exactly the cases it checked and hashed.
pub struct Selected {
    pub id: String,
    pub file: String,
    pub case: Spilled,
}

/// A case file's path as a reader would type it where the run runs: relative to that folder
/// when inside it, `dir/..` taken out.
fn shown_path(path: &Path, here: Option<&Path>) -> String {
    let clean = crate::text::clean_path(path);
    match here.and_then(|h| Path::new(&clean).strip_prefix(h).ok()) {
        Some(inside) => inside.to_string_lossy().into_owned(),
        None => clean,
    }
}

/// The selected cases, and what the run records of them.
struct Checked {
    cases: Vec<Selected>,
    target: TargetInfo,
    dataset_hash: String,
    /// Of every case before filter and shard: shards of one dataset share it.
    datasets_hash: String,
}

/// What checking one case leaves: enough to record the run and to plan the case again.
struct Entry {
    selected: Selected,
    content_hash: String,
    model: String,
    instructions: [u8; 32],
}

/// Load, select, check and plan every case of the suite, on every core, before any request:
/// a broken case file or template is found now, not after thousands of paid calls.
fn check_cases(suite: &Suite, graders: &Graders, options: &RunOptions, spill: &Spill) -> Result<Checked, RunError> {
    let filters = options.filter.iter().map(|f| Filter::parse(f)).collect::<Result<Vec<_>, _>>()?;
    let shard = options.shard.as_deref().map(Shard::parse).transpose()?;
    let mut paths = Vec::new();
    for dir in &suite.datasets {
        paths.extend(dataset::case_paths(dir)?);
    }
    type Part = (Vec<Entry>, Vec<(String, String)>);
    let here = std::env::current_dir().ok();
    let parts = dataset::in_chunks_parallel(&paths, |part| -> Result<Part, RunError> {
        let planner = suite.planner();
        let (mut out, mut all) = (Vec::<Entry>::new(), Vec::new());
        // The cases since the last write to the spill: their places are relative to the batch.
        let (mut batch, mut unplaced) = (spill::Batch::default(), 0);
        let place = |batch: &mut spill::Batch, out: &mut [Entry]| -> Result<(), RunError> {
            let base = batch.flush(spill).map_err(RunError::Spill)?;
            for e in out {
                e.selected.case = e.selected.case.moved(base);
            }
            Ok(())
        };
        for path in part {
            let case = Case::load(path)?;
            all.push((case.id.clone(), case.content_hash.clone()));
            if !select::selects(&case, &filters, shard) {
                continue;
            }
            graders.check_case(&suite.source, &case)?;
            let file = shown_path(path, here.as_deref());
            let selected = Selected { id: case.id.clone(), file, case: batch.push(&case) };
            let content_hash = case.content_hash.clone();
            let plan = planner.plan(case)?;
            out.push(Entry {
                instructions: suite::instructions_digest(&plan),
                model: plan.model,
                selected,
                content_hash,
            });
            if batch.len() >= spill::BATCH_BYTES {
                place(&mut batch, &mut out[unplaced..])?;
                unplaced = out.len();
            }
        }
        place(&mut batch, &mut out[unplaced..])?;
        Ok((out, all))
    });
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>()?;
    // Sized once: a vector grown by doubling would hold up to twice a 100,000-case run's worth.
    let (mut entries, mut all) = (
        Vec::with_capacity(parts.iter().map(|(e, _)| e.len()).sum()),
        Vec::with_capacity(parts.iter().map(|(_, a)| a.len()).sum()),
    );
    for (e, a) in parts {
        entries.extend(e);
        all.extend(a);
    }
    all.sort_unstable();
    let datasets_hash = suite::dataset_hash(all.iter().map(|(id, h)| (id.as_str(), h.as_str())));
    if entries.is_empty() {
        return Err(RunError::NothingSelected { suite: suite.path.clone(), loaded: paths.len() });
    }
    let target = TargetInfo {
        model: distinct(entries.iter().map(|e| e.model.as_str())),
        instructions_hash: suite::instructions_hash(entries.iter().map(|e| e.instructions)),
    };
    let dataset_hash = suite::dataset_hash(entries.iter().map(|e| (e.selected.id.as_str(), e.content_hash.as_str())));
    // A new vector rather than one collected in place: that would keep the entries' larger
    // allocation for the whole run.
    let mut cases = Vec::with_capacity(entries.len());
    cases.extend(entries.into_iter().map(|e| e.selected));
    Ok(Checked { cases, target, dataset_hash, datasets_hash })
}

/// The run to compare with: the request's, else the suite's `gate.baseline` (a path in it is
/// relative to the suite); `auto` is the newest stored run of the suite on the baseline branch.
fn baseline(
    store: &Path,
    suite: &Suite,
    req: &Request,
    events: &mut dyn super::Events,
) -> Result<Option<Run>, RunError> {
    let (name, from_suite) = match (&req.baseline, &suite.gate.baseline) {
        (Some(b), _) => (b.as_str(), false),
        (None, Some(b)) => (b.as_str(), true),
        (None, None) => return Ok(None),
    };
    if name == "auto" {
        let s = Store::open(store)?;
        return match s.latest_run_on_branch(&suite.name, &req.baseline_branch)? {
            Some(id) => Ok(Some(s.load_run(&id)?)),
            None => {
                events.event(super::Event::NoBaseline { suite: &suite.name, branch: &req.baseline_branch });
                Ok(None)
            }
        };
    }
    let relative = suite.path.parent().map(|d| d.join(name)).filter(|p| from_suite && p.is_file());
    match relative {
        Some(p) => Ok(Some(Run::load(&p)?)),
        None => Ok(Some(record::find_run(store, name)?)),
    }
}

/// The suite's mock, or the API at `provider.base_url` (else `OPENAI_BASE_URL`) with the key
/// from `provider.api_key_env`; a malformed URL is refused before the run exists.
fn endpoint(suite: &Suite) -> Result<Endpoint, RunError> {
    if let Some(m) = &suite.provider.mock {
        return Ok(Endpoint::Mock(m.clone()));
    }
    let base_url = (suite.provider.base_url.clone().or_else(|| std::env::var("OPENAI_BASE_URL").ok()))
        .unwrap_or_else(|| DEFAULT_BASE_URL.into());
    client::base_url_ok(&base_url)?;
    let var = &suite.provider.api_key_env;
    let api_key = std::env::var(var).map_err(|_| RunError::NoApiKey { var: var.clone() })?;
    Ok(Endpoint::Api { base_url, api_key })
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
