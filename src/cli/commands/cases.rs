//! `evals cases list`: the cases of every dataset, with counts by category and privacy status.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, PrivacyStatus};
use crate::report;

#[derive(Subcommand)]
pub enum Cases {
    /// List cases with their label and privacy status.
    #[command(
        after_help = "Examples:\n  evals cases list\n  evals cases list --dataset support --failure tool_use\n  evals cases list --privacy-status pending"
    )]
    List {
        #[arg(long)]
        dataset: Option<String>,
        /// Cases labelled with this category, one of its aliases, or a child of it.
        #[arg(long)]
        failure: Option<String>,
        #[arg(long, value_enum)]
        privacy_status: Option<PrivacyStatus>,
        /// Root folder of datasets.
        #[arg(long, default_value = dataset::DEFAULT_ROOT)]
        datasets: PathBuf,
        #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
        taxonomy: PathBuf,
        /// One JSON array of `{"path", "dataset", "case"}` for machines.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: Cases, out: &mut Printer) -> Result<ExitCode, CliError> {
    let Cases::List { dataset, failure, privacy_status, datasets, taxonomy, json } = cmd;
    let mut cases = dataset::load_all(&datasets, dataset.as_deref())?;
    if let Some(f) = failure {
        let t = Taxonomy::load(&taxonomy)?;
        let want = t.resolve(&f)?.id.clone();
        cases.retain(|c| c.case.label.failure.as_deref().is_some_and(|id| t.is_within(id, &want)));
    }
    if let Some(s) = privacy_status {
        cases.retain(|c| c.case.privacy.status == s);
    }
    if json {
        let rows: Vec<_> =
            cases.iter().map(|c| serde_json::json!({"path": c.path, "dataset": c.dataset(), "case": c.case})).collect();
        out.println(format_args!("{}", serde_json::to_string_pretty(&rows).expect("cases serialize")))?;
    } else {
        out.print(format_args!("{}", report::curation::cases(&cases)))?;
    }
    Ok(ExitCode::SUCCESS)
}
