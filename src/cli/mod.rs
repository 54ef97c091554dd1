//! The command line: clap definitions and dispatch; each command lives in `commands/`.

mod commands;
mod exit;
pub mod printer;
mod progress;
pub mod query;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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
    /// Colour in the terminal output: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE
    /// forces it), always or never.
    #[arg(long, global = true, value_enum, default_value_t = crate::report::ColorChoice::Auto)]
    color: crate::report::ColorChoice,
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
    /// Capture live: Agents SDK exporter endpoint and a recording proxy for the model API.
    #[command(after_help = "Examples:\n  evals collect --upstream https://api.openai.com/v1\n  \
                            evals collect --listen 0.0.0.0:4319 --token \"$EVALS_COLLECT_TOKEN\" --redact\n  \
                            # then, in the app: OPENAI_BASE_URL=http://127.0.0.1:4319/v1 and\n  \
                            # BackendSpanExporter(endpoint=\"http://127.0.0.1:4319/v1/traces/ingest\")")]
    Collect(commands::collect::Args),
    /// Serve the trace browser, review queue and run viewer: a web app and its JSON API (/api/v1)
    /// over this directory's store and datasets.
    #[command(after_help = "Examples:\n  evals ui                                  # http://127.0.0.1:7878/\n  \
                            evals ui --listen 0.0.0.0:7878 --token \"$EVALS_UI_TOKEN\"")]
    Ui(commands::ui::Args),
    /// Turn a trace into an eval case file under datasets/.
    #[command(after_help = "Examples:\n  evals promote trace_1a366e09 --dataset weather\n  \
                            evals promote trace_6a4a --dataset weather --verdict fail --failure wrong_handoff --note \"should answer itself\"")]
    Promote(Box<commands::promote::Args>),
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
        after_help = "Examples:\n  evals diff baselines/demo.json runs/latest.json\n  evals diff run_20261121T0930 run_20261121T1012\n  \
                       evals diff baselines/demo.json runs/latest.json --report md:report.md --report html:report.html"
    )]
    Diff(commands::diff::Args),
    /// Stored runs and the pass-rate trend of a suite.
    #[command(
        subcommand,
        after_help = "Examples:\n  evals runs list --suite demo\n  evals runs show run_20261121T0930"
    )]
    Runs(commands::runs::Runs),
    /// Bless a run as the suite's committed baseline.
    #[command(
        subcommand,
        after_help = "Examples:\n  evals baseline bless run_20261121T0930\n  evals baseline bless runs/latest.json --out baselines/demo.json"
    )]
    Baseline(commands::baseline::Baseline),
    /// Failure categories of the taxonomy, with case counts per dataset.
    #[command(
        after_help = "Examples:\n  evals taxonomy\n  evals taxonomy --taxonomy evals/taxonomy.yaml --datasets datasets"
    )]
    Taxonomy(commands::taxonomy::Args),
    /// Edit a case's label: verdict, failure category, note, tags.
    #[command(
        after_help = "Examples:\n  evals label call-tool-get-weather --verdict fail --failure wrong_tool --note \"asked for Rome\"\n  \
                            evals label datasets/weather/hello-2536d962.yaml --verdict pass --tags smoke,weather"
    )]
    Label(commands::label::Args),
    /// Review pending cases (privacy sign-off and labels); interactive on a terminal.
    #[command(
        after_help = "Examples:\n  evals review --dataset support\n  evals review approve call-tool-get-weather --reviewer \"Ada Lovelace\"\n  \
                            evals review reject call-tool-get-weather"
    )]
    Review(commands::review::Args),
    /// Validate suites, cases and the taxonomy, and gate on privacy; every problem as file:line.
    #[command(after_help = "Examples:\n  evals check\n  evals check datasets/support evals/support.yaml")]
    Check(commands::check::Args),
    /// List cases with counts by failure category and privacy status.
    #[command(subcommand, after_help = "Examples:\n  evals cases list --privacy-status pending")]
    Cases(commands::cases::Cases),
    /// Export or import a dataset as JSON Lines (whole cases or OpenAI evals samples).
    #[command(
        subcommand,
        after_help = "Examples:\n  evals dataset export weather --format openai-evals\n  evals dataset import samples.jsonl --format openai-evals --dataset capitals"
    )]
    Dataset(commands::dataset::DatasetCmd),
    /// Combine the shard runs of one suite into one run file.
    #[command(
        after_help = "Examples:\n  evals run evals/nightly.yaml --shard 1/2 --out runs/s1.json   # on machine 1\n  \
                            evals run evals/nightly.yaml --shard 2/2 --out runs/s2.json   # on machine 2\n  \
                            evals merge runs/s1.json runs/s2.json --out runs/nightly.json"
    )]
    Merge(commands::merge::Args),
    /// Start here: write a suite, its prompt, the taxonomy, a mock script and the schemas into
    /// evals/, and datasets/; never overwrites a file.
    #[command(after_help = "Examples:\n  evals init --mock                # offline, against the scripted model\n  \
                            evals init --suite support --ci github --pre-commit")]
    Init(commands::init::Args),
    /// The JSON Schema of suite, case, taxonomy or mock files (for editors and other tools).
    #[command(after_help = "Examples:\n  evals schema suite\n  evals schema --out evals/schemas   # all four")]
    Schema(commands::schema::Args),
    /// A shell completion script, on stdout.
    #[command(
        after_help = "Examples:\n  evals completions bash > ~/.local/share/bash-completion/completions/evals\n  \
                            evals completions zsh > \"${fpath[1]}/_evals\"\n  evals completions fish > ~/.config/fish/completions/evals.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), on stdout.
    #[command(after_help = "Examples:\n  evals man > evals.1 && man ./evals.1")]
    Man,
}

/// Parse arguments, run the command, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::report::set_color(cli.color);
    let mut out = printer::Printer::stdout();
    let result = match cli.command {
        Command::Traces(t) => commands::traces::run(&cli.store, t, &mut out),
        Command::Collect(a) => commands::collect::run(&cli.store, a, &mut out),
        Command::Ui(a) => commands::ui::run(&cli.store, a, &mut out),
        Command::Promote(a) => commands::promote::run(&cli.store, *a, &mut out),
        Command::Mock(a) => commands::mock::run(a, &mut out),
        Command::Run(a) => commands::run::run(&cli.store, a, &mut out),
        Command::Diff(a) => commands::diff::run(&cli.store, a, &mut out),
        Command::Runs(c) => commands::runs::run(&cli.store, c, &mut out),
        Command::Baseline(c) => commands::baseline::run(&cli.store, c, &mut out),
        Command::Taxonomy(a) => commands::taxonomy::run(a, &mut out),
        Command::Label(a) => commands::label::run(a, &mut out),
        Command::Review(a) => commands::review::run(a, &mut out),
        Command::Check(a) => commands::check::run(a, &mut out),
        Command::Cases(c) => commands::cases::run(c, &mut out),
        Command::Dataset(c) => commands::dataset::run(c, &mut out),
        Command::Merge(a) => commands::merge::run(a, &mut out),
        Command::Init(a) => commands::init::run(a, &mut out),
        Command::Schema(a) => commands::schema::run(a, &mut out),
        Command::Completions { shell } => completions(shell, &mut out),
        Command::Man => man(&mut out),
    };
    let result = result.and_then(|code| out.flush().map(|()| code));
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): nothing more to say.
        Err(e) if printer::closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.code())
        }
    }
}

fn completions(shell: clap_complete::Shell, out: &mut printer::Printer) -> Result<ExitCode, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "evals", &mut script);
    out.print(format_args!("{}", String::from_utf8_lossy(&script)))?;
    Ok(ExitCode::SUCCESS)
}

fn man(out: &mut printer::Printer) -> Result<ExitCode, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).map_err(CliError::Output)?;
    out.print(format_args!("{}", String::from_utf8_lossy(&page)))?;
    Ok(ExitCode::SUCCESS)
}
