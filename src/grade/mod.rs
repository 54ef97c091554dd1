//! Graders: definitions read from a suite's `graders:` list, and grading one case result.

use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::dataset::Case;
use crate::run::{Grade, Output};
use crate::trace::items::canonical_json;
use crate::yaml::{self, Source, YamlError};

/// What a grader looks at.
pub struct Subject<'a> {
    pub case: &'a Case,
    pub output: &'a Output,
}

/// A configured grader.
#[derive(Debug, Clone)]
pub struct Grader {
    pub name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Contains { value: String, ignore_case: bool, negate: bool },
    Equals { value: String },
    Regex { regex: Regex, negate: bool },
    ToolCalled { name: String, arguments: Option<Map<String, Value>> },
    Similarity { threshold: f64, against: Against },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Against {
    /// The production output the case recorded.
    Recorded,
    /// The case's `expected.reference`.
    Reference,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainsSpec {
    value: String,
    #[serde(default)]
    ignore_case: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EqualsSpec {
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexSpec {
    pattern: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolCalledSpec {
    tool: String,
    /// Arguments the call must include (a subset of what the model passed).
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimilaritySpec {
    threshold: f64,
    #[serde(default = "recorded")]
    against: Against,
}

fn recorded() -> Against {
    Against::Recorded
}

/// The grader types this build knows, for error messages.
pub const TYPES: &[&str] = &["contains", "not_contains", "equals", "regex", "not_regex", "tool_called", "similarity"];

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
        let name = match rest.remove(key("name")) {
            Some(yaml::Value::String(n)) => Some(n),
            Some(_) => return Err(src.error_at(&format!("{path}.name"), "`name` must be a string")),
            None => None,
        };
        let fields = yaml::Value::Mapping(rest);
        let kind = match ty.as_str() {
            "contains" | "not_contains" => {
                let s: ContainsSpec = src.parse_value(fields, path)?;
                Kind::Contains { value: s.value, ignore_case: s.ignore_case, negate: ty == "not_contains" }
            }
            "equals" => Kind::Equals { value: src.parse_value::<EqualsSpec>(fields, path)?.value },
            "regex" | "not_regex" => {
                let s: RegexSpec = src.parse_value(fields, path)?;
                let regex = Regex::new(&s.pattern)
                    .map_err(|e| src.error_at(&format!("{path}.pattern"), format!("bad regex: {e}")))?;
                Kind::Regex { regex, negate: ty == "not_regex" }
            }
            "tool_called" => {
                let s: ToolCalledSpec = src.parse_value(fields, path)?;
                Kind::ToolCalled { name: s.tool, arguments: s.arguments }
            }
            "similarity" => {
                let s: SimilaritySpec = src.parse_value(fields, path)?;
                if !(0.0..=1.0).contains(&s.threshold) {
                    return Err(src.error_at(&format!("{path}.threshold"), "threshold must be between 0 and 1"));
                }
                Kind::Similarity { threshold: s.threshold, against: s.against }
            }
            other => {
                let hint = similar::get_close_matches(other, TYPES, 1, 0.6)
                    .first()
                    .map(|s| format!("; did you mean {s:?}?"))
                    .unwrap_or_default();
                return Err(src.error_at(
                    &format!("{path}.type"),
                    format!("unknown grader type {other:?} (known: {}){hint}", TYPES.join(", ")),
                ));
            }
        };
        Ok(Grader { name: name.unwrap_or(ty), kind })
    }

    pub fn grade(&self, s: &Subject) -> Grade {
        let text = s.output.text.as_str();
        let (score, pass, reason) = match &self.kind {
            Kind::Contains { value, ignore_case, negate } => {
                let found = if *ignore_case {
                    text.to_lowercase().contains(&value.to_lowercase())
                } else {
                    text.contains(value.as_str())
                };
                let pass = found != *negate;
                let reason = match (found, negate) {
                    (true, false) => format!("output contains {value:?}"),
                    (false, false) => format!("output does not contain {value:?}"),
                    (true, true) => format!("output contains forbidden {value:?}"),
                    (false, true) => format!("output does not contain {value:?}"),
                };
                (f64::from(u8::from(pass)), pass, reason)
            }
            Kind::Equals { value } => {
                let pass = text.trim() == value.trim();
                let reason =
                    if pass { "output equals the expected text".into() } else { format!("output is not {value:?}") };
                (f64::from(u8::from(pass)), pass, reason)
            }
            Kind::Regex { regex, negate } => {
                let found = regex.is_match(text);
                let pass = found != *negate;
                let verb = if found { "matches" } else { "does not match" };
                (f64::from(u8::from(pass)), pass, format!("output {verb} /{}/", regex.as_str()))
            }
            Kind::ToolCalled { name, arguments } => tool_called(s.output, name, arguments.as_ref()),
            Kind::Similarity { threshold, against } => {
                let reference = match against {
                    Against::Recorded => Some(s.case.recorded.output.text.as_str()),
                    Against::Reference => s.case.expected.reference.as_deref(),
                };
                match reference {
                    None => (0.0, false, "case has no expected.reference to compare with".into()),
                    Some(r) => {
                        let ratio = similarity(r, text);
                        let pass = ratio + 1e-9 >= *threshold;
                        let what = if *against == Against::Recorded { "recorded output" } else { "reference" };
                        (ratio, pass, format!("similarity to the {what} {ratio:.3} (threshold {threshold})"))
                    }
                }
            }
        };
        Grade { grader: self.name.clone(), score, pass, reason }
    }
}

fn tool_called(output: &Output, name: &str, want: Option<&Map<String, Value>>) -> (f64, bool, String) {
    let calls: Vec<_> = output.tool_calls.iter().filter(|c| c.name == name).collect();
    if calls.is_empty() {
        let made: Vec<&str> = output.tool_calls.iter().map(|c| c.name.as_str()).collect();
        let made = if made.is_empty() { "none".to_string() } else { made.join(", ") };
        return (0.0, false, format!("{name} was not called (calls: {made})"));
    }
    let Some(want) = want else {
        return (1.0, true, format!("{name} was called"));
    };
    for c in &calls {
        let args: Value = serde_json::from_str(&c.arguments).unwrap_or(Value::Null);
        if want.iter().all(|(k, v)| args.get(k) == Some(v)) {
            return (1.0, true, format!("{name} was called with {}", canonical_json(&Value::Object(want.clone()))));
        }
    }
    (
        0.0,
        false,
        format!(
            "{name} was called, but never with {} (got {})",
            canonical_json(&Value::Object(want.clone())),
            calls.iter().map(|c| c.arguments.as_str()).collect::<Vec<_>>().join("; ")
        ),
    )
}

/// Character-level similarity ratio in [0, 1]; bounded in time for huge texts.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    f64::from(similar::TextDiff::configure().timeout(Duration::from_millis(100)).diff_chars(a, b).ratio())
}

/// A case passes when every grader passes.
pub fn passed(grades: &[Grade]) -> bool {
    grades.iter().all(|g| g.pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{CaseSource, Expected, Input, Label, Privacy, PrivacyStatus, Recorded, RecordedOutput};
    use crate::run::ToolCall;

    fn case(recorded: &str) -> Case {
        Case {
            id: "c".into(),
            source: CaseSource {
                trace_id: "t".into(),
                span_id: None,
                workflow: None,
                model: None,
                captured_at: None,
                metadata: None,
            },
            input: Input { agent: None, instructions: None, items: vec![], params: Map::new() },
            tools: vec![],
            agents: vec![],
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
    fn grader(text: &str) -> Result<Grader, YamlError> {
        let doc = if text.starts_with('{') { format!("graders:\n  - {text}\n") } else { text.to_string() };
        let src = Source::new("s.yaml", doc);
        let v: yaml::Value = src.parse().unwrap();
        Grader::parse(&src, "graders[0]", &v["graders"][0])
    }

    fn grade(yaml_text: &str, text: &str, calls: &[(&str, &str)]) -> Grade {
        let output = Output {
            text: text.into(),
            tool_calls: calls
                .iter()
                .map(|(n, a)| ToolCall { name: n.to_string(), arguments: a.to_string(), output: None })
                .collect(),
            ..Output::default()
        };
        grader(yaml_text).unwrap().grade(&Subject { case: &case("Sunny in Paris"), output: &output })
    }

    #[test]
    fn text_checks() {
        assert!(grade("{type: contains, value: Paris}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: contains, value: paris}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: contains, value: paris, ignore_case: true}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: not_contains, value: Paris}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: equals, value: 'Sunny in Paris'}", "Sunny in Paris\n", &[]).pass);
        assert!(grade("{type: regex, pattern: '\\d+C'}", "21C", &[]).pass);
        assert!(!grade("{type: not_regex, pattern: '\\d+C'}", "21C", &[]).pass);
    }

    #[test]
    fn tool_called_with_argument_subset() {
        let calls = [("get_weather", r#"{"city": "Paris", "unit": "C"}"#)];
        assert!(grade("{type: tool_called, tool: get_weather}", "", &calls).pass);
        assert!(grade("{type: tool_called, tool: get_weather, arguments: {city: Paris}}", "", &calls).pass);
        let g = grade("{type: tool_called, tool: get_weather, arguments: {city: Rome}}", "", &calls);
        assert!(!g.pass);
        assert!(g.reason.contains("never with {\"city\":\"Rome\"}"), "{}", g.reason);
        assert!(!grade("{type: tool_called, tool: book}", "", &calls).pass);
    }

    #[test]
    fn similarity_to_recorded_output() {
        let g = grade("{type: similarity, threshold: 0.8}", "Sunny in Paris!", &[]);
        assert!(g.pass && g.score > 0.9, "{g:?}");
        let g = grade("{type: similarity, threshold: 0.8}", "Pluie à Rome", &[]);
        assert!(!g.pass && g.score < 0.5, "{g:?}");
        let g = grade("{type: similarity, threshold: 0.5, against: reference}", "x", &[]);
        assert!(!g.pass && g.reason.contains("no expected.reference"));
    }

    #[test]
    fn misconfiguration_is_located() {
        let err = grader("{type: contans, value: x}").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:2:12: graders[0].type:") && err.contains("did you mean \"contains\""), "{err}");
        let err = grader("graders:\n  - type: regex\n    pattern: '('\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:3:14: graders[0].pattern: bad regex"), "{err}");
        let err = grader("graders:\n  - type: contains\n    value: x\n    valu: y\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:4:11: graders[0].valu:") && err.contains("unknown field `valu`"), "{err}");
    }
}
