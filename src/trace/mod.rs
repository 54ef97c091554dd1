//! The normalized trace model (trace, span, model call) that every capture source maps onto.

pub mod agents_sdk;
pub mod chat;
pub mod import;
pub mod items;
pub mod join;
pub mod openai_log;
pub mod otlp;
pub mod timeline;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One agent run (or one bare model call), as a workflow with spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub id: String,
    pub workflow: Option<String>,
    pub group_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

impl Trace {
    pub fn bare(id: impl Into<String>) -> Self {
        Trace { id: id.into(), workflow: None, group_id: None, metadata: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub trace_id: String,
    pub id: String,
    pub parent_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub data: SpanData,
    pub error: Option<SpanError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// What a span did. One variant per kind the trace view and promotion care about; everything
/// else is kept as `Custom` with its raw data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpanData {
    Agent {
        name: String,
        #[serde(default)]
        handoffs: Vec<String>,
        #[serde(default)]
        tools: Vec<String>,
        #[serde(default)]
        output_type: Option<String>,
    },
    Model(Box<ModelCall>),
    Tool {
        name: String,
        #[serde(default)]
        arguments: Option<String>,
        #[serde(default)]
        output: Option<String>,
        #[serde(default)]
        call_id: Option<String>,
    },
    Handoff {
        from: Option<String>,
        to: Option<String>,
    },
    Guardrail {
        name: String,
        triggered: bool,
    },
    Custom {
        name: String,
        #[serde(default)]
        data: Value,
    },
}

impl SpanData {
    pub fn kind(&self) -> &'static str {
        match self {
            SpanData::Agent { .. } => "agent",
            SpanData::Model(_) => "model",
            SpanData::Tool { .. } => "tool",
            SpanData::Handoff { .. } => "handoff",
            SpanData::Guardrail { .. } => "guardrail",
            SpanData::Custom { .. } => "custom",
        }
    }

    /// A short name for tables and trees.
    pub fn name(&self) -> Option<&str> {
        match self {
            SpanData::Agent { name, .. }
            | SpanData::Tool { name, .. }
            | SpanData::Guardrail { name, .. }
            | SpanData::Custom { name, .. } => Some(name),
            SpanData::Model(m) => m.model.as_deref(),
            SpanData::Handoff { to, .. } => to.as_deref(),
        }
    }
}

/// Which API a model call went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelApi {
    Responses,
    ChatCompletions,
}

/// One model call, normalized to the Responses API's vocabulary whatever API it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCall {
    pub api: ModelApi,
    #[serde(default)]
    pub response_id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub instructions: Option<String>,
    /// Responses input items the model received; `None` when the capture carried no content.
    #[serde(default)]
    pub input: Option<Vec<Value>>,
    /// Responses output items; `None` when the capture carried no content.
    #[serde(default)]
    pub output: Option<Vec<Value>>,
    /// Function tools offered, in the Responses API's flat shape.
    #[serde(default)]
    pub tools: Vec<Value>,
    /// Sampling and format settings (temperature, top_p, text, reasoning, tool_choice, ...).
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// The HTTP attempts the recording proxy saw for this call, failed retries first; empty when
    /// the capture was not through the proxy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Who served the call (`openai`, `azure.ai.openai`, or the API's host), when the capture
    /// says: the proxy's upstream, a base URL, GenAI `gen_ai.provider.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The capture path the call came by, so a refusal can say what to change there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<Capture>,
}

/// How a model call reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capture {
    /// The Agents SDK's exporter or a processor capture.
    AgentsSdk,
    /// OpenTelemetry GenAI semantic conventions.
    OtlpGenai,
    OpenInference,
    /// OpenAI request/response logs.
    OpenaiLog,
    /// The recording proxy of `evals collect`.
    Proxy,
}

/// One HTTP attempt of a model call: a client's retry of the same request is another attempt of
/// the same call, not another call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub started_at: DateTime<Utc>,
    /// The upstream's HTTP status; 502 when it could not be reached, 504 when it timed out.
    pub status: u16,
    pub latency_ms: u64,
    /// The API's `error.type` and `error.code` (`rate_limit_exceeded`, `context_length_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Attempt {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl ModelCall {
    pub fn has_content(&self) -> bool {
        self.input.is_some() && self.output.is_some()
    }

    /// Fill what this call lacks from another record of the same call (a span that arrived
    /// twice, or a proxy recording joined to an exported span).
    pub fn merge(&mut self, other: &ModelCall) {
        fill(&mut self.response_id, &other.response_id);
        fill(&mut self.model, &other.model);
        fill(&mut self.instructions, &other.instructions);
        fill(&mut self.input, &other.input);
        fill(&mut self.output, &other.output);
        fill(&mut self.usage, &other.usage);
        fill(&mut self.provider, &other.provider);
        fill(&mut self.capture, &other.capture);
        if self.tools.is_empty() {
            self.tools = other.tools.clone();
        }
        for a in &other.attempts {
            if !self.attempts.iter().any(|b| b.started_at == a.started_at && b.status == a.status) {
                self.attempts.push(a.clone());
            }
        }
        self.attempts.sort_by_key(|a| a.started_at);
        for (k, v) in &other.params {
            self.params.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

fn fill<T: Clone>(slot: &mut Option<T>, other: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(other);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_input_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }

    /// Read a usage object in either API's vocabulary (Responses, Chat Completions, Agents SDK).
    pub fn from_json(v: &Value) -> Option<Usage> {
        let o = v.as_object()?;
        let num = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(Value::as_u64)).unwrap_or(0);
        let nested =
            |outer: &str, inner: &str| o.get(outer).and_then(|d| d.get(inner)).and_then(Value::as_u64).unwrap_or(0);
        Some(Usage {
            input_tokens: num(&["input_tokens", "prompt_tokens"]),
            output_tokens: num(&["output_tokens", "completion_tokens"]),
            cached_input_tokens: nested("input_tokens_details", "cached_tokens")
                .max(nested("prompt_tokens_details", "cached_tokens"))
                .max(num(&["cached_input_tokens"])),
            reasoning_tokens: nested("output_tokens_details", "reasoning_tokens")
                .max(nested("completion_tokens_details", "reasoning_tokens")),
        })
    }
}

impl Span {
    pub fn duration_ms(&self) -> Option<f64> {
        let (s, e) = (self.started_at?, self.ended_at?);
        Some((e - s).num_microseconds()? as f64 / 1000.0)
    }

    pub fn model_call(&self) -> Option<&ModelCall> {
        match &self.data {
            SpanData::Model(m) => Some(m),
            _ => None,
        }
    }

    /// Combine two records of the same span: a start record and an end record, or a re-sent one.
    pub fn merge(&mut self, other: &Span) {
        fill(&mut self.parent_id, &other.parent_id);
        fill(&mut self.started_at, &other.started_at);
        fill(&mut self.ended_at, &other.ended_at);
        // A retry that got an answer ends the error its failed attempts recorded.
        if let (Some(call), None) = (other.model_call(), &other.error)
            && call.output.is_some()
            && call.attempts.last().is_some_and(Attempt::ok)
        {
            self.error = None;
        }
        fill(&mut self.error, &other.error);
        match (&mut self.data, &other.data) {
            (SpanData::Model(a), SpanData::Model(b)) => a.merge(b),
            (
                SpanData::Tool { arguments, output, call_id, .. },
                SpanData::Tool { arguments: a2, output: o2, call_id: c2, .. },
            ) => {
                fill(arguments, a2);
                fill(output, o2);
                fill(call_id, c2);
            }
            (SpanData::Custom { data, .. }, SpanData::Custom { data: d2, .. }) => {
                // Span-end records carry the final data (usage totals); prefer the richer one.
                if let (Some(a), Some(b)) = (data.as_object_mut(), d2.as_object()) {
                    for (k, v) in b {
                        a.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                } else if data.is_null() {
                    *data = d2.clone();
                }
            }
            _ => {}
        }
    }
}

/// A set of records to write together: the unit of ingest and import.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub traces: Vec<Trace>,
    pub spans: Vec<Span>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty() && self.spans.is_empty()
    }

    pub fn extend(&mut self, other: Batch) {
        self.traces.extend(other.traces);
        self.spans.extend(other.spans);
    }
}

/// The provider behind an OpenAI-compatible base URL: `openai` for api.openai.com, GenAI's
/// `azure.ai.openai` for Azure, else the host.
pub fn provider_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next()?.rsplit('@').next()?;
    let host =
        host.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(host, |(h, _)| h);
    match host {
        "" => None,
        "api.openai.com" => Some("openai".into()),
        h if h.ends_with(".openai.azure.com") => Some("azure.ai.openai".into()),
        h => Some(h.to_string()),
    }
}

/// What `traces list --json` and `traces show --json` say about a trace beyond its summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// `ok`, `error`, or `timeout` when a model call timed out.
    pub status: &'static str,
    pub provider: Option<String>,
    /// The OpenAI project: the exporter's `OpenAI-Project` header, or `project` in the metadata.
    pub project: Option<String>,
    pub first_user_text: Option<String>,
    pub final_output: Option<String>,
}

impl Facts {
    pub fn of(trace: &Trace, spans: &[Span]) -> Facts {
        let calls: Vec<&ModelCall> = spans.iter().filter_map(Span::model_call).collect();
        let timed_out = calls.iter().any(|c| {
            c.attempts
                .last()
                .is_some_and(|a| matches!(a.status, 408 | 504) || a.error_type.as_deref() == Some("timeout"))
        });
        let status = match (spans.iter().any(|s| s.error.is_some()), timed_out) {
            (_, true) => "timeout",
            (true, false) => "error",
            (false, false) => "ok",
        };
        let meta = |k: &str| trace.metadata.as_ref()?.get(k)?.as_str().map(str::to_string);
        Facts {
            status,
            provider: calls.iter().find_map(|c| c.provider.clone()),
            project: meta(PROJECT_KEY).or_else(|| meta("project")),
            first_user_text: calls.iter().find_map(|c| {
                let items = c.input.as_deref()?;
                let first = items.iter().position(|i| items::role(i) == Some("user"))?;
                items::last_user_text(&items[..=first])
            }),
            final_output: calls.iter().rev().find_map(|c| c.output.as_deref()).map(items::output_text),
        }
    }
}

/// The trace metadata key under which `evals collect` keeps the exporter's `OpenAI-Project`.
pub const PROJECT_KEY: &str = "openai_project";

/// Parse an RFC 3339 timestamp as the SDK writes it (fraction optional).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_reads_every_vocabulary() {
        let r = Usage::from_json(&json!({"input_tokens": 12, "output_tokens": 2,
            "input_tokens_details": {"cached_tokens": 4}, "output_tokens_details": {"reasoning_tokens": 1}}))
        .unwrap();
        assert_eq!((r.input_tokens, r.output_tokens, r.cached_input_tokens, r.reasoning_tokens), (12, 2, 4, 1));
        let c = Usage::from_json(&json!({"prompt_tokens": 6, "completion_tokens": 3})).unwrap();
        assert_eq!(c.total(), 9);
    }

    #[test]
    fn merge_fills_missing_content_only() {
        let mut exported = ModelCall {
            api: ModelApi::Responses,
            response_id: Some("resp_1".into()),
            model: None,
            instructions: None,
            input: None,
            output: None,
            tools: vec![],
            params: Map::new(),
            usage: Some(Usage { input_tokens: 5, ..Usage::default() }),
            attempts: vec![],
            provider: None,
            capture: None,
        };
        let mut recorded = exported.clone();
        recorded.model = Some("gpt-4.1".into());
        recorded.input = Some(vec![json!({"role": "user", "content": "hi"})]);
        recorded.output = Some(vec![]);
        recorded.usage = Some(Usage { input_tokens: 99, ..Usage::default() });
        exported.merge(&recorded);
        assert!(exported.has_content());
        assert_eq!(exported.model.as_deref(), Some("gpt-4.1"));
        assert_eq!(exported.usage.unwrap().input_tokens, 5, "existing values win");
    }

    #[test]
    fn providers_come_from_base_urls() {
        assert_eq!(provider_of_url("https://api.openai.com/v1").as_deref(), Some("openai"));
        assert_eq!(provider_of_url("https://acme.openai.azure.com/openai").as_deref(), Some("azure.ai.openai"));
        assert_eq!(provider_of_url("http://127.0.0.1:4010/v1").as_deref(), Some("127.0.0.1"));
        assert_eq!(provider_of_url("").as_deref(), None);
    }

    #[test]
    fn times_parse_with_and_without_fraction() {
        assert!(parse_time("2025-07-15T15:48:54.123456+00:00").is_some());
        assert!(parse_time("2025-07-15T15:48:54+00:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
