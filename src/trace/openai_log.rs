//! OpenAI request/response logs (one `{"endpoint", "request", "response"}` per line, Responses
//! or Chat Completions), each call becoming a one-call trace.

use chrono::DateTime;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::agents_sdk::{RESPONSE_PARAMS, call_from_response};
use super::items::{chat_assistant_items, from_chat_messages, tool_from_chat};
use super::{Batch, Capture, ModelApi, ModelCall, Span, SpanData, SpanError, Trace, Usage};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LogError {
    #[error("expected an object with `request` and `response` objects")]
    Shape,
    #[error("cannot tell the API: no endpoint, and neither `input` nor `messages` in the request")]
    UnknownApi,
}

/// Whether a JSON line looks like a request/response log record.
pub fn is_log_record(v: &Value) -> bool {
    v.get("request").is_some_and(Value::is_object) && v.get("response").is_some_and(Value::is_object)
}

/// One log line as a one-call trace.
pub fn parse_line(v: &Value) -> Result<Batch, LogError> {
    if !is_log_record(v) {
        return Err(LogError::Shape);
    }
    let endpoint = ["endpoint", "path", "url"].iter().find_map(|k| v.get(*k).and_then(Value::as_str));
    let (request, response) = (&v["request"], &v["response"]);
    let call = call_from_exchange(endpoint, request, response)?;
    let status = v.get("status").and_then(Value::as_u64).unwrap_or(200);
    let error = response
        .get("error")
        .filter(|e| e.is_object())
        .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("error").to_string())
        .or_else(|| (status >= 400).then(|| format!("HTTP {status}")))
        .map(|message| SpanError { message, data: None });
    let created = ["created_at", "created"].iter().find_map(|k| response.get(*k).and_then(Value::as_f64));
    let started = created.and_then(|s| DateTime::from_timestamp_micros((s * 1e6) as i64));
    Ok(one_call_trace(call, started, None, error, &canonical_key(request, response)))
}

/// A model call from a request body and its response body; `endpoint` (a path or URL) decides
/// the API when given, else the request's shape does.
pub fn call_from_exchange(endpoint: Option<&str>, request: &Value, response: &Value) -> Result<ModelCall, LogError> {
    let api = match endpoint {
        Some(e) if e.contains("chat/completions") => ModelApi::ChatCompletions,
        Some(e) if e.contains("responses") => ModelApi::Responses,
        _ if request.get("messages").is_some() => ModelApi::ChatCompletions,
        _ if request.get("input").is_some() => ModelApi::Responses,
        _ => return Err(LogError::UnknownApi),
    };
    let mut call = call_for(api, request, response);
    call.capture = Some(Capture::OpenaiLog);
    Ok(call)
}

/// A model call from a request body and its response body, the API known.
pub fn call_for(api: ModelApi, request: &Value, response: &Value) -> ModelCall {
    match api {
        ModelApi::Responses => {
            let mut call = call_from_response(response, Some(request.get("input").unwrap_or(&Value::Null)));
            // What the client sent is what a replay sends: its settings, instructions and tools
            // (with `strict` as sent), never the response's echo of them.
            call.params = request_params(request);
            call.instructions = request.get("instructions").and_then(Value::as_str).map(str::to_string);
            call.tools = request.get("tools").and_then(Value::as_array).cloned().unwrap_or_default();
            // The model as asked for (`gpt-4.1`, not the snapshot that answered); an error
            // answer echoes none anyway.
            if let Some(m) = request.get("model").and_then(Value::as_str) {
                call.model = Some(m.to_string());
            }
            call
        }
        ModelApi::ChatCompletions => call_from_chat(request, response),
    }
}

/// A Chat Completions exchange in the Responses vocabulary (first choice).
pub fn call_from_chat(request: &Value, response: &Value) -> ModelCall {
    let messages = request.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let (instructions, input) = from_chat_messages(messages);
    let output = response
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(|c| c.get("message"))
        .map(chat_assistant_items);
    ModelCall {
        api: ModelApi::ChatCompletions,
        response_id: response.get("id").and_then(Value::as_str).map(str::to_string),
        model: response.get("model").or_else(|| request.get("model")).and_then(Value::as_str).map(str::to_string),
        instructions,
        input: Some(input),
        output,
        tools: request
            .get("tools")
            .and_then(Value::as_array)
            .map(|t| t.iter().map(tool_from_chat).collect())
            .unwrap_or_default(),
        params: request_params(request),
        usage: response.get("usage").and_then(Usage::from_json),
        attempts: vec![],
        provider: None,
        capture: None,
    }
}

/// The request settings that shape an answer, in the Responses API's names.
fn request_params(request: &Value) -> Map<String, Value> {
    let mut params = Map::new();
    for (k, v) in request.as_object().into_iter().flatten() {
        let key = match k.as_str() {
            "max_tokens" | "max_completion_tokens" => "max_output_tokens",
            other => other,
        };
        if RESPONSE_PARAMS.contains(&key) && !v.is_null() {
            params.insert(key.to_string(), v.clone());
        }
    }
    params
}

/// Trace ids of model calls that belong to no agent trace (yet): a live capture moves such a call
/// into the exported `response` span with the same response id when one arrives.
pub const ONE_CALL_PREFIX: &str = "call_trace_";

/// The one-call trace of a response id (or, without one, of a stable key).
pub fn one_call_trace_id(key: &str) -> String {
    format!("{ONE_CALL_PREFIX}{key}")
}

/// A call that belongs to no agent trace, as a trace of its own. Ids derive from the response id
/// when there is one, else from a hash of `key`, so recording the same call twice stores it once,
/// whether it came from a log file or the proxy.
pub fn one_call_trace(
    call: ModelCall,
    started_at: Option<DateTime<chrono::Utc>>,
    ended_at: Option<DateTime<chrono::Utc>>,
    error: Option<SpanError>,
    key: &str,
) -> Batch {
    let key = call.response_id.clone().unwrap_or_else(|| hex::encode(&Sha256::digest(key.as_bytes())[..16]));
    let trace_id = one_call_trace_id(&key);
    let workflow = match call.api {
        ModelApi::Responses => "openai.responses",
        ModelApi::ChatCompletions => "openai.chat.completions",
    };
    Batch {
        traces: vec![Trace { id: trace_id.clone(), workflow: Some(workflow.into()), group_id: None, metadata: None }],
        spans: vec![Span {
            trace_id,
            id: format!("span_{key}"),
            parent_id: None,
            started_at,
            ended_at,
            data: SpanData::Model(Box::new(call)),
            error,
        }],
    }
}

/// A stable key for an exchange without a response id.
fn canonical_key(request: &Value, response: &Value) -> String {
    format!("{request}\u{1f}{response}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::items::{function_calls, function_outputs, last_user_text, output_text};
    use serde_json::json;

    fn lines() -> Vec<Value> {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/openai-sdk/requests_responses.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn call(b: &Batch) -> &ModelCall {
        b.spans[0].model_call().unwrap()
    }

    #[test]
    fn chat_completion_line_becomes_a_one_call_trace() {
        let b = parse_line(&lines()[0]).unwrap();
        assert_eq!((b.traces.len(), b.spans.len()), (1, 1));
        assert_eq!(b.traces[0].workflow.as_deref(), Some("openai.chat.completions"));
        let c = call(&b);
        assert_eq!(c.api, ModelApi::ChatCompletions);
        assert_eq!(c.instructions.as_deref(), Some("You are terse."));
        assert_eq!(last_user_text(c.input.as_ref().unwrap()).as_deref(), Some("hello chat completions"));
        assert_eq!(output_text(c.output.as_ref().unwrap()), "HELLO CHAT COMPLETIONS");
        assert_eq!(c.usage.unwrap().total(), 9);
        assert!(b.spans[0].started_at.is_some());
    }

    #[test]
    fn responses_lines_keep_input_tools_and_function_calls() {
        let l = lines();
        let plain = parse_line(&l[1]).unwrap();
        let c = call(&plain);
        assert_eq!(
            (c.instructions.as_deref(), c.response_id.as_deref()),
            (Some("You are terse."), Some("resp_0000000000000003"))
        );
        assert_eq!(c.input.as_ref().unwrap(), &vec![json!({"role": "user", "content": "hello responses api"})]);
        let asks = parse_line(&l[2]).unwrap();
        let fc = &function_calls(call(&asks).output.as_ref().unwrap())[0];
        assert_eq!((fc.name.as_str(), fc.arguments.as_str()), ("get_weather", "{\"city\": \"Paris\"}"));
        assert_eq!(call(&asks).tools[0]["name"], "get_weather");
        let answers = parse_line(&l[3]).unwrap();
        let c = call(&answers);
        assert_eq!(function_outputs(c.input.as_ref().unwrap())[0].1, "Sunny and 21C in Paris");
        assert_eq!(output_text(c.output.as_ref().unwrap()), "TOOL RESULT: Sunny and 21C in Paris");
        assert!(c.has_content());
        // Each call is its own trace, with an id stable across imports.
        assert_ne!(asks.traces[0].id, answers.traces[0].id);
        assert_eq!(parse_line(&l[3]).unwrap().traces[0].id, answers.traces[0].id);
    }

    #[test]
    fn settings_come_from_the_request_never_from_the_response_echo() {
        // What the real API echoes for a gpt-4.1 request that set only `temperature: 0`.
        let request = json!({"model": "gpt-4.1", "input": "hi", "temperature": 0,
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": false}]});
        let response = json!({"id": "resp_1", "model": "gpt-4.1-2025-04-14", "output": [], "temperature": 0.0,
            "top_p": 1.0, "truncation": "disabled", "reasoning": {"effort": "medium", "summary": null},
            "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto",
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": true}]});
        let c = call_for(ModelApi::Responses, &request, &response);
        assert_eq!(serde_json::to_value(&c.params).unwrap(), json!({"temperature": 0}));
        assert_eq!(c.tools, request["tools"].as_array().unwrap().clone(), "strict as sent");
        assert_eq!(c.model.as_deref(), Some("gpt-4.1"));
        // The echo alone keeps what differs from the API's defaults.
        let echo = call_from_response(&response, None);
        assert_eq!(serde_json::to_value(&echo.params).unwrap(), json!({"temperature": 0.0}));
        let set = json!({"output": [], "reasoning": {"effort": "high"}, "text": {"verbosity": "low"}, "top_p": 0.5});
        let echo = call_from_response(&set, None);
        assert_eq!(
            serde_json::to_value(&echo.params).unwrap(),
            json!({"top_p": 0.5, "text": {"verbosity": "low"}, "reasoning": {"effort": "high"}})
        );
    }

    #[test]
    fn errors_and_bad_shapes() {
        let err = parse_line(&json!({"endpoint": "/v1/responses", "status": 429,
            "request": {"model": "gpt-4.1", "input": "hi"},
            "response": {"error": {"message": "Rate limit reached", "type": "requests"}}}))
        .unwrap();
        assert_eq!(err.spans[0].error.as_ref().unwrap().message, "Rate limit reached");
        assert_eq!(call(&err).model.as_deref(), Some("gpt-4.1"));
        assert!(call(&err).output.is_none());
        assert_eq!(parse_line(&json!({"request": 1})).unwrap_err(), LogError::Shape);
        assert_eq!(parse_line(&json!({"request": {}, "response": {}})).unwrap_err(), LogError::UnknownApi);
    }
}
