//! `evals traces import|list|show|prune`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::{open_store, read_store};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::cli::query::TraceQuery;
use crate::provider::pricing::PriceTable;
use crate::report;
use crate::store::{IngestStats, Totals};
use crate::text::parse_duration;
use crate::trace::Facts;
use crate::trace::import::{self, Format};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
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
    /// List stored traces, newest first, with totals of tokens, cost and latency.
    #[command(
        after_help = "Examples:\n  evals traces list\n  evals traces list --since 7d --agent Triage --status error\n  \
                      evals traces list --search \"refund policy\" --model gpt-4.1 --since 2026-11-01\n  \
                      evals traces list --meta customer=acme --limit 500 --jsonl > acme.jsonl"
    )]
    List {
        #[command(flatten)]
        query: TraceQuery,
        /// One JSON array for machines.
        #[arg(long, conflicts_with = "jsonl")]
        json: bool,
        /// One JSON object per line.
        #[arg(long)]
        jsonl: bool,
        /// Price overrides (YAML: model prefix → {input, cached_input, output} USD per 1M tokens);
        /// default evals/prices.yaml when it exists.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
    },
    /// Delete traces older than a duration, with their spans and search entries, and shrink the store.
    #[command(after_help = "Examples:\n  evals traces prune --older-than 30d\n  evals traces prune --older-than 12h")]
    Prune {
        /// Age (`30d`, `12h`, `2w`) past which a trace is deleted, by its start time.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: chrono::Duration,
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

pub fn run(store: &Path, cmd: Traces, out: &mut Printer) -> Result<ExitCode, CliError> {
    match cmd {
        Traces::Import { files, format } => import_files(store, &files, format, out),
        Traces::List { query, json, jsonl, prices } => {
            let mut filter = query.filter();
            filter.limit.get_or_insert(DEFAULT_LIST_LIMIT);
            let prices = PriceTable::project(prices.as_deref())?;
            let s = read_store(store)?;
            let rows = s.list_traces(&filter)?;
            let costs =
                rows.iter().map(|r| Ok(prices.total(&s.model_usage(&r.id)?))).collect::<Result<Vec<_>, CliError>>()?;
            if json || jsonl {
                let rows = rows
                    .iter()
                    .zip(&costs)
                    .map(|(r, cost)| {
                        let (trace, spans) = s.load_trace(&r.id)?;
                        let mut v = serde_json::to_value(r).expect("summaries serialize");
                        facts_into(&mut v, &Facts::of(&trace, &spans));
                        v["cost_usd"] = (*cost).into();
                        v["duration_ms"] = r.duration_ms().into();
                        Ok(v)
                    })
                    .collect::<Result<Vec<_>, CliError>>()?;
                if json {
                    out.println(format_args!("{}", serde_json::to_string_pretty(&rows).expect("JSON")))?;
                } else {
                    for row in rows {
                        out.println(format_args!("{row}"))?;
                    }
                }
            } else {
                out.print(format_args!("{}", report::traces::list(&rows, &costs, &Totals::of(&rows, &costs))))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Traces::Prune { older_than } => {
            let before = chrono::Utc::now() - older_than;
            let stats = read_store(store)?.prune(before)?;
            out.print(format_args!(
                "{}",
                report::traces::pruned(&stats, &before.format("%Y-%m-%d %H:%M UTC").to_string())
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Traces::Show { id, json } => {
            let s = read_store(store)?;
            let id = s.resolve_trace(&id)?;
            let (trace, spans) = s.load_trace(&id)?;
            if json {
                let mut v = serde_json::json!({"trace": trace});
                facts_into(&mut v, &Facts::of(&trace, &spans));
                v["spans"] = serde_json::to_value(&spans).expect("spans serialize");
                out.println(format_args!("{}", serde_json::to_string_pretty(&v).expect("JSON")))?;
            } else {
                out.print(format_args!("{}", report::traces::tree(&trace, &s.trace_summary(&id)?, &spans)))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The trace's facts as keys of a JSON row.
fn facts_into(v: &mut serde_json::Value, facts: &Facts) {
    if let (Some(o), serde_json::Value::Object(f)) = (v.as_object_mut(), serde_json::to_value(facts).expect("facts")) {
        o.extend(f);
    }
}

/// Records ingested per transaction: large enough to amortize the commit, small enough that a
/// big file never sits in memory whole.
const IMPORT_CHUNK: usize = 5_000;

fn import_files(store: &Path, files: &[PathBuf], format: Format, out: &mut Printer) -> Result<ExitCode, CliError> {
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
        out.println(format_args!(
            "{}: {records} records, {} new traces, {} new spans{}",
            file.display(),
            stats.new_traces,
            stats.new_spans,
            if errors == 0 { String::new() } else { format!(", {errors} bad lines skipped") }
        ))?;
    }
    if bad_lines > 0 {
        return Err(CliError::ImportIncomplete(bad_lines));
    }
    Ok(ExitCode::SUCCESS)
}
