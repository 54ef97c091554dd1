//! `evals diff`: compare two runs and gate on the result.

use std::path::Path;
use std::process::ExitCode;

use super::{ReportArgs, finish};
use crate::cli::CliError;
use crate::compare::{compare, gate};
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

pub fn run(store: &Path, a: Args) -> Result<ExitCode, CliError> {
    let base = load_run(store, &a.base)?;
    let current = load_run(store, &a.current)?;
    let cmp = compare(&base, &current);
    let decision = gate::decide(&current.gate, &current.summary, Some(&cmp));
    finish(store, &current, Some(&cmp), &decision, &a.reports)
}
