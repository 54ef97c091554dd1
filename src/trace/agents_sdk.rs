//! The OpenAI Agents SDK's trace records: `BackendSpanExporter` bodies and processor JSONL.

use serde_json::{Map, Value, json};

use super::items::{from_chat_messages, input_items, strip_nulls, tool_from_chat};
use super::{
    Batch, Capture, ModelApi, ModelCall, Span, SpanData, SpanError, Trace, Usage, parse_time, provider_of_url,
};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RecordError {
    #[error("expected a JSON object")]
    NotObject,
    #[error("unknown record object {0:?} (expected \"trace\" or \"trace.span\")")]
    UnknownObject(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("`data` must be a list of trace and span records")]
    DataNotList,
}

/// An exporter body: `{"data": [record, ...]}`.
pub fn parse_export_body(body: &Value) -> Result<Batch, RecordError> {
    let list = body.get("data").and_then(Value::as_array).ok_or(RecordError::DataNotList)?;
    let mut batch = Batch::default();
    for record in list {
        add_record(&mut batch, record)?;
    }
    Ok(batch)
}

/// One processor JSONL line: a bare record, or `{"event": ..., "data": record}`.
pub fn parse_processor_line(line: &Value) -> Result<Batch, RecordError> {
    let record = match (line.get("event"), line.get("data")) {
        (Some(_), Some(data)) if data.is_object() => data,
        _ => line,
    };
    let mut batch = Batch::default();
    add_record(&mut batch, record)?;
    Ok(batch)
}

fn add_record(batch: &mut Batch, record: &Value) -> Result<(), RecordError> {
    let obj = record.as_object().ok_or(RecordError::NotObject)?;
    match obj.get("object").and_then(Value::as_str) {
        Some("trace") => batch.traces.push(parse_trace(obj)?),
        Some("trace.span") => batch.spans.push(parse_span(obj)?),
        Some(other) => return Err(RecordError::UnknownObject(other.to_string())),
        None => return Err(RecordError::Missing("object")),
    }
    Ok(())
}

fn s(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_string)
}

fn parse_trace(o: &Map<String, Value>) -> Result<Trace, RecordError> {
    Ok(Trace {
        id: s(o, "id").ok_or(RecordError::Missing("id"))?,
        workflow: s(o, "workflow_name"),
        group_id: s(o, "group_id"),
        metadata: o.get("metadata").and_then(Value::as_object).cloned(),
    })
}

fn parse_span(o: &Map<String, Value>) -> Result<Span, RecordError> {
    let data = o.get("span_data").and_then(Value::as_object).ok_or(RecordError::Missing("span_data"))?;
    let error = o.get("error").filter(|e| !e.is_null()).map(|e| SpanError {
        message: e.get("message").and_then(Value::as_str).unwrap_or("error").to_string(),
        data: e.get("data").filter(|d| !d.is_null()).cloned(),
    });
    Ok(Span {
        trace_id: s(o, "trace_id").ok_or(RecordError::Missing("trace_id"))?,
        id: s(o, "id").ok_or(RecordError::Missing("id"))?,
        parent_id: s(o, "parent_id"),
        started_at: o.get("started_at").and_then(Value::as_str).and_then(parse_time),
        ended_at: o.get("ended_at").and_then(Value::as_str).and_then(parse_time),
        data: span_data(data),
        error,
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn span_data(d: &Map<String, Value>) -> SpanData {
    let kind = d.get("type").and_then(Value::as_str).unwrap_or("custom");
    match kind {
        "agent" => SpanData::Agent {
            name: s(d, "name").unwrap_or_default(),
            handoffs: strings(d.get("handoffs")),
            tools: strings(d.get("tools")),
            output_type: s(d, "output_type"),
        },
        "response" => SpanData::Model(Box::new(response_call(d))),
        "generation" => SpanData::Model(Box::new(generation_call(d))),
        "function" => SpanData::Tool {
            name: s(d, "name").unwrap_or_default(),
            arguments: s(d, "input"),
            output: match d.get("output") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => None,
                Some(v) => Some(v.to_string()),
            },
            call_id: None,
        },
        "handoff" => SpanData::Handoff { from: s(d, "from_agent"), to: s(d, "to_agent") },
        "guardrail" => SpanData::Guardrail {
            name: s(d, "name").unwrap_or_default(),
            triggered: d.get("triggered").and_then(Value::as_bool).unwrap_or(false),
        },
        "custom" => SpanData::Custom {
            name: s(d, "name").unwrap_or_default(),
            data: d.get("data").cloned().unwrap_or(Value::Null),
        },
        other => SpanData::Custom { name: other.to_string(), data: Value::Object(d.clone()) },
    }
}

/// Request settings echoed in a Response that shape the next answer.
pub const RESPONSE_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "text",
    "reasoning",
    "truncation",
    // Where the conversation so far is kept server-side; promotion resolves them into the input.
    "previous_response_id",
    "conversation",
];

/// Request settings that point at earlier context instead of carrying it.
pub const CONTEXT_PARAMS: &[&str] = &["previous_response_id", "conversation"];

/// A model call from a full Response object (processor capture, proxy, OpenInference).
///
/// A Response echoes every setting, the API's defaults included (`temperature: 1.0`,
/// `truncation: disabled`, `reasoning: {effort: medium}`), whether the client sent them or not;
/// sent back, some are refused (`reasoning` to a model without it). So only settings that differ
/// from the defaults are kept: what the client must have asked for. A capture that has the request
/// (the proxy, request logs) takes the settings from the request instead.
pub fn call_from_response(response: &Value, input: Option<&Value>) -> ModelCall {
    let mut params = Map::new();
    for k in RESPONSE_PARAMS {
        if let Some(v) = response.get(*k).map(strip_nulls).and_then(|v| not_default(k, v)) {
            params.insert((*k).to_string(), v);
        }
    }
    ModelCall {
        api: ModelApi::Responses,
        response_id: response.get("id").and_then(Value::as_str).map(str::to_string),
        model: response.get("model").and_then(Value::as_str).map(str::to_string),
        instructions: response.get("instructions").and_then(Value::as_str).map(str::to_string),
        input: input.map(input_items),
        output: response.get("output").and_then(Value::as_array).map(|a| a.iter().map(strip_nulls).collect()),
        tools: response
            .get("tools")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(strip_nulls).collect())
            .unwrap_or_default(),
        params,
        usage: response.get("usage").and_then(Usage::from_json),
        attempts: vec![],
        provider: None,
        capture: None,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// An echoed setting without the parts that are the API's defaults; `None` when nothing is left.
fn not_default(key: &str, v: Value) -> Option<Value> {
    let v = match (key, v) {
        ("temperature" | "top_p", v) if v.as_f64() == Some(1.0) => return None,
        ("tool_choice", v) if v == "auto" => return None,
        ("parallel_tool_calls", Value::Bool(true)) => return None,
        ("truncation", v) if v == "disabled" => return None,
        ("reasoning", Value::Object(mut o)) => {
            o.retain(|k, v| !(k == "effort" && v == "medium"));
            Value::Object(o)
        }
        ("text", Value::Object(mut o)) => {
            o.retain(|k, v| !(k == "verbosity" && v == "medium" || k == "format" && *v == json!({"type": "text"})));
            Value::Object(o)
        }
        (_, v) => v,
    };
    (!is_empty(&v)).then_some(v)
}

fn response_call(d: &Map<String, Value>) -> ModelCall {
    let mut call = match d.get("response").filter(|r| r.is_object()) {
        Some(r) => call_from_response(r, d.get("input").filter(|i| !i.is_null())),
        None => ModelCall {
            api: ModelApi::Responses,
            response_id: None,
            model: None,
            instructions: None,
            input: d.get("input").filter(|i| !i.is_null()).map(input_items),
            output: None,
            tools: vec![],
            params: Map::new(),
            usage: None,
            attempts: vec![],
            provider: None,
            capture: None,
        },
    };
    if call.response_id.is_none() {
        call.response_id = s(d, "response_id");
    }
    if let Some(u) = d.get("usage").and_then(Usage::from_json) {
        call.usage = Some(u);
    }
    call.capture = Some(Capture::AgentsSdk);
    call
}

fn generation_call(d: &Map<String, Value>) -> ModelCall {
    let (instructions, input) = match d.get("input").and_then(Value::as_array) {
        Some(msgs) => {
            let (i, items) = from_chat_messages(msgs);
            (i, Some(items))
        }
        None => (None, None),
    };
    // Python puts the assistant messages in `output`; JS the whole `chat.completion`, whose id
    // is the one the proxy records the call under and whose usage is the call's.
    let outputs = d.get("output").and_then(Value::as_array);
    let completion = outputs.and_then(|o| o.iter().find(|v| v.get("choices").is_some()));
    let output = outputs.map(|msgs| {
        msgs.iter()
            .flat_map(|m| match m.pointer("/choices/0/message") {
                Some(message) => super::items::chat_assistant_items(message),
                None => super::items::chat_assistant_items(m),
            })
            .collect::<Vec<_>>()
    });
    let mut params = Map::new();
    if let Some(cfg) = d.get("model_config").and_then(Value::as_object) {
        for (k, v) in cfg {
            if !v.is_null() && k != "base_url" {
                let key = if k == "max_tokens" { "max_output_tokens" } else { k.as_str() };
                params.insert(key.to_string(), v.clone());
            }
        }
    }
    let tools = params
        .remove("tools")
        .and_then(|t| t.as_array().cloned())
        .map(|a| a.iter().map(tool_from_chat).collect())
        .unwrap_or_default();
    ModelCall {
        api: ModelApi::ChatCompletions,
        response_id: completion.and_then(|c| c.get("id")).and_then(Value::as_str).map(str::to_string),
        model: s(d, "model"),
        instructions,
        input,
        output,
        tools,
        params,
        usage: d.get("usage").or_else(|| completion.and_then(|c| c.get("usage"))).and_then(Usage::from_json),
        attempts: vec![],
        provider: d
            .get("model_config")
            .and_then(|c| c.get("base_url"))
            .and_then(Value::as_str)
            .and_then(provider_of_url),
        capture: Some(Capture::AgentsSdk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/agents-sdk/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn lines(name: &str) -> Vec<Value> {
        fixture(name).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn processor_full_capture_has_content() {
        let mut batch = Batch::default();
        for l in lines("agents_processor_full.jsonl") {
            batch.extend(parse_processor_line(&l).unwrap());
        }
        assert_eq!(batch.traces.len(), 3);
        assert_eq!(batch.spans.len(), 19);
        let calls: Vec<_> = batch.spans.iter().filter_map(Span::model_call).collect();
        assert_eq!(calls.len(), 5);
        assert!(calls.iter().all(|c| c.has_content()));
        let first = calls[0];
        assert_eq!(first.model.as_deref(), Some("fake-model"));
        assert_eq!(first.instructions.as_deref(), Some("Answer, call get_weather, or hand off to the expert."));
        assert_eq!(first.tools.len(), 2);
        assert_eq!(first.usage.unwrap().input_tokens, 12);
        // Null members of the SDK's model dump are dropped.
        assert!(first.output.as_ref().unwrap()[0].get("async_").is_none());
    }

    #[test]
    fn exporter_body_has_structure_without_content() {
        let body: Value = serde_json::from_str(fixture("agents_ingest.jsonl").lines().next().unwrap()).unwrap();
        let batch = parse_export_body(&body).unwrap();
        assert!(!batch.spans.is_empty());
        let call = batch.spans.iter().find_map(Span::model_call).unwrap();
        assert!(call.response_id.is_some());
        assert!(!call.has_content());
        let tool = batch.spans.iter().find(|s| matches!(s.data, SpanData::Tool { .. })).unwrap();
        assert_eq!(
            tool.data,
            SpanData::Tool {
                name: "get_weather".into(),
                arguments: Some("{\"city\": \"Paris\"}".into()),
                output: Some("Sunny and 21C in Paris".into()),
                call_id: None
            }
        );
    }

    #[test]
    fn chat_generation_spans_are_normalized() {
        let mut calls = vec![];
        for l in lines("agents_processor_chat.jsonl") {
            for span in parse_processor_line(&l).unwrap().spans {
                if let SpanData::Model(m) = span.data
                    && m.output.is_some()
                {
                    calls.push(m);
                }
            }
        }
        let first = &calls[0];
        assert_eq!(first.api, ModelApi::ChatCompletions);
        assert!(first.instructions.as_deref().unwrap().starts_with("Answer"));
        assert_eq!(super::super::items::function_calls(first.output.as_ref().unwrap())[0].name, "get_weather");
    }

    #[test]
    fn bad_records_are_reported() {
        assert_eq!(
            parse_processor_line(&json!({"object": "nope"})).unwrap_err(),
            RecordError::UnknownObject("nope".into())
        );
        assert_eq!(parse_export_body(&json!({"data": 3})).unwrap_err(), RecordError::DataNotList);
        assert_eq!(
            parse_processor_line(&json!({"object": "trace.span", "id": "s", "trace_id": "t"})).unwrap_err(),
            RecordError::Missing("span_data")
        );
    }
}
