//! A scripted Responses API for tests, demos and offline runs: YAML rules match the request's
//! last user text or tool output and answer with text or function calls, deterministically.

mod clock;
pub mod server;

use std::path::Path;

use minijinja::Environment;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::template;
use crate::trace::items::{self, function_calls, function_outputs, input_items};
use crate::yaml::{self, Source, YamlError};

/// The built-in script: the conventions of the fake server the fixtures were captured with.
pub const BUILTIN_SCRIPT: &str = include_str!("default.yaml");

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot read mock script {path}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Yaml(#[from] YamlError),
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default)]
    latency_ms: u64,
    /// Draw every `rate` from this seed and the request (its body and how many times that body
    /// came before), so a noisy script answers a run the same way each time, in any order.
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    rules: Vec<RuleFile>,
    #[serde(default)]
    default: Option<RuleFile>,
    #[serde(default)]
    faults: Vec<FaultFile>,
}

/// The JSON Schema of mock scripts.
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(ScriptFile)
}

/// A fault to inject instead of (or before) the scripted answer: by rate, by rule, or both.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct FaultFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    when: WhenFile,
    /// Share of matching requests that get the fault (default: all).
    #[serde(default)]
    rate: Option<f64>,
    /// Only the first N attempts of each distinct request body (so a retry gets through).
    #[serde(default)]
    first: Option<u32>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    retry_after: Option<f64>,
    #[serde(default)]
    retry_after_ms: Option<u64>,
    /// Answer normally, but only after this long (past the client's timeout).
    #[serde(default)]
    slow_ms: Option<u64>,
    /// Answer 200 with a body cut off mid-JSON.
    #[serde(default)]
    malformed: bool,
    /// Close the connection in the middle of the answer.
    #[serde(default)]
    drop: bool,
    /// Answer 200 with a response whose `status` is `failed` (error `code`, default
    /// `server_error`) or `incomplete` (`reason`, default `max_output_tokens`).
    #[serde(default)]
    response_status: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// Extra response headers (e.g. `x-ratelimit-remaining-requests`).
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    Status {
        status: u16,
        code: String,
    },
    Slow(u64),
    Malformed,
    Drop,
    /// A well-formed 200 the client cannot use: `status: failed` with this error code.
    Failed(String),
    /// A well-formed 200 cut short: `status: incomplete` for this reason.
    Incomplete(String),
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub name: String,
    when: Vec<(Field, Regex)>,
    rate: f64,
    first: Option<u32>,
    pub kind: FaultKind,
    /// Headers sent with the fault: `retry-after`, `retry-after-ms` and any the script adds.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    when: WhenFile,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    call: Option<CallFile>,
    #[serde(default)]
    calls: Vec<CallFile>,
    #[serde(default)]
    latency_ms: Option<u64>,
    /// Share of matching requests this rule answers (the others go on to the next rule), to
    /// play a model that does not always say the same thing.
    #[serde(default)]
    rate: Option<f64>,
}

/// Regexes over the request; all given must match.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct WhenFile {
    /// The last input item is a user message whose text matches.
    user: Option<String>,
    /// The last input item is a tool output whose text matches.
    tool_output: Option<String>,
    /// The last input item is the output of this tool.
    tool: Option<String>,
    instructions: Option<String>,
    model: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CallFile {
    name: String,
    /// A template giving JSON text, or a mapping whose string values are templates.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    arguments: Option<yaml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    User,
    ToolOutput,
    Tool,
    Instructions,
    Model,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    when: Vec<(Field, Regex)>,
    text: Option<String>,
    calls: Vec<(String, Value)>,
    latency_ms: Option<u64>,
    rate: f64,
}

/// A loaded, validated script.
#[derive(Debug, Clone)]
pub struct Script {
    pub latency_ms: u64,
    seed: Option<u64>,
    rules: Vec<Rule>,
    default: Option<Rule>,
    faults: Vec<Fault>,
}

/// One request as it arrived: a hash of its body and which arrival of that body it is (from 1).
/// Only kept when the script needs it ([`Script::counts_attempts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Arrival {
    pub body: u64,
    pub attempt: u32,
}

impl Default for Arrival {
    fn default() -> Arrival {
        Arrival { body: 0, attempt: 1 }
    }
}

/// What the mock answers to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response { body: Value, latency_ms: u64 },
    NoRule(String),
}

impl Script {
    pub fn builtin() -> Script {
        Script::parse(&Source::new("<built-in mock script>", BUILTIN_SCRIPT)).expect("built-in script is valid")
    }

    pub fn load(path: &Path) -> Result<Script, MockError> {
        let src = Source::read(path).map_err(|source| MockError::Read { path: path.display().to_string(), source })?;
        Ok(Script::parse(&src)?)
    }

    pub fn parse(src: &Source) -> Result<Script, YamlError> {
        let file: ScriptFile = src.parse()?;
        let env = template::inline();
        let rules = file
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| compile(src, env, &format!("rules[{i}]"), r, format!("rule {}", i + 1)))
            .collect::<Result<_, _>>()?;
        let default = match &file.default {
            Some(d)
                if d.when.user.is_some()
                    || d.when.tool_output.is_some()
                    || d.when.tool.is_some()
                    || d.when.instructions.is_some()
                    || d.when.model.is_some() =>
            {
                return Err(src.error_at("default.when", "the default reply cannot have `when`"));
            }
            Some(d) => Some(compile(src, env, "default", d, "default".into())?),
            None => None,
        };
        let faults = file
            .faults
            .iter()
            .enumerate()
            .map(|(i, f)| compile_fault(src, &format!("faults[{i}]"), f, format!("fault {}", i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(Script { latency_ms: file.latency_ms, seed: file.seed, rules, default, faults })
    }

    /// The fault to inject into this request, if any.
    pub fn fault(&self, request: &Value, arrival: Arrival) -> Option<&Fault> {
        if self.faults.is_empty() {
            return None;
        }
        let ctx = Context::of(request);
        self.faults.iter().enumerate().find_map(|(i, f)| {
            (f.first.is_none_or(|n| arrival.attempt <= n)
                && ctx.matches_when(&f.when).is_some()
                && self.chance(f.rate, arrival, usize::MAX - i))
            .then_some(f)
        })
    }

    /// Whether answers depend on how many times a body came (faults on the first N attempts, or
    /// seeded rates): the server then counts arrivals per body.
    pub fn counts_attempts(&self) -> bool {
        self.seed.is_some() || self.faults.iter().any(|f| f.first.is_some())
    }

    /// Whether a rule or fault of this `rate` applies to this arrival; `which` tells the draws
    /// of different rules apart.
    fn chance(&self, rate: f64, arrival: Arrival, which: usize) -> bool {
        if rate >= 1.0 {
            return true;
        }
        let draw = match self.seed {
            None => fastrand::f64(),
            Some(seed) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::hash::DefaultHasher::new();
                (seed, arrival, which).hash(&mut h);
                // The top 53 bits as a fraction in [0, 1).
                (h.finish() >> 11) as f64 / (1u64 << 53) as f64
            }
        };
        draw < rate
    }

    /// Answer a Responses API request body.
    pub fn answer(&self, request: &Value, arrival: Arrival) -> Answer {
        let ctx = Context::of(request);
        let env = template::inline();
        for (i, rule) in self.rules.iter().chain(&self.default).enumerate() {
            let Some(captures) = ctx.matches(rule) else { continue };
            if !self.chance(rule.rate, arrival, i) {
                continue;
            }
            let mut vars = ctx.vars();
            vars.extend(captures);
            // One hash of the request names the response and its items alike.
            let seed = short_hash(&request.to_string());
            return match render_output(env, rule, &Value::Object(vars), &seed) {
                Ok(output) => Answer::Response {
                    body: response_body(request, &ctx, &seed, output),
                    latency_ms: rule.latency_ms.unwrap_or(self.latency_ms),
                },
                Err(e) => Answer::NoRule(format!("{} failed to render: {e}", rule.name)),
            };
        }
        Answer::NoRule(format!(
            "no mock rule matched (last input: {}); add a rule or a `default` to the mock script",
            ctx.describe_last()
        ))
    }
}

fn compile_when(src: &Source, path: &str, w: &WhenFile) -> Result<Vec<(Field, Regex)>, YamlError> {
    let mut when = Vec::new();
    for (field, key, pattern) in [
        (Field::User, "user", &w.user),
        (Field::ToolOutput, "tool_output", &w.tool_output),
        (Field::Tool, "tool", &w.tool),
        (Field::Instructions, "instructions", &w.instructions),
        (Field::Model, "model", &w.model),
    ] {
        if let Some(p) = pattern {
            let re =
                Regex::new(p).map_err(|e| src.error_at(&format!("{path}.when.{key}"), format!("bad regex: {e}")))?;
            when.push((field, re));
        }
    }
    Ok(when)
}

fn compile_fault(src: &Source, path: &str, f: &FaultFile, fallback: String) -> Result<Fault, YamlError> {
    let when = compile_when(src, path, &f.when)?;
    let kinds = [f.status.is_some(), f.slow_ms.is_some(), f.malformed, f.drop, f.response_status.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(src.error_at(
            path,
            "a fault needs exactly one of `status`, `slow_ms`, `malformed`, `drop`, `response_status`",
        ));
    }
    if f.reason.is_some() && f.response_status.as_deref() != Some("incomplete") {
        return Err(src.error_at(&format!("{path}.reason"), "`reason` goes with `response_status: incomplete`"));
    }
    let kind = match (f.status, f.slow_ms) {
        (Some(status), _) => {
            if !(400..=599).contains(&status) {
                return Err(src.error_at(&format!("{path}.status"), "status must be an HTTP error, 400 to 599"));
            }
            let code = f.code.clone().unwrap_or_else(|| {
                match status {
                    429 => "rate_limit_exceeded",
                    s if s >= 500 => "server_error",
                    _ => "invalid_request_error",
                }
                .into()
            });
            FaultKind::Status { status, code }
        }
        (None, Some(ms)) => FaultKind::Slow(ms),
        _ if f.malformed => FaultKind::Malformed,
        _ if f.response_status.is_some() => match f.response_status.as_deref() {
            Some("failed") => FaultKind::Failed(f.code.clone().unwrap_or_else(|| "server_error".into())),
            Some("incomplete") if f.code.is_some() => {
                return Err(
                    src.error_at(&format!("{path}.code"), "an incomplete response has a `reason`, not a `code`")
                );
            }
            Some("incomplete") => match f.reason.as_deref().unwrap_or("max_output_tokens") {
                r @ ("max_output_tokens" | "content_filter") => FaultKind::Incomplete(r.into()),
                other => {
                    return Err(src.error_at(
                        &format!("{path}.reason"),
                        format!("unknown reason {other:?}: use max_output_tokens or content_filter"),
                    ));
                }
            },
            other => {
                return Err(src.error_at(
                    &format!("{path}.response_status"),
                    format!("unknown response status {:?}: use failed or incomplete", other.unwrap_or_default()),
                ));
            }
        },
        _ => FaultKind::Drop,
    };
    let rate = f.rate.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&rate) {
        return Err(src.error_at(&format!("{path}.rate"), "rate must be between 0 and 1"));
    }
    let mut headers: Vec<(String, String)> = f.headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    if let Some(s) = f.retry_after {
        headers.push(("retry-after".into(), s.to_string()));
    }
    if let Some(ms) = f.retry_after_ms {
        headers.push(("retry-after-ms".into(), ms.to_string()));
    }
    for (k, v) in &headers {
        if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() || axum::http::HeaderValue::from_str(v).is_err() {
            return Err(src.error_at(&format!("{path}.headers"), format!("bad header {k}: {v}")));
        }
    }
    Ok(Fault { name: f.name.clone().unwrap_or(fallback), when, rate, first: f.first, kind, headers })
}

fn compile(src: &Source, env: &Environment, path: &str, r: &RuleFile, fallback: String) -> Result<Rule, YamlError> {
    let when = compile_when(src, path, &r.when)?;
    let check = |sub: &str, t: &str| {
        template::check(env, t)
            .map_err(|e| src.error_at(&format!("{path}.{sub}"), format!("bad template: {}", template::describe(&e))))
    };
    let mut calls = Vec::new();
    for (i, c) in r.call.iter().chain(&r.calls).enumerate() {
        let sub = if r.call.is_some() && i == 0 {
            "call".to_string()
        } else {
            format!("calls[{}]", i - r.call.is_some() as usize)
        };
        check(&format!("{sub}.name"), &c.name)?;
        let args = match &c.arguments {
            None => json!("{}"),
            Some(v) => yaml::to_json(v).map_err(|e| src.error_at(&format!("{sub}.arguments"), e.to_string()))?,
        };
        walk_strings(&args, &mut |s| check(&format!("{sub}.arguments"), s))?;
        calls.push((c.name.clone(), args));
    }
    if let Some(t) = &r.text {
        check("text", t)?;
    }
    if r.text.is_none() && calls.is_empty() {
        return Err(src.error_at(path, "a rule needs `text`, `call` or `calls`"));
    }
    let rate = r.rate.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&rate) {
        return Err(src.error_at(&format!("{path}.rate"), "rate must be between 0 and 1"));
    }
    Ok(Rule {
        name: r.name.clone().unwrap_or(fallback),
        when,
        text: r.text.clone(),
        calls,
        latency_ms: r.latency_ms,
        rate,
    })
}

fn walk_strings<E>(v: &Value, f: &mut impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().try_for_each(|x| walk_strings(x, f)),
        Value::Object(o) => o.values().try_for_each(|x| walk_strings(x, f)),
        _ => Ok(()),
    }
}

fn render_value(env: &Environment, v: &Value, vars: &Value) -> Result<Value, template::Error> {
    Ok(match v {
        Value::String(s) => Value::String(template::render(env, s, vars)?),
        Value::Array(a) => Value::Array(a.iter().map(|x| render_value(env, x, vars)).collect::<Result<_, _>>()?),
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                out.insert(k.clone(), render_value(env, x, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// What the rules look at in one request.
struct Context {
    model: String,
    instructions: String,
    /// Last user text anywhere in the input.
    user: String,
    last_is_user: bool,
    tool_output: Option<String>,
    tool: Option<String>,
    turn: usize,
}

impl Context {
    fn of(request: &Value) -> Context {
        let input = input_items(request.get("input").unwrap_or(&Value::Null));
        let last = input.last();
        let last_output = last.map(|l| function_outputs(std::slice::from_ref(l))).and_then(|mut o| o.pop());
        let tool = last_output.as_ref().and_then(|(call_id, _)| {
            function_calls(&input).into_iter().find(|c| &c.call_id == call_id).map(|c| c.name)
        });
        Context {
            model: request.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
            instructions: request.get("instructions").and_then(Value::as_str).unwrap_or_default().to_string(),
            user: items::last_user_text(&input).unwrap_or_default(),
            last_is_user: last.is_some_and(|l| items::role(l) == Some("user")),
            tool_output: last_output.map(|(_, o)| o),
            tool,
            turn: 1 + input
                .iter()
                .filter(|i| {
                    items::role(i) == Some("assistant")
                        || i.get("type").and_then(Value::as_str) == Some("function_call")
                })
                .count(),
        }
    }

    fn matches(&self, rule: &Rule) -> Option<Map<String, Value>> {
        self.matches_when(&rule.when)
    }

    fn matches_when(&self, when: &[(Field, Regex)]) -> Option<Map<String, Value>> {
        let mut caps = Map::new();
        for (field, re) in when {
            let text = match field {
                Field::User if self.last_is_user => self.user.as_str(),
                Field::ToolOutput | Field::Tool if self.tool_output.is_none() => return None,
                Field::ToolOutput => self.tool_output.as_deref().unwrap_or_default(),
                Field::Tool => self.tool.as_deref().unwrap_or_default(),
                Field::Instructions => self.instructions.as_str(),
                Field::Model => self.model.as_str(),
                Field::User => return None,
            };
            let c = re.captures(text)?;
            for name in re.capture_names().flatten() {
                if let Some(m) = c.name(name) {
                    caps.insert(name.to_string(), Value::String(m.as_str().to_string()));
                }
            }
        }
        Some(caps)
    }

    fn vars(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("model".into(), json!(self.model));
        m.insert("instructions".into(), json!(self.instructions));
        m.insert("user".into(), json!(self.user));
        m.insert("tool_output".into(), json!(self.tool_output.clone().unwrap_or_default()));
        m.insert("tool".into(), json!(self.tool.clone().unwrap_or_default()));
        m.insert("turn".into(), json!(self.turn));
        m
    }

    fn describe_last(&self) -> String {
        match (&self.tool_output, self.last_is_user) {
            (Some(o), _) => format!("tool output {:?}", truncate(o, 60)),
            (None, true) => format!("user message {:?}", truncate(&self.user, 60)),
            _ => "no user message or tool output".into(),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

/// Output items for a matched rule. Ids derive from a hash of the request, so the same request
/// always gets the same answer, whatever order a concurrent run sends requests in.
fn render_output(env: &Environment, rule: &Rule, vars: &Value, seed: &str) -> Result<Vec<Value>, template::Error> {
    let mut out = Vec::new();
    if let Some(t) = &rule.text {
        // `logprobs` as the real API sends it: CreateResponse requires it when the message is
        // sent back as input (a conversation resolved from stored responses).
        out.push(json!({
            "type": "message", "id": format!("msg_{seed}"), "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": template::render(env, t, vars)?, "annotations": [], "logprobs": []}],
        }));
    }
    for (i, (name, args)) in rule.calls.iter().enumerate() {
        let arguments = match render_value(env, args, vars)? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        out.push(json!({
            "type": "function_call", "id": format!("fc_{seed}{i}"), "call_id": format!("call_{seed}{i}"),
            "name": template::render(env, name, vars)?, "arguments": arguments, "status": "completed",
        }));
    }
    Ok(out)
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

fn response_body(request: &Value, ctx: &Context, seed: &str, output: Vec<Value>) -> Value {
    let input = input_items(request.get("input").unwrap_or(&Value::Null));
    let input_tokens = words(&ctx.instructions) + input.iter().map(|i| words(&items::item_text(i))).sum::<u64>();
    let output_tokens: u64 = output.iter().map(|i| words(&items::item_text(i))).sum();
    let mut body = json!({
        "id": format!("resp_{seed}"),
        "object": "response",
        "created_at": 1_767_225_600,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": request.get("instructions").cloned().unwrap_or(Value::Null),
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls").cloned().unwrap_or(json!(true)),
        "tool_choice": request.get("tool_choice").cloned().unwrap_or(json!("auto")),
        "tools": request.get("tools").cloned().unwrap_or(json!([])),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    });
    for k in ["temperature", "top_p", "text", "max_output_tokens", "metadata"] {
        if let Some(v) = request.get(k) {
            body[k] = v.clone();
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(answer: Answer) -> Value {
        match answer {
            Answer::Response { body, .. } => body,
            Answer::NoRule(m) => panic!("{m}"),
        }
    }

    #[test]
    fn builtin_script_calls_tools_and_answers_their_output() {
        let s = Script::builtin();
        let req = json!({"model": "m", "input": [{"role": "user", "content": "call_tool get_weather city=Paris"}]});
        let out = body(s.answer(&req, Arrival::default()));
        let call = &out["output"][0];
        assert_eq!((call["type"].as_str(), call["name"].as_str()), (Some("function_call"), Some("get_weather")));
        assert_eq!(call["arguments"], json!("{\"city\":\"Paris\"}"));
        let req2 = json!({"model": "m", "input": [
            {"role": "user", "content": "call_tool get_weather city=Paris"},
            call.clone(),
            {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny"}]});
        let out2 = body(s.answer(&req2, Arrival::default()));
        assert_eq!(items::output_text(out2["output"].as_array().unwrap()), "TOOL RESULT: Sunny");
        let plain = body(s.answer(&json!({"model": "m", "input": "hello there"}), Arrival::default()));
        assert_eq!(items::output_text(plain["output"].as_array().unwrap()), "HELLO THERE");
    }

    #[test]
    fn an_answer_sent_back_as_input_is_a_valid_request() {
        let s = Script::builtin();
        let first = body(s.answer(&json!({"model": "m", "input": "my name is Ada"}), Arrival::default()));
        let mut input = vec![json!({"role": "user", "content": "my name is Ada"})];
        input.extend(first["output"].as_array().unwrap().iter().cloned());
        input.push(json!({"role": "user", "content": "what is my name"}));
        let next = json!({"model": "m", "input": input});
        assert_eq!(server::schema_error(&next), None);
        assert_eq!(
            items::output_text(body(s.answer(&next, Arrival::default()))["output"].as_array().unwrap()),
            "WHAT IS MY NAME"
        );
    }

    #[test]
    fn answers_are_deterministic_with_usage() {
        let s = Script::builtin();
        let req = json!({"model": "m", "instructions": "be brief", "input": "hello there"});
        let (a, b) = (body(s.answer(&req, Arrival::default())), body(s.answer(&req, Arrival::default())));
        assert_eq!(a, b);
        assert_eq!(a["usage"]["input_tokens"], json!(4));
        assert_eq!(a["usage"]["output_tokens"], json!(2));
    }

    #[test]
    fn rules_match_instructions_and_tools_with_captures() {
        let src = Source::new(
            "m.yaml",
            r#"
latency_ms: 5
rules:
  - name: french
    when: {instructions: French, tool: get_weather}
    text: "Résultat : {{ tool_output }}"
  - when: {user: 'weather in (?P<city>\w+)'}
    call: {name: get_weather, arguments: {city: "{{ city }}"}}
"#,
        );
        let s = Script::parse(&src).unwrap();
        let ask = json!({"model": "m", "input": "weather in Rome"});
        let out = body(s.answer(&ask, Arrival::default()));
        assert_eq!(out["output"][0]["arguments"], json!("{\"city\":\"Rome\"}"));
        let call = out["output"][0].clone();
        let mut follow = json!({"model": "m", "instructions": "Answer in French.", "input": [
            {"role": "user", "content": "weather in Rome"}, call.clone(),
            {"type": "function_call_output", "call_id": call["call_id"], "output": "Soleil"}]});
        match s.answer(&follow, Arrival::default()) {
            Answer::Response { body, latency_ms } => {
                assert_eq!(items::output_text(body["output"].as_array().unwrap()), "Résultat : Soleil");
                assert_eq!(latency_ms, 5);
            }
            other => panic!("{other:?}"),
        }
        follow["instructions"] = json!("Answer in English.");
        assert!(
            matches!(s.answer(&follow, Arrival::default()), Answer::NoRule(m) if m.contains("tool output \"Soleil\""))
        );
    }

    #[test]
    fn faults_match_by_rule_and_first_attempts() {
        let src = Source::new(
            "m.yaml",
            "faults:\n  - {when: {user: slow}, slow_ms: 50}\n  - {first: 2, status: 429, retry_after_ms: 20}\n",
        );
        let s = Script::parse(&src).unwrap();
        let slow = json!({"model": "m", "input": "be slow"});
        assert_eq!(s.fault(&slow, Arrival { body: 0, attempt: 9 }).unwrap().kind, FaultKind::Slow(50));
        let hi = json!({"model": "m", "input": "hi"});
        let f = s.fault(&hi, Arrival { body: 0, attempt: 2 }).unwrap();
        assert_eq!(f.kind, FaultKind::Status { status: 429, code: "rate_limit_exceeded".into() });
        assert_eq!(f.headers, vec![("retry-after-ms".to_string(), "20".to_string())]);
        assert!(s.fault(&hi, Arrival { body: 0, attempt: 3 }).is_none(), "the third attempt gets through");
        let unusable = "faults:\n  - {when: {user: a}, response_status: failed}\n  - {response_status: incomplete}\n";
        let s = Script::parse(&Source::new("m.yaml", unusable)).unwrap();
        let kind = |u: &str| s.fault(&json!({"model": "m", "input": u}), Arrival::default()).unwrap().kind.clone();
        assert_eq!(kind("a"), FaultKind::Failed("server_error".into()));
        assert_eq!(kind("b"), FaultKind::Incomplete("max_output_tokens".into()));
        for (bad, want) in [
            ("faults:\n  - {status: 429, drop: true}\n", "exactly one of"),
            ("faults:\n  - {status: 200}\n", "faults[0].status"),
            ("faults:\n  - {rate: 2, drop: true}\n", "faults[0].rate"),
            ("faults:\n  - {drop: true}\n  - {response_status: done}\n", "m.yaml:3:23: faults[1].response_status"),
            ("faults:\n  - {response_status: incomplete, reason: tired}\n", "m.yaml:2:43: faults[0].reason"),
            ("faults:\n  - {response_status: failed, reason: max_output_tokens}\n", "faults[0].reason"),
            ("faults:\n  - {response_status: incomplete, code: x}\n", "faults[0].code"),
        ] {
            let err = Script::parse(&Source::new("m.yaml", bad)).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn script_errors_are_located() {
        let bad = Source::new("m.yaml", "rules:\n  - when: {user: '('}\n    text: hi\n");
        let err = Script::parse(&bad).unwrap_err().to_string();
        assert!(err.starts_with("m.yaml:2:") && err.contains("bad regex"), "{err}");
        let empty = Source::new("m.yaml", "rules:\n  - when: {user: x}\n");
        assert!(Script::parse(&empty).unwrap_err().to_string().contains("needs `text`"));
        let tpl = Source::new("m.yaml", "rules:\n  - text: '{{ oops'\n");
        assert!(Script::parse(&tpl).unwrap_err().to_string().starts_with("m.yaml:2:"));
    }

    #[test]
    fn a_seeded_rate_draws_the_same_for_the_same_arrival_whatever_the_order() {
        let script = |seed: u64| {
            let yaml = format!("seed: {seed}\nrules:\n  - {{rate: 0.3, text: right}}\ndefault: {{text: wrong}}\n");
            Script::parse(&Source::new("m.yaml", &yaml)).unwrap()
        };
        let (a, b) = (script(7), script(7));
        assert!(a.counts_attempts());
        let req = json!({"model": "m", "input": "q"});
        let says = |s: &Script, attempt: u32| {
            let out = body(s.answer(&req, Arrival { body: 42, attempt }));
            items::output_text(out["output"].as_array().unwrap())
        };
        let forward: Vec<String> = (1..=2000).map(|n| says(&a, n)).collect();
        let backward: Vec<String> = (1..=2000).rev().map(|n| says(&b, n)).collect();
        assert!(forward.iter().eq(backward.iter().rev()), "the same draws in any order");
        let right = forward.iter().filter(|t| *t == "right").count();
        assert!((500..700).contains(&right), "about 30% of 2000: {right}");
        let other: Vec<String> = (1..=2000).map(|n| says(&script(8), n)).collect();
        assert_ne!(forward, other, "another seed, other draws");
    }
}
