//! `evals init`: a working starting point in the current repository (a suite, its prompt
//! template, the starter taxonomy, a mock script, the schemas, `datasets/`, and on request the CI
//! workflow and the pre-commit config). An existing file is never overwritten.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::schema::Kind;
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::{self, schema_line, taxonomy};

/// The example workflow of the README's CI section, so `init` writes what is documented.
const GITHUB_WORKFLOW: &str = include_str!("../../../examples/github-actions/evals.yml");
/// The suite the example workflow runs; `init` points it at the suite it writes.
const WORKFLOW_SUITE: &str = "evals/support.yaml";

const PRE_COMMIT: &str = "\
# pre-commit (https://pre-commit.com): `pre-commit install`, then every commit runs `evals check`
# on the suites and cases, and is refused while a case is unreviewed or a file is broken.
repos:
  - repo: local
    hooks:
      - id: evals-check
        name: evals check
        entry: evals check
        language: system
        pass_filenames: false
        files: ^(evals|datasets)/
";

const MOCK_SCRIPT: &str = "\
# The scripted model `provider.mock` runs the suite against (`evals mock --help`): rules match the
# request, the first that matches answers. These keep the built-in conventions; add rules that
# play your agent (`when: {user: 'refund'}`, `text: ...`, `call: {name: TOOL, arguments: {...}}`).
rules:
  - name: answer a tool result
    when: {tool_output: '(?s).*'}
    text: 'TOOL RESULT: {{ tool_output }}'
  - name: call a tool on request (\"call_tool NAME key=value ...\")
    when: {user: 'call_tool (?P<tool>\\w+)(?P<args>(?: \\w+=\\S+)*)'}
    call: {name: '{{ tool }}', arguments: '{{ args | kv_json }}'}
default:
  name: echo the user in capitals
  text: '{{ user | upper }}'
";

const PROMPT: &str = "\
{#- The prompt under test: what the suite's cases are replayed with. It starts as each case's
    recorded instructions; write the new prompt here and `evals run` measures the change. -#}
{{ case.instructions }}
";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Ci {
    Github,
    None,
}

#[derive(clap::Args)]
pub struct Args {
    /// The suite's name: evals/NAME.yaml over datasets/NAME.
    #[arg(long, default_value = "main", value_name = "NAME")]
    suite: String,
    /// Run the suite against the built-in mock model (no key, no network) instead of the API.
    #[arg(long)]
    mock: bool,
    /// Write a CI workflow (asked on a terminal when not given).
    #[arg(long, value_enum)]
    ci: Option<Ci>,
    /// Write .pre-commit-config.yaml with an `evals check` hook (asked on a terminal otherwise).
    #[arg(long)]
    pre_commit: bool,
    /// Ask nothing: write only what the flags say.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// One file `init` writes, from the project root.
struct Planned {
    path: PathBuf,
    text: String,
}

fn suite_text(name: &str, mock: bool) -> String {
    let provider = if mock {
        "provider:\n  mock: mock.yaml                  # the scripted model in mock.yaml; drop it to call the API\n"
            .to_string()
    } else {
        let base_url = std::env::var("OPENAI_BASE_URL").ok().filter(|u| !u.is_empty());
        format!(
            "provider:\n  base_url: {}\n  api_key_env: OPENAI_API_KEY\n  # mock: mock.yaml               # offline, against the scripted model\n",
            base_url.unwrap_or_else(|| "https://api.openai.com/v1".into())
        )
    };
    format!(
        "{schema}# `evals run evals/{name}.yaml` replays every case of datasets/{name} with the prompt in
# prompts/{name}.j2 and grades it by the case's own expectations (`evals promote --expect-...`).
name: {name}
target:
  instructions: {{file: prompts/{name}.j2}}
{provider}cases:
  - ../datasets/{name}
graders:
  - {{type: expected}}
gate:
  min_pass_rate: 0.9
  max_regressions: 0
",
        schema = schema_line(&Path::new("evals").join(format!("{name}.yaml")), &schema_path(Kind::Suite)),
    )
}

fn schema_path(kind: Kind) -> String {
    format!("evals/schemas/{}.json", kind.name())
}

/// Every file, in the order they are reported.
fn plan(a: &Args, ci: bool, pre_commit: bool) -> Vec<Planned> {
    let name = &a.suite;
    let with_schema = |file: &str, kind: Kind, body: &str| Planned {
        path: PathBuf::from(file),
        text: format!("{}{body}", schema_line(Path::new(file), &schema_path(kind))),
    };
    let mut files = vec![
        Planned { path: format!("evals/{name}.yaml").into(), text: suite_text(name, a.mock) },
        Planned { path: format!("evals/prompts/{name}.j2").into(), text: PROMPT.into() },
        with_schema(taxonomy::DEFAULT_PATH, Kind::Taxonomy, taxonomy::BUILTIN),
        with_schema("evals/mock.yaml", Kind::Mock, MOCK_SCRIPT),
    ];
    files.extend(Kind::ALL.map(|k| Planned { path: schema_path(k).into(), text: k.render() }));
    // Git keeps no empty folder, and the suite needs its dataset folder to exist.
    files.push(Planned { path: Path::new(dataset::DEFAULT_ROOT).join(name).join(".gitkeep"), text: String::new() });
    if ci {
        files.push(Planned {
            path: ".github/workflows/evals.yml".into(),
            text: GITHUB_WORKFLOW.replace(WORKFLOW_SUITE, &format!("evals/{name}.yaml")),
        });
    }
    if pre_commit {
        files.push(Planned { path: ".pre-commit-config.yaml".into(), text: PRE_COMMIT.into() });
    }
    files
}

/// Ask a yes/no question on the terminal; no answer is no.
fn ask(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    dataset::check_name("suite name", &a.suite)?;
    let interactive = !a.yes && std::io::stdin().is_terminal();
    let ci = match a.ci {
        Some(c) => c == Ci::Github,
        None => interactive && ask("Add a GitHub Actions workflow (.github/workflows/evals.yml)?"),
    };
    let pre_commit = a.pre_commit || (interactive && ask("Add a pre-commit hook running `evals check`?"));
    for f in plan(&a, ci, pre_commit) {
        if let Some(dir) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CliError::Write(dir.to_path_buf(), e))?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&f.path) {
            Ok(mut file) => {
                file.write_all(f.text.as_bytes()).map_err(|e| CliError::Write(f.path.clone(), e))?;
                out.println(format_args!("wrote {}", f.path.display()))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                out.println(format_args!("kept  {} (it exists)", f.path.display()))?;
            }
            Err(e) => return Err(CliError::Write(f.path, e)),
        }
    }
    if !a.mock && std::env::var_os("OPENAI_API_KEY").is_none_or(|k| k.is_empty()) {
        out.println(format_args!(
            "note: OPENAI_API_KEY is not set; export it before `evals run`, or run `evals init --mock` in a fresh folder to try it offline"
        ))?;
    }
    out.println(format_args!(
        "\nnext: evals traces import traces.jsonl · evals promote TRACE --dataset {0} · evals run evals/{0}.yaml",
        a.suite
    ))?;
    Ok(ExitCode::SUCCESS)
}
