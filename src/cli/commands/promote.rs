//! `evals promote`: cut an eval case out of a stored trace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::open_store;
use crate::cli::CliError;
use crate::dataset::promote::{self, Options};
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, PrivacyStatus, Verdict};

#[derive(clap::Args)]
pub struct Args {
    /// Trace id, or a unique prefix of it.
    trace_id: String,
    /// Dataset (folder under --datasets) to write the case to.
    #[arg(long, default_value = "default")]
    dataset: String,
    #[arg(long, value_enum)]
    verdict: Option<Verdict>,
    /// Failure category id from the taxonomy (implies --verdict fail).
    #[arg(long)]
    failure: Option<String>,
    #[arg(long)]
    note: Option<String>,
    /// Tags for filtering (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
}

pub fn run(store: &Path, a: Args) -> Result<ExitCode, CliError> {
    let s = open_store(store)?;
    let id = s.resolve_trace(&a.trace_id)?;
    let (trace, spans) = s.load_trace(&id)?;
    let taxonomy = Taxonomy::load(&a.taxonomy)?;
    let opts = Options { dataset: a.dataset, verdict: a.verdict, failure: a.failure, note: a.note, tags: a.tags };
    let p = promote::promote(&a.datasets, &trace, &spans, &taxonomy, &opts)?;
    println!("promoted {} → {}", id, p.path.display());
    let privacy = &p.case.privacy;
    if privacy.status == PrivacyStatus::Pending {
        let kinds: Vec<String> =
            privacy.findings.iter().map(|f| format!("{} at {}", f.kind.as_str(), f.location)).collect();
        println!("privacy: pending review; redacted {}", kinds.join(", "));
    } else {
        println!("privacy: clean (nothing found)");
    }
    Ok(ExitCode::SUCCESS)
}
