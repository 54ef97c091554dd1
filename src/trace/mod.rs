//! The normalized trace model (trace, span, model call) that every capture source maps onto.

pub mod agents_sdk;
pub mod chat;
pub mod import;
pub mod items;
pub mod openai_log;
pub mod otlp;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
        if self.tools.is_empty() {
            self.tools = other.tools.clone();
        }
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
    fn times_parse_with_and_without_fraction() {
        assert!(parse_time("2025-07-15T15:48:54.123456+00:00").is_some());
        assert!(parse_time("2025-07-15T15:48:54+00:00").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
