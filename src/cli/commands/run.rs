//! `evals run`: the flags of a run, the library's run with a progress bar and Ctrl-C, and the
//! rendering of what it returns.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Finish, ReportArgs, finish};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::cli::progress::Progress;
use crate::record::StoredRuns;
use crate::run::{self, Request, Resume};

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
    /// Replay only the cases that failed or errored in this run (a stored run id or a run file);
    /// the suite defaults to that run's.
    #[arg(long, visible_alias = "rerun-failed", value_name = "RUN", conflicts_with = "resume")]
    failed: Option<String>,
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

impl Args {
    fn request(self) -> (Request, ReportArgs, bool) {
        let resume = self.resume.map(|id| if id.is_empty() { Resume::Latest } else { Resume::Id(id) });
        let request = Request {
            suite: self.suite,
            resume,
            baseline: self.baseline,
            baseline_branch: self.baseline_branch,
            concurrency: self.concurrency,
            repeat: self.repeat,
            no_cache: self.no_cache,
            filter: self.filter,
            shard: self.shard,
            set: self.set,
            out: self.out,
            failed: self.failed,
        };
        (request, self.reports, self.quiet)
    }
}

pub fn run(store: &Path, a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let (mut request, reports, quiet) = a.request();
    // `--out -`: the run file is the output, written once the run is done.
    let run_to_stdout = request.out.as_deref().is_some_and(super::is_stdout);
    if run_to_stdout {
        request.out = None;
    }
    let mut progress = Progress::new(quiet);
    let ctrl_c = async {
        // A runtime without signal support never stops the run; Ctrl-C then kills the process.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let outcome = run::run(store, &request, &mut progress, ctrl_c)?;
    let human_on_stderr = run_to_stdout || reports.takes_stdout();
    if run_to_stdout {
        let run = super::read_store(store)?.load_run(&outcome.run.id)?;
        out.print(format_args!("{}", run.to_json()))?;
    }
    let f = Finish {
        run: &outcome.run,
        stored: true,
        comparison: outcome.comparison.as_ref(),
        decision: &outcome.decision,
    };
    finish(store, f, &reports, human_on_stderr, out)
}
