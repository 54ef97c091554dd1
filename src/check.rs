//! `check`: validates suite, case and taxonomy files for CI, and gates on privacy. Every
//! problem is returned with its file and line; nothing stops at the first one.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::dataset::taxonomy::Taxonomy;
use crate::dataset::{self, Case, CaseFile, DatasetError, PrivacyStatus, dedup};
use crate::grade::Graders;
use crate::suite::Suite;
use crate::yaml::{self, Source, YamlError};

/// One problem, at a line and column of a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    /// A problem with the file as a whole.
    fn file(file: &Path, message: String) -> Problem {
        Problem { file: file.to_path_buf(), line: 1, column: 1, message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

impl From<YamlError> for Problem {
    fn from(e: YamlError) -> Problem {
        let message = match e.path.as_str() {
            "" | "." => e.message,
            p => format!("{p}: {}", e.message),
        };
        Problem { file: e.file, line: e.line, column: e.column, message }
    }
}

/// What a check looked at and found.
#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub problems: Vec<Problem>,
}

/// What kind of file a YAML file is, by its top-level keys.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FileKind {
    Case,
    Suite,
    Taxonomy,
    /// Mock scripts and anything else: not ours to check here.
    Other,
}

/// The kind of a file outside the datasets tree, by its parsed top-level keys (so flow style
/// and block style are the same); a file that is not YAML at all is a problem.
fn kind_of(source: &Source) -> Result<FileKind, YamlError> {
    let doc: yaml::Value = source.parse()?;
    let top = |key: &str| doc.as_mapping().is_some_and(|m| m.contains_key(key));
    Ok(if top("content_hash") {
        FileKind::Case
    } else if top("cases") || top("graders") || top("target") {
        // Keys only a suite has: a suite that lost its `cases` is still checked as one.
        FileKind::Suite
    } else if top("categories") {
        FileKind::Taxonomy
    } else {
        FileKind::Other
    })
}

/// Every `*.yaml`/`*.yml` file under the given paths (files are taken as given), sorted.
fn yaml_files(paths: &[PathBuf], problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            problems.push(Problem::file(p, "no such file or folder".into()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A case file read and checked on its own.
struct Checked {
    file: CaseFile,
    source: Source,
}

/// Check every suite, case and taxonomy file under `paths` against `taxonomy`. Every file under
/// `datasets` must be a case, loaded as `run` loads it; elsewhere the top-level keys tell.
pub fn check(paths: &[PathBuf], taxonomy: &Path, datasets: &Path) -> Report {
    let mut report = Report::default();
    let files = yaml_files(paths, &mut report.problems);
    report.files = files.len();
    let taxonomy = match Taxonomy::load(taxonomy) {
        Ok(t) => Some(t),
        Err(e) => {
            report.problems.push(problem_of(e, taxonomy));
            None
        }
    };

    let datasets = datasets.canonicalize().ok();
    // Reading, parsing and scanning dominate; split the files over the cores.
    let results = dataset::in_chunks_parallel(&files, |part| {
        let (mut cases, mut suites, mut problems) = (Vec::new(), Vec::new(), Vec::new());
        for path in part {
            let in_datasets =
                datasets.as_ref().is_some_and(|root| path.canonicalize().is_ok_and(|p| p.starts_with(root)));
            check_file(path, in_datasets, taxonomy.as_ref(), &mut cases, &mut suites, &mut problems);
        }
        (cases, suites, problems)
    });
    let mut cases = Vec::new();
    let mut suites = Vec::new();
    for (c, s, p) in results {
        cases.extend(c);
        suites.extend(s);
        report.problems.extend(p);
    }
    cases.sort_by(|a, b| a.file.path.cmp(&b.file.path));

    duplicates(&cases, &mut report.problems);
    for suite in suites {
        check_suite(&suite, &mut report.problems);
    }
    report.problems.sort();
    // The taxonomy is loaded up front and met again in the walk; say a problem once.
    report.problems.dedup();
    report
}

fn problem_of(e: DatasetError, file: &Path) -> Problem {
    match e {
        DatasetError::Yaml(y) => y.into(),
        other => Problem::file(file, crate::text::chain(&other)),
    }
}

fn check_file(
    path: &Path,
    in_datasets: bool,
    taxonomy: Option<&Taxonomy>,
    cases: &mut Vec<Checked>,
    suites: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let source = match Source::read(path) {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read: {e}")));
            return;
        }
    };
    let kind = if in_datasets { Ok(FileKind::Case) } else { kind_of(&source) };
    match kind {
        Err(e) => problems.push(e.into()),
        Ok(kind) => check_kind(kind, path, source, taxonomy, cases, suites, problems),
    }
}

fn check_kind(
    kind: FileKind,
    path: &Path,
    source: Source,
    taxonomy: Option<&Taxonomy>,
    cases: &mut Vec<Checked>,
    suites: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    match kind {
        FileKind::Suite => suites.push(path.to_path_buf()),
        FileKind::Taxonomy => {
            if let Err(e) = Taxonomy::load(path) {
                problems.push(problem_of(e, path));
            }
        }
        FileKind::Other => {}
        FileKind::Case => match Case::parse(&source) {
            Err(errors) => problems.extend(errors.into_iter().map(Problem::from)),
            Ok(case) => {
                check_case(&case, &source, taxonomy, problems);
                cases.push(Checked { file: CaseFile { path: path.to_path_buf(), case }, source });
            }
        },
    }
}

/// What one case must satisfy on its own: a current content hash, a known failure id, and the
/// privacy gate.
fn check_case(case: &Case, src: &Source, taxonomy: Option<&Taxonomy>, problems: &mut Vec<Problem>) {
    let mut at = |path: &str, message: String| problems.push(src.error_at(path, message).into());
    let hash = dedup::content_hash(&case.input, case.source.span_id.is_some());
    if case.content_hash != hash {
        at("content_hash", format!("content_hash does not match the input (expected {hash}): was the input edited?"));
    }
    if let (Some(t), Some(f)) = (taxonomy, &case.label.failure)
        && let Err(e) = t.resolve(f)
    {
        at("label.failure", e.to_string());
    }
    if case.needs_expectation() {
        at(
            "label.verdict",
            format!(
                "needs_expectation: labelled fail with nothing saying what is right, so it cannot be graded: \
                 `evals label {} --expect-contains TEXT` (or --expect-tool, --reference, --expect-not-tool, --expect-not-contains)",
                case.id
            ),
        );
    }
    match case.privacy.status {
        PrivacyStatus::Pending => at(
            "privacy.status",
            format!("privacy review pending: `evals review` or `evals review approve {}`", case.id),
        ),
        PrivacyStatus::Rejected => {
            at("privacy.status", "rejected case is still on disk: delete it or `evals review reject`".into())
        }
        PrivacyStatus::Approved => {}
        PrivacyStatus::Clean => {
            let findings = dataset::redact_case(&mut case.clone());
            if !findings.is_empty() {
                let list: Vec<String> =
                    findings.iter().map(|f| format!("{} at {}", f.kind.as_str(), f.location)).collect();
                let first = findings[0].location.clone();
                at(&first, format!("unreviewed personal data or secret: {}", list.join(", ")));
            }
        }
    }
}

/// The same id, or the same content, in two case files (in any datasets).
fn duplicates(cases: &[Checked], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &Path> = HashMap::new();
    let mut hashes: HashMap<&str, &Path> = HashMap::new();
    for c in cases {
        let case = &c.file.case;
        if let Some(first) = ids.insert(&case.id, &c.file.path) {
            problems
                .push(c.source.error_at("id", format!("duplicate id {:?}: also {}", case.id, first.display())).into());
            ids.insert(&case.id, first);
        }
        if let Some(first) = hashes.insert(&case.content_hash, &c.file.path) {
            problems.push(
                c.source
                    .error_at("content_hash", format!("duplicate content: same input as {}", first.display()))
                    .into(),
            );
            hashes.insert(&case.content_hash, first);
        }
    }
}

/// A suite loads (schema, graders, template syntax) and its template renders for every case
/// (no undefined variables).
fn check_suite(path: &Path, problems: &mut Vec<Problem>) {
    let suite = match Suite::load(path) {
        Ok(s) => s,
        Err(crate::suite::SuiteError::Yaml(e)) => return problems.push(e.into()),
        Err(e) => return problems.push(Problem::file(path, crate::text::chain(&e))),
    };
    let graders = match Graders::load(&suite) {
        Ok(g) => g,
        Err(e) => return problems.push(e.into()),
    };
    // Cases that do not load are reported where they are checked themselves; the rest still
    // have to render.
    let cases: Vec<CaseFile> = suite
        .datasets
        .iter()
        .flat_map(|dir| dataset::case_paths(dir).unwrap_or_default())
        .filter_map(|path| Case::load(&path).ok().map(|case| CaseFile { path, case }))
        .collect();
    if let Some(e) = cases.iter().find_map(|c| graders.check_case(&suite.source, &c.case).err()) {
        return problems.push(e.into());
    }
    if let Err(e) = suite.plan(cases) {
        problems.push(e.into());
    }
}
