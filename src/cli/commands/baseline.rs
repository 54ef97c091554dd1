//! `evals baseline bless`: write a run as a baseline file whose git diff shows only what changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use super::{diff::load_run, is_stdout, write_file};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::record::Run;

#[derive(clap::Subcommand)]
pub enum Baseline {
    /// Write RUN as the suite's baseline: keys sorted, ids, times, git and latencies left out.
    #[command(after_help = "Examples:\n  evals baseline bless run_20261121T0930\n  \
                            evals baseline bless runs/latest.json --out baselines/demo.json")]
    Bless {
        /// A stored run id (any unique prefix) or a run file.
        run: String,
        /// Where to write it (default: baselines/SUITE.json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(store: &Path, cmd: Baseline, out: &mut Printer) -> Result<ExitCode, CliError> {
    let Baseline::Bless { run, out: dest } = cmd;
    let run = load_run(store, &run)?;
    let dest = dest.unwrap_or_else(|| PathBuf::from(format!("baselines/{}.json", run.suite.name)));
    write_file(&dest, &stable_json(&run), out)?;
    // With `--out -` the baseline is the output; the note goes to stderr.
    let note = format!(
        "blessed {} ({} cases, pass rate {}) as {}",
        run.id,
        run.summary.cases,
        crate::report::pct(run.summary.pass_rate),
        dest.display()
    );
    if is_stdout(&dest) {
        eprintln!("{note}");
    } else {
        out.println(format_args!("{note}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The run without what changes on every run of the same results, keys sorted.
pub fn stable_json(run: &Run) -> String {
    let mut v = serde_json::to_value(run).expect("a run always serializes");
    if let Value::Object(m) = &mut v {
        for k in ["started_at", "finished_at", "git"] {
            m.remove(k);
        }
        m.insert("id".into(), Value::String(format!("baseline_{}", run.suite.name)));
        if let Some(Value::Object(s)) = m.get_mut("summary") {
            // Cache hits and retries depend on the store and the network, not on the agent.
            for k in ["latency_p50_ms", "latency_p95_ms", "cache_hits", "cache_hit_ratio", "retries"] {
                s.remove(k);
            }
        }
        if let Some(Value::Array(results)) = m.get_mut("results") {
            for r in results.iter_mut().filter_map(Value::as_object_mut) {
                for k in ["latency_ms", "cached", "cache_hits", "retries"] {
                    r.remove(k);
                }
            }
        }
    }
    serde_json::to_string_pretty(&sorted(v)).expect("a value always serializes") + "\n"
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect::<Map<_, _>>())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        v => v,
    }
}
