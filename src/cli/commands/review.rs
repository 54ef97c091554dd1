//! `evals review`: the privacy sign-off. On a terminal it walks the pending cases; elsewhere it
//! refuses and prints the commands that do the same one case at a time.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::review::{self, LabelEdit};
use crate::dataset::taxonomy::{self, Taxonomy};
use crate::dataset::{self, Expected, Verdict};
use crate::report;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Only the cases of this dataset.
    #[arg(long)]
    dataset: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args, Clone)]
pub struct Common {
    /// Who signs off (default: `git config user.name`).
    #[arg(long)]
    reviewer: Option<String>,
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
}

#[derive(Subcommand)]
pub enum Action {
    /// Approve a case: its redactions were checked; the reviewer and time are recorded.
    #[command(
        after_help = "Examples:\n  evals review approve call-tool-get-weather-city-paris-a258354f\n  evals review approve call-tool --reviewer \"Ada Lovelace\""
    )]
    Approve {
        /// Case id, unique id prefix, or case file path.
        case: String,
        #[command(flatten)]
        common: Common,
    },
    /// Reject a case: its file is deleted.
    #[command(after_help = "Examples:\n  evals review reject call-tool-get-weather-city-paris-a258354f")]
    Reject {
        case: String,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    match a.action {
        Some(Action::Approve { case, common }) => {
            let reviewer = reviewer(&common)?;
            let mut cf = dataset::find_case(&common.datasets, &case)?;
            review::approve(&mut cf.case, &reviewer, chrono::Utc::now());
            review::save(&cf)?;
            out.println(format_args!("approved {} (reviewer {reviewer})", cf.case.id))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Action::Reject { case, common }) => {
            let cf = dataset::find_case(&common.datasets, &case)?;
            review::reject(&cf)?;
            out.println(format_args!("rejected {}: deleted {}", cf.case.id, cf.path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        None => walk(a.dataset.as_deref(), &a.common, out),
    }
}

/// The reviewer's name: `--reviewer`, else git's `user.name`.
fn reviewer(c: &Common) -> Result<String, CliError> {
    if let Some(r) = c.reviewer.as_deref().filter(|r| !r.trim().is_empty()) {
        return Ok(r.trim().to_string());
    }
    review::default_reviewer().ok_or(CliError::NoReviewer)
}

fn walk(only: Option<&str>, c: &Common, out: &mut Printer) -> Result<ExitCode, CliError> {
    let pending = review::pending(dataset::load_all(&c.datasets, only)?);
    if pending.is_empty() {
        out.println(format_args!("no case is waiting for review"))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !std::io::stdin().is_terminal() {
        eprint!("{}", one_by_one(&pending));
        return Err(CliError::NotATerminal);
    }
    let reviewer = reviewer(c)?;
    let taxonomy = Taxonomy::load(&c.taxonomy)?;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Option<String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        lines.next().and_then(Result::ok).map(|l| l.trim().to_string())
    };
    let (mut approved, mut rejected) = (0, 0);
    let total = pending.len();
    'cases: for (n, mut cf) in pending.into_iter().enumerate() {
        eprint!("{}", report::curation::review_case(&cf, n + 1, total));
        loop {
            let Some(answer) = ask("[a]pprove, [r]eject, [l]abel, [s]kip, [q]uit > ") else { break 'cases };
            match answer.as_str() {
                "a" | "approve" => {
                    review::approve(&mut cf.case, &reviewer, chrono::Utc::now());
                    review::save(&cf)?;
                    approved += 1;
                    eprintln!("approved {}", cf.case.id);
                    break;
                }
                "r" | "reject" => {
                    review::reject(&cf)?;
                    rejected += 1;
                    eprintln!("rejected {}: deleted {}", cf.case.id, cf.path.display());
                    break;
                }
                "l" | "label" => {
                    if let Some(edit) = ask_label(&mut ask) {
                        match review::relabel(&mut cf.case, &taxonomy, &edit) {
                            Ok(()) => {
                                review::save(&cf)?;
                                eprint!("{}", report::curation::review_case(&cf, n + 1, total));
                            }
                            Err(e) => eprintln!("error: {e}"),
                        }
                    }
                }
                "s" | "skip" | "" => break,
                "q" | "quit" => break 'cases,
                other => eprintln!("unknown answer {other:?}"),
            }
        }
    }
    out.println(format_args!("reviewed as {reviewer}: {approved} approved, {rejected} rejected"))?;
    Ok(ExitCode::SUCCESS)
}

/// Off a terminal: the commands that review each pending case.
fn one_by_one(pending: &[dataset::CaseFile]) -> String {
    let mut msg = format!(
        "`evals review` is interactive and needs a terminal; {} cases are pending. Review them one by one:\n",
        pending.len()
    );
    for cf in pending {
        let id = &cf.case.id;
        msg.push_str(&format!(
            "  evals review approve {id}\n  evals review reject {id}\n  evals label {id} --verdict fail --failure ID --note TEXT\n"
        ));
    }
    msg
}

/// Ask for a label edit; empty answers keep the field.
fn ask_label(ask: &mut impl FnMut(&str) -> Option<String>) -> Option<LabelEdit> {
    let verdict = loop {
        match ask("verdict (pass/fail/unknown, empty keeps) > ")?.as_str() {
            "" => break None,
            "pass" => break Some(Verdict::Pass),
            "fail" => break Some(Verdict::Fail),
            "unknown" => break Some(Verdict::Unknown),
            other => eprintln!("{other:?} is not pass, fail or unknown"),
        }
    };
    let failure = Some(ask("failure category id (empty keeps) > ")?).filter(|f| !f.is_empty());
    let note = Some(ask("note (empty keeps) > ")?).filter(|n| !n.is_empty());
    // A case labelled fail needs to say what is right; offered for every case, one per line.
    let mut expected = Expected::default();
    loop {
        let line = ask("expect (contains T | tool N | not-tool N | not-contains T | reference T; empty ends) > ")?;
        let (kind, value) =
            line.split_once(' ').map(|(k, v)| (k, v.trim().to_string())).unwrap_or((line.as_str(), String::new()));
        match kind {
            "" => break,
            _ if value.is_empty() => eprintln!("{kind} needs a value"),
            "contains" => expected.contains.push(value),
            "tool" => expected.tools_required.push(value),
            "not-tool" => expected.tools_forbidden.push(value),
            "not-contains" => expected.not_contains.push(value),
            "reference" => expected.reference = Some(value),
            other => eprintln!("{other:?} is not contains, tool, not-tool, not-contains or reference"),
        }
    }
    Some(LabelEdit { verdict, failure, note, tags: None, expected })
}
