//! `evals diff`: compare two runs and gate on the result.

use std::path::Path;
use std::process::ExitCode;

use super::{ReportArgs, compare_runs, finish, open_store};
use crate::cli::CliError;
use crate::compare::gate;
use crate::run::Run;

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
    let path = Path::new(name);
    if path.is_file() {
        return Ok(Run::load(path)?);
    }
    if name.ends_with(".json") {
        return Err(CliError::Usage(format!("run file {name} does not exist")));
    }
    let s = open_store(store)?;
    let id = s.resolve_run(name)?;
    Ok(s.load_run(&id)?)
}

pub fn run(store: &Path, a: Args) -> Result<ExitCode, CliError> {
    let base = load_run(store, &a.base)?;
    let current = load_run(store, &a.current)?;
    let cmp = compare_runs(store, &base, &current)?;
    let decision = gate::decide(&current.gate, &current, Some(&cmp));
    finish(store, &current, Some(&cmp), &decision, &a.reports)
}
