//! Promotion: cutting an eval case out of a stored trace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::dedup::{self, Near};
use super::taxonomy::Taxonomy;
use super::{
    Agent, Case, CaseFile, CaseSource, DatasetError, Expected, Handoff, HashIndex, Input, Label, Privacy,
    PrivacyStatus, Recorded, RecordedCall, RecordedOutput, Result, ToolOutput, Verdict,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::trace::agents_sdk::CONTEXT_PARAMS;
use crate::trace::items::{self, canonical_arguments};
use crate::trace::{Capture, ModelCall, Span, SpanData, Trace};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dataset: String,
    pub verdict: Option<Verdict>,
    pub failure: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub scope: Scope,
    pub expected: Expected,
    /// Build and check the case, but write nothing.
    pub dry_run: bool,
    /// Refuse a trace whose capture lacks the definitions of tools its model called, rather than
    /// infer them from the calls.
    pub strict: bool,
}

/// What part of a trace a case evaluates.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scope {
    /// The whole run, replayed from the first model input.
    #[default]
    Run,
    /// One model call, by its 1-based number among the trace's model calls with content.
    Turn(usize),
    /// One model call, by its span id (or a unique prefix).
    Span(String),
}

/// Why a trace has nothing to replay, named by the path it was captured by, with the one
/// thing to change on that path.
fn no_content(trace: &Trace, spans: &[Span]) -> DatasetError {
    let calls: Vec<&ModelCall> = spans.iter().filter_map(Span::model_call).collect();
    let capture = calls.iter().find_map(|c| c.capture);
    let failed =
        spans.iter().find_map(|s| s.error.as_ref().filter(|_| s.model_call().is_some_and(|c| c.output.is_none())));
    let collect = "OPENAI_BASE_URL=http://127.0.0.1:4319/v1";
    let (path, fix) = match capture {
        _ if calls.is_empty() => (
            "the trace has no model calls at all".to_string(),
            "capture the model calls too: the Agents SDK's exporter, OTLP GenAI or OpenInference spans, or `evals collect`'s proxy".to_string(),
        ),
        Some(Capture::Proxy | Capture::OpenaiLog) if failed.is_some() => (
            format!("the model call failed ({}), so there is no answer to replay", failed.map(|e| e.message.as_str()).unwrap_or_default()),
            "promote a trace whose call succeeded; `evals traces list --status ok` lists them".to_string(),
        ),
        Some(Capture::Proxy) => (
            "`evals collect` stored it without content (--no-content, or the app sent X-Evals-No-Content)".to_string(),
            "run collect without --no-content for the proxy route, or stop sending X-Evals-No-Content".to_string(),
        ),
        Some(Capture::OpenaiLog) => (
            "the request/response log line carried no input or output".to_string(),
            "log the request and response bodies whole".to_string(),
        ),
        Some(Capture::OtlpGenai) => (
            "the OpenTelemetry GenAI instrumentation sent its spans without message content".to_string(),
            "set OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true in the app (or send its log events to /v1/logs)".to_string(),
        ),
        Some(Capture::OpenInference) => (
            "the OpenInference instrumentation hid the inputs and outputs".to_string(),
            "unset OPENINFERENCE_HIDE_INPUTS and OPENINFERENCE_HIDE_OUTPUTS in the app".to_string(),
        ),
        Some(Capture::AgentsSdk) | None if calls.iter().all(|c| c.response_id.is_none()) => (
            "the Agents SDK exported it with trace_include_sensitive_data=False (no content, no response ids), and no \
             proxy recording fits its spans"
                .to_string(),
            format!("route the model calls through `evals collect` ({collect}): its recordings join such spans by usage and time"),
        ),
        Some(Capture::AgentsSdk) | None => (
            "it was captured by the Agents SDK's HTTP exporter, which sends only response ids and usage, not the \
             conversation"
                .to_string(),
            format!("point the app's model client at `evals collect` ({collect}), or add the processor of README, Capture"),
        ),
    };
    DatasetError::NoContent { trace: trace.id.clone(), path, fix }
}

/// Earlier model calls of the store, for calls that continued a conversation kept server-side
/// (`previous_response_id`, `conversation`).
pub trait History {
    fn response(&self, id: &str) -> Option<ModelCall>;
    /// The calls of a conversation that started before `before`, in order.
    fn conversation(&self, id: &str, before: Option<DateTime<Utc>>) -> Vec<ModelCall>;
}

impl History for crate::store::Store {
    fn response(&self, id: &str) -> Option<ModelCall> {
        self.call_by_response_id(id).ok().flatten()
    }
    fn conversation(&self, id: &str, before: Option<DateTime<Utc>>) -> Vec<ModelCall> {
        self.conversation_calls(id, before).unwrap_or_default()
    }
}

/// No earlier calls: what a trace without server-side context needs.
pub struct NoHistory;

impl History for NoHistory {
    fn response(&self, _: &str) -> Option<ModelCall> {
        None
    }
    fn conversation(&self, _: &str, _: Option<DateTime<Utc>>) -> Vec<ModelCall> {
        vec![]
    }
}

/// The input a call saw in full: the items of the responses it continued (theirs, then what they
/// answered, oldest first) before its own. A chain the store does not hold is refused, naming
/// the response (or conversation) that is missing.
fn full_input(
    trace_id: &str,
    call: &ModelCall,
    at: Option<DateTime<Utc>>,
    history: &dyn History,
) -> Result<Vec<Value>> {
    let own = call.input.clone().unwrap_or_default();
    let turn = |c: &ModelCall| {
        let mut items = c.input.clone().unwrap_or_default();
        items.extend(c.output.clone().unwrap_or_default());
        items
    };
    let missing = |what: String| {
        DatasetError::Invalid(format!(
            "trace {trace_id} continues {what}, which is not in the store: capture that earlier call too \
             (through `evals collect` or in the same import), then promote again"
        ))
    };
    let mut earlier: Vec<Vec<Value>> = Vec::new();
    if let Some(mut id) = call.params.get("previous_response_id").and_then(Value::as_str).map(str::to_string) {
        // A chain is as long as the conversation; a loop in it is a broken capture.
        for _ in 0..10_000 {
            let prev = history.response(&id).ok_or_else(|| missing(format!("response {id}")))?;
            earlier.push(turn(&prev));
            match prev.params.get("previous_response_id").and_then(Value::as_str) {
                Some(next) => id = next.to_string(),
                None => break,
            }
        }
        earlier.reverse();
    } else if let Some(conv) = call.params.get("conversation") {
        let id = conv.get("id").or(Some(conv)).and_then(Value::as_str).unwrap_or_default();
        let calls = history.conversation(id, at);
        if calls.is_empty() {
            return Err(missing(format!("conversation {id}")));
        }
        earlier.extend(calls.iter().map(turn));
    }
    let mut items: Vec<Value> = earlier.into_iter().flatten().collect();
    items.extend(own);
    Ok(items)
}

/// Settings without the ones that point at server-side context (resolved into the input).
fn own_params(call: &ModelCall) -> serde_json::Map<String, Value> {
    let mut params = call.params.clone();
    params.retain(|k, _| !CONTEXT_PARAMS.contains(&k.as_str()));
    params
}

/// A promoted case, where it was (or would be) written, and existing cases much like it.
#[derive(Debug)]
pub struct Promoted {
    pub case: Case,
    pub path: PathBuf,
    pub near: Vec<Near>,
    /// What promotion had to guess (tool definitions inferred from the calls).
    pub warnings: Vec<String>,
}

/// Build the case for a trace, refuse exact duplicates (any case in `hashes`), report
/// near-duplicates among `existing`, and write it under `root/<dataset>/` (unless a dry run).
/// The new case joins `hashes`, so a bulk promotion (dry or not) refuses a second trace with the
/// same input. `history` resolves context kept server-side.
#[allow(clippy::too_many_arguments)] // each is one thing a promotion needs from its caller
pub fn promote(
    root: &Path,
    trace: &Trace,
    spans: &[Span],
    taxonomy: &Taxonomy,
    opts: &Options,
    existing: &[CaseFile],
    hashes: &mut HashIndex,
    history: &dyn History,
) -> Result<Promoted> {
    super::check_name("dataset name", &opts.dataset)?;
    let mut case = build_case(trace, spans, taxonomy, opts, history)?;
    let warnings = infer_tools(&mut case, &trace.id, opts.strict)?;
    if let Some((case_id, path)) = hashes.get(&case.content_hash) {
        return Err(DatasetError::Duplicate { trace: trace.id.clone(), case: case_id.clone(), path: path.clone() });
    }
    let near = dedup::near_duplicates(&case.input, existing, dedup::NEAR_THRESHOLD);
    let path = root.join(&opts.dataset).join(format!("{}.yaml", case.id));
    if !opts.dry_run {
        case.save(&path)?;
    }
    hashes.insert(case.content_hash.clone(), case.id.clone(), path.clone());
    Ok(Promoted { case, path, near, warnings })
}

/// `evals promote TRACE`: promote the stored trace an id (or unique prefix) names into
/// `root/<dataset>/`, checked against every case under `root` for duplicates. Returns the full
/// trace id. Cases that do not load only lose the near-duplicate check (said in the warnings).
pub fn promote_stored(
    store: &crate::store::Store,
    root: &Path,
    trace_id: &str,
    taxonomy: &Taxonomy,
    opts: &Options,
) -> Result<(String, Promoted)> {
    let (existing, skipped) = match super::load_all(root, None) {
        Ok(cases) => (cases, None),
        Err(e) => (Vec::new(), Some(format!("near-duplicate check skipped: {e}"))),
    };
    // Built from the `content_hash:` lines, so a case file that no longer parses still counts.
    let mut hashes = HashIndex::build(root)?;
    let id = store.resolve_trace(trace_id)?;
    let (trace, spans) = store.load_trace(&id)?;
    let mut p = promote(root, &trace, &spans, taxonomy, opts, &existing, &mut hashes, store)?;
    p.warnings.extend(skipped);
    Ok((id, p))
}

/// The whole run as one case: replay starts from the first model call's input and re-runs the
/// agent loop, answering tool calls from the outputs the trace recorded.
pub fn build_case(
    trace: &Trace,
    spans: &[Span],
    taxonomy: &Taxonomy,
    opts: &Options,
    history: &dyn History,
) -> Result<Case> {
    let label = label(taxonomy, opts)?;
    let agent_of = agent_names(spans);
    let calls: Vec<(&Span, &ModelCall)> =
        spans.iter().filter_map(|s| s.model_call().filter(|c| c.has_content()).map(|c| (s, c))).collect();
    if calls.is_empty() {
        return Err(no_content(trace, spans));
    }
    if opts.scope != Scope::Run {
        return single_turn_case(trace, &calls, &agent_of, label, opts, history);
    }
    // A trace can hold several user turns (a chat session traced as one): the case is the last
    // turn, with the turns before it as context, so that its recorded output answers its input.
    let calls = &calls[last_user_turn(&calls)..];
    let (first_span, first) = calls[0];
    let entry_agent = agent_of.get(first_span.id.as_str()).cloned();

    let mut agents: Vec<Agent> = Vec::new();
    for (span, call) in &calls[1..] {
        let name = agent_of.get(span.id.as_str());
        if let Some(name) = name.filter(|n| Some(*n) != entry_agent.as_ref())
            && !agents.iter().any(|a| &a.name == name)
        {
            agents.push(Agent {
                name: name.clone(),
                instructions: call.instructions.clone(),
                tools: call.tools.clone(),
            });
        }
    }

    let handoffs: Vec<Handoff> =
        handoffs(spans, calls, &agent_of).into_iter().filter(|h| agents.iter().any(|a| a.name == h.to)).collect();

    let last = calls.last().expect("at least one call").1;
    let output_items = last.output.as_deref().unwrap_or_default();
    let recorded = Recorded {
        tool_outputs: tool_outputs(calls, spans),
        output: RecordedOutput {
            text: items::output_text(output_items),
            tool_calls: calls
                .iter()
                .flat_map(|(_, c)| items::function_calls(c.output.as_deref().unwrap_or_default()))
                .map(|f| RecordedCall { name: f.name, arguments: f.arguments })
                .collect(),
        },
    };

    let case = Case {
        id: String::new(),
        source: CaseSource {
            trace_id: trace.id.clone(),
            span_id: None,
            workflow: trace.workflow.clone(),
            group_id: trace.group_id.clone(),
            model: first.model.clone(),
            captured_at: first_span.started_at,
            metadata: trace.metadata.clone().filter(|m| !m.is_empty()),
        },
        input: Input {
            agent: entry_agent,
            instructions: first.instructions.clone(),
            items: full_input(&trace.id, first, first_span.started_at, history)?,
            params: own_params(first),
        },
        tools: first.tools.clone(),
        agents,
        handoffs,
        recorded,
        label,
        expected: opts.expected.clone(),
        privacy: Privacy { status: PrivacyStatus::Clean, findings: vec![], reviewer: None, reviewed_at: None },
        tags: opts.tags.clone(),
        content_hash: String::new(),
    };
    Ok(finish(case))
}

/// Where the last user turn starts: the last call whose input holds more user messages than the
/// call before it (a call that only carries tool results back holds none or the same ones).
fn last_user_turn(calls: &[(&Span, &ModelCall)]) -> usize {
    let users: Vec<usize> =
        calls.iter().map(|(_, c)| items::user_messages(c.input.as_deref().unwrap_or_default())).collect();
    (1..users.len()).rev().find(|&i| users[i] > users[i - 1]).unwrap_or(0)
}

/// One model call as a case: the exact input that call received (earlier turns, tool results
/// and all), replayed as one call; what it answered is the recorded output.
fn single_turn_case(
    trace: &Trace,
    calls: &[(&Span, &ModelCall)],
    agent_of: &HashMap<&str, String>,
    label: Label,
    opts: &Options,
    history: &dyn History,
) -> Result<Case> {
    let &(span, call) = match &opts.scope {
        Scope::Turn(n) => calls.get(n.wrapping_sub(1)).ok_or_else(|| {
            DatasetError::Invalid(format!("turn {n}: trace {} has model turns 1 to {}", trace.id, calls.len()))
        })?,
        Scope::Span(id) => {
            let found: Vec<_> = calls.iter().filter(|(s, _)| s.id.starts_with(id.as_str())).collect();
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Err(DatasetError::Invalid(format!(
                        "span {id}: no model call of trace {} has that span id (model spans: {})",
                        trace.id,
                        calls.iter().map(|(s, _)| s.id.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
                _ => return Err(DatasetError::Invalid(format!("span {id} matches several model calls"))),
            }
        }
        Scope::Run => unreachable!("the whole run is built by build_case"),
    };
    let output = call.output.as_deref().unwrap_or_default();
    let case = Case {
        id: String::new(),
        source: CaseSource {
            trace_id: trace.id.clone(),
            span_id: Some(span.id.clone()),
            workflow: trace.workflow.clone(),
            group_id: trace.group_id.clone(),
            model: call.model.clone(),
            captured_at: span.started_at,
            metadata: trace.metadata.clone().filter(|m| !m.is_empty()),
        },
        input: Input {
            agent: agent_of.get(span.id.as_str()).cloned(),
            instructions: call.instructions.clone(),
            items: full_input(&trace.id, call, span.started_at, history)?,
            params: own_params(call),
        },
        tools: call.tools.clone(),
        agents: vec![],
        handoffs: vec![],
        recorded: Recorded {
            tool_outputs: vec![],
            output: RecordedOutput {
                text: items::output_text(output),
                tool_calls: items::function_calls(output)
                    .into_iter()
                    .map(|f| RecordedCall { name: f.name, arguments: f.arguments })
                    .collect(),
            },
        },
        label,
        expected: opts.expected.clone(),
        privacy: Privacy { status: PrivacyStatus::Clean, findings: vec![], reviewer: None, reviewed_at: None },
        tags: opts.tags.clone(),
        content_hash: String::new(),
    };
    Ok(finish(case))
}

/// The capture of some OpenTelemetry instrumentations has the model's tool calls but not the
/// tools it was offered (GenAI without `gen_ai.tool.definitions`), and a replay without them
/// cannot call any. Each agent without tools gets one per tool name it called, its parameters
/// inferred from the recorded arguments (the JSON type of each key), not strict; with `strict`
/// the trace is refused instead.
fn infer_tools(case: &mut Case, trace_id: &str, strict: bool) -> Result<Vec<String>> {
    let calls: Vec<(&str, &str)> =
        case.recorded.output.tool_calls.iter().map(|c| (c.name.as_str(), c.arguments.as_str())).collect();
    let handoffs: Vec<String> =
        case.agents.iter().map(|a| crate::provider::naming::handoff_tool_name(&a.name)).collect();
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in &calls {
        if !names.contains(name) && !handoffs.iter().any(|h| h == name) {
            names.push(name);
        }
    }
    let defined = |tools: &[serde_json::Value]| !tools.is_empty();
    if names.is_empty() || defined(&case.tools) || case.agents.iter().any(|a| defined(&a.tools)) {
        return Ok(vec![]);
    }
    if strict {
        return Err(DatasetError::Invalid(format!(
            "trace {trace_id}: the model called {} but the capture has no tool definitions (OpenTelemetry GenAI \
             sends none without content capture); promote without --strict to infer them from the calls",
            names.join(", ")
        )));
    }
    let tools: Vec<serde_json::Value> = names
        .iter()
        .map(|name| {
            let mut properties = serde_json::Map::new();
            for (n, arguments) in &calls {
                if n == name
                    && let Ok(serde_json::Value::Object(args)) = serde_json::from_str::<serde_json::Value>(arguments)
                {
                    for (k, v) in args {
                        let ty = match v {
                            serde_json::Value::String(_) => "string",
                            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                            serde_json::Value::Number(_) => "number",
                            serde_json::Value::Bool(_) => "boolean",
                            serde_json::Value::Array(_) => "array",
                            serde_json::Value::Object(_) => "object",
                            serde_json::Value::Null => continue,
                        };
                        properties.entry(k).or_insert_with(|| serde_json::json!({"type": ty}));
                    }
                }
            }
            serde_json::json!({"type": "function", "name": name, "parameters": {"type": "object", "properties": properties}, "strict": false})
        })
        .collect();
    case.tools = tools;
    Ok(vec![format!(
        "trace {trace_id}: the capture has no tool definitions; inferred {} from the recorded calls \
         (check their parameters in the case file, or capture them: README, Capture)",
        names.join(", ")
    )])
}

/// Redact the case (pending review when anything was found), then hash and name it.
pub(crate) fn finish(mut case: Case) -> Case {
    case.privacy.findings = super::redact_case(&mut case);
    if !case.privacy.findings.is_empty() {
        case.privacy.status = PrivacyStatus::Pending;
    }
    case.content_hash = dedup::content_hash(&case.input, case.source.span_id.is_some());
    case.id = case_id(&case);
    case.mark_expectation();
    case
}

fn label(taxonomy: &Taxonomy, opts: &Options) -> Result<Label> {
    let failure = opts.failure.as_deref().map(|f| taxonomy.resolve(f).map(|c| c.id.clone())).transpose()?;
    let verdict = match (opts.verdict, &failure) {
        (Some(Verdict::Pass), Some(f)) => {
            return Err(DatasetError::Invalid(format!(
                "failure {f} contradicts verdict pass: a labelled failure needs verdict fail"
            )));
        }
        (Some(v), _) => v,
        (None, Some(_)) => Verdict::Fail,
        (None, None) => Verdict::Unknown,
    };
    Ok(Label { verdict, failure, note: opts.note.clone(), needs_expectation: false })
}

/// The agent each span ran under: the nearest `agent` ancestor, or the SDK turn span's
/// `agent_name`.
fn agent_names(spans: &[Span]) -> HashMap<&str, String> {
    let by_id: HashMap<&str, &Span> = spans.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut out = HashMap::new();
    for span in spans {
        let mut cur = span.parent_id.as_deref();
        let mut depth = 0;
        while let (Some(id), true) = (cur, depth < 64) {
            let Some(parent) = by_id.get(id) else { break };
            let name = match &parent.data {
                SpanData::Agent { name, .. } => Some(name.as_str()),
                SpanData::Custom { data, .. } => data.get("agent_name").and_then(|v| v.as_str()),
                _ => None,
            };
            if let Some(name) = name {
                out.insert(span.id.as_str(), name.to_string());
                break;
            }
            cur = parent.parent_id.as_deref();
            depth += 1;
        }
    }
    out
}

/// The handoffs the trace shows, whatever the tools were named: a function call whose output
/// the next model input shows as `{"assistant": AGENT}` (what both Agents SDKs answer a handoff
/// call with), or, for a handoff span with no such output in sight, the one call of the
/// `from` agent's last model turn before it that is none of that agent's own tools.
fn handoffs(spans: &[Span], calls: &[(&Span, &ModelCall)], agent_of: &HashMap<&str, String>) -> Vec<Handoff> {
    let mut out: Vec<Handoff> = Vec::new();
    let add = |h: Handoff, out: &mut Vec<Handoff>| {
        if !out.iter().any(|o| o.from == h.from && o.tool == h.tool) {
            out.push(h);
        }
    };
    let mut made: HashMap<String, (Option<String>, String)> = HashMap::new();
    for (span, call) in calls {
        for f in items::function_calls(call.output.as_deref().unwrap_or_default()) {
            made.insert(f.call_id, (agent_of.get(span.id.as_str()).cloned(), f.name));
        }
        for (call_id, output) in items::function_outputs(call.input.as_deref().unwrap_or_default()) {
            let to = serde_json::from_str::<serde_json::Value>(&output)
                .ok()
                .and_then(|v| Some(v.as_object().filter(|o| o.len() == 1)?.get("assistant")?.as_str()?.to_string()));
            if let (Some(to), Some((from, tool))) = (to, made.get(&call_id)) {
                add(Handoff { from: from.clone(), tool: tool.clone(), to }, &mut out);
            }
        }
    }
    for span in spans {
        let SpanData::Handoff { from: Some(from), to: Some(to) } = &span.data else { continue };
        if out.iter().any(|h| h.from.as_ref() == Some(from) && &h.to == to) {
            continue;
        }
        let own_tools: Vec<&String> = spans
            .iter()
            .filter_map(|s| match &s.data {
                SpanData::Agent { name, tools, .. } if name == from => Some(tools),
                _ => None,
            })
            .flatten()
            .collect();
        let before = calls
            .iter()
            .filter(|(s, _)| agent_of.get(s.id.as_str()) == Some(from) && s.started_at <= span.started_at)
            .max_by_key(|(s, _)| s.started_at);
        let Some((_, call)) = before else { continue };
        let candidates: Vec<_> = items::function_calls(call.output.as_deref().unwrap_or_default())
            .into_iter()
            .filter(|f| !own_tools.contains(&&f.name))
            .collect();
        if let [one] = candidates.as_slice() {
            add(Handoff { from: Some(from.clone()), tool: one.name.clone(), to: to.clone() }, &mut out);
        }
    }
    out
}

/// Tool outputs as the model received them: `function_call_output` items in later model inputs,
/// joined to their calls by call id. Tool spans fill in calls no later input shows.
fn tool_outputs(calls: &[(&Span, &ModelCall)], spans: &[Span]) -> Vec<ToolOutput> {
    let mut by_call_id: HashMap<String, (String, String)> = HashMap::new();
    let mut out: Vec<ToolOutput> = Vec::new();
    let push = |t: ToolOutput, out: &mut Vec<ToolOutput>| {
        let key = canonical_arguments(&t.arguments);
        if !out.iter().any(|o| o.name == t.name && canonical_arguments(&o.arguments) == key && o.output == t.output) {
            out.push(t);
        }
    };
    for (_, call) in calls {
        for list in [call.input.as_deref(), call.output.as_deref()].into_iter().flatten() {
            for f in items::function_calls(list) {
                by_call_id.insert(f.call_id, (f.name, f.arguments));
            }
        }
        for (call_id, output) in items::function_outputs(call.input.as_deref().unwrap_or_default()) {
            if let Some((name, arguments)) = by_call_id.get(&call_id) {
                push(ToolOutput { name: name.clone(), arguments: arguments.clone(), output }, &mut out);
            }
        }
    }
    for span in spans {
        if let SpanData::Tool { name, arguments: Some(arguments), output: Some(output), .. } = &span.data {
            let key = canonical_arguments(arguments);
            if !out.iter().any(|o| &o.name == name && canonical_arguments(&o.arguments) == key) {
                push(ToolOutput { name: name.clone(), arguments: arguments.clone(), output: output.clone() }, &mut out);
            }
        }
    }
    out
}

/// A readable, stable id: a slug of the first user message (the last one for a single turn) and
/// the start of the content hash.
pub(crate) fn case_id(case: &Case) -> String {
    let items = &case.input.items;
    let text = if case.source.span_id.is_some() {
        items::last_user_text(items)
    } else {
        items::last_user_text(&items[..items.len().min(1)])
    }
    .unwrap_or_default();
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let hash = case.content_hash.trim_start_matches("sha256:");
    if slug.is_empty() { format!("case-{}", &hash[..8]) } else { format!("{slug}-{}", &hash[..8]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{Format, read_file};
    use crate::trace::{Batch, ModelApi, Usage};
    use serde_json::{Map, json};

    fn fixture_batch(name: &str) -> Batch {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents-sdk").join(name);
        read_file(&p, Format::Auto).unwrap().batch
    }

    fn trace_of(batch: &Batch, suffix: &str) -> (Trace, Vec<Span>) {
        let t = batch.traces.iter().find(|t| t.id.ends_with(suffix)).unwrap().clone();
        let mut spans: Vec<Span> = batch.spans.iter().filter(|s| s.trace_id == t.id).cloned().collect();
        spans.sort_by_key(|s| s.started_at);
        (t, spans)
    }

    fn taxonomy() -> Taxonomy {
        Taxonomy::load(Path::new("/nonexistent/taxonomy.yaml")).unwrap()
    }

    /// What `evals collect` stores of a JS Agents SDK 0.20 run (tests/fixtures/agents-sdk-js/):
    /// its exporter bodies, joined with the proxy's recordings of its model calls.
    fn js_capture(api: &str) -> Vec<(Trace, Vec<Span>)> {
        use crate::store::{Store, TraceFilter};
        use crate::trace::{agents_sdk, openai_log};
        let read = |name: String| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents-sdk-js").join(name);
            std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>()
        };
        let mut batch = Batch::default();
        for body in read(format!("{api}_ingest.jsonl")) {
            batch.extend(agents_sdk::parse_export_body(&body).unwrap());
        }
        let recordings = read(format!("{api}_calls.jsonl"))
            .iter()
            .map(|l| {
                let mut one = openai_log::parse_line(l).unwrap();
                (one.traces.remove(0), one.spans.remove(0))
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("e.db")).unwrap();
        store.capture(batch, recordings).unwrap();
        let rows = store.list_traces(&TraceFilter::default()).unwrap();
        rows.iter().map(|r| store.load_trace(&r.id).unwrap()).collect()
    }

    #[test]
    fn js_sdk_runs_join_into_one_trace_each_and_name_their_handoffs() {
        for api in ["responses", "chat"] {
            let traces = js_capture(api);
            assert_eq!(traces.len(), 4, "{api}: one trace per run (tool, handoff, renamed handoff, streamed)");
            // Usage counted once: what the SDK's own task span totals (the fixture's calls log
            // leaves out the streamed call, so that run is not compared in Responses mode).
            let mut compared = 0;
            for (t, spans) in &traces {
                let usages: Vec<_> = spans.iter().filter_map(|s| s.model_call()).map(|c| c.usage).collect();
                let Some(usages) = usages.into_iter().collect::<Option<Vec<_>>>() else { continue };
                let task = spans
                    .iter()
                    .find_map(|s| match &s.data {
                        SpanData::Custom { name, data } if name == "task" => {
                            data.pointer("/usage/total_tokens")?.as_u64()
                        }
                        _ => None,
                    })
                    .unwrap();
                assert_eq!(usages.iter().map(Usage::total).sum::<u64>(), task, "{api} {}", t.id);
                compared += 1;
            }
            assert!(compared >= 3, "{api}: {compared} runs with usage");
            let case_to = |agent: &str| {
                let (t, spans) = traces
                    .iter()
                    .find(|(_, spans)| {
                        spans.iter().any(|s| matches!(&s.data, SpanData::Handoff { to: Some(to), .. } if to == agent))
                    })
                    .unwrap();
                build_case(t, spans, &taxonomy(), &Options::default(), &NoHistory).unwrap()
            };
            for (agent, tool) in [("Weather expert", "transfer_to_Weather_expert"), ("Billing", "escalate_billing")] {
                let case = case_to(agent);
                assert_eq!(
                    case.handoffs,
                    vec![Handoff { from: Some("Triage".into()), tool: tool.into(), to: agent.into() }],
                    "{api}"
                );
                assert_eq!(case.agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec![agent]);
                let names: Vec<&str> = case.tools.iter().filter_map(|t| t["name"].as_str()).collect();
                assert_eq!(names, vec!["get_weather", "transfer_to_Weather_expert", "escalate_billing"], "{api}");
            }
        }
    }

    #[test]
    fn a_handoff_span_names_the_tool_when_no_later_input_shows_its_output() {
        // A handoff input filter can drop the history, so the next agent never sees the call.
        let (t, mut spans) = trace_of(&fixture_batch("agents_processor_full.jsonl"), "b773d5");
        let triage =
            spans.iter().find(|s| matches!(&s.data, SpanData::Agent { name, .. } if name == "Triage")).unwrap().clone();
        let turn = spans.iter().rfind(|s| s.model_call().is_some()).unwrap().clone();
        let mut call = turn.model_call().unwrap().clone();
        call.output =
            Some(vec![json!({"type": "function_call", "call_id": "c9", "name": "route_it", "arguments": "{}"})]);
        let mut later = turn.clone();
        later.id = "span_expert_turn".into();
        later.parent_id = Some("span_expert".into());
        later.started_at = later.ended_at.map(|e| e + chrono::Duration::seconds(1));
        let mut mcall = call.clone();
        mcall.input = Some(vec![json!({"role": "user", "content": "hi"})]);
        later.data = SpanData::Model(Box::new(mcall));
        let mut expert = triage.clone();
        expert.id = "span_expert".into();
        expert.data = SpanData::Agent { name: "Expert".into(), handoffs: vec![], tools: vec![], output_type: None };
        let mut handoff = turn.clone();
        handoff.id = "span_handoff".into();
        handoff.started_at = turn.ended_at;
        handoff.data = SpanData::Handoff { from: Some("Triage".into()), to: Some("Expert".into()) };
        let i = spans.iter().position(|s| s.id == turn.id).unwrap();
        spans[i].data = SpanData::Model(Box::new(call));
        spans.extend([expert, later, handoff]);
        let case = build_case(&t, &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap();
        assert!(
            case.handoffs.contains(&Handoff {
                from: Some("Triage".into()),
                tool: "route_it".into(),
                to: "Expert".into()
            }),
            "{:?}",
            case.handoffs
        );
    }

    #[test]
    fn tool_call_run_becomes_a_replayable_case() {
        let (t, spans) = trace_of(&fixture_batch("agents_processor_full.jsonl"), "b773d5");
        let case = build_case(&t, &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap();
        assert_eq!(case.input.agent.as_deref(), Some("Triage"));
        assert_eq!(case.input.items, vec![json!({"content": "call_tool get_weather city=Paris", "role": "user"})]);
        assert_eq!(case.tools.len(), 2);
        assert_eq!(
            case.recorded.tool_outputs,
            vec![ToolOutput {
                name: "get_weather".into(),
                arguments: "{\"city\": \"Paris\"}".into(),
                output: "Sunny and 21C in Paris".into()
            }]
        );
        assert_eq!(case.recorded.output.text, "TOOL RESULT: Sunny and 21C in Paris");
        assert_eq!(case.recorded.output.tool_calls[0].name, "get_weather");
        assert_eq!(case.privacy.status, PrivacyStatus::Clean);
        assert!(case.id.starts_with("call-tool-get-weather-city-paris-"), "{}", case.id);
        assert_eq!(case.label.verdict, Verdict::Unknown);
    }

    #[test]
    fn handoff_target_agent_is_recorded() {
        let (t, spans) = trace_of(&fixture_batch("agents_processor_full.jsonl"), "cfbe80");
        let case = build_case(&t, &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap();
        assert_eq!(case.agents.len(), 1);
        assert_eq!(case.agents[0].name, "Weather expert");
        assert_eq!(case.agents[0].instructions.as_deref(), Some("You are a weather expert."));
    }

    #[test]
    fn exporter_only_trace_is_refused_with_how_to_capture() {
        let (t, spans) = trace_of(&fixture_batch("agents_ingest.jsonl"), "");
        let err = build_case(&t, &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("the Agents SDK's HTTP exporter, which sends only response ids"), "{message}");
        let DatasetError::NoContent { fix, .. } = err else { panic!("{message}") };
        assert!(fix.contains("OPENAI_BASE_URL=http://127.0.0.1:4319/v1"), "{fix}");
    }

    #[test]
    fn refusals_name_the_capture_path_and_what_to_change() {
        let (t, mut spans) = trace_of(&fixture_batch("agents_ingest.jsonl"), "");
        for s in &mut spans {
            if let SpanData::Model(c) = &mut s.data {
                c.response_id = None;
            }
        }
        let e = build_case(&t, &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap_err();
        assert!(e.to_string().contains("trace_include_sensitive_data=False"), "{e}");
        let mut genai = call_without_definitions();
        if let SpanData::Model(c) = &mut genai[0].data {
            (c.input, c.output, c.capture) = (None, None, Some(Capture::OtlpGenai));
        }
        match build_case(&t, &genai, &taxonomy(), &Options::default(), &NoHistory).unwrap_err() {
            DatasetError::NoContent { path, fix, .. } => {
                assert!(path.contains("OpenTelemetry GenAI"), "{path}");
                assert!(fix.contains("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true"), "{fix}");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn failure_label_is_checked_and_implies_fail() {
        let (t, spans) = trace_of(&fixture_batch("agents_processor_full.jsonl"), "032931");
        let opts = Options { failure: Some("wrong_tool".into()), ..Options::default() };
        let case = build_case(&t, &spans, &taxonomy(), &opts, &NoHistory).unwrap();
        assert_eq!((case.label.verdict, case.label.failure.as_deref()), (Verdict::Fail, Some("wrong_tool")));
        let bad = Options { failure: Some("nope".into()), ..Options::default() };
        assert!(matches!(
            build_case(&t, &spans, &taxonomy(), &bad, &NoHistory).unwrap_err(),
            DatasetError::UnknownFailure { .. }
        ));
        let contradiction =
            Options { failure: Some("refusal".into()), verdict: Some(Verdict::Pass), ..Options::default() };
        assert!(build_case(&t, &spans, &taxonomy(), &contradiction, &NoHistory).is_err());
    }

    #[test]
    fn personal_data_is_redacted_consistently_and_marked_pending() {
        let call = |input: Vec<serde_json::Value>, output: Vec<serde_json::Value>| ModelCall {
            api: ModelApi::Responses,
            response_id: None,
            model: Some("m".into()),
            instructions: Some("Support agent.".into()),
            input: Some(input),
            output: Some(output),
            tools: vec![],
            params: Map::new(),
            usage: Some(Usage::default()),
            attempts: vec![],
            provider: None,
            capture: None,
        };
        let span = |id: &str, c: ModelCall| Span {
            trace_id: "t".into(),
            id: id.into(),
            parent_id: None,
            started_at: None,
            ended_at: None,
            data: SpanData::Model(Box::new(c)),
            error: None,
        };
        let user = json!({"role": "user", "content": "I'm ann@corp.com, card 4111 1111 1111 1111"});
        let fc = json!({"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{\"email\": \"ann@corp.com\"}"});
        let fo = json!({"type": "function_call_output", "call_id": "c1", "output": "ann@corp.com: gold"});
        let spans = vec![
            span("s1", call(vec![user.clone()], vec![fc.clone()])),
            span(
                "s2",
                call(
                    vec![user, fc, fo],
                    vec![json!({"type": "message", "role": "assistant", "content": "Hi ann@corp.com"})],
                ),
            ),
        ];
        let case = build_case(&Trace::bare("t"), &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap();
        let yaml = case.to_yaml();
        assert!(!yaml.contains("ann@corp.com") && !yaml.contains("4111"), "{yaml}");
        assert_eq!(case.privacy.status, PrivacyStatus::Pending);
        assert_eq!(case.recorded.tool_outputs[0].arguments, "{\"email\": \"<EMAIL_1>\"}");
        assert_eq!(case.recorded.tool_outputs[0].output, "<EMAIL_1>: gold");
        assert_eq!(case.recorded.output.text, "Hi <EMAIL_1>");
        let kinds: Vec<_> = case.privacy.findings.iter().map(|f| (f.kind, f.location.as_str())).collect();
        assert!(kinds.contains(&(crate::privacy::Kind::Card, "input.items[0].content")), "{kinds:?}");
    }

    /// A GenAI capture: the model called a tool, the span has no tool definitions.
    fn call_without_definitions() -> Vec<Span> {
        let user = json!({"role": "user", "content": "weather in Paris?"});
        let fc = json!({"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"});
        let call = ModelCall {
            api: ModelApi::ChatCompletions,
            response_id: None,
            model: Some("m".into()),
            instructions: None,
            input: Some(vec![user]),
            output: Some(vec![fc]),
            tools: vec![],
            params: Map::new(),
            usage: None,
            attempts: vec![],
            provider: None,
            capture: None,
        };
        vec![Span {
            trace_id: "t".into(),
            id: "s1".into(),
            parent_id: None,
            started_at: None,
            ended_at: None,
            data: SpanData::Model(Box::new(call)),
            error: None,
        }]
    }

    #[test]
    fn tools_called_but_not_captured_are_inferred_with_a_warning_or_refused_when_strict() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { dataset: "d".into(), dry_run: true, ..Options::default() };
        let spans = call_without_definitions();
        let p = promote(
            dir.path(),
            &Trace::bare("t"),
            &spans,
            &taxonomy(),
            &opts,
            &[],
            &mut HashIndex::default(),
            &NoHistory,
        )
        .unwrap();
        assert_eq!(
            p.case.tools,
            vec![json!({"type": "function", "name": "get_weather", "parameters": {"type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}, "strict": false})]
        );
        assert!(p.warnings[0].contains("inferred get_weather from the recorded calls"), "{:?}", p.warnings);
        let strict = Options { strict: true, ..opts };
        let e = promote(
            dir.path(),
            &Trace::bare("t"),
            &spans,
            &taxonomy(),
            &strict,
            &[],
            &mut HashIndex::default(),
            &NoHistory,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("the model called get_weather but the capture has no tool definitions"), "{e}");
    }

    #[test]
    fn a_trace_of_several_user_turns_is_promoted_as_its_last_turn_with_the_earlier_ones_as_context() {
        let msg = |role: &str, text: &str| json!({"type": "message", "role": role, "content": text});
        let fc = json!({"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"});
        let fco = json!({"type": "function_call_output", "call_id": "c1", "output": "sunny"});
        let call = |n: usize, input: Vec<Value>, output: Value| {
            let mut span = call_without_definitions().remove(0);
            span.id = format!("s{n}");
            let mut c = span.model_call().unwrap().clone();
            c.input = Some(input);
            c.output = Some(vec![output]);
            span.data = SpanData::Model(Box::new(c));
            span
        };
        let (hi, name) = (msg("user", "my name is Ada"), msg("assistant", "Hello Ada."));
        let ask = msg("user", "weather in Paris?");
        let spans = vec![
            call(1, vec![hi.clone()], name.clone()),
            call(2, vec![hi.clone(), name.clone(), ask.clone()], fc.clone()),
            // The tool result goes back with the same user messages: still the second turn.
            call(3, vec![hi, name, ask, fc, fco], msg("assistant", "Sunny in Paris.")),
        ];
        let case = build_case(&Trace::bare("t"), &spans, &taxonomy(), &Options::default(), &NoHistory).unwrap();
        let texts: Vec<String> = case.input.items.iter().map(items::item_text).collect();
        assert_eq!(texts, ["my name is Ada", "Hello Ada.", "weather in Paris?"]);
        assert_eq!(case.recorded.output.text, "Sunny in Paris.");
        let called: Vec<&str> = case.recorded.output.tool_calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(called, ["get_weather"]);
        assert_eq!(case.recorded.tool_outputs.len(), 1);

        // One user turn with its tool round trip starts at the first call, as before.
        let one = build_case(&Trace::bare("t"), &spans[1..], &taxonomy(), &Options::default(), &NoHistory).unwrap();
        assert_eq!(one.input.items.len(), 3);
    }

    /// Earlier responses by id.
    struct Responses(Vec<ModelCall>);

    impl History for Responses {
        fn response(&self, id: &str) -> Option<ModelCall> {
            self.0.iter().find(|c| c.response_id.as_deref() == Some(id)).cloned()
        }
        fn conversation(&self, _: &str, _: Option<DateTime<Utc>>) -> Vec<ModelCall> {
            self.0.clone()
        }
    }

    #[test]
    fn a_continued_conversation_is_promoted_with_its_earlier_context_or_refused_naming_what_is_missing() {
        let msg = |role: &str, text: &str| json!({"role": role, "content": text});
        let turn = |id: &str, prev: Option<&str>, user: &str, answer: &str| {
            let mut c = call_without_definitions()[0].model_call().unwrap().clone();
            c.response_id = Some(id.into());
            c.input = Some(vec![msg("user", user)]);
            c.output = Some(vec![json!({"type": "message", "role": "assistant", "content": answer})]);
            if let Some(p) = prev {
                c.params.insert("previous_response_id".into(), json!(p));
            }
            c
        };
        let first = turn("resp_1", None, "I am in Paris.", "Noted.");
        let second = turn("resp_2", Some("resp_1"), "Tomorrow?", "Sunny.");
        let third = turn("resp_3", Some("resp_2"), "And the weather?", "Sunny, 21C.");
        let mut spans = call_without_definitions();
        spans[0].data = SpanData::Model(Box::new(third));
        let t = Trace::bare("t");
        let case =
            build_case(&t, &spans, &taxonomy(), &Options::default(), &Responses(vec![first, second.clone()])).unwrap();
        let texts: Vec<String> = case.input.items.iter().map(items::item_text).collect();
        assert_eq!(texts, ["I am in Paris.", "Noted.", "Tomorrow?", "Sunny.", "And the weather?"]);
        assert!(case.input.params.get("previous_response_id").is_none(), "resolved, not sent");
        let e = build_case(&t, &spans, &taxonomy(), &Options::default(), &Responses(vec![second])).unwrap_err();
        assert!(e.to_string().contains("continues response resp_1, which is not in the store"), "{e}");
    }

    #[test]
    fn promote_refuses_a_duplicate_naming_the_case() {
        let dir = tempfile::tempdir().unwrap();
        let batch = fixture_batch("agents_processor_full.jsonl");
        let (t, spans) = trace_of(&batch, "b773d5");
        let opts = Options { dataset: "demo".into(), ..Options::default() };
        let first =
            promote(dir.path(), &t, &spans, &taxonomy(), &opts, &[], &mut HashIndex::default(), &NoHistory).unwrap();
        assert!(first.path.exists());
        assert_eq!(Case::load(&first.path).unwrap(), first.case);
        let other = Options { dataset: "other".into(), ..Options::default() };
        // A new index read from disk finds the case written in another dataset.
        let mut hashes = HashIndex::build(dir.path()).unwrap();
        match promote(dir.path(), &t, &spans, &taxonomy(), &other, &[], &mut hashes, &NoHistory).unwrap_err() {
            DatasetError::Duplicate { case, .. } => assert_eq!(case, first.case.id),
            e => panic!("{e}"),
        }
    }
}
