//! One file per command.

pub mod baseline;
pub mod cases;
pub mod check;
pub mod collect;
pub mod dataset;
pub mod diff;
pub mod init;
pub mod label;
pub mod merge;
pub mod mock;
pub mod promote;
pub mod review;
pub mod run;
pub mod runs;
pub mod schema;
pub mod taxonomy;
pub mod traces;
pub mod ui;

use crate::cli::printer::Printer;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::compare::Comparison;
use crate::compare::gate::Decision;
use crate::record::{CaseResult, Run, StoredRuns, TREND_RUNS, TrendPoint};
use crate::report::{self, Format, Links, Report};
use crate::store::Store;
use crate::suite::{ReportSettings, Suite};
use crate::text::{clean_path, relative_url};

use super::CliError;
use super::exit::GATE_FAILED;

/// What a correct answer must do, shared by `promote` and `label`.
#[derive(clap::Args)]
pub struct ExpectArgs {
    /// Text a correct answer must contain (repeatable).
    #[arg(long = "expect-contains", value_name = "TEXT")]
    contains: Vec<String>,
    /// A tool a correct answer must call (repeatable).
    #[arg(long = "expect-tool", value_name = "TOOL")]
    tools: Vec<String>,
    /// A tool a correct answer must not call, such as the wrong one production called (repeatable).
    #[arg(long = "expect-not-tool", value_name = "TOOL")]
    not_tools: Vec<String>,
    /// Text a correct answer must not contain, such as the wrong answer seen (repeatable).
    #[arg(long = "expect-not-contains", value_name = "TEXT")]
    not_contains: Vec<String>,
    /// The reference answer, for the `expected` grader and `similarity` with `against: reference`.
    #[arg(long, value_name = "TEXT")]
    reference: Option<String>,
}

impl ExpectArgs {
    fn expected(&self) -> crate::dataset::Expected {
        crate::dataset::Expected {
            reference: self.reference.clone(),
            contains: self.contains.clone(),
            tools_required: self.tools.clone(),
            tools_forbidden: self.not_tools.clone(),
            not_contains: self.not_contains.clone(),
        }
    }
}

/// `--report FORMAT:PATH`, shared by `run` and `diff`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Also write a report: md:PATH, html:PATH, junit:PATH or json:PATH (repeatable).
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = parse_report)]
    reports: Vec<(Format, PathBuf)>,
    /// List every case in the terminal report: passing ones too, and every change in full.
    #[arg(long, short)]
    verbose: bool,
}

fn parse_report(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = s.split_once(':').ok_or_else(|| format!("`{s}` is not FORMAT:PATH (e.g. md:report.md)"))?;
    let format = Format::parse(format)
        .ok_or_else(|| format!("unknown report format `{format}`: use md, html, junit or json"))?;
    if path.is_empty() {
        return Err(format!("`{s}` names no file"));
    }
    Ok((format, PathBuf::from(path)))
}

/// The pass-rate trend of the run's suite from the store (when there is one), ending at the run.
fn trend_of(store: &Path, run: &Run) -> Result<Vec<TrendPoint>, CliError> {
    let mut points = if store.is_file() {
        open_store(store)?.trend(&run.suite.name, run.started_at, TREND_RUNS)?
    } else {
        Vec::new()
    };
    if points.last().is_none_or(|p| p.run_id != run.id) {
        points.push(TrendPoint::from(run));
    }
    let extra = points.len().saturating_sub(TREND_RUNS);
    points.drain(..extra);
    Ok(points)
}

impl ReportArgs {
    /// A report goes to standard output (`json:-`).
    fn takes_stdout(&self) -> bool {
        self.reports.iter().any(|(_, p)| is_stdout(p))
    }
}

/// What `run` and `diff` print and write: the human report (on stderr when stdout carries a
/// run or report file), the report files (a `-` path on `out`, and the Markdown to
/// `$GITHUB_STEP_SUMMARY` when set); the verdict becomes the exit code.
struct Finish<'a> {
    run: &'a Run,
    /// `run` is a header: its results are in the store, read back as they are rendered.
    stored: bool,
    comparison: Option<&'a Comparison>,
    decision: &'a Decision,
}

fn finish(
    store: &Path,
    f: Finish<'_>,
    reports: &ReportArgs,
    human_on_stderr: bool,
    out: &mut Printer,
) -> Result<ExitCode, CliError> {
    let Finish { run, stored, comparison, decision } = f;
    let mut stderr = Printer::stderr();
    let human = if human_on_stderr { &mut stderr } else { &mut *out };
    let view = report::run::View { paint: report::run::Paint(report::use_color()), verbose: reports.verbose };
    let trend = trend_of(store, run)?;
    let text = if stored {
        stored_report(store, run, |results| {
            report::run::report(run, results, comparison, Some(decision), &trend, view)
        })?
    } else {
        report::run::report(run, &run.results, comparison, Some(decision), &trend, view)
    };
    human.print(format_args!("{text}"))?;
    let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty());
    // Report files list every case: a stored run is read back whole for them, and only then.
    let whole;
    let run = if stored && (!reports.reports.is_empty() || step_summary.is_some()) {
        whole = read_store(store)?.load_run(&run.id)?;
        &whole
    } else {
        run
    };
    let links = Links { case_files: HashMap::new(), traces: trace_links(run) };
    let r = Report { run, comparison, decision, trend: &trend, links: &links };
    // Markdown may go both to a file and to the step summary: render it once.
    let markdown = std::cell::OnceCell::new();
    let render = |format: &Format| match format {
        Format::Markdown => markdown.get_or_init(|| format.render(&r)).clone(),
        other => other.render(&r),
    };
    for (format, path) in &reports.reports {
        let text = match format {
            // Its case-file links are relative to where it is written.
            Format::Html => {
                let links = Links { case_files: case_links(run, comparison, path), traces: links.traces.clone() };
                format.render(&Report { links: &links, ..r })
            }
            other => render(other),
        };
        write_file(path, &text, out)?;
    }
    if let Some(summary) = step_summary {
        let md = render(&Format::Markdown);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .map_err(|e| CliError::Write(PathBuf::from(&summary), e))?;
    }
    Ok(if decision.passed { ExitCode::SUCCESS } else { ExitCode::from(GATE_FAILED) })
}

/// The suite's `report:` settings, from the suite file the run names (with its `--set`
/// overrides); a suite that is gone or no longer loads links no traces, which only costs links.
fn trace_links(run: &Run) -> ReportSettings {
    Suite::load_with(Path::new(&run.suite.path), &run.options.set).map(|s| s.report).unwrap_or_default()
}

/// The address of every case file the report lists, relative to the folder of `report`, for
/// the files that are there (as the run recorded them, relative to the current folder). None
/// for standard output, which has no folder to be relative to.
fn case_links(run: &Run, comparison: Option<&Comparison>, report: &Path) -> HashMap<String, String> {
    let mut links = HashMap::new();
    let Some(cwd) = std::env::current_dir().ok().filter(|_| !is_stdout(report)) else { return links };
    let dir = PathBuf::from(clean_path(&cwd.join(report.parent().unwrap_or(Path::new("")))));
    let files = run
        .results
        .iter()
        .map(|r| &r.case_file)
        .chain(comparison.into_iter().flat_map(|c| &c.cases).map(|c| &c.case_file));
    for file in files.flatten() {
        if links.contains_key(file) {
            continue;
        }
        let path = PathBuf::from(clean_path(&cwd.join(file)));
        if path.is_file() {
            links.insert(file.clone(), relative_url(&dir, &path));
        }
    }
    links
}

/// Render a stored run's results as they stream from the store; a read error ends the report.
fn stored_report(
    store: &Path,
    run: &Run,
    render: impl FnOnce(&mut dyn Iterator<Item = CaseResult>) -> String,
) -> Result<String, CliError> {
    let s = read_store(store)?;
    let mut failed = None;
    let text = render(&mut s.results(&run.id).map_while(|r| r.map_err(|e| failed = Some(e)).ok()));
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(text),
    }
}

/// `-` names standard output wherever a command writes a file.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Write `text` to the file, or to the output when the path is `-`.
fn write_file(path: &Path, text: &str, out: &mut Printer) -> Result<(), CliError> {
    if is_stdout(path) {
        return out.print(format_args!("{text}"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::Write(dir.to_path_buf(), e))?;
    }
    std::fs::write(path, text).map_err(|e| CliError::Write(path.to_path_buf(), e))
}

/// The store of a command that writes captures or runs: created when missing.
fn open_store(path: &Path) -> Result<Store, CliError> {
    Ok(Store::open(path)?)
}

/// The store of a command that only reads it (or prunes it): never created.
fn read_store(path: &Path) -> Result<Store, CliError> {
    Ok(Store::open_existing(path)?)
}

/// A multi-threaded runtime for the commands that do network work.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CliError::Runtime)
}

/// Ctrl-C, or SIGTERM where there is one (service managers, `kill`).
pub(super) async fn stopped() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
