//! Interchange: datasets as JSON Lines, either whole cases (`jsonl`, lossless) or the
//! `{"input": [messages], "ideal": "..."}` samples of OpenAI evals (`openai-evals`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{
    Case, CaseFile, CaseSource, DatasetError, Expected, HashIndex, Input, Label, Privacy, PrivacyStatus, Recorded,
    RecordedOutput, Result, dedup, promote,
};
use crate::trace::items;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One whole case per line, every field kept.
    Jsonl,
    /// OpenAI evals samples: the chat messages as `input`, the expected answer as `ideal`.
    OpenaiEvals,
}

/// The dataset as JSON Lines.
pub fn export(cases: &[CaseFile], format: Format) -> String {
    let mut out = String::new();
    for cf in cases {
        let line = match format {
            Format::Jsonl => serde_json::to_string(&cf.case),
            Format::OpenaiEvals => serde_json::to_string(&sample(&cf.case)),
        };
        out.push_str(&line.expect("cases serialize"));
        out.push('\n');
    }
    out
}

/// An OpenAI evals sample: the instructions as a system message, the message items as they are
/// (tool calls and outputs have no place in the format), and the reference answer, else the
/// recorded one, as `ideal`.
fn sample(case: &Case) -> Value {
    let mut input: Vec<Value> = Vec::new();
    if let Some(i) = &case.input.instructions {
        input.push(json!({"role": "system", "content": i}));
    }
    for item in &case.input.items {
        if let Some(role) = items::role(item) {
            input.push(json!({"role": role, "content": item.get("content").cloned().unwrap_or(Value::Null)}));
        }
    }
    let ideal = case.expected.reference.clone().unwrap_or_else(|| case.recorded.output.text.clone());
    json!({"input": input, "ideal": ideal})
}

/// A case read from a line of an import file.
#[derive(Debug)]
pub struct Imported {
    pub line: usize,
    pub case: Case,
}

/// Cases from a JSON Lines file; a bad line is an error naming `file:line`. A whole case keeps
/// its id, which must be a valid file name, and its content hash, which must match its input;
/// a case marked clean is scanned like a promoted one.
pub fn import(text: &str, file: &Path, format: Format) -> Result<Vec<Imported>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = |msg: String| DatasetError::Invalid(format!("{}:{}: {msg}", file.display(), n + 1));
        let case = match format {
            Format::Jsonl => {
                let case = serde_json::from_str::<Case>(line).map_err(|e| at(e.to_string()))?;
                whole_case(case).map_err(at)?
            }
            Format::OpenaiEvals => {
                let v: Value = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
                from_sample(&v, &format!("{}#{}", file.display(), n + 1)).map_err(at)?
            }
        };
        out.push(Imported { line: n + 1, case });
    }
    Ok(out)
}

/// A whole case from another project, checked before it may become a file here.
fn whole_case(mut case: Case) -> std::result::Result<Case, String> {
    super::check_name("case id", &case.id).map_err(|e| e.to_string())?;
    let hash = dedup::content_hash(&case.input, case.source.span_id.is_some());
    if case.content_hash != hash {
        return Err(format!("case {}: content_hash does not match the input (expected {hash})", case.id));
    }
    if case.privacy.status == PrivacyStatus::Clean {
        case.privacy.findings = super::redact_case(&mut case);
        if !case.privacy.findings.is_empty() {
            case.privacy.status = PrivacyStatus::Pending;
            case.content_hash = dedup::content_hash(&case.input, case.source.span_id.is_some());
        }
    }
    Ok(case)
}

/// What an import will do: the files to write, and the cases skipped because their input is
/// already a case (with that case's id and file).
#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<(PathBuf, Case)>,
    pub skipped: Vec<(Case, String, PathBuf)>,
}

/// Where each imported case goes under `root/<dataset>/`, checked in full before anything is
/// written: the dataset name must be a valid folder name, and no case may take the file of an
/// existing case or of another line of the import.
pub fn plan(cases: Vec<Imported>, file: &Path, root: &Path, dataset: &str, index: &HashIndex) -> Result<Plan> {
    super::check_name("dataset name", dataset)?;
    let dir = root.join(dataset);
    let mut plan = Plan::default();
    let mut lines: HashMap<String, usize> = HashMap::new();
    let mut hashes: HashMap<String, (String, PathBuf)> = HashMap::new();
    let mut problems = Vec::new();
    for Imported { line, case } in cases {
        if let Some((id, path)) = index.get(&case.content_hash) {
            plan.skipped.push((case, id.clone(), path.clone()));
            continue;
        }
        let path = dir.join(format!("{}.yaml", case.id));
        let at = format!("{}:{line}: case {}", file.display(), case.id);
        if let Some((id, other)) = hashes.get(&case.content_hash) {
            plan.skipped.push((case, id.clone(), other.clone()));
            continue;
        }
        if let Some(first) = lines.insert(case.id.clone(), line) {
            problems.push(format!("{at}: the same id as line {first}"));
        } else if path.exists() {
            problems.push(format!("{at}: {} already exists and is not overwritten", path.display()));
        }
        hashes.insert(case.content_hash.clone(), (case.id.clone(), path.clone()));
        plan.writes.push((path, case));
    }
    if !problems.is_empty() {
        return Err(DatasetError::Invalid(problems.join("\n")));
    }
    Ok(plan)
}

/// Write a plan's cases, each to a new file (never over one written since the plan was made).
pub fn write(plan: &Plan) -> Result<()> {
    for (path, case) in &plan.writes {
        case.save_new(path)?;
    }
    Ok(())
}

/// A case from an OpenAI evals sample: a leading system message becomes the instructions, the
/// other messages the input, `ideal` the reference (and the recorded answer). Scanned for
/// personal data like a promoted case.
fn from_sample(v: &Value, origin: &str) -> std::result::Result<Case, String> {
    let input = v.get("input").ok_or("no `input`")?;
    let mut messages: Vec<Value> = match input {
        Value::String(s) => vec![json!({"role": "user", "content": s})],
        Value::Array(a) => a.clone(),
        _ => return Err("`input` is neither a list of messages nor a string".into()),
    };
    for m in &messages {
        if items::role(m).is_none() || m.get("content").is_none() {
            return Err(format!("input message without role and content: {m}"));
        }
    }
    let instructions = match messages.first().and_then(items::role) {
        Some("system") => Some(items::content_text(&messages.remove(0)["content"])),
        _ => None,
    };
    let ideal = match v.get("ideal") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => a[0].as_str().map(str::to_string),
        Some(other) => return Err(format!("`ideal` must be one string, got {other}")),
    };
    let items: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            let mut o = Map::new();
            o.insert("role".into(), m["role"].clone());
            o.insert("content".into(), m["content"].clone());
            Value::Object(o)
        })
        .collect();
    let case = Case {
        id: String::new(),
        source: CaseSource {
            trace_id: format!("import:{origin}"),
            span_id: None,
            group_id: None,
            workflow: None,
            model: None,
            captured_at: None,
            metadata: None,
        },
        input: Input { agent: None, instructions, items, params: Map::new() },
        tools: vec![],
        agents: vec![],
        handoffs: vec![],
        recorded: Recorded {
            tool_outputs: vec![],
            output: RecordedOutput { text: ideal.clone().unwrap_or_default(), tool_calls: vec![] },
        },
        label: Label::default(),
        expected: Expected { reference: ideal, ..Expected::default() },
        privacy: Privacy { status: PrivacyStatus::Clean, findings: vec![], reviewer: None, reviewed_at: None },
        tags: vec![],
        content_hash: String::new(),
    };
    Ok(promote::finish(case))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_evals_samples_become_cases_and_come_back_the_same() {
        let line = r#"{"input": [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Capital of France?"}], "ideal": "Paris"}"#;
        let cases = import(line, Path::new("s.jsonl"), Format::OpenaiEvals).unwrap();
        let c = &cases[0].case;
        assert_eq!(c.input.instructions.as_deref(), Some("Answer in one word."));
        assert_eq!(c.expected.reference.as_deref(), Some("Paris"));
        assert!(c.id.starts_with("capital-of-france-"), "{}", c.id);
        let cf = CaseFile { path: "d/x.yaml".into(), case: c.clone() };
        let back: Value = serde_json::from_str(export(&[cf], Format::OpenaiEvals).trim()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(line).unwrap());
    }

    #[test]
    fn bad_lines_are_located() {
        let err = import("{\"ideal\": \"x\"}\n", Path::new("s.jsonl"), Format::OpenaiEvals).unwrap_err();
        assert_eq!(err.to_string(), "s.jsonl:1: no `input`");
        let err = import("\n{\"id\": 1}\n", Path::new("c.jsonl"), Format::Jsonl).unwrap_err().to_string();
        assert!(err.starts_with("c.jsonl:2: "), "{err}");
    }
}
