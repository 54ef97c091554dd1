//! The command line: clap definitions and dispatch; each command lives in `commands/`.

mod commands;
mod exit;
mod progress;
pub mod query;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::CliError;

#[derive(Parser)]
#[command(
    name = "evals",
    version,
    about = "Turn what LLM agents did in production into regression tests",
    after_help = "Examples:\n  evals traces import traces.jsonl\n  evals promote trace_1a36 --dataset support --failure wrong_tool\n  evals run evals/demo.yaml --baseline baselines/demo.json\n\n\
                  Exit codes: 0 gate passed · 1 gate failed · 2 usage, config or input error · 3 store error · \
                  4 nothing selected to run · 130 interrupted"
)]
struct Cli {
    /// The SQLite store.
    #[arg(long, global = true, env = "EVALS_STORE", default_value = crate::store::DEFAULT_PATH)]
    store: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import, list and inspect captured traces.
    #[command(
        subcommand,
        after_help = "Examples:\n  evals traces import traces.jsonl\n  evals traces list\n  evals traces show trace_1a36"
    )]
    Traces(commands::traces::Traces),
    /// Turn a trace into an eval case file under datasets/.
    #[command(after_help = "Examples:\n  evals promote trace_1a366e09 --dataset weather\n  \
                            evals promote trace_6a4a --dataset weather --verdict fail --failure wrong_handoff --note \"should answer itself\"")]
    Promote(commands::promote::Args),
    /// Serve a scripted Responses API on loopback (no key, no network).
    #[command(after_help = "Examples:\n  evals mock --listen 127.0.0.1:4010\n  \
                            evals mock --script evals/mock.yaml   # then: OPENAI_BASE_URL=http://127.0.0.1:4010/v1")]
    Mock(commands::mock::Args),
    /// Replay a suite's cases against the agent, grade them, and gate.
    #[command(after_help = "Examples:\n  evals run evals/demo.yaml\n  \
                            evals run evals/demo.yaml --baseline baselines/demo.json --out runs/latest.json\n  \
                            evals run evals/nightly.yaml --repeat 3 --set target.model=gpt-4.1-mini --filter tag:billing\n  \
                            evals run --resume            # finish the newest interrupted run")]
    Run(commands::run::Args),
    /// Compare two runs (run ids or run files) case by case, and gate.
    #[command(
        after_help = "Examples:\n  evals diff baselines/demo.json runs/latest.json\n  evals diff run_20261121T0930 run_20261121T1012"
    )]
    Diff(commands::diff::Args),
    /// Combine the shard runs of one suite into one run file.
    #[command(
        after_help = "Examples:\n  evals run evals/nightly.yaml --shard 1/2 --out runs/s1.json   # on machine 1\n  \
                            evals run evals/nightly.yaml --shard 2/2 --out runs/s2.json   # on machine 2\n  \
                            evals merge runs/s1.json runs/s2.json --out runs/nightly.json"
    )]
    Merge(commands::merge::Args),
}

/// Parse arguments, run the command, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Traces(t) => commands::traces::run(&cli.store, t),
        Command::Promote(a) => commands::promote::run(&cli.store, a),
        Command::Mock(a) => commands::mock::run(a),
        Command::Run(a) => commands::run::run(&cli.store, a),
        Command::Diff(a) => commands::diff::run(&cli.store, a),
        Command::Merge(a) => commands::merge::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.code())
        }
    }
}
