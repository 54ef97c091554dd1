//! `evals check`: validate suites, cases and the taxonomy, and gate on privacy, for CI and
//! pre-commit hooks.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::check;
use crate::cli::CliError;
use crate::cli::exit::GATE_FAILED;
use crate::cli::printer::Printer;
use crate::dataset;
use crate::dataset::taxonomy;
use crate::report;

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders to check (default: evals and datasets).
    paths: Vec<PathBuf>,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
    /// Root folder of datasets: every YAML file under it must be a valid case.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    /// `{"files", "problems": [{file, line, column, message}]}` for machines (same exit code).
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let paths = if a.paths.is_empty() {
        ["evals", "datasets"].iter().map(PathBuf::from).filter(|p| p.exists()).collect()
    } else {
        a.paths
    };
    if paths.is_empty() {
        return Err(CliError::NothingToCheck);
    }
    let r = check::check(&paths, &a.taxonomy, &a.datasets);
    if a.json {
        let problems: Vec<_> = r
            .problems
            .iter()
            .map(|p| serde_json::json!({"file": p.file, "line": p.line, "column": p.column, "message": p.message}))
            .collect();
        let doc = serde_json::json!({"files": r.files, "problems": problems});
        out.println(format_args!("{}", serde_json::to_string_pretty(&doc).expect("JSON")))?;
    } else {
        out.print(format_args!("{}", report::curation::check(&r.problems, r.files)))?;
    }
    Ok(if r.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(GATE_FAILED) })
}
