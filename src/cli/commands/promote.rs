//! `evals promote`: cut eval cases out of stored traces, one by id or every trace a filter selects.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{ExpectArgs, open_store};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::cli::query::TraceQuery;
use crate::dataset::promote::{self, Options, Scope};
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, CaseFile, DatasetError, HashIndex, Verdict};
use crate::report;

#[derive(clap::Args)]
pub struct Args {
    /// Trace id, or a unique prefix of it (or use --where).
    #[arg(required_unless_present = "bulk", conflicts_with = "bulk")]
    trace_id: Option<String>,
    /// Promote every trace the filters select (--since, --agent, --model, --limit, ... as in `traces list`).
    #[arg(long = "where")]
    bulk: bool,
    #[command(flatten)]
    query: TraceQuery,
    /// Dataset (folder under --datasets) to write the case to.
    #[arg(long, default_value = "default")]
    dataset: String,
    /// Evaluate only this model turn (1-based), replayed as one call from the input it received.
    #[arg(long, conflicts_with = "span")]
    turn: Option<usize>,
    /// Evaluate only the model call of this span (id or unique prefix).
    #[arg(long)]
    span: Option<String>,
    #[arg(long, value_enum)]
    verdict: Option<Verdict>,
    /// Failure category id from the taxonomy (implies --verdict fail).
    #[arg(long)]
    failure: Option<String>,
    #[arg(long)]
    note: Option<String>,
    /// Tags for filtering (comma-separated or repeated).
    #[arg(long = "tags", alias = "tag", value_delimiter = ',')]
    tags: Vec<String>,
    #[command(flatten)]
    expect: ExpectArgs,
    /// Show what would be written, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Refuse a trace whose capture lacks the definitions of the tools it called, instead of
    /// inferring them from the calls.
    #[arg(long)]
    strict: bool,
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
}

pub fn run(store: &Path, a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let s = open_store(store)?;
    let taxonomy = Taxonomy::load(&a.taxonomy)?;
    let scope = match (a.turn, &a.span) {
        (Some(0), _) => return Err(CliError::TurnZero),
        (Some(n), _) => Scope::Turn(n),
        (None, Some(id)) => Scope::Span(id.clone()),
        (None, None) => Scope::Run,
    };
    let opts = Options {
        dataset: a.dataset.clone(),
        verdict: a.verdict,
        failure: a.failure.clone(),
        note: a.note.clone(),
        tags: a.tags.clone(),
        scope,
        expected: a.expect.expected(),
        dry_run: a.dry_run,
        strict: a.strict,
    };
    let Some(id) = &a.trace_id else { return bulk(&s, &a, &taxonomy, &opts, out) };
    let (id, p) = promote::promote_stored(&s, &a.datasets, id, &taxonomy, &opts)?;
    out.print(format_args!("{}", report::curation::promoted(&id, &p, a.dry_run)))?;
    if a.dry_run {
        out.print(format_args!("{}", p.case.to_yaml()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every selected trace; one trace's refusal (duplicate, no content) is reported and skipped.
fn bulk(
    s: &crate::store::Store,
    a: &Args,
    taxonomy: &Taxonomy,
    opts: &Options,
    out: &mut Printer,
) -> Result<ExitCode, CliError> {
    let mut existing: Vec<CaseFile> = dataset::load_all(&a.datasets, None).unwrap_or_else(|e| {
        eprintln!("warning: near-duplicate check skipped: {e}");
        Vec::new()
    });
    // Built once from the `content_hash:` lines, so a case file that no longer parses still counts.
    let mut hashes = HashIndex::build(&a.datasets)?;
    let (existing, hashes) = (&mut existing, &mut hashes);
    let rows = s.list_traces(&a.query.filter())?;
    if rows.is_empty() {
        return Err(CliError::NoTraceMatches);
    }
    let (mut written, mut skipped) = (0, 0);
    for row in rows {
        let (trace, spans) = s.load_trace(&row.id)?;
        match promote::promote(&a.datasets, &trace, &spans, taxonomy, opts, existing, hashes, s) {
            Ok(p) => {
                written += 1;
                out.print(format_args!("{}", report::curation::promoted(&row.id, &p, a.dry_run)))?;
                existing.push(CaseFile { path: p.path, case: p.case });
            }
            Err(e @ (DatasetError::Duplicate { .. } | DatasetError::NoContent { .. } | DatasetError::Invalid(_))) => {
                skipped += 1;
                let fix = e.fix().map(|f| format!("; {f}")).unwrap_or_default();
                out.println(format_args!("skipped {}: {e}{fix}", row.id))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let verb = if a.dry_run { "would write" } else { "wrote" };
    out.println(format_args!("{verb} {written} cases, skipped {skipped} traces"))?;
    Ok(ExitCode::SUCCESS)
}
