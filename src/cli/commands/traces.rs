//! `evals traces import|list|show`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::open_store;
use crate::cli::CliError;
use crate::cli::query::TraceQuery;
use crate::report;
use crate::store::IngestStats;
use crate::trace::import::{self, Format};

#[derive(Subcommand)]
pub enum Traces {
    /// Import trace files: Agents SDK processor JSONL or exporter bodies, OTLP/JSON (one request per
    /// line) or a protobuf request, OpenAI request/response logs; gzip accepted; format detected per line.
    #[command(
        after_help = "Examples:\n  evals traces import traces.jsonl\n  evals traces import --format agents-export exports/*.jsonl\n  \
                      evals traces import otel/traces.json.gz openai-requests.jsonl"
    )]
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
    },
    /// List stored traces, newest first.
    #[command(
        after_help = "Examples:\n  evals traces list\n  evals traces list --since 7d --agent Triage --status error\n  evals traces list --limit 5 --json"
    )]
    List {
        #[command(flatten)]
        query: TraceQuery,
        /// One JSON array for machines.
        #[arg(long)]
        json: bool,
    },
    /// Show a trace's span tree: agents, model turns, tool calls, handoffs, errors.
    #[command(after_help = "Examples:\n  evals traces show trace_1a36    # any unique prefix of the id")]
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Rows `traces list` shows without `--limit`.
const DEFAULT_LIST_LIMIT: usize = 50;

pub fn run(store: &Path, cmd: Traces) -> Result<ExitCode, CliError> {
    match cmd {
        Traces::Import { files, format } => import_files(store, &files, format),
        Traces::List { query, json } => {
            let mut filter = query.filter();
            filter.limit.get_or_insert(DEFAULT_LIST_LIMIT);
            let rows = open_store(store)?.list_traces(&filter)?;
            if json {
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|r| {
                        let mut v = serde_json::to_value(r).expect("summaries serialize");
                        v["status"] = r.status().into();
                        v
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
            } else {
                print!("{}", report::traces::list(&rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        Traces::Show { id, json } => {
            let s = open_store(store)?;
            let id = s.resolve_trace(&id)?;
            let (trace, spans) = s.load_trace(&id)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"trace": trace, "spans": spans})).expect("JSON")
                );
            } else {
                print!("{}", report::traces::tree(&trace, &s.trace_summary(&id)?, &spans));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Records ingested per transaction: large enough to amortize the commit, small enough that a
/// big file never sits in memory whole.
const IMPORT_CHUNK: usize = 5_000;

fn import_files(store: &Path, files: &[PathBuf], format: Format) -> Result<ExitCode, CliError> {
    let mut s = open_store(store)?;
    let mut bad_lines = 0;
    for file in files {
        let (mut records, mut errors, mut stats) = (0, 0, IngestStats::default());
        import::read_chunked(file, format, IMPORT_CHUNK, |parsed| {
            for e in &parsed.errors {
                eprintln!("{}:{}: {}", file.display(), e.line, e.message);
            }
            let added = s.ingest(&parsed.batch)?;
            records += parsed.records;
            errors += parsed.errors.len();
            stats.new_traces += added.new_traces;
            stats.new_spans += added.new_spans;
            Ok::<(), CliError>(())
        })?;
        bad_lines += errors;
        println!(
            "{}: {records} records, {} new traces, {} new spans{}",
            file.display(),
            stats.new_traces,
            stats.new_spans,
            if errors == 0 { String::new() } else { format!(", {errors} bad lines skipped") }
        );
    }
    if bad_lines > 0 {
        return Err(CliError::Usage(format!("{bad_lines} lines could not be imported (the rest were)")));
    }
    Ok(ExitCode::SUCCESS)
}
