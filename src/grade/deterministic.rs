//! Deterministic graders: pure functions of the output text, the tool calls, the run's figures
//! (turns, latency, cost, tokens) and the case's `expected` block.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use regex::{Regex, RegexBuilder};
use regex_syntax::ParserBuilder;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::similarity::{self, Metric};
use super::{Subject, Verdict, fields};
use crate::provider::naming::handoff_tool_name;
use crate::trace::items::canonical_json;
use crate::yaml::{self, Source, YamlError};

#[derive(Debug, Clone)]
pub enum Check {
    Text {
        op: TextOp,
        negate: bool,
        /// What the check looks for, as reasons say it; spelt once at load.
        what: String,
    },
    IsJson {
        negate: bool,
    },
    /// A JSON object somewhere in the output, matching `schema` when one is given.
    ContainsJson {
        schema: Option<Arc<jsonschema::Validator>>,
        negate: bool,
    },
    JsonSchema {
        schema: Arc<jsonschema::Validator>,
        negate: bool,
    },
    JsonPath {
        raw: String,
        path: Vec<Step>,
        test: PathTest,
        negate: bool,
        /// The test as reasons say it (`$.city = "Paris"`); spelt once at load.
        what: String,
    },
    ToolCalled {
        tool: String,
        arguments: Option<Map<String, Value>>,
        matching: ArgMatch,
        count: Option<usize>,
        /// ` with {"city":"Paris"}` for reasons, or empty; spelt once at load.
        with: String,
    },
    ToolNotCalled {
        tool: String,
        arguments: Option<Map<String, Value>>,
        matching: ArgMatch,
        /// The tool, and the arguments if any, as reasons name them; spelt once at load.
        what: String,
    },
    ToolSequence {
        tools: Vec<String>,
        mode: SeqMode,
    },
    /// The agent, and its handoff tool name (`transfer_to_weather_expert`).
    HandoffTo {
        agent: String,
        tool: String,
    },
    Turns {
        max: u32,
    },
    Refusal {
        negate: bool,
    },
    Budget {
        what: Budget,
        max: f64,
    },
    Expected {
        threshold: f64,
        metric: Metric,
    },
}

#[derive(Debug, Clone)]
pub enum TextOp {
    Equals(String, bool),
    Contains(String, bool),
    ContainsAny(Vec<String>, bool),
    ContainsAll(Vec<String>, bool),
    StartsWith(String, bool),
    Regex(Pattern),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub enum PathTest {
    Exists,
    Equals(Value),
    Contains(String),
    Matches(Pattern),
}

/// A grader's regex as PCRE and JavaScript write it: the linear-time engine when the pattern
/// allows, a backtracking one for lookaround and backreferences.
#[derive(Debug, Clone)]
pub enum Pattern {
    Linear(Regex),
    Backtracking(Box<fancy_regex::Regex>),
}

impl Pattern {
    /// Compile `pattern`; the error names the character where it goes wrong.
    pub fn new(pattern: &str, ignore_case: bool) -> Result<Pattern, String> {
        let linear = match RegexBuilder::new(pattern).case_insensitive(ignore_case).build() {
            Ok(re) => return Ok(Pattern::Linear(re)),
            Err(e) => e,
        };
        let fancy = match fancy_regex::RegexBuilder::new(pattern).case_insensitive(ignore_case).build() {
            Ok(re) => return Ok(Pattern::Backtracking(Box::new(re))),
            Err(e) => e,
        };
        // Neither engine takes it. The linear engine's parser points at the culprit once the
        // lookarounds and backreferences it cannot read are masked.
        let culprit = match ParserBuilder::new().case_insensitive(ignore_case).build().parse(&masked(pattern)) {
            Err(regex_syntax::Error::Parse(e)) => Some((e.span().start.offset, e.kind().to_string())),
            Err(regex_syntax::Error::Translate(e)) => Some((e.span().start.offset, e.kind().to_string())),
            _ => None,
        };
        match culprit {
            Some((at, what)) => Err(located(pattern, at, &what)),
            None => match fancy {
                fancy_regex::Error::ParseError(at, e) => Err(located(pattern, at, &e.to_string())),
                fancy_regex::Error::CompileError(e) if matches!(*e, fancy_regex::CompileError::InnerError(_)) => {
                    Err(format!("bad regex: {linear}"))
                }
                fancy_regex::Error::CompileError(e) => {
                    let backref = match &*e {
                        fancy_regex::CompileError::InvalidBackref(n) => {
                            pattern.find(&format!("\\{n}")).map(|at| (at, *n))
                        }
                        _ => None,
                    };
                    match backref {
                        Some((at, n)) => Err(located(pattern, at, &format!("group {n} does not exist"))),
                        None => Err(format!("bad regex /{pattern}/: {e}")),
                    }
                }
                other => Err(format!("bad regex /{pattern}/: {other}")),
            },
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Pattern::Linear(re) => re.as_str(),
            Pattern::Backtracking(re) => re.as_str(),
        }
    }

    /// Whether `text` matches; an error when backtracking gives up on this text.
    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        match self {
            Pattern::Linear(re) => Ok(re.is_match(text)),
            Pattern::Backtracking(re) => re.is_match(text).map_err(|e| format!("regex /{}/ gave up: {e}", re.as_str())),
        }
    }
}

/// `pattern` with each lookaround opener and backreference replaced by a form of the same
/// length that the linear engine's parser reads, so its error offsets still fit `pattern`.
fn masked(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        let (take, with): (usize, &str) = if rest.starts_with("(?<=") || rest.starts_with("(?<!") {
            (4, "(?i:")
        } else if rest.starts_with("(?=") || rest.starts_with("(?!") {
            (3, "(?:")
        } else if c == '\\' && rest[1..].starts_with(|d: char| ('1'..='9').contains(&d)) {
            (1, "x")
        } else if c == '\\' && rest.len() > 1 {
            let n = 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
            (n, &rest[..n])
        } else {
            (c.len_utf8(), &rest[..c.len_utf8()])
        };
        out.push_str(with);
        rest = &rest[take..];
    }
    out
}

/// `bad regex at character 3 of /a(?<b/: …` from a byte offset into the pattern.
fn located(pattern: &str, byte: usize, what: &str) -> String {
    let at = pattern.get(..byte).map_or(byte, |p| p.chars().count()) + 1;
    format!("bad regex at character {at} of /{pattern}/: {what}")
}

/// How a tool grader's `arguments` compare with a call's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgMatch {
    /// The named keys, at any depth, with equal values; an array must equal the call's.
    #[default]
    Keys,
    /// As `keys`, and an array holds each listed element (as a subset), in any order.
    Subset,
    /// The whole arguments object, equal.
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeqMode {
    /// Exactly these calls, in this order.
    Ordered,
    /// Exactly these calls, in any order.
    Unordered,
    /// These calls in this order, other calls allowed in between.
    Subsequence,
}

impl SeqMode {
    /// The mode as the suite spells it.
    fn name(self) -> &'static str {
        match self {
            SeqMode::Ordered => "ordered",
            SeqMode::Unordered => "unordered",
            SeqMode::Subsequence => "subsequence",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    LatencyMs,
    CostUsd,
    Tokens,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueSpec {
    value: String,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValuesSpec {
    /// `value` as promptfoo spells it.
    #[serde(alias = "value")]
    values: Vec<String>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexSpec {
    /// `value` as promptfoo spells it.
    #[serde(alias = "value")]
    pattern: String,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NegateSpec {
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainsJsonSpec {
    #[serde(default)]
    schema: Option<Value>,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaSpec {
    schema: Value,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPathSpec {
    path: String,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    matches: Option<String>,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolSpec {
    tool: String,
    /// Arguments the call must include (a subset of what the model passed, or all of it).
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    /// The older spelling of `match: exact`.
    #[serde(default)]
    exact: bool,
    #[serde(default, rename = "match")]
    matching: Option<ArgMatch>,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolNotSpec {
    tool: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
    #[serde(default, rename = "match")]
    matching: ArgMatch,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceSpec {
    tools: Vec<String>,
    #[serde(default = "ordered")]
    mode: SeqMode,
}

fn ordered() -> SeqMode {
    SeqMode::Ordered
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffSpec {
    agent: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaxSpec {
    max: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedSpec {
    #[serde(default = "expected_threshold")]
    threshold: f64,
    #[serde(default)]
    metric: Metric,
}

fn expected_threshold() -> f64 {
    0.8
}

impl Check {
    /// Parse a deterministic grader of type `ty`; `None` when `ty` is not one.
    pub fn parse(src: &Source, path: &str, ty: &str, v: yaml::Value) -> Result<Option<Check>, YamlError> {
        let (base, not) = match ty.strip_prefix("not_") {
            Some(b) => (b, true),
            None => (ty, false),
        };
        let at = |k: &str| format!("{path}.{k}");
        let fold = |s: String, ci: bool| if ci { s.to_lowercase() } else { s };
        let text = |op, negate: bool| Ok(Some(Check::Text { what: describe(&op), op, negate: negate != not }));
        match base {
            "equals" | "contains" | "icontains" | "starts_with" => {
                let s: ValueSpec = fields(src, v, path)?;
                let ci = s.ignore_case || base == "icontains";
                let value = fold(s.value, ci);
                let op = match base {
                    "equals" => TextOp::Equals(value, ci),
                    "starts_with" => TextOp::StartsWith(value, ci),
                    _ => TextOp::Contains(value, ci),
                };
                text(op, s.negate)
            }
            "contains_any" | "contains_all" => {
                let s: ValuesSpec = fields(src, v, path)?;
                if s.values.is_empty() {
                    return Err(src.error_at(&at("values"), "values lists nothing"));
                }
                let values = s.values.into_iter().map(|x| fold(x, s.ignore_case)).collect();
                let op = if base == "contains_any" {
                    TextOp::ContainsAny(values, s.ignore_case)
                } else {
                    TextOp::ContainsAll(values, s.ignore_case)
                };
                text(op, s.negate)
            }
            "regex" => {
                let s: RegexSpec = fields(src, v, path)?;
                let re = Pattern::new(&s.pattern, s.ignore_case).map_err(|e| src.error_at(&at("pattern"), e))?;
                text(TextOp::Regex(re), s.negate)
            }
            "is_json" => Ok(Some(Check::IsJson { negate: fields::<NegateSpec>(src, v, path)?.negate != not })),
            "contains_json" => {
                let s: ContainsJsonSpec = fields(src, v, path)?;
                let schema = match &s.schema {
                    Some(schema) => Some(Arc::new(
                        jsonschema::validator_for(schema)
                            .map_err(|e| src.error_at(&at("schema"), format!("invalid JSON schema: {e}")))?,
                    )),
                    None => None,
                };
                Ok(Some(Check::ContainsJson { schema, negate: s.negate != not }))
            }
            "refusal" => Ok(Some(Check::Refusal { negate: fields::<NegateSpec>(src, v, path)?.negate != not })),
            _ if not => Ok(None),
            "json_schema" => {
                let s: SchemaSpec = fields(src, v, path)?;
                let schema = jsonschema::validator_for(&s.schema)
                    .map_err(|e| src.error_at(&at("schema"), format!("invalid JSON schema: {e}")))?;
                Ok(Some(Check::JsonSchema { schema: Arc::new(schema), negate: s.negate }))
            }
            "json_path" => {
                let s: JsonPathSpec = fields(src, v, path)?;
                let steps = parse_json_path(&s.path).map_err(|e| src.error_at(&at("path"), e))?;
                let raw = s.path;
                let test = match (s.equals, s.contains, s.matches) {
                    (None, None, None) => PathTest::Exists,
                    (Some(v), None, None) => PathTest::Equals(v),
                    (None, Some(c), None) => PathTest::Contains(c),
                    (None, None, Some(m)) => {
                        PathTest::Matches(Pattern::new(&m, false).map_err(|e| src.error_at(&at("matches"), e))?)
                    }
                    _ => return Err(src.error_at(path, "give at most one of equals, contains, matches")),
                };
                let what = match &test {
                    PathTest::Exists => format!("{raw} exists"),
                    PathTest::Equals(want) => format!("{raw} = {}", canonical_json(want)),
                    PathTest::Contains(c) => format!("{raw} contains {c:?}"),
                    PathTest::Matches(re) => format!("{raw} matches /{}/", re.as_str()),
                };
                Ok(Some(Check::JsonPath { raw, path: steps, test, negate: s.negate, what }))
            }
            "tool_called" => {
                let s: ToolSpec = fields(src, v, path)?;
                let matching = match (s.exact, s.matching) {
                    (true, Some(m)) if m != ArgMatch::Exact => {
                        return Err(src.error_at(&at("exact"), "exact: true contradicts `match`"));
                    }
                    (true, _) => ArgMatch::Exact,
                    (false, m) => m.unwrap_or_default(),
                };
                if s.arguments.is_none() && (s.exact || s.matching.is_some()) {
                    let key = if s.exact { "exact" } else { "match" };
                    return Err(src.error_at(&at(key), format!("{key} needs `arguments` to compare with")));
                }
                let with = s
                    .arguments
                    .as_ref()
                    .map(|w| {
                        let how = match matching {
                            ArgMatch::Keys => "with",
                            ArgMatch::Subset => "with a subset of",
                            ArgMatch::Exact => "with exactly",
                        };
                        format!(" {how} {}", shown_arguments(w))
                    })
                    .unwrap_or_default();
                Ok(Some(Check::ToolCalled { tool: s.tool, arguments: s.arguments, matching, count: s.count, with }))
            }
            "tool_not_called" => {
                let s: ToolNotSpec = fields(src, v, path)?;
                let what = match &s.arguments {
                    Some(a) => format!("{} with {}", s.tool, shown_arguments(a)),
                    None => s.tool.clone(),
                };
                Ok(Some(Check::ToolNotCalled { tool: s.tool, arguments: s.arguments, matching: s.matching, what }))
            }
            "tool_sequence" => {
                let s: SequenceSpec = fields(src, v, path)?;
                Ok(Some(Check::ToolSequence { tools: s.tools, mode: s.mode }))
            }
            "handoff_to" => {
                let agent = fields::<HandoffSpec>(src, v, path)?.agent;
                Ok(Some(Check::HandoffTo { tool: handoff_tool_name(&agent), agent }))
            }
            "turns" | "latency_ms" | "cost_usd" | "tokens" => {
                let s: MaxSpec = fields(src, v, path)?;
                if s.max.is_nan() || s.max < 0.0 {
                    return Err(src.error_at(&at("max"), "max must be a number ≥ 0"));
                }
                Ok(Some(match base {
                    "turns" => Check::Turns { max: s.max as u32 },
                    "latency_ms" => Check::Budget { what: Budget::LatencyMs, max: s.max },
                    "cost_usd" => Check::Budget { what: Budget::CostUsd, max: s.max },
                    _ => Check::Budget { what: Budget::Tokens, max: s.max },
                }))
            }
            "expected" => {
                let s: ExpectedSpec = fields(src, v, path)?;
                if !(0.0..=1.0).contains(&s.threshold) {
                    return Err(src.error_at(&at("threshold"), "threshold must be between 0 and 1"));
                }
                if s.metric == Metric::Cosine {
                    return Err(src.error_at(&at("metric"), "cosine needs an embeddings call: use text_similarity"));
                }
                Ok(Some(Check::Expected { threshold: s.threshold, metric: s.metric }))
            }
            _ => Ok(None),
        }
    }

    pub fn grade(&self, s: &Subject) -> Verdict {
        let text = s.output.text.as_str();
        match self {
            Check::Text { op, negate, what } => match text_op(op, what, text) {
                Ok((found, what)) => negatable(found, *negate, &what),
                Err(e) => Verdict::error(e),
            },
            Check::IsJson { negate } => {
                negatable(serde_json::from_str::<Value>(text).is_ok(), *negate, "output is valid JSON")
            }
            Check::ContainsJson { schema, negate } => {
                let objects = json_objects(text);
                let (found, what) = match schema {
                    None => (!objects.is_empty(), "output contains a JSON object"),
                    Some(v) => {
                        (objects.iter().any(|o| v.is_valid(o)), "output contains a JSON object matching the schema")
                    }
                };
                negatable(found, *negate, what)
            }
            Check::JsonSchema { schema, negate } => match serde_json::from_str::<Value>(text) {
                Err(e) if !negate => Verdict::check(false, format!("output is not JSON: {e}")),
                Err(_) => Verdict::check(true, "output is not JSON, so it does not match the schema"),
                Ok(v) => match schema.iter_errors(&v).next() {
                    None => negatable(true, *negate, "output matches the JSON schema"),
                    Some(e) => {
                        let at = e.instance_path().to_string();
                        let what = format!(
                            "output does not match the JSON schema at {}: {e}",
                            if at.is_empty() { "/" } else { &at }
                        );
                        Verdict::check(
                            *negate,
                            if *negate { "output does not match the JSON schema".into() } else { what },
                        )
                    }
                },
            },
            Check::JsonPath { raw, path, test, negate, what } => {
                let Ok(doc) = serde_json::from_str::<Value>(text) else {
                    return Verdict::check(*negate, "output is not JSON");
                };
                let Some(found) = walk(&doc, path) else {
                    return Verdict::check(*negate, format!("{raw} is absent"));
                };
                let ok = match test {
                    PathTest::Exists => true,
                    PathTest::Equals(want) => json_eq(found, want),
                    PathTest::Contains(c) => as_text(found).contains(c.as_str()),
                    PathTest::Matches(re) => match re.is_match(&as_text(found)) {
                        Ok(m) => m,
                        Err(e) => return Verdict::error(e),
                    },
                };
                let v = negatable(ok, *negate, what);
                if v.pass {
                    v
                } else {
                    Verdict { reason: format!("{} (got {})", v.reason, canonical_json(found)), ..v }
                }
            }
            Check::ToolCalled { tool, arguments, matching, count, with } => {
                tool_called(s, tool, arguments.as_ref(), *matching, *count, with)
            }
            Check::ToolNotCalled { tool, arguments, matching, what } => {
                let hits = s
                    .output
                    .tool_calls
                    .iter()
                    .filter(|c| c.name == *tool && args_match(&c.arguments, arguments.as_ref(), *matching))
                    .count();
                if hits == 0 {
                    Verdict::check(true, format!("{what} was not called"))
                } else {
                    Verdict::check(false, format!("{what} was called {hits} time(s)"))
                }
            }
            Check::ToolSequence { tools, mode } => {
                let made: Vec<&str> = s.output.tool_calls.iter().map(|c| c.name.as_str()).collect();
                let want: Vec<&str> = tools.iter().map(String::as_str).collect();
                let ok = match mode {
                    SeqMode::Ordered => made == want,
                    SeqMode::Unordered => {
                        let (mut a, mut b) = (made.clone(), want.clone());
                        a.sort_unstable();
                        b.sort_unstable();
                        a == b
                    }
                    SeqMode::Subsequence => {
                        let mut it = made.iter();
                        want.iter().all(|w| it.any(|m| m == w))
                    }
                };
                let mode = mode.name();
                Verdict::check(
                    ok,
                    format!(
                        "calls [{}] {} the {mode} sequence [{}]",
                        made.join(", "),
                        if ok { "match" } else { "do not match" },
                        want.join(", ")
                    ),
                )
            }
            Check::HandoffTo { agent, tool } => {
                let handed = s.output.agent.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(agent))
                    || s.output.tool_calls.iter().any(|c| c.name == *tool);
                let finale = s.output.agent.as_deref().unwrap_or("the entry agent");
                Verdict::check(
                    handed,
                    if handed {
                        format!("handed off to {agent}")
                    } else {
                        format!("no handoff to {agent} (answered by {finale})")
                    },
                )
            }
            Check::Turns { max } => Verdict::check(s.turns <= *max, format!("{} turn(s) (max {max})", s.turns)),
            Check::Refusal { negate } => negatable(REFUSAL.is_match(text), *negate, "output is a refusal"),
            Check::Budget { what, max } => {
                let (value, unit) = match what {
                    Budget::LatencyMs => (Some(s.latency_ms as f64), "latency ms"),
                    Budget::Tokens => (Some(s.usage.total() as f64), "tokens"),
                    Budget::CostUsd => (s.cost_usd, "cost USD"),
                };
                match value {
                    None => Verdict::check(false, format!("{unit} unknown (model not priced), budget {max}")),
                    Some(v) => Verdict::check(v <= *max, format!("{unit} {v} (max {max})")),
                }
            }
            Check::Expected { threshold, metric } => expected(s, *threshold, *metric),
        }
    }
}

/// A pass when `found` differs from `negate`, with the reason saying what was (not) found.
fn negatable(found: bool, negate: bool, what: &str) -> Verdict {
    let pass = found != negate;
    let reason = match (found, negate) {
        (true, false) => what.to_string(),
        (false, false) => format!("not: {what}"),
        (true, true) => format!("forbidden: {what}"),
        (false, true) => format!("as required, not: {what}"),
    };
    Verdict::check(pass, reason)
}

/// What a text check looks for, as its reasons say it.
fn describe(op: &TextOp) -> String {
    match op {
        TextOp::Equals(v, _) => format!("output equals {v:?}"),
        TextOp::Contains(v, _) => format!("output contains {v:?}"),
        TextOp::StartsWith(v, _) => format!("output starts with {v:?}"),
        TextOp::ContainsAny(vs, _) => format!("output contains one of {vs:?}"),
        TextOp::ContainsAll(vs, _) => format!("output contains all of {vs:?}"),
        TextOp::Regex(re) => format!("output matches /{}/", re.as_str()),
    }
}

/// Whether `text` passes the check, and the reason's subject: `what` (from [`describe`]) unless
/// the outcome names a value. An error when a backtracking regex gives up.
fn text_op<'a>(op: &TextOp, what: &'a str, text: &str) -> Result<(bool, Cow<'a, str>), String> {
    let ci = matches!(
        op,
        TextOp::Equals(_, true)
            | TextOp::Contains(_, true)
            | TextOp::ContainsAny(_, true)
            | TextOp::ContainsAll(_, true)
            | TextOp::StartsWith(_, true)
    );
    let lowered;
    let hay: &str = if ci {
        lowered = text.to_lowercase();
        &lowered
    } else {
        text
    };
    let found = match op {
        TextOp::Equals(v, _) => hay.trim() == v.trim(),
        TextOp::Contains(v, _) => hay.contains(v.as_str()),
        TextOp::StartsWith(v, _) => hay.trim_start().starts_with(v.as_str()),
        TextOp::ContainsAny(vs, _) => match vs.iter().find(|v| hay.contains(v.as_str())) {
            Some(h) => return Ok((true, format!("output contains {h:?}").into())),
            None => false,
        },
        TextOp::ContainsAll(vs, _) => {
            let missing: Vec<&String> = vs.iter().filter(|v| !hay.contains(v.as_str())).collect();
            if !missing.is_empty() {
                return Ok((false, format!("{what} (missing {missing:?})").into()));
            }
            true
        }
        TextOp::Regex(re) => re.is_match(text)?,
    };
    Ok((found, what.into()))
}

static REFUSAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(i\s*(?:am|'m)\s*(?:sorry|unable|not able)|i\s*(?:can(?:no|')t|cannot|won'?t|will not)\s+(?:help|assist|do|provide|comply|answer|share|fulfil)|(?:unable|not able) to (?:help|assist|comply)|as an ai\b)",
    )
    .expect("refusal pattern is valid")
});

/// Equal as JSON, numbers by value (`1` equals `1.0`) at any depth.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && y.iter().all(|(k, v)| x.get(k).is_some_and(|g| json_eq(g, v)))
        }
        _ => a == b,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    }
}

/// The JSON objects in `text` as promptfoo's `contains-json` finds them: from each `{`, the
/// object that starts there if one does, the scan going on after it.
fn json_objects(text: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(off) = text[at..].find('{') {
        let start = at + off;
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(v)) => {
                found.push(v);
                at = start + values.byte_offset();
            }
            _ => at = start + 1,
        }
    }
    found
}

/// `$.a.b[0]['c d']`: the subset of JSONPath that names one value.
pub fn parse_json_path(p: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| format!("bad JSON path {p:?}: {why}");
    let rest = p.trim().strip_prefix('$').ok_or_else(|| bad("it must start with `$`"))?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                if key.is_empty() || key == "*" {
                    return Err(bad("expected a key after `.`"));
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                let inner = inner.trim();
                if let Some(q) = inner.strip_prefix(['\'', '"']).and_then(|s| s.strip_suffix(['\'', '"'])) {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(
                        inner.parse().map_err(|_| bad("an index must be a number or a quoted key"))?,
                    ));
                }
            }
            _ => return Err(bad(&format!("unexpected {c:?}"))),
        }
    }
    Ok(steps)
}

fn walk<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(*i),
    })
}

fn args_match(arguments: &str, want: Option<&Map<String, Value>>, how: ArgMatch) -> bool {
    let Some(want) = want else { return true };
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(got)) if how == ArgMatch::Exact => json_eq(&Value::Object(got), &Value::Object(want.clone())),
        Ok(Value::Object(got)) => includes(&got, want, how == ArgMatch::Subset),
        _ => false,
    }
}

/// Whether `got` has every key of `want` with a value that includes the wanted one.
fn includes(got: &Map<String, Value>, want: &Map<String, Value>, array_subset: bool) -> bool {
    want.iter().all(|(k, w)| got.get(k).is_some_and(|g| value_includes(g, w, array_subset)))
}

fn value_includes(got: &Value, want: &Value, array_subset: bool) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => includes(g, w, array_subset),
        (Value::Array(g), Value::Array(w)) if array_subset => {
            // Each wanted element needs its own element of the call's array: a matching of the
            // wanted elements into the call's (augmenting paths; arguments are small).
            let fits: Vec<Vec<usize>> =
                w.iter().map(|w| (0..g.len()).filter(|&j| value_includes(&g[j], w, true)).collect()).collect();
            let mut owner: Vec<Option<usize>> = vec![None; g.len()];
            (0..w.len()).all(|i| augment(i, &fits, &mut owner, &mut vec![false; g.len()]))
        }
        _ => json_eq(got, want),
    }
}

/// Find a call element for wanted element `i`, moving earlier assignments where needed.
fn augment(i: usize, fits: &[Vec<usize>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for &j in &fits[i] {
        if !seen[j] {
            seen[j] = true;
            if owner[j].is_none_or(|k| augment(k, fits, owner, seen)) {
                owner[j] = Some(i);
                return true;
            }
        }
    }
    false
}

/// A grader's arguments as its reasons show them.
fn shown_arguments(want: &Map<String, Value>) -> String {
    canonical_json(&Value::Object(want.clone()))
}

fn tool_called(
    s: &Subject,
    name: &str,
    want: Option<&Map<String, Value>>,
    how: ArgMatch,
    count: Option<usize>,
    with: &str,
) -> Verdict {
    let calls = || s.output.tool_calls.iter().filter(|c| c.name == name);
    if calls().next().is_none() {
        let made: Vec<&str> = s.output.tool_calls.iter().map(|c| c.name.as_str()).collect();
        let made = if made.is_empty() { "none".to_string() } else { made.join(", ") };
        return Verdict::check(false, format!("{name} was not called (calls: {made})"));
    }
    let hits = calls().filter(|c| args_match(&c.arguments, want, how)).count();
    match count {
        Some(n) => Verdict::check(hits == n, format!("{name} was called{with} {hits} time(s) (expected {n})")),
        None if hits > 0 => Verdict::check(true, format!("{name} was called{with}")),
        None => Verdict::check(
            false,
            format!(
                "{name} was called, but never{with} (got {})",
                calls().map(|c| c.arguments.as_str()).collect::<Vec<_>>().join("; ")
            ),
        ),
    }
}

/// The case's own expectations: must-contain texts, required and forbidden tools, and
/// similarity to the reference answer. The score is the share of checks met.
/// The case's `expected` block against the output: each expectation met counts.
pub(crate) fn expected(s: &Subject, threshold: f64, metric: Metric) -> Verdict {
    let e = &s.case.expected;
    // Lower-cased only when there is something to look for.
    let text =
        if e.contains.is_empty() && e.not_contains.is_empty() { String::new() } else { s.output.text.to_lowercase() };
    let called = |t: &str| s.output.tool_calls.iter().any(|c| c.name == t);
    let mut total = 0usize;
    let mut failed: Vec<String> = Vec::new();
    for c in &e.contains {
        total += 1;
        if !text.contains(&c.to_lowercase()) {
            failed.push(format!("does not contain {c:?}"));
        }
    }
    for c in &e.not_contains {
        total += 1;
        if text.contains(&c.to_lowercase()) {
            failed.push(format!("contains {c:?}, which it must not"));
        }
    }
    for t in &e.tools_required {
        total += 1;
        if !called(t) {
            failed.push(format!("{t} was not called"));
        }
    }
    for t in &e.tools_forbidden {
        total += 1;
        if called(t) {
            failed.push(format!("forbidden {t} was called"));
        }
    }
    let mut sim_note = String::new();
    if let Some(r) = &e.reference {
        total += 1;
        let score = similarity::score(metric, &s.output.text, r);
        sim_note = format!("; similarity to the reference {score:.3}");
        if score + 1e-9 < threshold {
            failed.push(format!("similarity to the reference {score:.3} < {threshold}"));
        }
    }
    if total == 0 {
        return Verdict::check(true, "the case has no expectations");
    }
    let met = total - failed.len();
    let score = met as f64 / total as f64;
    if failed.is_empty() {
        Verdict::new(score, true, format!("all {total} expectations met{sim_note}"))
    } else {
        Verdict::new(score, false, format!("{met}/{total} expectations met: {}", failed.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{case, grade, grade_with, grader, output};
    use crate::dataset::Expected;

    #[test]
    fn text_checks_and_negation() {
        assert!(grade("{type: contains, value: Paris}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: contains, value: paris}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: contains, value: paris, ignore_case: true}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: icontains, value: PARIS}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: not_contains, value: Paris}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: contains, value: Paris, negate: true}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: equals, value: 'Sunny in Paris'}", "Sunny in Paris\n", &[]).pass);
        assert!(!grade("{type: not_equals, value: 'Sunny in Paris'}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: regex, pattern: '\\d+C'}", "21C", &[]).pass);
        assert!(!grade("{type: not_regex, pattern: '\\d+C'}", "21C", &[]).pass);
        assert!(grade("{type: regex, pattern: 'SUNNY', ignore_case: true}", "sunny", &[]).pass);
        assert!(grade("{type: starts_with, value: Sunny}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: starts_with, value: Paris}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: contains_any, values: [Rome, Paris]}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: contains_any, values: [Rome, Oslo]}", "Sunny in Paris", &[]).pass);
        let v = grade("{type: contains_all, values: [Sunny, Rome]}", "Sunny in Paris", &[]);
        assert!(!v.pass && v.reason.contains("missing [\"Rome\"]"), "{}", v.reason);
        assert!(grade("{type: not_contains_any, values: [Rome, Oslo]}", "Sunny in Paris", &[]).pass);
    }

    #[test]
    fn json_checks() {
        assert!(grade("{type: is_json}", r#"{"a": 1}"#, &[]).pass);
        assert!(!grade("{type: is_json}", "nope", &[]).pass);
        assert!(grade("{type: not_is_json}", "nope", &[]).pass);
        let schema =
            "{type: json_schema, schema: {type: object, required: [city], properties: {city: {type: string}}}}";
        assert!(grade(schema, r#"{"city": "Paris"}"#, &[]).pass);
        let v = grade(schema, r#"{"city": 3}"#, &[]);
        assert!(!v.pass && v.reason.contains("/city"), "{}", v.reason);
        assert!(!grade(schema, "not json", &[]).pass);
        let doc = r#"{"weather": {"city": "Paris", "temps": [21, 23]}}"#;
        assert!(grade("{type: json_path, path: $.weather.city, equals: Paris}", doc, &[]).pass);
        assert!(grade("{type: json_path, path: '$.weather.temps[1]', equals: 23}", doc, &[]).pass);
        assert!(grade("{type: json_path, path: \"$['weather']['city']\", contains: Par}", doc, &[]).pass);
        assert!(grade("{type: json_path, path: $.weather.city, matches: '^P'}", doc, &[]).pass);
        let v = grade("{type: json_path, path: $.weather.city, equals: Rome}", doc, &[]);
        assert!(!v.pass && v.reason.contains("got \"Paris\""), "{}", v.reason);
        assert!(!grade("{type: json_path, path: $.weather.wind}", doc, &[]).pass);
        assert!(grade("{type: json_path, path: $.weather.wind, negate: true}", doc, &[]).pass);
    }

    #[test]
    fn json_misconfiguration_is_located() {
        let err = grader("graders:\n  - type: json_schema\n    schema: {type: 12}\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:3:13: graders[0].schema: invalid JSON schema"), "{err}");
        let err = grader("graders:\n  - type: json_path\n    path: weather.city\n").unwrap_err().to_string();
        assert!(err.starts_with("s.yaml:3:11: graders[0].path: bad JSON path"), "{err}");
    }

    #[test]
    fn tool_checks() {
        let calls = [
            ("get_weather", r#"{"city": "Paris", "unit": "C"}"#),
            ("book", "{}"),
            ("get_weather", r#"{"city": "Rome"}"#),
        ];
        assert!(grade("{type: tool_called, tool: get_weather}", "", &calls).pass);
        assert!(grade("{type: tool_called, tool: get_weather, arguments: {city: Paris}}", "", &calls).pass);
        assert!(
            !grade("{type: tool_called, tool: get_weather, arguments: {city: Paris}, exact: true}", "", &calls).pass
        );
        assert!(grade("{type: tool_called, tool: get_weather, arguments: {city: Rome}, exact: true}", "", &calls).pass);
        assert!(grade("{type: tool_called, tool: get_weather, count: 2}", "", &calls).pass);
        let v = grade("{type: tool_called, tool: get_weather, count: 1}", "", &calls);
        assert!(!v.pass && v.reason.contains("2 time(s) (expected 1)"), "{}", v.reason);
        let v = grade("{type: tool_called, tool: get_weather, arguments: {city: Oslo}}", "", &calls);
        assert!(!v.pass && v.reason.contains("never with {\"city\":\"Oslo\"}"), "{}", v.reason);
        assert!(!grade("{type: tool_not_called, tool: book}", "", &calls).pass);
        assert!(grade("{type: tool_not_called, tool: cancel}", "", &calls).pass);
        assert!(grade("{type: tool_not_called, tool: get_weather, arguments: {city: Oslo}}", "", &calls).pass);
        let seq = |mode: &str, tools: &str| {
            grade(&format!("{{type: tool_sequence, mode: {mode}, tools: {tools}}}"), "", &calls).pass
        };
        assert!(seq("ordered", "[get_weather, book, get_weather]"));
        assert!(!seq("ordered", "[book, get_weather, get_weather]"));
        assert!(seq("unordered", "[book, get_weather, get_weather]"));
        assert!(!seq("unordered", "[book, get_weather]"));
        assert!(seq("subsequence", "[get_weather, get_weather]"));
        assert!(!seq("subsequence", "[book, book]"));
    }

    #[test]
    fn nested_arguments_match_by_subset() {
        let calls = [("search", r#"{"filter": {"city": "Paris", "unit": "C"}, "tags": ["a", "b", "c"], "n": 1.0}"#)];
        let called = |args: &str| grade(&format!("{{type: tool_called, tool: search, {args}}}"), "", &calls);
        assert!(called("arguments: {filter: {city: Paris}}").pass);
        assert!(!called("arguments: {filter: {city: Rome}}").pass);
        assert!(!called("arguments: {filter: {town: Paris}}").pass);
        assert!(called("arguments: {n: 1}").pass, "numbers compare by value");
        // Arrays are compared whole unless `match: subset`.
        assert!(!called("arguments: {tags: [c, a]}").pass);
        assert!(called("arguments: {tags: [a, b, c]}").pass);
        let v = called("arguments: {tags: [c, a]}, match: subset");
        assert!(v.pass && v.reason.contains("with a subset of"), "{v:?}");
        assert!(!called("arguments: {tags: [a, a]}, match: subset").pass, "each element once");
        assert!(!called("arguments: {tags: [d]}, match: subset").pass);
        // Exact: the whole arguments object.
        assert!(!called("arguments: {filter: {city: Paris}}, match: exact").pass);
        let all = "{filter: {city: Paris, unit: C}, tags: [a, b, c], n: 1}";
        assert!(called(&format!("arguments: {all}, match: exact")).pass);
        assert!(called(&format!("arguments: {all}, exact: true")).pass);
        // Subset matching of objects inside arrays needs a real assignment, not first-fit.
        let calls = [("book", r#"{"rooms": [{"beds": 2, "view": "sea"}, {"beds": 2}]}"#)];
        let d = "{type: tool_called, tool: book, arguments: {rooms: [{beds: 2}, {view: sea}]}, match: subset}";
        assert!(grade(d, "", &calls).pass);
        let d = "{type: tool_not_called, tool: book, arguments: {rooms: [{view: sea}]}, match: subset}";
        assert!(!grade(d, "", &calls).pass);
        let err = grader("{type: tool_called, tool: x, match: subset}").unwrap_err().to_string();
        assert!(err.contains("graders[0].match: match needs `arguments`"), "{err}");
        let err =
            grader("{type: tool_called, tool: x, arguments: {}, exact: true, match: keys}").unwrap_err().to_string();
        assert!(err.contains("graders[0].exact: exact: true contradicts `match`"), "{err}");
    }

    #[test]
    fn regexes_as_pcre_and_javascript_write_them() {
        let re = |p: &str, text: &str| {
            let v = grade(&format!("{{type: regex, pattern: {}}}", serde_json::to_string(p).unwrap()), text, &[]);
            assert!(!v.error, "{v:?}");
            v.pass
        };
        // Lookahead, lookbehind, negative forms and backreferences, as promptfoo configs use them.
        assert!(re(r"^(?=.*\bParis\b)(?=.*\d+°)", "Paris: 21° and sunny"));
        assert!(!re(r"^(?=.*\bParis\b)(?=.*\d+°)", "Paris: sunny"));
        assert!(re(r"(?<=\$)\d+", "costs $42"));
        assert!(!re(r"(?<=\$)\d+", "costs 42"));
        assert!(re(r"^(?!.*sorry).*$", "Here it is"));
        assert!(!re(r"^(?!.*sorry).*$", "I am sorry"));
        assert!(re(r"\b(\w+) \1\b", "it is is here"));
        assert!(!re(r"\b(\w+) \1\b", "it is here"));
        // Inline flags, with either engine.
        assert!(re("(?i)paris", "PARIS"));
        assert!(re("(?i)(?<!not )paris", "PARIS"));
        assert!(!re("(?i)(?<!not )paris", "not PARIS"));
        assert!(grade("{type: regex, pattern: '(?<=x)PARIS', ignore_case: true}", "xparis", &[]).pass);
        assert!(grade("{type: not_regex, pattern: '(\\w)\\1'}", "abc", &[]).pass);
        // A pattern that cannot compile names where, whichever engine would have run it.
        let err = grader("{type: regex, pattern: 'ab(cd'}").unwrap_err().to_string();
        assert!(err.contains("graders[0].pattern: bad regex at character 3 of /ab(cd/: unclosed group"), "{err}");
        let err = grader("{type: regex, pattern: '(?<=a)b[z-a]'}").unwrap_err().to_string();
        assert!(err.contains("graders[0].pattern: bad regex at character 9 of"), "{err}");
        let err = grader("{type: regex, pattern: '(a)\\1(?=b'}").unwrap_err().to_string();
        assert!(err.contains("bad regex at character 6 of /(a)\\1(?=b/"), "{err}");
        let err = grader("{type: regex, pattern: '(a)\\2'}").unwrap_err().to_string();
        assert!(err.contains("bad regex at character 4 of /(a)\\2/: group 2 does not exist"), "{err}");
        let err = grader("{type: json_path, path: $.a, matches: '(?<=a+'}").unwrap_err().to_string();
        assert!(err.contains("graders[0].matches: bad regex"), "{err}");
    }

    /// Assertions as promptfoo configs write them, and the pass/fail promptfoo gives on each
    /// output by its handlers (src/assertions/{contains,equals,startsWith,regex,json}.ts and
    /// src/util/json.ts of promptfoo/promptfoo): `includes`, `===`, `startsWith`,
    /// `new RegExp(v).test`, `JSON.parse`, and for contains-json the first object parsed
    /// from each `{`.
    #[test]
    fn promptfoo_parity() {
        let outputs = [
            "Paris",
            "The capital is Paris.",
            "paris, france",
            "{\"city\": \"Paris\"}",
            "Here you go: {\"city\": \"Paris\", \"n\": [1, 2]} and {bad} end",
            "[1, 2, 3]",
            "{\"unclosed\": {\"inner\": true}",
            "",
        ];
        // (assertion, what promptfoo answers for each output above)
        let table: &[(&str, [bool; 8])] = &[
            ("{type: equals, value: Paris}", [true, false, false, false, false, false, false, false]),
            ("{type: not-equals, value: Paris}", [false, true, true, true, true, true, true, true]),
            ("{type: contains, value: Paris}", [true, true, false, true, true, false, false, false]),
            ("{type: not-contains, value: Paris}", [false, false, true, false, false, true, true, true]),
            ("{type: icontains, value: PARIS}", [true, true, true, true, true, false, false, false]),
            ("{type: not-icontains, value: PARIS}", [false, false, false, false, false, true, true, true]),
            ("{type: contains-any, value: [Paris, france]}", [true, true, true, true, true, false, false, false]),
            ("{type: not-contains-any, value: [Paris, france]}", [false, false, false, false, false, true, true, true]),
            ("{type: contains-all, value: [city, Paris]}", [false, false, false, true, true, false, false, false]),
            ("{type: not-contains-all, value: [city, Paris]}", [true, true, true, false, false, true, true, true]),
            ("{type: starts-with, value: The}", [false, true, false, false, false, false, false, false]),
            ("{type: not-starts-with, value: The}", [true, false, true, true, true, true, true, true]),
            ("{type: regex, value: '^[A-Z]\\w+'}", [true, true, false, false, true, false, false, false]),
            ("{type: not-regex, value: '(?<=\"city\": \")P'}", [true, true, true, false, false, true, true, true]),
            ("{type: regex, value: '(\\d), (?!\\1)\\d'}", [false, false, false, false, true, true, false, false]),
            ("{type: is-json}", [false, false, false, true, false, true, false, false]),
            ("{type: not-is-json}", [true, true, true, false, true, false, true, true]),
            ("{type: contains-json}", [false, false, false, true, true, false, true, false]),
            ("{type: not-contains-json}", [true, true, true, false, false, true, false, true]),
        ];
        for (def, want) in table {
            for (out, want) in outputs.iter().zip(want) {
                let v = grade(def, out, &[]);
                assert!(!v.error, "{def} on {out:?}: {v:?}");
                assert_eq!(v.pass, *want, "{def} on {out:?}: {}", v.reason);
            }
        }
        // The differences the README lists: evals trims before `equals` and `starts_with`
        // (model answers end with a newline), where promptfoo compares as is.
        assert!(grade("{type: equals, value: Paris}", "Paris\n", &[]).pass);
        assert!(grade("{type: starts-with, value: Paris}", "  Paris", &[]).pass);
    }

    #[test]
    fn contains_json_with_a_schema() {
        let def = "{type: contains_json, schema: {type: object, required: [city], properties: {city: {type: string}}}}";
        let g = grade(def, r#"first {"n": 1} then {"city": "Paris"}"#, &[]);
        assert!(g.pass, "{g:?}");
        assert!(!grade(def, r#"only {"city": 3}"#, &[]).pass);
        assert!(!grade(def, "no JSON here", &[]).pass);
        let not = def.replace("contains_json", "not_contains_json");
        assert!(grade(&not, r#"only {"city": 3}"#, &[]).pass);
        assert!(!grade(&not, r#"{"city": "Rome"}"#, &[]).pass);
        let err = grader("{type: contains_json, schema: {type: objekt}}").unwrap_err().to_string();
        assert!(err.contains("graders[0].schema: invalid JSON schema"), "{err}");
    }

    #[test]
    fn handoff_turns_refusal_budgets() {
        let mut out = output("hi", &[("transfer_to_weather_expert", "{}")]);
        let c = case("x");
        assert!(grade_with("{type: handoff_to, agent: Weather expert}", &c, &out).pass);
        out.tool_calls.clear();
        assert!(!grade_with("{type: handoff_to, agent: Weather expert}", &c, &out).pass);
        out.agent = Some("Weather expert".into());
        assert!(grade_with("{type: handoff_to, agent: Weather expert}", &c, &out).pass);
        // The tool name is the one replay gives the agent (the SDK keeps ASCII letters only).
        let accented = output("hi", &[("transfer_to_m_t_o", "{}")]);
        assert!(grade_with("{type: handoff_to, agent: Météo}", &c, &accented).pass);
        // The test subject has 2 turns, 1500 ms, 120 tokens, $0.002.
        assert!(grade("{type: turns, max: 2}", "", &[]).pass);
        assert!(!grade("{type: turns, max: 1}", "", &[]).pass);
        assert!(!grade("{type: latency_ms, max: 1000}", "", &[]).pass);
        assert!(grade("{type: latency_ms, max: 1500}", "", &[]).pass);
        assert!(grade("{type: tokens, max: 120}", "", &[]).pass);
        assert!(!grade("{type: tokens, max: 119}", "", &[]).pass);
        assert!(grade("{type: cost_usd, max: 0.01}", "", &[]).pass);
        assert!(!grade("{type: cost_usd, max: 0.001}", "", &[]).pass);
        assert!(grade("{type: refusal}", "I'm sorry, but I can't help with that.", &[]).pass);
        assert!(grade("{type: refusal}", "I cannot assist with this request.", &[]).pass);
        assert!(!grade("{type: refusal}", "It is sunny in Paris.", &[]).pass);
        assert!(grade("{type: not_refusal}", "It is sunny in Paris.", &[]).pass);
    }

    #[test]
    fn expected_block_of_the_case() {
        let mut c = case("x");
        c.expected = Expected {
            reference: Some("It is sunny in Paris".into()),
            contains: vec!["paris".into()],
            tools_required: vec!["get_weather".into()],
            tools_forbidden: vec!["book".into()],
            not_contains: vec!["rome".into()],
        };
        let v = grade_with("{type: expected}", &c, &output("It is sunny in Paris!", &[("get_weather", "{}")]));
        assert!(v.pass && v.score == 1.0, "{v:?}");
        let v = grade_with("{type: expected}", &c, &output("Rain in Rome", &[("book", "{}")]));
        assert!(!v.pass, "{v:?}");
        assert_eq!(v.score, 0.0);
        assert!(v.reason.contains("get_weather was not called") && v.reason.contains("forbidden book"), "{}", v.reason);
        assert!(v.reason.contains("contains \"rome\", which it must not"), "{}", v.reason);
        let v = grade_with("{type: expected}", &c, &output("It is sunny in Paris!", &[]));
        assert_eq!(v.score, 0.8);
        assert!(grade_with("{type: expected}", &case("x"), &output("", &[])).pass);
    }
}
