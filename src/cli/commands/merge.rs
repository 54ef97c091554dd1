//! `evals merge`: combine the shard runs of one suite into one run file.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;

use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::record::{self, Run};
use crate::report;

#[derive(clap::Args)]
pub struct Args {
    /// Run files of the shards (`evals run --shard K/N --out FILE`).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where to write the merged run (`-`: standard output, the summary then on stderr).
    #[arg(long)]
    out: PathBuf,
    /// Merge even when shards are missing; the merged run, and the gate, say which.
    #[arg(long)]
    allow_partial: bool,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let runs = a.runs.iter().map(|p| Run::load(p)).collect::<Result<Vec<_>, _>>()?;
    let merged = record::merge(runs, Utc::now(), a.allow_partial)?;
    let mut stderr = Printer::stderr();
    let human = if super::is_stdout(&a.out) {
        out.print(format_args!("{}", merged.to_json()))?;
        &mut stderr
    } else {
        merged.save(&a.out)?;
        &mut *out
    };
    let view = report::run::View { paint: report::run::Paint(report::use_color()), verbose: false };
    human.print(format_args!("{}", report::run::report(&merged, &merged.results, None, None, &[], view)))?;
    if let Some(partial) = merged.options.partial() {
        human.println(format_args!("partial: {partial}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
