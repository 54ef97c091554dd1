//! `evals runs`: the stored runs, and one run with the pass-rate trend of its suite.

use std::path::Path;
use std::process::ExitCode;

use super::{diff::load_run, read_store, trend_of};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::compare::{HISTORY_RUNS, History};
use crate::record::StoredRuns;
use crate::report;
use crate::store::HistoryQuery;

#[derive(clap::Subcommand)]
pub enum Runs {
    /// Stored runs, newest first.
    #[command(after_help = "Examples:\n  evals runs list\n  evals runs list --suite demo --limit 10")]
    List {
        /// Only the runs of this suite (its name).
        #[arg(long)]
        suite: Option<String>,
        /// At most this many runs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// A suite's cases by estimated flakiness (4·p·(1−p) of the pass rate p) over its recent
    /// stored runs on the dataset of its newest run: the rates the gate weighs changes by.
    #[command(after_help = "Examples:\n  evals runs flaky support\n  evals runs flaky support --runs 50")]
    Flaky {
        /// The suite (its name).
        suite: String,
        /// Read at most this many of the newest runs.
        #[arg(long, default_value_t = HISTORY_RUNS)]
        runs: usize,
    },
    /// One run, case by case, with the pass-rate trend of its suite's recent runs.
    #[command(after_help = "Examples:\n  evals runs show run_20261121T0930\n  evals runs show runs/latest.json")]
    Show {
        /// A stored run id (any unique prefix) or a run file.
        run: String,
        /// List every case, passing ones too.
        #[arg(long, short)]
        verbose: bool,
    },
}

pub fn run(store: &Path, cmd: Runs, out: &mut Printer) -> Result<ExitCode, CliError> {
    match cmd {
        Runs::List { suite, limit } => {
            let runs = read_store(store)?.list_runs(suite.as_deref(), limit)?;
            out.print(format_args!("{}", report::run::runs(&runs)))?;
        }
        Runs::Flaky { suite, runs } => {
            let s = read_store(store)?;
            let (count, rows) = match s.list_runs(Some(&suite), 1)?.first() {
                None => (0, Vec::new()),
                Some(newest) => s.case_history(&HistoryQuery {
                    suite: &suite,
                    dataset_hash: &newest.dataset_hash,
                    branch: None,
                    before: chrono::Utc::now() + chrono::Duration::seconds(1),
                    exclude: "",
                    limit: runs,
                })?,
            };
            out.print(format_args!(
                "{}",
                report::run::flaky(&suite, count, &History::from_rows(count, rows).by_flakiness())
            ))?;
        }
        Runs::Show { run, verbose } => {
            let run = load_run(store, &run)?;
            let view = report::run::View { paint: report::run::Paint(report::use_color()), verbose };
            let trend = trend_of(store, &run)?;
            out.print(format_args!("{}", report::run::report(&run, &run.results, None, None, &trend, view)))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
