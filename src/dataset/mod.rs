//! Eval cases: the case model, case files on disk, promotion from traces, privacy scanning and
//! the failure taxonomy.

pub mod dedup;
pub mod interchange;
pub mod promote;
pub mod review;
pub mod taxonomy;

use std::path::{Path, PathBuf};

use crate::privacy;
use crate::text::truncate;
use crate::trace::items;
use crate::yaml::{self, YamlError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default folder of datasets, relative to the current directory.
pub const DEFAULT_ROOT: &str = "datasets";

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("dataset folder {0} does not exist")]
    MissingFolder(PathBuf),
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("{0}")]
    Invalid(String),
    #[error("trace {trace} is already case {case} ({path})")]
    Duplicate { trace: String, case: String, path: PathBuf },
    /// Nothing to replay: how the trace was captured, and the one thing to change there.
    #[error("trace {trace} has no model content: {path}")]
    NoContent { trace: String, path: String, fix: String },
    #[error("no case matches {query:?} under {root}")]
    CaseNotFound { query: String, root: PathBuf },
    #[error("{query:?} matches several cases: {}", matches.join(", "))]
    AmbiguousCase { query: String, matches: Vec<String> },
    #[error("unknown failure category {id:?} in {file}{}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    UnknownFailure { id: String, file: PathBuf, suggestion: Option<String> },
    #[error("{what} {name:?} {reason}: use letters, digits, `-`, `_` and `.`")]
    BadName { what: &'static str, name: String, reason: &'static str },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    CaseFile(Vec<YamlError>),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl DatasetError {
    /// The one thing to change, for a refusal that knows it.
    pub fn fix(&self) -> Option<&str> {
        match self {
            DatasetError::NoContent { fix, .. } => Some(fix),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, DatasetError>;

/// One eval case, as written to `datasets/<dataset>/<id>.yaml`. Field order is file order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub source: CaseSource,
    pub input: Input,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
    /// Other agents the run reached by handoff, so replay can switch to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<Agent>,
    /// Which tool hands off from which agent to which, as the trace showed it; without it,
    /// replay knows the SDKs' default tool names only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoffs: Vec<Handoff>,
    pub recorded: Recorded,
    #[serde(default)]
    pub label: Label,
    #[serde(default, skip_serializing_if = "Expected::is_empty")]
    pub expected: Expected,
    pub privacy: Privacy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub content_hash: String,
}

/// Provenance: where in which trace the case was cut from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSource {
    pub trace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The trace's group: the conversation it was a turn of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// What the evaluated agent started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Responses API input items.
    pub items: Vec<Value>,
    /// Request settings as recorded (temperature, text format, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
}

/// The most characters of input a run keeps per result for the reports ([`Input::preview`]).
pub const PREVIEW_CHARS: usize = 200;

impl Input {
    /// What the agent was asked, readable and bounded: one `role: text` line per item (tool
    /// calls and their outputs too), each cut to `max` characters; when the lines do not all fit
    /// in `max`, the latest are kept (the question is last) after `… N earlier items`.
    pub fn preview(&self, max: usize) -> String {
        let lines: Vec<String> = self
            .items
            .iter()
            .filter_map(|item| {
                let text = items::item_text(item);
                let who = match item.get("type").and_then(Value::as_str) {
                    Some("function_call") => "tool call",
                    Some("function_call_output") => "tool output",
                    Some("reasoning") => "reasoning",
                    _ => items::role(item).unwrap_or("item"),
                };
                (!text.trim().is_empty()).then(|| truncate(&format!("{who}: {}", text.trim()), max))
            })
            .collect();
        let mut used = 0;
        let fit = lines
            .iter()
            .rev()
            .take_while(|l| {
                used += l.chars().count() + 1;
                used <= max + 1
            })
            .count()
            .max(1)
            .min(lines.len());
        let dropped = lines.len() - fit;
        let mut out = match dropped {
            0 => String::new(),
            1 => "… 1 earlier item\n".to_string(),
            n => format!("… {n} earlier items\n"),
        };
        out.push_str(&lines[dropped..].join("\n"));
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
}

/// A handoff as the trace recorded it: calling `tool` while `from` is answering switches to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub tool: String,
    pub to: String,
}

/// What production did: tool outputs to answer replayed calls with, and the final output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_outputs: Vec<ToolOutput>,
    pub output: RecordedOutput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolOutput {
    pub name: String,
    pub arguments: String,
    pub output: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedOutput {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<RecordedCall>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Labelled a failure with nothing yet saying what is right: the case cannot be graded
    /// until `evals label CASE --expect-...` gives an expectation. Kept in step by promote and label.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_expectation: bool,
}

/// What a correct answer must do, graded by the `expected` grader.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools_required: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools_forbidden: Vec<String>,
    /// Text a correct answer must not contain (such as the wrong answer seen in production).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_contains: Vec<String>,
}

impl Expected {
    pub fn is_empty(&self) -> bool {
        *self == Expected::default()
    }

    /// Add `more`'s expectations to these (each once); its reference, when it has one, replaces
    /// this one, and an empty one removes it.
    pub fn extend(&mut self, more: &Expected) {
        if let Some(r) = &more.reference {
            self.reference = (!r.is_empty()).then(|| r.clone());
        }
        for (list, add) in [
            (&mut self.contains, &more.contains),
            (&mut self.tools_required, &more.tools_required),
            (&mut self.tools_forbidden, &more.tools_forbidden),
            (&mut self.not_contains, &more.not_contains),
        ] {
            for x in add {
                if !list.contains(x) {
                    list.push(x.clone());
                }
            }
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyStatus {
    /// The scanner found nothing.
    Clean,
    /// Findings were redacted; a reviewer must approve before the case may be committed.
    Pending,
    Approved,
    Rejected,
}

impl PrivacyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyStatus::Clean => "clean",
            PrivacyStatus::Pending => "pending",
            PrivacyStatus::Approved => "approved",
            PrivacyStatus::Rejected => "rejected",
        }
    }
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    pub status: PrivacyStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<privacy::Finding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl Case {
    /// Its label says the recorded output was wrong and nothing says what is right, so no
    /// grader can judge it: graded, it would be held to the wrong answer.
    pub fn needs_expectation(&self) -> bool {
        self.label.verdict == Verdict::Fail && self.expected.is_empty()
    }

    /// Set the `needs_expectation` marker from the label and the expectation.
    pub fn mark_expectation(&mut self) {
        self.label.needs_expectation = self.needs_expectation();
    }

    /// The one loader of case files, for `run`, `check` and every other command.
    pub fn load(path: &Path) -> Result<Case> {
        let src = yaml::Source::read(path).map_err(|source| DatasetError::Read { path: path.to_path_buf(), source })?;
        Case::parse(&src).map_err(DatasetError::CaseFile)
    }

    /// A case from a file's text, whatever its YAML style. On failure every problem of the file
    /// is returned, located: each top-level field is checked on its own, so one bad field does
    /// not hide the next.
    pub fn parse(src: &yaml::Source) -> std::result::Result<Case, Vec<YamlError>> {
        let case: Case = match src.parse() {
            Ok(case) => case,
            Err(first) => return Err(field_problems(src).unwrap_or_else(|| vec![first])),
        };
        check_name("case id", &case.id).map_err(|e| vec![src.error_at("id", e.to_string())])?;
        Ok(case)
    }

    /// [`Case::load`], with the hex SHA-256 of the file's bytes as read: a later write compares
    /// it with the file's, so an edit made on disk in between is not overwritten.
    pub fn load_versioned(path: &Path) -> Result<(Case, String)> {
        use sha2::Digest;
        let read = |source| DatasetError::Read { path: path.to_path_buf(), source };
        let bytes = std::fs::read(path).map_err(read)?;
        let version = hex::encode(sha2::Sha256::digest(&bytes));
        let src = yaml::Source::from_bytes(path, bytes).map_err(read)?;
        Ok((Case::parse(&src).map_err(DatasetError::CaseFile)?, version))
    }

    pub fn to_yaml(&self) -> String {
        yaml::to_string(self).expect("a case always serializes")
    }

    /// The file's text: the schema line for editors, then the case.
    fn file_text(&self, path: &Path) -> String {
        format!("{}{}", schema_line(path, CASE_SCHEMA), self.to_yaml())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let err = |source| DatasetError::Write { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(path, self.file_text(path)).map_err(err)
    }

    /// Write the case to a file that must not exist yet.
    pub fn save_new(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let err = |source| DatasetError::Write { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(err)?;
        f.write_all(self.file_text(path).as_bytes()).map_err(err)
    }
}

/// Where `evals init` writes the case schema, from the project root (the current directory).
pub const CASE_SCHEMA: &str = "evals/schemas/case.json";

/// `# yaml-language-server: $schema=PATH`: the line that tells YAML editors which JSON Schema
/// a file follows, `schema` (from the current directory) seen from the file's folder.
pub fn schema_line(file: &Path, schema: &str) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = cwd.join(file.parent().unwrap_or(Path::new("")));
    format!("# yaml-language-server: $schema={}\n", crate::text::relative_path(&dir, &cwd.join(schema)))
}

/// The problems of a case file that does not parse, field by field; `None` when the file is not
/// a mapping at all (the parser's own error says why).
fn field_problems(src: &yaml::Source) -> Option<Vec<YamlError>> {
    let blank = src.text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---");
    if blank {
        return Some(vec![src.error_at("", "empty file: a case file holds one case")]);
    }
    let yaml::Value::Mapping(map) = yaml::parse_any(&src.text).ok()? else { return None };
    let mut out = Vec::new();
    for (key, value) in map.iter() {
        let value = value.clone();
        let Some(key) = key.as_str() else {
            out.push(src.error_at("", format!("a key must be a string, not {key:?}")));
            continue;
        };
        let err = match key {
            "id" | "content_hash" => src.parse_value::<String>(value, key).err(),
            "source" => src.parse_value::<CaseSource>(value, key).err(),
            "input" => src.parse_value::<Input>(value, key).err(),
            "tools" => src.parse_value::<Vec<Value>>(value, key).err(),
            "agents" => src.parse_value::<Vec<Agent>>(value, key).err(),
            "handoffs" => src.parse_value::<Vec<Handoff>>(value, key).err(),
            "recorded" => src.parse_value::<Recorded>(value, key).err(),
            "label" => src.parse_value::<Label>(value, key).err(),
            "expected" => src.parse_value::<Expected>(value, key).err(),
            "privacy" => src.parse_value::<Privacy>(value, key).err(),
            "tags" => src.parse_value::<Vec<String>>(value, key).err(),
            other => Some(src.error_at(other, format!("unknown field `{other}`"))),
        };
        out.extend(err);
    }
    for required in ["id", "source", "input", "recorded", "privacy", "content_hash"] {
        if !map.contains_key(required) {
            out.push(src.error_at("", format!("missing field `{required}`")));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A case file found on disk.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub path: PathBuf,
    pub case: Case,
}

impl CaseFile {
    /// The dataset a case belongs to: the name of its folder.
    pub fn dataset(&self) -> String {
        self.path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// The dataset folders under `root`, sorted by name; `only` keeps one of them.
pub fn dataset_dirs(root: &Path, only: Option<&str>) -> Result<Vec<PathBuf>> {
    if let Some(name) = only {
        check_name("dataset name", name)?;
        let dir = root.join(name);
        return if dir.is_dir() { Ok(vec![dir]) } else { Err(DatasetError::MissingFolder(dir)) };
    }
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(vec![]) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs)
}

/// What a dataset name or case id must be, since each becomes one path component under the
/// datasets root: one plain name (no separators, `..`, drive or absolute path), no control
/// characters, not a name Windows reserves for a device, and short enough for any file system.
pub fn check_name(what: &'static str, name: &str) -> Result<()> {
    let bad = |reason| Err(DatasetError::BadName { what, name: name.to_string(), reason });
    let stem = name.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if name.is_empty() {
        bad("is empty")
    } else if name.chars().any(|c| c == '/' || c == '\\') {
        bad("holds a path separator")
    } else if name.starts_with('.') {
        bad("starts with a dot")
    } else if name.chars().any(char::is_control) {
        bad("holds a control character")
    } else if name.chars().any(|c| matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|')) {
        bad("holds a character file systems reserve")
    } else if name.ends_with(' ') || name.ends_with('.') {
        bad("ends with a space or dot")
    } else if device {
        bad("is a reserved device name")
    } else if name.len() > 200 {
        bad("is longer than 200 bytes")
    } else {
        Ok(())
    }
}

/// Every case of every dataset under `root` (or of the one named), in folder and file order.
pub fn load_all(root: &Path, only: Option<&str>) -> Result<Vec<CaseFile>> {
    let mut out = Vec::new();
    for dir in dataset_dirs(root, only)? {
        out.extend(load_dir(&dir)?);
    }
    Ok(out)
}

/// A case named by its file path, its id, or a unique prefix of its id, anywhere under `root`.
pub fn find_case(root: &Path, query: &str) -> Result<CaseFile> {
    let as_path = Path::new(query);
    if as_path.is_file() {
        return Ok(CaseFile { path: as_path.to_path_buf(), case: Case::load(as_path)? });
    }
    let path = find_case_path(root, None, query)?;
    Ok(CaseFile { case: Case::load(&path)?, path })
}

/// The file of the case an id, or a unique prefix of it, names under `root` (in the dataset
/// `only`, when given); never a path outside the datasets.
pub fn find_case_path(root: &Path, only: Option<&str>, query: &str) -> Result<PathBuf> {
    let mut matches = Vec::new();
    for dir in dataset_dirs(root, only)? {
        for path in case_paths(&dir)? {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            if stem.starts_with(query) {
                matches.push((stem == query, path));
            }
        }
    }
    // An exact id wins over the ids it is a prefix of.
    if matches.iter().any(|(exact, _)| *exact) {
        matches.retain(|(exact, _)| *exact);
    }
    let mut matches: Vec<PathBuf> = matches.into_iter().map(|(_, p)| p).collect();
    match matches.len() {
        0 => Err(DatasetError::CaseNotFound { query: query.to_string(), root: root.to_path_buf() }),
        1 => Ok(matches.remove(0)),
        _ => Err(DatasetError::AmbiguousCase {
            query: query.to_string(),
            matches: matches.iter().map(|p| p.display().to_string()).collect(),
        }),
    }
}

/// Every `*.yaml` case in a dataset folder, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<CaseFile>> {
    if !dir.is_dir() {
        return Err(DatasetError::MissingFolder(dir.to_path_buf()));
    }
    // Parsing dominates the start of a large run; split the files over the cores.
    let parts = in_chunks_parallel(&case_paths(dir)?, |part| {
        part.iter().map(|path| Ok(CaseFile { case: Case::load(path)?, path: path.clone() })).collect::<Result<Vec<_>>>()
    });
    let mut out = Vec::new();
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// `f` over `items` cut into one run of neighbours per core (at most 8), on scoped threads; the
/// chunks' results come back in the items' order.
pub(crate) fn in_chunks_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.chunks(chunk).map(|part| s.spawn(move || f(part))).collect();
        handles.into_iter().map(|h| h.join().expect("worker threads do not panic")).collect()
    })
}

pub(crate) fn case_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = |source| DatasetError::Read { path: dir.to_path_buf(), source };
    let mut named: Vec<(std::ffi::OsString, PathBuf)> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|e| e.ok().map(|e| (e.file_name(), e.path())))
        .filter(|(_, p)| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    // One folder's files: their names order them. Sorting whole paths parsed every path into
    // components on each comparison, a tenth of checking 100,000 cases.
    named.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(named.into_iter().map(|(_, p)| p).collect())
}

/// The content hashes of every case under `root`, read from the `content_hash:` and `id:` lines
/// only, so that large dataset trees are indexed fast; built once for a bulk import or promote.
#[derive(Debug, Default)]
pub struct HashIndex(std::collections::HashMap<String, (String, PathBuf)>);

impl HashIndex {
    pub fn build(root: &Path) -> Result<HashIndex> {
        let mut index = HashIndex::default();
        for dir in dataset_dirs(root, None)? {
            for path in case_paths(&dir)? {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| DatasetError::Read { path: path.clone(), source })?;
                let field = |key: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(key))
                        .map(|s| s.trim().trim_matches(['\'', '"']).to_string())
                };
                if let Some(hash) = field("content_hash: ") {
                    index.0.entry(hash).or_insert((field("id: ").unwrap_or_default(), path));
                }
            }
        }
        Ok(index)
    }

    /// The id and path of the case with this hash.
    pub fn get(&self, hash: &str) -> Option<&(String, PathBuf)> {
        self.0.get(hash)
    }

    pub fn insert(&mut self, hash: String, id: String, path: PathBuf) {
        self.0.entry(hash).or_insert((id, path));
    }
}

/// Scan every text a case carries (instructions, input items, other agents' instructions, tool
/// arguments and outputs, the recorded output, expectations, trace metadata), replace findings
/// with placeholders consistent across the case, and return the findings.
pub fn redact_case(case: &mut Case) -> Vec<privacy::Finding> {
    let mut r = privacy::Redactor::default();
    if let Some(i) = &mut case.input.instructions {
        r.in_place("input.instructions", i);
    }
    for (n, item) in case.input.items.iter_mut().enumerate() {
        r.value(&format!("input.items[{n}]"), item);
    }
    for (n, agent) in case.agents.iter_mut().enumerate() {
        if let Some(i) = &mut agent.instructions {
            r.in_place(&format!("agents[{n}].instructions"), i);
        }
    }
    for (n, t) in case.recorded.tool_outputs.iter_mut().enumerate() {
        r.in_place(&format!("recorded.tool_outputs[{n}].arguments"), &mut t.arguments);
        r.in_place(&format!("recorded.tool_outputs[{n}].output"), &mut t.output);
    }
    r.in_place("recorded.output.text", &mut case.recorded.output.text);
    for (n, c) in case.recorded.output.tool_calls.iter_mut().enumerate() {
        r.in_place(&format!("recorded.output.tool_calls[{n}].arguments"), &mut c.arguments);
    }
    if let Some(reference) = &mut case.expected.reference {
        r.in_place("expected.reference", reference);
    }
    for (n, c) in case.expected.contains.iter_mut().enumerate() {
        r.in_place(&format!("expected.contains[{n}]"), c);
    }
    if let Some(m) = &mut case.source.metadata {
        for (k, v) in m.iter_mut() {
            r.value(&format!("source.metadata.{k}"), v);
        }
    }
    r.findings()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_in_case_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, "id: c\nsource: {trace_id: t}\ninput: {items: []}\nrecorded: {output: {text: hi}}\nprivacy: {status: clean}\ncontent_hash: x\ncolour: red\n").unwrap();
        let err = Case::load(&p).unwrap_err().to_string();
        assert!(err.contains("c.yaml:7:9: colour: "), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn the_input_preview_is_readable_bounded_and_keeps_the_question() {
        let input = |items: Value| Input {
            agent: None,
            instructions: Some("You are terse.".into()),
            items: serde_json::from_value(items).unwrap(),
            params: Map::new(),
        };
        let short = input(serde_json::json!([
            {"role": "user", "content": "Weather in\nParis?"},
            {"type": "function_call", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "call_id": "c1"},
            {"type": "function_call_output", "call_id": "c1", "output": "Sunny"},
            {"role": "user", "content": [{"type": "input_text", "text": "And tomorrow?"}]},
        ]));
        assert_eq!(
            short.preview(PREVIEW_CHARS),
            "user: Weather in Paris?\ntool call: get_weather({\"city\":\"Paris\"})\ntool output: Sunny\nuser: And tomorrow?"
        );
        // A long conversation keeps its last lines and says how many came before.
        let long: Vec<Value> = (0..20)
            .map(|i| serde_json::json!({"role": "user", "content": format!("question {i} ").repeat(5)}))
            .collect();
        let p = input(Value::Array(long)).preview(PREVIEW_CHARS);
        assert!(p.chars().count() <= PREVIEW_CHARS + 30, "{p}");
        assert!(p.starts_with("… 17 earlier items\n") && p.ends_with("question 19"), "{p}");
        // One huge message is cut, never dropped.
        let huge = input(serde_json::json!([{"role": "user", "content": "x".repeat(10_000)}])).preview(PREVIEW_CHARS);
        assert_eq!(huge.chars().count(), PREVIEW_CHARS);
        assert!(huge.starts_with("user: xxx") && huge.ends_with('…'));
    }

    #[test]
    fn names_are_one_plain_path_component() {
        for good in ["weather", "call-tool-a258354f", "v1.2_nightly", "Météo"] {
            assert!(check_name("case id", good).is_ok(), "{good}");
        }
        for bad in
            ["", "..", ".", "../x", "a/b", "a\\b", "/etc", "C:x", "nul", "COM1.yaml", "a\u{0}b", "tab\t", "x.", " "]
        {
            let err = check_name("case id", bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("case id {bad:?} ")), "{bad:?}: {err}");
        }
    }

    #[test]
    fn missing_folder_is_named() {
        let err = load_dir(Path::new("/nonexistent/ds")).unwrap_err();
        assert_eq!(err.to_string(), "dataset folder /nonexistent/ds does not exist");
    }
}
