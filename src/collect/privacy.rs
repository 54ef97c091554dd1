//! What of the captured content is kept at ingest: everything, everything with sensitive values
//! masked (`--redact`), or the structure without any text (`--no-content`).

use serde_json::{Map, Value};

use crate::privacy::mask;
use crate::trace::{Batch, ModelCall, Span, SpanData, Trace};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Privacy {
    #[default]
    Keep,
    Redact,
    NoContent,
}

/// Keys of Responses items that hold identifiers and vocabulary, never user text.
const STRUCTURAL_KEYS: &[&str] = &["id", "call_id", "type", "role", "status", "name", "model"];

impl Privacy {
    pub fn batch(self, batch: &mut Batch) {
        if self == Privacy::Keep {
            return;
        }
        batch.traces.iter_mut().for_each(|t| self.trace(t));
        batch.spans.iter_mut().for_each(|s| self.span(s));
    }

    pub fn trace(self, trace: &mut Trace) {
        match self {
            Privacy::Keep => {}
            Privacy::Redact => {
                if let Some(m) = &mut trace.metadata {
                    m.values_mut().for_each(redact_value);
                }
            }
            Privacy::NoContent => trace.metadata = None,
        }
    }

    pub fn span(self, span: &mut Span) {
        match self {
            Privacy::Keep => {}
            Privacy::Redact => {
                if let Some(e) = &mut span.error {
                    e.message = mask(&e.message);
                    e.data.iter_mut().for_each(redact_value);
                }
                match &mut span.data {
                    SpanData::Model(call) => redact_call(call),
                    SpanData::Tool { arguments, output, .. } => {
                        for text in [arguments, output].into_iter().flatten() {
                            *text = mask(text);
                        }
                    }
                    SpanData::Custom { data, .. } => redact_value(data),
                    SpanData::Agent { .. } | SpanData::Handoff { .. } | SpanData::Guardrail { .. } => {}
                }
            }
            Privacy::NoContent => {
                if let Some(e) = &mut span.error {
                    e.message = "error (text dropped at capture)".into();
                    e.data = None;
                }
                match &mut span.data {
                    SpanData::Model(call) => strip_call(call),
                    SpanData::Tool { arguments, output, .. } => {
                        *arguments = None;
                        *output = None;
                    }
                    SpanData::Custom { data, .. } => *data = Value::Null,
                    SpanData::Agent { .. } | SpanData::Handoff { .. } | SpanData::Guardrail { .. } => {}
                }
            }
        }
    }
}

fn redact_call(call: &mut ModelCall) {
    if let Some(i) = &mut call.instructions {
        *i = mask(i);
    }
    for items in [&mut call.input, &mut call.output].into_iter().flatten() {
        items.iter_mut().for_each(redact_item);
    }
    call.tools.iter_mut().for_each(redact_item);
}

/// Mask every string of an item except its ids and vocabulary, which joins and replay need.
fn redact_item(item: &mut Value) {
    match item {
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if !STRUCTURAL_KEYS.contains(&k.as_str()) {
                    redact_item(v);
                }
            }
        }
        other => redact_value(other),
    }
}

fn redact_value(v: &mut Value) {
    match v {
        Value::String(s) => *s = mask(s),
        Value::Array(a) => a.iter_mut().for_each(redact_item),
        Value::Object(o) => o.values_mut().for_each(redact_item),
        _ => {}
    }
}

/// Keep model, usage, settings and tool names; drop every text.
fn strip_call(call: &mut ModelCall) {
    call.instructions = None;
    call.input = None;
    call.output = None;
    for tool in &mut call.tools {
        if let Value::Object(o) = tool {
            let kept: Map<String, Value> = o
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "type" | "name"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            *o = kept;
        }
    }
    call.params.remove("text");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::agents_sdk::parse_processor_line;
    use serde_json::json;

    fn full_capture() -> Batch {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/agents-sdk/agents_processor_full.jsonl"
        ))
        .unwrap();
        let mut batch = Batch::default();
        for l in text.lines() {
            batch.extend(parse_processor_line(&serde_json::from_str(l).unwrap()).unwrap());
        }
        batch
    }

    fn with_secrets(batch: &mut Batch) {
        for span in &mut batch.spans {
            match &mut span.data {
                SpanData::Model(call) => {
                    call.input.as_mut().unwrap().push(json!({"role": "user", "content": "I am ann@x.org"}));
                }
                SpanData::Tool { output, .. } => *output = Some("call +1 415 555 2671".into()),
                _ => {}
            }
        }
    }

    #[test]
    fn redact_masks_text_and_keeps_ids() {
        let mut batch = full_capture();
        with_secrets(&mut batch);
        Privacy::Redact.batch(&mut batch);
        let all = serde_json::to_string(&batch.spans).unwrap();
        assert!(!all.contains("ann@x.org") && !all.contains("555 2671"), "{all}");
        assert!(all.contains("I am <EMAIL>") && all.contains("call <PHONE>"));
        let call = batch.spans.iter().find_map(Span::model_call).unwrap();
        assert!(call.has_content());
        assert_eq!(crate::trace::items::function_calls(call.output.as_ref().unwrap())[0].name, "get_weather");
    }

    #[test]
    fn no_content_keeps_structure_model_and_usage() {
        let mut batch = full_capture();
        let before: Vec<_> =
            batch.spans.iter().map(|s| (s.id.clone(), s.data.kind(), s.data.name().map(str::to_string))).collect();
        Privacy::NoContent.batch(&mut batch);
        let after: Vec<_> =
            batch.spans.iter().map(|s| (s.id.clone(), s.data.kind(), s.data.name().map(str::to_string))).collect();
        assert_eq!(before, after, "same spans, kinds and names");
        for span in &batch.spans {
            match &span.data {
                SpanData::Model(call) => {
                    assert!(call.input.is_none() && call.output.is_none() && call.instructions.is_none());
                    assert!(call.usage.is_some() && call.model.is_some());
                    assert!(call.tools.iter().all(|t| t.get("description").is_none() && t.get("name").is_some()));
                }
                SpanData::Tool { arguments, output, .. } => assert!(arguments.is_none() && output.is_none()),
                _ => {}
            }
        }
        let all = serde_json::to_string(&batch.spans).unwrap();
        assert!(!all.contains("Paris"), "no text survives");
    }
}
