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
        /// One JSON array of run headers (no results) for machines.
        #[arg(long)]
        json: bool,
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
        /// `{"suite", "runs", "cases": [{case_id, rate, flakiness}]}` for machines.
        #[arg(long)]
        json: bool,
    },
    /// One run, case by case, with the pass-rate trend of its suite's recent runs.
    #[command(after_help = "Examples:\n  evals runs show run_20261121T0930\n  evals runs show runs/latest.json")]
    Show {
        /// A stored run id (any unique prefix) or a run file.
        run: String,
        /// `{"run": the run file, "trend": [...]}` for machines.
        #[arg(long)]
        json: bool,
        /// List every case, passing ones too.
        #[arg(long, short)]
        verbose: bool,
    },
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("runs serialize")
}

pub fn run(store: &Path, cmd: Runs, out: &mut Printer) -> Result<ExitCode, CliError> {
    match cmd {
        Runs::List { suite, limit, json } => {
            let runs = read_store(store)?.list_runs(suite.as_deref(), limit)?;
            if json {
                out.println(format_args!("{}", pretty(&runs)))?;
            } else {
                out.print(format_args!("{}", report::run::runs(&runs)))?;
            }
        }
        Runs::Flaky { suite, runs, json } => {
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
            let cases = History::from_rows(count, rows).by_flakiness();
            if json {
                let doc = serde_json::json!({"suite": suite, "runs": count, "cases": cases});
                out.println(format_args!("{}", pretty(&doc)))?;
            } else {
                out.print(format_args!("{}", report::run::flaky(&suite, count, &cases)))?;
            }
        }
        Runs::Show { run, json, verbose } => {
            let run = load_run(store, &run)?;
            let trend = trend_of(store, &run)?;
            if json {
                out.println(format_args!("{}", pretty(&serde_json::json!({"run": run, "trend": trend}))))?;
            } else {
                let view = report::run::View { paint: report::run::Paint(report::use_color()), verbose };
                out.print(format_args!("{}", report::run::report(&run, &run.results, None, None, &trend, view)))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
