//! Eval cases: the case model, case files on disk, promotion from traces, privacy scanning and
//! the failure taxonomy.

pub mod privacy;
pub mod promote;
pub mod taxonomy;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::trace::items::canonical_json;
use crate::yaml::{self, YamlError};

/// Default folder of datasets, relative to the current directory.
pub const DEFAULT_ROOT: &str = "datasets";

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("dataset folder {0} does not exist")]
    MissingFolder(PathBuf),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("{0}")]
    Invalid(String),
    #[error("trace {trace} is already case {case} ({path})")]
    Duplicate { trace: String, case: String, path: PathBuf },
    #[error(
        "trace {0} has no model content: it was captured by the Agents SDK's HTTP exporter, which sends only \
         response ids and usage, not the conversation"
    )]
    NoContent(String),
    #[error("unknown failure category {id:?} in {file}{}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    UnknownFailure { id: String, file: PathBuf, suggestion: Option<String> },
}

pub type Result<T> = std::result::Result<T, DatasetError>;

/// One eval case, as written to `datasets/<dataset>/<id>.yaml`. Field order is file order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSource {
    pub trace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// What the evaluated agent started from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
}

/// What production did: tool outputs to answer replayed calls with, and the final output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_outputs: Vec<ToolOutput>,
    pub output: RecordedOutput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolOutput {
    pub name: String,
    pub arguments: String,
    pub output: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOutput {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<RecordedCall>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    #[serde(default)]
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a correct answer must do, graded by the `expected` grader.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
}

impl Expected {
    pub fn is_empty(&self) -> bool {
        *self == Expected::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyStatus {
    /// The scanner found nothing.
    Clean,
    /// Findings were redacted; a reviewer must approve before the case may be committed.
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The case's content hash: over its normalized input, so the same conversation cut from two
    /// traces (different ids, timestamps, spacing) hashes the same.
    pub fn compute_hash(input: &Input) -> String {
        let mut call_ids = Vec::<String>::new();
        let items: Vec<Value> = input.items.iter().map(|i| normalize(i, &mut call_ids)).collect();
        let doc = serde_json::json!({
            "instructions": input.instructions.as_deref().map(squash),
            "items": items,
        });
        format!("sha256:{}", hex::encode(Sha256::digest(canonical_json(&doc).as_bytes())))
    }

    pub fn load(path: &Path) -> Result<Case> {
        let src = yaml::Source::read(path).map_err(|source| DatasetError::Read { path: path.to_path_buf(), source })?;
        Ok(src.parse()?)
    }

    pub fn to_yaml(&self) -> String {
        yaml::to_string(self).expect("a case always serializes")
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let err = |source| DatasetError::Write { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::write(path, self.to_yaml()).map_err(err)
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drop generated ids and statuses, number call ids by first appearance, squash whitespace.
fn normalize(v: &Value, call_ids: &mut Vec<String>) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "id" | "status"))
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("call_id", Value::String(id)) => {
                            let n = call_ids.iter().position(|c| c == id).unwrap_or_else(|| {
                                call_ids.push(id.clone());
                                call_ids.len() - 1
                            });
                            Value::String(format!("call_{n}"))
                        }
                        _ => normalize(v, call_ids),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, call_ids)).collect()),
        Value::String(s) => Value::String(squash(s)),
        other => other.clone(),
    }
}

/// A case file found on disk.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub path: PathBuf,
    pub case: Case,
}

/// Every `*.yaml` case in a dataset folder, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<CaseFile>> {
    if !dir.is_dir() {
        return Err(DatasetError::MissingFolder(dir.to_path_buf()));
    }
    let mut out = Vec::new();
    for path in case_paths(dir)? {
        let case = Case::load(&path)?;
        out.push(CaseFile { path, case });
    }
    Ok(out)
}

fn case_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = |source| DatasetError::Read { path: dir.to_path_buf(), source };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Find a case with this content hash anywhere under `root` (every dataset), reading only the
/// `content_hash:` line of each file so that large dataset trees stay fast to search.
pub fn find_by_hash(root: &Path, hash: &str) -> Result<Option<(String, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(None) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let want = format!("content_hash: {hash}");
    for dir in dirs {
        for path in case_paths(&dir)? {
            let text =
                std::fs::read_to_string(&path).map_err(|source| DatasetError::Read { path: path.clone(), source })?;
            if text.lines().any(|l| l.trim_end() == want) {
                let id = text
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .map(|s| s.trim().trim_matches(['\'', '"']).to_string())
                    .unwrap_or_default();
                return Ok(Some((id, path)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(items: Vec<Value>) -> Input {
        Input { agent: None, instructions: Some("Be  helpful.\n".into()), items, params: Map::new() }
    }

    #[test]
    fn hash_ignores_ids_and_spacing_but_not_content() {
        let a = input(vec![
            json!({"role": "user", "content": "weather in  Paris?"}),
            json!({"type": "function_call", "id": "fc_1", "call_id": "call_AAA", "name": "w", "arguments": "{}"}),
            json!({"type": "function_call_output", "call_id": "call_AAA", "output": "sun"}),
        ]);
        let b = input(vec![
            json!({"role": "user", "content": "weather in Paris?"}),
            json!({"type": "function_call", "id": "fc_9", "call_id": "call_ZZZ", "name": "w", "arguments": "{}", "status": "completed"}),
            json!({"type": "function_call_output", "call_id": "call_ZZZ", "output": "sun"}),
        ]);
        assert_eq!(Case::compute_hash(&a), Case::compute_hash(&b));
        let c = input(vec![json!({"role": "user", "content": "weather in Rome?"})]);
        assert_ne!(Case::compute_hash(&a), Case::compute_hash(&c));
    }

    #[test]
    fn unknown_keys_in_case_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, "id: c\nsource: {trace_id: t}\ninput: {items: []}\nrecorded: {output: {text: hi}}\nprivacy: {status: clean}\ncontent_hash: x\ncolour: red\n").unwrap();
        let err = Case::load(&p).unwrap_err().to_string();
        assert!(err.contains("c.yaml:7:1"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn missing_folder_is_named() {
        let err = load_dir(Path::new("/nonexistent/ds")).unwrap_err();
        assert_eq!(err.to_string(), "dataset folder /nonexistent/ds does not exist");
    }
}
