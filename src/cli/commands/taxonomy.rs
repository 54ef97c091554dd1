//! `evals taxonomy`: the failure categories, with how many cases of each dataset use them.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, CaseFile};
use crate::report;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    /// `{"version", "categories": [{id, title, ..., "cases": {dataset: count}}]}` for machines.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let t = Taxonomy::load(&a.taxonomy)?;
    let cases = dataset::load_all(&a.datasets, None)?;
    let names: Vec<String> = dataset::dataset_dirs(&a.datasets, None)?
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let usage = t.usage(&cases);
    if a.json {
        let categories: Vec<_> = t
            .categories
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c).expect("categories serialize");
                v["cases"] = serde_json::json!(usage.get(&c.id).cloned().unwrap_or_default());
                v
            })
            .collect();
        let doc = serde_json::json!({"version": t.version, "categories": categories, "datasets": names});
        out.println(format_args!("{}", serde_json::to_string_pretty(&doc).expect("JSON")))?;
        return Ok(ExitCode::SUCCESS);
    }
    out.print(format_args!("{}", report::curation::taxonomy(&t, &usage, &names)))?;
    let unlabelled = cases.iter().filter(|c: &&CaseFile| c.case.label.failure.is_none()).count();
    out.println(format_args!("{} cases, {unlabelled} without a failure category", cases.len()))?;
    Ok(ExitCode::SUCCESS)
}
