//! Chat Completions ⇄ Responses: request bodies and answers converted between the two APIs, so
//! a case recorded on one can be replayed (or mocked) on the other.

use serde_json::{Map, Value, json};

use super::items::{
    chat_assistant_items, content_text, from_chat_messages, function_calls, output_text, tool_from_chat,
};

/// A Responses request body as the Chat Completions request that asks the same: instructions
/// as the leading system message, items as messages, function tools wrapped, settings renamed.
/// Settings Chat Completions has no place for (`reasoning` on a non-reasoning model,
/// `truncation`) are left out.
pub fn chat_request(body: &Value) -> Value {
    let mut messages = Vec::new();
    if let Some(i) = body.get("instructions").and_then(Value::as_str) {
        messages.push(json!({"role": "system", "content": i}));
    }
    messages.extend(chat_messages(body.get("input").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()));
    let mut out = Map::new();
    out.insert("model".into(), body.get("model").cloned().unwrap_or(Value::Null));
    out.insert("messages".into(), Value::Array(messages));
    let tools: Vec<Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .map(|t| {
            let mut f = Map::new();
            for k in ["name", "description", "parameters", "strict"] {
                if let Some(v) = t.get(k).filter(|v| !v.is_null()) {
                    f.insert(k.into(), v.clone());
                }
            }
            json!({"type": "function", "function": f})
        })
        .collect();
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
    }
    for (k, v) in body.as_object().into_iter().flatten() {
        match k.as_str() {
            "temperature" | "top_p" | "parallel_tool_calls" | "metadata" | "store" | "stream" => {
                out.insert(k.clone(), v.clone());
            }
            "max_output_tokens" => {
                out.insert("max_completion_tokens".into(), v.clone());
            }
            // `{"type": "function", "name": N}` is `{"type": "function", "function": {"name": N}}` here.
            "tool_choice" => {
                let choice = match v.get("name") {
                    Some(name) => json!({"type": "function", "function": {"name": name}}),
                    None => v.clone(),
                };
                out.insert(k.clone(), choice);
            }
            "text" => {
                if let Some(format) = v.get("format").filter(|f| f.get("type").and_then(Value::as_str) != Some("text"))
                {
                    out.insert("response_format".into(), response_format(format));
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// The Responses `text.format` as a Chat Completions `response_format`.
fn response_format(format: &Value) -> Value {
    match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => {
            let mut schema = format.as_object().cloned().unwrap_or_default();
            schema.remove("type");
            json!({"type": "json_schema", "json_schema": schema})
        }
        _ => format.clone(),
    }
}

/// Responses input items as chat messages: function calls join the assistant message before
/// them, function outputs become `tool` messages.
pub fn chat_messages(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") => {
                let call = &function_calls(std::slice::from_ref(item))[0];
                let tool_call = json!({"id": call.call_id, "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments}});
                match out.last_mut() {
                    Some(last) if last["role"] == "assistant" => {
                        if let Some(calls) = last.get_mut("tool_calls").and_then(Value::as_array_mut) {
                            calls.push(tool_call);
                        } else {
                            last["tool_calls"] = json!([tool_call]);
                        }
                    }
                    _ => out.push(json!({"role": "assistant", "content": null, "tool_calls": [tool_call]})),
                }
            }
            Some("function_call_output") => {
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => content_text(v),
                    None => String::new(),
                };
                out.push(json!({"role": "tool", "tool_call_id": item.get("call_id"), "content": output}));
            }
            // Reasoning items have no place in a chat conversation.
            Some("reasoning") => {}
            _ => {
                let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                let content = item.get("content").unwrap_or(&Value::Null);
                let content = if role == "assistant" { json!(content_text(content)) } else { chat_content(content) };
                out.push(json!({"role": role, "content": content}));
            }
        }
    }
    out
}

/// Input parts in the chat shape: `input_text` is `text`; a plain string stays one.
fn chat_content(content: &Value) -> Value {
    match content {
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => json!({"type": "text", "text": p.get("text")}),
                    _ => p.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Chat Completions request body as the Responses request that asks the same (the mock
/// answers both APIs with one script).
pub fn responses_request(chat: &Value) -> Value {
    let messages = chat.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let (instructions, input) = from_chat_messages(messages);
    let mut out = Map::new();
    out.insert("model".into(), chat.get("model").cloned().unwrap_or(Value::Null));
    if let Some(i) = instructions {
        out.insert("instructions".into(), json!(i));
    }
    out.insert("input".into(), Value::Array(input));
    if let Some(tools) = chat.get("tools").and_then(Value::as_array) {
        out.insert("tools".into(), Value::Array(tools.iter().map(tool_from_chat).collect()));
    }
    for k in ["temperature", "top_p", "parallel_tool_calls", "metadata"] {
        if let Some(v) = chat.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// A Responses answer as the `chat.completion` the Chat Completions API gives for it.
pub fn chat_completion(response: &Value) -> Value {
    let output = response.get("output").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let text = output_text(output);
    let calls: Vec<Value> = function_calls(output)
        .into_iter()
        .map(|c| json!({"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }, "refusal": null});
    let finish = if calls.is_empty() { "stop" } else { "tool_calls" };
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let id = response.get("id").and_then(Value::as_str).unwrap_or_default();
    let usage = response.get("usage").unwrap_or(&Value::Null);
    let (input, output_tokens) =
        (usage["input_tokens"].as_u64().unwrap_or(0), usage["output_tokens"].as_u64().unwrap_or(0));
    json!({
        "id": format!("chatcmpl-{}", id.trim_start_matches("resp_")),
        "object": "chat.completion",
        "created": response.get("created_at").cloned().unwrap_or(json!(0)),
        "model": response.get("model"),
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": input, "completion_tokens": output_tokens, "total_tokens": input + output_tokens},
    })
}

/// A `chat.completion` as a Responses answer (first choice), so the agent loop reads both APIs
/// the same way.
pub fn response_from_chat(completion: &Value) -> Value {
    let output = completion.pointer("/choices/0/message").map(chat_assistant_items).unwrap_or_default();
    let usage = completion.get("usage").and_then(super::Usage::from_json).unwrap_or_default();
    json!({
        "id": completion.get("id"),
        "object": "response",
        "status": "completed",
        "model": completion.get("model"),
        "output": output,
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.total(),
        },
    })
}

/// The server-sent events Chat Completions streams for `completion`: a role chunk, the text,
/// each tool call, the finish reason, the usage chunk (`stream_options.include_usage`), `[DONE]`.
pub fn chat_sse(completion: &Value, include_usage: bool) -> String {
    let head = |delta: Value, finish: Value| {
        json!({"id": completion["id"], "object": "chat.completion.chunk", "created": completion["created"],
            "model": completion["model"], "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let message = &completion["choices"][0]["message"];
    let mut chunks = vec![head(json!({"role": "assistant", "content": ""}), Value::Null)];
    if let Some(text) = message["content"].as_str().filter(|t| !t.is_empty()) {
        chunks.push(head(json!({"content": text}), Value::Null));
    }
    for (i, call) in message["tool_calls"].as_array().into_iter().flatten().enumerate() {
        chunks.push(head(
            json!({"tool_calls": [{"index": i, "id": call["id"], "type": "function", "function": call["function"]}]}),
            Value::Null,
        ));
    }
    chunks.push(head(json!({}), completion["choices"][0]["finish_reason"].clone()));
    if include_usage {
        let mut last = head(json!({}), Value::Null);
        last["choices"] = json!([]);
        last["usage"] = completion["usage"].clone();
        chunks.push(last);
    }
    let mut out: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    out.push_str("data: [DONE]\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::items::{function_outputs, last_user_text};

    fn responses_body() -> Value {
        json!({
            "model": "gpt-4.1", "instructions": "Be brief.",
            "input": [
                {"role": "user", "content": "weather in Paris?"},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"},
                {"type": "function_call_output", "call_id": "call_2", "output": "noon"},
            ],
            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": true}],
            "max_output_tokens": 50, "tool_choice": {"type": "function", "name": "get_weather"},
            "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
            "reasoning": {"effort": "low"}, "truncation": "disabled",
        })
    }

    #[test]
    fn a_responses_request_becomes_the_same_chat_request_and_back() {
        let chat = chat_request(&responses_body());
        let msgs = chat["messages"].as_array().unwrap();
        assert_eq!(msgs[0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(msgs[2]["tool_calls"].as_array().unwrap().len(), 2, "parallel calls share one assistant message");
        assert_eq!(msgs[3], json!({"role": "tool", "tool_call_id": "call_1", "content": "Sunny"}));
        assert_eq!(chat["tools"][0]["function"]["strict"], json!(true));
        assert_eq!(chat["max_completion_tokens"], json!(50));
        assert_eq!(chat["tool_choice"], json!({"type": "function", "function": {"name": "get_weather"}}));
        assert_eq!(chat["response_format"]["json_schema"]["name"], json!("w"));
        assert!(chat.get("reasoning").is_none() && chat.get("truncation").is_none());

        let back = responses_request(&chat);
        assert_eq!(back["instructions"], json!("Be brief."));
        let items = back["input"].as_array().unwrap();
        assert_eq!(function_calls(items).len(), 2);
        assert_eq!(function_outputs(items)[1], ("call_2".to_string(), "noon".to_string()));
        assert_eq!(last_user_text(items).as_deref(), Some("weather in Paris?"));
        assert_eq!(back["tools"][0]["name"], json!("get_weather"));
    }

    #[test]
    fn answers_convert_both_ways_and_streams_add_up() {
        let response = json!({"id": "resp_abc", "model": "m", "created_at": 5, "output": [
            {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}],
            "usage": {"input_tokens": 7, "output_tokens": 3}});
        let completion = chat_completion(&response);
        assert_eq!(completion["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(completion["choices"][0]["message"]["content"], Value::Null);
        assert_eq!(completion["usage"]["total_tokens"], json!(10));
        let again = response_from_chat(&completion);
        assert_eq!(function_calls(again["output"].as_array().unwrap())[0].call_id, "call_9");
        assert_eq!(again["usage"]["input_tokens"], json!(7));

        let sse = chat_sse(&completion, true);
        assert!(sse.ends_with("data: [DONE]\n\n"));
        let chunks: Vec<Value> = sse
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], json!("assistant"));
        let call = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!((call["index"].clone(), call["id"].clone()), (json!(0), json!("call_9")));
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(chunks[3]["usage"], completion["usage"], "the usage chunk comes last");
    }
}
