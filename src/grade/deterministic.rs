//! Deterministic graders: pure functions of the output text, the tool calls, the run's figures
//! (turns, latency, cost, tokens) and the case's `expected` block.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use regex::{Regex, RegexBuilder};
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
        exact: bool,
        count: Option<usize>,
        /// ` with {"city":"Paris"}` for reasons, or empty; spelt once at load.
        with: String,
    },
    ToolNotCalled {
        tool: String,
        arguments: Option<Map<String, Value>>,
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
    Regex(Regex),
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
    Matches(Regex),
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
    values: Vec<String>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexSpec {
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
    #[serde(default)]
    exact: bool,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolNotSpec {
    tool: String,
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
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
                let re = RegexBuilder::new(&s.pattern)
                    .case_insensitive(s.ignore_case)
                    .build()
                    .map_err(|e| src.error_at(&at("pattern"), format!("bad regex: {e}")))?;
                text(TextOp::Regex(re), s.negate)
            }
            "is_json" => Ok(Some(Check::IsJson { negate: fields::<NegateSpec>(src, v, path)?.negate != not })),
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
                    (None, None, Some(m)) => PathTest::Matches(
                        Regex::new(&m).map_err(|e| src.error_at(&at("matches"), format!("bad regex: {e}")))?,
                    ),
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
                if s.exact && s.arguments.is_none() {
                    return Err(src.error_at(&at("exact"), "exact needs `arguments` to compare with"));
                }
                let with = s
                    .arguments
                    .as_ref()
                    .map(|w| format!(" {} {}", if s.exact { "with exactly" } else { "with" }, shown_arguments(w)))
                    .unwrap_or_default();
                Ok(Some(Check::ToolCalled {
                    tool: s.tool,
                    arguments: s.arguments,
                    exact: s.exact,
                    count: s.count,
                    with,
                }))
            }
            "tool_not_called" => {
                let s: ToolNotSpec = fields(src, v, path)?;
                let what = match &s.arguments {
                    Some(a) => format!("{} with {}", s.tool, shown_arguments(a)),
                    None => s.tool.clone(),
                };
                Ok(Some(Check::ToolNotCalled { tool: s.tool, arguments: s.arguments, what }))
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
            Check::Text { op, negate, what } => {
                let (found, what) = text_op(op, what, text);
                negatable(found, *negate, &what)
            }
            Check::IsJson { negate } => {
                negatable(serde_json::from_str::<Value>(text).is_ok(), *negate, "output is valid JSON")
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
                    PathTest::Matches(re) => re.is_match(&as_text(found)),
                };
                let v = negatable(ok, *negate, what);
                if v.pass {
                    v
                } else {
                    Verdict { reason: format!("{} (got {})", v.reason, canonical_json(found)), ..v }
                }
            }
            Check::ToolCalled { tool, arguments, exact, count, with } => {
                tool_called(s, tool, arguments.as_ref(), *exact, *count, with)
            }
            Check::ToolNotCalled { tool, arguments, what } => {
                let hits = s
                    .output
                    .tool_calls
                    .iter()
                    .filter(|c| c.name == *tool && args_match(&c.arguments, arguments.as_ref(), false))
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
/// the outcome names a value.
fn text_op<'a>(op: &TextOp, what: &'a str, text: &str) -> (bool, Cow<'a, str>) {
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
            Some(h) => return (true, format!("output contains {h:?}").into()),
            None => false,
        },
        TextOp::ContainsAll(vs, _) => {
            let missing: Vec<&String> = vs.iter().filter(|v| !hay.contains(v.as_str())).collect();
            if !missing.is_empty() {
                return (false, format!("{what} (missing {missing:?})").into());
            }
            true
        }
        TextOp::Regex(re) => re.is_match(text),
    };
    (found, what.into())
}

static REFUSAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(i\s*(?:am|'m)\s*(?:sorry|unable|not able)|i\s*(?:can(?:no|')t|cannot|won'?t|will not)\s+(?:help|assist|do|provide|comply|answer|share|fulfil)|(?:unable|not able) to (?:help|assist|comply)|as an ai\b)",
    )
    .expect("refusal pattern is valid")
});

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    }
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

fn args_match(arguments: &str, want: Option<&Map<String, Value>>, exact: bool) -> bool {
    let Some(want) = want else { return true };
    let args: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
    match &args {
        Value::Object(got) if exact => {
            got.len() == want.len() && want.iter().all(|(k, v)| got.get(k).is_some_and(|g| json_eq(g, v)))
        }
        Value::Object(got) => want.iter().all(|(k, v)| got.get(k).is_some_and(|g| json_eq(g, v))),
        _ => false,
    }
}

/// A grader's arguments as its reasons show them.
fn shown_arguments(want: &Map<String, Value>) -> String {
    canonical_json(&Value::Object(want.clone()))
}

fn tool_called(
    s: &Subject,
    name: &str,
    want: Option<&Map<String, Value>>,
    exact: bool,
    count: Option<usize>,
    with: &str,
) -> Verdict {
    let calls = || s.output.tool_calls.iter().filter(|c| c.name == name);
    if calls().next().is_none() {
        let made: Vec<&str> = s.output.tool_calls.iter().map(|c| c.name.as_str()).collect();
        let made = if made.is_empty() { "none".to_string() } else { made.join(", ") };
        return Verdict::check(false, format!("{name} was not called (calls: {made})"));
    }
    let hits = calls().filter(|c| args_match(&c.arguments, want, exact)).count();
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
