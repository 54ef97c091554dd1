//! A trace as a timeline: its spans in start order, each nested under its parent, with what a
//! reader needs of each kind (a model call's instructions, input and output; a tool call's
//! arguments and output; a handoff's two agents).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

use super::{Attempt, Span, SpanData};

/// One span on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// `agent`, `model`, `tool`, `handoff`, `guardrail`, `error` (a span that only failed) or `other`.
    pub kind: &'static str,
    pub name: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    /// 0 for a span at the top of the trace.
    pub depth: usize,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    #[serde(flatten)]
    pub detail: Detail,
}

/// What one kind of span adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Agent {
        tools: Vec<String>,
        handoffs: Vec<String>,
    },
    Model {
        model: Option<String>,
        instructions: Option<String>,
        /// Responses API input items, as captured (empty when only ids were).
        input: Vec<Value>,
        output: Vec<Value>,
        usage: Usage,
        response_id: Option<String>,
        /// Which HTTP attempt answered, from 1: more than 1 after retries.
        attempt: usize,
        attempts: Vec<Attempt>,
    },
    Tool {
        arguments: String,
        output: Option<String>,
    },
    Handoff {
        from: Option<String>,
        to: Option<String>,
    },
    Guardrail {
        triggered: bool,
    },
    Other {
        data: Value,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The spans (in start order, as the store loads them) as a depth-first timeline: each span is
/// followed by its children. A span whose parent never arrived is placed at the top.
pub fn timeline(spans: &[Span]) -> Vec<Event> {
    let ids: HashSet<&str> = spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&Span>> = HashMap::new();
    for s in spans {
        children.entry(s.parent_id.as_deref().filter(|p| ids.contains(p))).or_default().push(s);
    }
    let mut out = Vec::with_capacity(spans.len());
    // An explicit stack: a deep chain of spans must not exhaust the thread's stack.
    let mut stack: Vec<(&Span, usize)> =
        children.get(&None).map(|top| top.iter().rev().map(|s| (*s, 0)).collect()).unwrap_or_default();
    let mut seen = HashSet::new();
    while let Some((span, depth)) = stack.pop() {
        if !seen.insert(span.id.as_str()) {
            continue;
        }
        out.push(event(span, depth));
        if let Some(kids) = children.get(&Some(span.id.as_str())) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

fn event(span: &Span, depth: usize) -> Event {
    let (kind, detail) = match &span.data {
        SpanData::Agent { tools, handoffs, .. } => {
            ("agent", Detail::Agent { tools: tools.clone(), handoffs: handoffs.clone() })
        }
        SpanData::Model(m) => (
            "model",
            Detail::Model {
                model: m.model.clone(),
                instructions: m.instructions.clone(),
                input: m.input.clone().unwrap_or_default(),
                output: m.output.clone().unwrap_or_default(),
                usage: m
                    .usage
                    .map(|u| Usage { input_tokens: u.input_tokens, output_tokens: u.output_tokens })
                    .unwrap_or(Usage { input_tokens: 0, output_tokens: 0 }),
                response_id: m.response_id.clone(),
                attempt: m.attempts.len().max(1),
                attempts: m.attempts.clone(),
            },
        ),
        SpanData::Tool { arguments, output, .. } => {
            ("tool", Detail::Tool { arguments: arguments.clone().unwrap_or_default(), output: output.clone() })
        }
        SpanData::Handoff { from, to } => ("handoff", Detail::Handoff { from: from.clone(), to: to.clone() }),
        SpanData::Guardrail { triggered, .. } => ("guardrail", Detail::Guardrail { triggered: *triggered }),
        SpanData::Custom { data, .. } => {
            (if span.error.is_some() { "error" } else { "other" }, Detail::Other { data: data.clone() })
        }
    };
    let name = match &span.data {
        SpanData::Handoff { from, to } => {
            format!("{} → {}", from.as_deref().unwrap_or("?"), to.as_deref().unwrap_or("?"))
        }
        SpanData::Model(m) => m.model.clone().unwrap_or_else(|| "model".into()),
        other => other.name().unwrap_or_default().to_string(),
    };
    Event {
        kind,
        name,
        span_id: span.id.clone(),
        parent_id: span.parent_id.clone(),
        depth,
        started_at: span.started_at,
        duration_ms: span.ended_at.zip(span.started_at).map(|(e, s)| (e - s).num_milliseconds()),
        error: span.error.as_ref().map(|e| e.message.clone()),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, data: SpanData) -> Span {
        Span {
            trace_id: "t".into(),
            id: id.into(),
            parent_id: parent.map(str::to_string),
            started_at: None,
            ended_at: None,
            data,
            error: None,
        }
    }

    #[test]
    fn children_follow_their_parent_and_orphans_sit_at_the_top() {
        let agent =
            |n: &str| SpanData::Agent { name: n.into(), handoffs: vec![], tools: vec!["t".into()], output_type: None };
        let tool = SpanData::Tool { name: "lookup".into(), arguments: Some("{}".into()), output: None, call_id: None };
        let spans = vec![
            span("a", None, agent("Triage")),
            span("b", Some("a"), tool),
            span("c", Some("gone"), SpanData::Handoff { from: Some("Triage".into()), to: Some("Expert".into()) }),
            span("d", Some("a"), agent("Inner")),
        ];
        let t = timeline(&spans);
        let order: Vec<_> = t.iter().map(|e| (e.span_id.as_str(), e.depth, e.kind)).collect();
        assert_eq!(order, [("a", 0, "agent"), ("b", 1, "tool"), ("d", 1, "agent"), ("c", 0, "handoff")]);
        assert_eq!(t[3].name, "Triage → Expert");
        let v = serde_json::to_value(&t[1]).unwrap();
        assert_eq!((v["arguments"].as_str(), v["output"].is_null()), (Some("{}"), true));
    }
}
