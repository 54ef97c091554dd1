//! `evals diff`: compare two runs and gate on the result.

use std::path::Path;
use std::process::ExitCode;

use super::{Finish, ReportArgs, finish};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::compare::{compare_in, gate};
use crate::record::{self, Run};

#[derive(clap::Args)]
pub struct Args {
    /// The baseline: a run file or a stored run id (prefix).
    base: String,
    /// The run to judge: a run file or a stored run id (prefix).
    current: String,
    #[command(flatten)]
    reports: ReportArgs,
}

/// A run named by a file path, or else by a stored run id (prefix).
pub fn load_run(store: &Path, name: &str) -> Result<Run, CliError> {
    Ok(record::find_run(store, name)?)
}

pub fn run(store: &Path, a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let base = load_run(store, &a.base)?;
    let current = load_run(store, &a.current)?;
    let cmp = compare_in(store, &base, &current)?;
    let decision = gate::decide(&current.gate, &current, Some(&cmp));
    let f = Finish { run: &current, stored: false, comparison: Some(&cmp), decision: &decision };
    finish(store, f, &a.reports, a.reports.takes_stdout(), out)
}
