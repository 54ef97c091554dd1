//! Graders: definitions read from a suite's `graders:` list, and grading one case result.
//!
//! Deterministic graders are pure and synchronous; LLM judges, commands and Python graders are
//! the IO edge, awaited on the runtime (HTTP and subprocesses are async, nothing blocks).

pub mod command;
pub mod deterministic;
pub mod judge;
pub mod openai;
pub mod scoring;
pub mod similarity;
pub mod stem;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::dataset::Case;
use crate::record::{Grade, Output};
use crate::suite::Suite;
use crate::trace::Usage;
use crate::trace::items::last_user_text;
use crate::yaml::{self, Source, YamlError};

pub use judge::Edge;

/// What a grader looks at: the case and what the replay produced.
pub struct Subject<'a> {
    pub case: &'a Case,
    pub output: &'a Output,
    pub turns: u32,
    pub latency_ms: u64,
    pub usage: &'a Usage,
    pub cost_usd: Option<f64>,
}

impl<'a> Subject<'a> {
    /// What templates (`{{ item.* }}`, `{{ sample.output_text }}`, rubrics) and external
    /// graders see.
    pub fn context(&self) -> Value {
        let case = self.case;
        let mut item = serde_json::Map::new();
        // Trace metadata first, so the fixed keys below win over a metadata key of the same name.
        if let Some(m) = &case.source.metadata {
            item.extend(m.clone());
        }
        item.insert("id".into(), json!(case.id));
        item.insert("input".into(), json!(last_user_text(&case.input.items).unwrap_or_default()));
        item.insert("reference".into(), json!(case.expected.reference));
        item.insert("expected".into(), serde_json::to_value(&case.expected).unwrap_or(Value::Null));
        item.insert("recorded_output".into(), json!(case.recorded.output.text));
        item.insert("tags".into(), json!(case.tags));
        item.insert("metadata".into(), json!(case.source.metadata));
        let tool_calls: Vec<Value> = self
            .output
            .tool_calls
            .iter()
            .map(|c| json!({"name": c.name, "arguments": c.arguments, "output": c.output}))
            .collect();
        // OpenAI's graders see Chat Completions `tool_calls`; replay keeps no call ids, so the
        // ids are positional.
        let output_tools: Vec<Value> = self
            .output
            .tool_calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"id": format!("call_{i}"), "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
        let output_json = serde_json::from_str::<Value>(&self.output.text).unwrap_or(Value::Null);
        json!({
            "item": item,
            "sample": {
                "output_text": self.output.text,
                "output_json": output_json,
                "output_tools": output_tools,
            },
            "case": {
                "id": case.id,
                "input": case.input.items,
                "instructions": case.input.instructions,
                "tags": case.tags,
                "expected": item["expected"],
                "recorded_output": case.recorded.output.text,
            },
            "output": self.output.text,
            "tool_calls": tool_calls,
            "turns": self.turns,
            "agent": self.output.agent,
        })
    }
}

/// The variables every grader template may use.
pub const TEMPLATE_ROOTS: &[&str] = &["item", "sample", "case", "output", "tool_calls", "turns", "agent"];

/// One grader's answer before it is named and weighted.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub score: f64,
    pub pass: bool,
    pub reason: String,
    pub error: bool,
    pub cost_usd: Option<f64>,
}

impl Verdict {
    pub fn new(score: f64, pass: bool, reason: impl Into<String>) -> Verdict {
        Verdict { score: score.clamp(0.0, 1.0), pass, reason: reason.into(), error: false, cost_usd: None }
    }

    /// Pass or fail with score 1 or 0.
    pub fn check(pass: bool, reason: impl Into<String>) -> Verdict {
        Verdict::new(f64::from(u8::from(pass)), pass, reason)
    }

    /// The grader could not decide: shown as an error, never as a failure.
    pub fn error(reason: impl Into<String>) -> Verdict {
        Verdict { score: 0.0, pass: false, reason: reason.into(), error: true, cost_usd: None }
    }
}

/// A configured grader.
#[derive(Debug, Clone)]
pub struct Grader {
    pub name: String,
    pub weight: f64,
    pub required: bool,
    /// Where it is in the suite (`graders[2]`), to locate errors found after loading.
    pub path: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Check(deterministic::Check),
    Similarity(similarity::Spec),
    Assertion(similarity::Assertion),
    StringCheck(openai::StringCheck),
    TextSimilarity(openai::TextSimilarity),
    Multi(openai::Multi),
    Judge(judge::Judge),
    Command(command::Command),
}

/// The grader types this build knows, for error messages.
pub const TYPES: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "contains_any",
    "contains_all",
    "starts_with",
    "regex",
    "not_equals",
    "not_contains",
    "not_icontains",
    "not_contains_any",
    "not_contains_all",
    "not_starts_with",
    "not_regex",
    "is_json",
    "not_is_json",
    "contains_json",
    "not_contains_json",
    "json_schema",
    "json_path",
    "tool_called",
    "tool_not_called",
    "tool_sequence",
    "handoff_to",
    "turns",
    "refusal",
    "not_refusal",
    "latency_ms",
    "cost_usd",
    "tokens",
    "expected",
    "similarity",
    "not_similarity",
    "levenshtein",
    "not_levenshtein",
    "rouge_n",
    "not_rouge_n",
    "bleu",
    "not_bleu",
    "string_check",
    "text_similarity",
    "score_model",
    "label_model",
    "judge",
    "python",
    "multi",
    "command",
];

/// `"did you mean …"` for a misspelt name, or nothing.
pub fn did_you_mean(word: &str, known: &[&str]) -> String {
    similar::get_close_matches(word, known, 1, 0.6)
        .first()
        .map(|s| format!("; did you mean {s:?}?"))
        .unwrap_or_default()
}

/// Deserialize a grader's fields, adding a "did you mean" to serde's unknown-field message.
pub(crate) fn fields<T: serde::de::DeserializeOwned>(src: &Source, v: yaml::Value, path: &str) -> Result<T, YamlError> {
    src.parse_value(v, path).map_err(|mut e| {
        // serde says: unknown field `valu`, expected one of `value`, `ignore_case`
        if let Some(rest) = e.message.strip_prefix("unknown field `") {
            let names: Vec<&str> = rest.split('`').step_by(2).filter(|s| !s.is_empty()).collect();
            if let Some((bad, known)) = names.split_first() {
                let hint = did_you_mean(bad, known);
                e.message.push_str(&hint);
            }
        }
        e
    })
}

impl Grader {
    /// Parse the grader at `path` (`graders[2]`) of a suite file.
    pub fn parse(src: &Source, path: &str, value: &yaml::Value) -> Result<Grader, YamlError> {
        let yaml::Value::Mapping(map) = value else {
            return Err(src.error_at(path, "a grader must be a mapping with a `type`"));
        };
        let mut rest = map.clone();
        let key = |k: &str| yaml::Value::String(k.to_string());
        let ty = match rest.remove(key("type")) {
            Some(yaml::Value::String(t)) => t,
            Some(_) => return Err(src.error_at(&format!("{path}.type"), "`type` must be a string")),
            None => return Err(src.error_at(path, format!("grader has no `type` (one of: {})", TYPES.join(", ")))),
        };
        // promptfoo spells the types with hyphens (`contains-any`, `not-regex`).
        let ty = match ty.replace('-', "_") {
            t if t != ty && TYPES.contains(&t.as_str()) => t,
            _ => ty,
        };
        let name = match rest.remove(key("name")) {
            Some(yaml::Value::String(n)) => Some(n),
            Some(_) => return Err(src.error_at(&format!("{path}.name"), "`name` must be a string")),
            None => None,
        };
        let weight = match rest.remove(key("weight")) {
            None => 1.0,
            Some(v) => match v.as_f64() {
                Some(w) if w >= 0.0 && w.is_finite() => w,
                _ => return Err(src.error_at(&format!("{path}.weight"), "weight must be a number ≥ 0")),
            },
        };
        let required = match rest.remove(key("required")) {
            None => false,
            Some(yaml::Value::Bool(b)) => b,
            Some(_) => return Err(src.error_at(&format!("{path}.required"), "required must be true or false")),
        };
        let fields = yaml::Value::Mapping(rest);
        let kind = match ty.as_str() {
            "similarity" | "not_similarity" => {
                Kind::Similarity(similarity::Spec::parse(src, path, fields, ty == "not_similarity")?)
            }
            "levenshtein" | "not_levenshtein" | "rouge_n" | "not_rouge_n" | "bleu" | "not_bleu" => {
                let base = ty.strip_prefix("not_").unwrap_or(&ty);
                Kind::Assertion(similarity::Assertion::parse(src, path, base, base != ty, fields)?)
            }
            "string_check" => Kind::StringCheck(openai::StringCheck::parse(src, path, fields)?),
            "text_similarity" => Kind::TextSimilarity(openai::TextSimilarity::parse(src, path, fields)?),
            "multi" => Kind::Multi(openai::Multi::parse(src, path, fields)?),
            "score_model" | "label_model" | "judge" => Kind::Judge(judge::Judge::parse(src, path, &ty, fields)?),
            "command" | "python" => Kind::Command(command::Command::parse(src, path, &ty, fields)?),
            other => match deterministic::Check::parse(src, path, other, fields)? {
                Some(check) => Kind::Check(check),
                None => {
                    return Err(src.error_at(
                        &format!("{path}.type"),
                        format!(
                            "unknown grader type {other:?} (known: {}){}",
                            TYPES.join(", "),
                            did_you_mean(other, TYPES)
                        ),
                    ));
                }
            },
        };
        Ok(Grader { name: name.unwrap_or(ty), weight, required, path: path.to_string(), kind })
    }

    /// Grade without IO: `None` for graders that call a model or run a program.
    pub fn grade_pure(&self, s: &Subject) -> Option<Verdict> {
        match &self.kind {
            Kind::Check(c) => Some(c.grade(s)),
            Kind::Similarity(spec) => Some(spec.grade(s)),
            Kind::Assertion(a) => Some(a.grade(s)),
            Kind::StringCheck(c) => Some(c.grade(s)),
            Kind::TextSimilarity(t) if !t.needs_io() => Some(t.grade_pure(s)),
            _ => None,
        }
    }

    /// Grade, calling judges and programs through `edge` when the grader needs them.
    pub fn verdict<'a>(
        &'a self,
        s: &'a Subject<'a>,
        edge: Option<&'a Edge>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Verdict> + Send + 'a>> {
        Box::pin(async move {
            if let Some(v) = self.grade_pure(s) {
                return v;
            }
            match &self.kind {
                Kind::TextSimilarity(t) => t.grade_io(s, edge).await,
                Kind::Multi(m) => m.grade(s, edge).await,
                Kind::Judge(j) => j.grade(s, edge).await,
                Kind::Command(c) => c.grade(s).await,
                _ => unreachable!("pure graders answered above"),
            }
        })
    }

    /// This grader's [`Grade`] of a subject.
    pub async fn grade(&self, s: &Subject<'_>, edge: Option<&Edge>) -> Grade {
        self.named(self.verdict(s, edge).await)
    }

    pub fn named(&self, v: Verdict) -> Grade {
        Grade {
            grader: self.name.clone(),
            score: v.score,
            pass: v.pass,
            reason: v.reason,
            weight: self.weight,
            required: self.required,
            error: v.error,
            cost_usd: v.cost_usd,
        }
    }

    /// Render this grader's templates for a case before any request, so an undefined
    /// `{{ item.* }}` is reported at load time, while paths into what only a sample has
    /// (`sample.output_json.*`, `sample.output_tools[0]…`) pass. Errors carry the key path.
    pub fn check_case(&self, s: &Subject) -> Result<(), (String, String)> {
        let templates: Vec<(String, &str)> = match &self.kind {
            Kind::StringCheck(c) => c.templates(),
            Kind::TextSimilarity(t) => t.templates(),
            Kind::Judge(j) => j.templates(),
            Kind::Multi(m) => return m.check_case(s),
            _ => return Ok(()),
        };
        // Built only for graders with templates: this runs for every case and grader at load.
        let ctx = openai::load_context(s.context());
        for (key, t) in templates {
            openai::check_render(t, &ctx).map_err(|e| (format!("{}.{key}", self.path), e))?;
        }
        Ok(())
    }
}

/// A suite's graders, its pass threshold, and the IO edge that judges use.
#[derive(Clone, Default)]
pub struct Graders {
    pub list: Vec<Grader>,
    /// Weighted score a case must reach; absent, every grader must pass.
    pub threshold: Option<f64>,
    pub edge: Option<Arc<Edge>>,
}

impl Graders {
    pub fn new(list: Vec<Grader>, threshold: Option<f64>) -> Graders {
        Graders { list, threshold, edge: None }
    }

    /// Parse a suite's `graders:` list, each error located in the suite file.
    pub fn load(suite: &Suite) -> Result<Graders, YamlError> {
        let mut list = Vec::with_capacity(suite.graders.len());
        for def in &suite.graders {
            list.push(Grader::parse(&suite.source, &def.path, &def.value)?);
        }
        dedupe_names(&mut list);
        Ok(Graders::new(list, suite.threshold))
    }

    /// Render every grader template for the case before any request, so an `{{ item.key }}`
    /// the case lacks is reported at load time, in the suite file.
    pub fn check_case(&self, source: &Source, case: &Case) -> Result<(), YamlError> {
        let (output, usage) = (Output::default(), Usage::default());
        let s = Subject { case, output: &output, turns: 0, latency_ms: 0, usage: &usage, cost_usd: None };
        for g in &self.list {
            g.check_case(&s).map_err(|(path, msg)| source.error_at(&path, format!("for case {}: {msg}", case.id)))?;
        }
        Ok(())
    }

    /// Every grader's grade of what a replay produced.
    pub async fn grade(&self, s: &Subject<'_>) -> Vec<Grade> {
        let mut grades = Vec::with_capacity(self.list.len());
        for g in &self.list {
            grades.push(g.grade(s, self.edge.as_deref()).await);
        }
        grades
    }

    /// Grade with the pure graders only (the benchmark's path; no runtime needed).
    pub fn grade_pure(&self, s: &Subject) -> Vec<Grade> {
        let mut grades = Vec::with_capacity(self.list.len());
        grades.extend(self.list.iter().filter_map(|g| g.grade_pure(s).map(|v| g.named(v))));
        grades
    }
}

/// Graders of the same type get distinct names (`contains`, `contains#2`) so per-grader
/// figures stay apart.
fn dedupe_names(graders: &mut [Grader]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for g in graders.iter_mut() {
        let n = seen.entry(g.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            g.name = format!("{}#{n}", g.name);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dataset::{CaseSource, Expected, Input, Label, Privacy, PrivacyStatus, Recorded, RecordedOutput};
    use crate::record::ToolCall;
    use serde_json::Map;

    pub fn case(recorded: &str) -> Case {
        Case {
            id: "c".into(),
            source: CaseSource { trace_id: "t".into(), ..CaseSource::default() },
            input: Input {
                agent: None,
                instructions: None,
                items: vec![json!({"role": "user", "content": "Weather in Paris?"})],
                params: Map::new(),
            },
            tools: vec![],
            agents: vec![],
            handoffs: vec![],
            recorded: Recorded {
                tool_outputs: vec![],
                output: RecordedOutput { text: recorded.into(), tool_calls: vec![] },
            },
            label: Label::default(),
            expected: Expected::default(),
            privacy: Privacy { status: PrivacyStatus::Clean, findings: vec![], reviewer: None, reviewed_at: None },
            tags: vec![],
            content_hash: "h".into(),
        }
    }

    /// Parse the first grader of a suite document; a one-line flow mapping is wrapped in one.
    pub fn grader(text: &str) -> Result<Grader, YamlError> {
        let doc = if text.starts_with('{') { format!("graders:\n  - {text}\n") } else { text.to_string() };
        let src = Source::new("s.yaml", doc);
        let v: yaml::Value = src.parse().unwrap();
        Grader::parse(&src, "graders[0]", &v["graders"][0])
    }

    pub fn output(text: &str, calls: &[(&str, &str)]) -> Output {
        Output {
            text: text.into(),
            tool_calls: calls
                .iter()
                .map(|(n, a)| ToolCall { name: n.to_string(), arguments: a.to_string(), output: None })
                .collect(),
            agent: None,
            ..Output::default()
        }
    }

    pub fn grade_with(yaml_text: &str, case: &Case, out: &Output) -> Verdict {
        let usage = Usage { input_tokens: 100, output_tokens: 20, ..Usage::default() };
        let s = Subject { case, output: out, turns: 2, latency_ms: 1500, usage: &usage, cost_usd: Some(0.002) };
        grader(yaml_text).unwrap().grade_pure(&s).expect("a pure grader")
    }

    /// Any grader, without an IO edge.
    pub async fn grade_async(yaml_text: &str, text: &str) -> Verdict {
        let (c, out, usage) = (case("Sunny in Paris"), output(text, &[]), Usage::default());
        let s = Subject { case: &c, output: &out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None };
        grader(yaml_text).unwrap().verdict(&s, None).await
    }

    pub fn grade(yaml_text: &str, text: &str, calls: &[(&str, &str)]) -> Verdict {
        grade_with(yaml_text, &case("Sunny in Paris"), &output(text, calls))
    }

    #[test]
    fn common_fields_weight_and_required() {
        let g = grader("{type: contains, value: x, weight: 2.5, required: true, name: has x}").unwrap();
        assert_eq!((g.name.as_str(), g.weight, g.required), ("has x", 2.5, true));
        let err = grader("{type: contains, value: x, weight: -1}").unwrap_err().to_string();
        assert!(err.contains("graders[0].weight: weight must be a number"), "{err}");
    }

    #[test]
    fn misconfiguration_is_located() {
        let err = grader("{type: contans, value: x}").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:2:12: graders[0].type:") && err.contains("did you mean \"contains\""), "{err}");
        let err = grader("graders:\n  - type: regex\n    pattern: '('\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:3:14: graders[0].pattern: bad regex"), "{err}");
        let err = grader("graders:\n  - type: contains\n    value: x\n    valu: y\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:4:11: graders[0].valu:") && err.contains("unknown field `valu`"), "{err}");
        let err = grader("graders:\n  - type: contains\n    value: x\n    ignore_cas: true\n").unwrap_err().to_string();
        assert!(err.contains("did you mean \"ignore_case\""), "{err}");
    }
}
