//! `evals label`: edit a case's verdict, failure category, note, tags and expectations.

use std::path::PathBuf;
use std::process::ExitCode;

use super::ExpectArgs;
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::review::{self, LabelEdit};
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, Verdict};
use crate::report;

#[derive(clap::Args)]
pub struct Args {
    /// Case id, unique id prefix, or case file path.
    case: String,
    #[arg(long, value_enum)]
    verdict: Option<Verdict>,
    /// Failure category id or alias from the taxonomy (implies --verdict fail; "" removes it).
    #[arg(long)]
    failure: Option<String>,
    /// A note for the next reader ("" removes it).
    #[arg(long)]
    note: Option<String>,
    /// Replace the tags (comma-separated; "" removes them all).
    #[arg(long, value_delimiter = ',')]
    tags: Option<Vec<String>>,
    /// What a correct answer must do (added to the case's expectations).
    #[command(flatten)]
    expect: ExpectArgs,
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let edit =
        LabelEdit { verdict: a.verdict, failure: a.failure, note: a.note, tags: a.tags, expected: a.expect.expected() };
    if edit.is_empty() {
        return Err(CliError::NothingToChange);
    }
    let taxonomy = Taxonomy::load(&a.taxonomy)?;
    let mut cf = dataset::find_case(&a.datasets, &a.case)?;
    review::relabel(&mut cf.case, &taxonomy, &edit)?;
    review::save(&cf)?;
    let l = &cf.case.label;
    out.println(format_args!(
        "labelled {}: {}{}{}",
        cf.case.id,
        l.verdict.as_str(),
        l.failure.as_deref().map(|f| format!(", failure {f}")).unwrap_or_default(),
        if cf.case.tags.is_empty() { String::new() } else { format!(", tags {}", cf.case.tags.join(",")) }
    ))?;
    if cf.case.label.needs_expectation {
        out.print(format_args!("{}", report::curation::needs_expectation(&cf.case.id)))?;
    }
    Ok(ExitCode::SUCCESS)
}
