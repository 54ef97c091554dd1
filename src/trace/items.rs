//! Responses API items: reading text and tool calls out of them, and converting Chat
//! Completions messages into them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A function call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub call_id: String,
    pub name: String,
    pub arguments: String,
}

fn item_type(item: &Value) -> &str {
    match item.get("type").and_then(Value::as_str) {
        Some(t) => t,
        // Easy input messages carry only `role` and `content`.
        None if item.get("role").is_some() => "message",
        None => "",
    }
}

/// The text of a message's content, whether a plain string or a list of parts.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").or_else(|| p.get("refusal")).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Concatenated assistant text of output items (the SDKs' `output_text`).
pub fn output_text(items: &[Value]) -> String {
    items
        .iter()
        .filter(|i| item_type(i) == "message")
        .filter_map(|i| i.get("content"))
        .map(content_text)
        .collect::<Vec<_>>()
        .join("")
}

pub fn function_calls(items: &[Value]) -> Vec<FunctionCall> {
    items
        .iter()
        .filter(|i| item_type(i) == "function_call")
        .map(|i| FunctionCall {
            call_id: str_field(i, "call_id"),
            name: str_field(i, "name"),
            arguments: str_field(i, "arguments"),
        })
        .collect()
}

/// `function_call_output` items as (call_id, output text).
pub fn function_outputs(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter(|i| item_type(i) == "function_call_output")
        .map(|i| {
            let out = match i.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(v @ Value::Array(_)) => content_text(v),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            (str_field(i, "call_id"), out)
        })
        .collect()
}

/// The text of the last user message, if the last message-like item is one.
pub fn last_user_text(items: &[Value]) -> Option<String> {
    items
        .iter()
        .rev()
        .find(|i| item_type(i) == "message" && i.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|i| i.get("content"))
        .map(content_text)
}

/// How many user messages the items hold.
pub fn user_messages(items: &[Value]) -> usize {
    items.iter().filter(|i| item_type(i) == "message" && role(i) == Some("user")).count()
}

/// A readable one-line rendering of any item, for trees, search and dedup.
pub fn item_text(item: &Value) -> String {
    match item_type(item) {
        "message" => content_text(item.get("content").unwrap_or(&Value::Null)),
        "function_call" => format!("{}({})", str_field(item, "name"), str_field(item, "arguments")),
        "function_call_output" => function_outputs(std::slice::from_ref(item)).remove(0).1,
        "reasoning" => item.get("summary").map(content_text).unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn role(item: &Value) -> Option<&str> {
    item.get("role").and_then(Value::as_str)
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Remove `null` members recursively: SDK model dumps fill every optional field with null, and
/// the API rejects some of them when they are sent back as input.
pub fn strip_nulls(v: &Value) -> Value {
    let mut v = v.clone();
    drop_nulls(&mut v);
    v
}

/// [`strip_nulls`] in place, for a value the caller owns (a model's answer, on every turn).
pub fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Responses `input` may be a plain string; normalize it to the item list the SDK would send.
pub fn input_items(input: &Value) -> Vec<Value> {
    match input {
        Value::String(s) => vec![json!({"role": "user", "content": s})],
        Value::Array(a) => a.iter().map(strip_nulls).collect(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// Chat Completions messages converted to Responses vocabulary: the leading system message
/// becomes instructions, tool calls and tool results become function items.
pub fn from_chat_messages(messages: &[Value]) -> (Option<String>, Vec<Value>) {
    let mut instructions = None;
    let mut items = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = role(m).unwrap_or("user");
        let content = m.get("content").unwrap_or(&Value::Null);
        match role {
            "system" | "developer" if i == 0 => instructions = Some(content_text(content)),
            "assistant" => items.extend(chat_assistant_items(m)),
            "tool" => items.push(json!({
                "type": "function_call_output",
                "call_id": str_field(m, "tool_call_id"),
                "output": content_text(content),
            })),
            _ => items.push(json!({"role": role, "content": chat_content(content)})),
        }
    }
    (instructions, items)
}

/// An assistant chat message as Responses output items.
pub fn chat_assistant_items(m: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let text = content_text(m.get("content").unwrap_or(&Value::Null));
    if !text.is_empty() {
        out.push(json!({
            "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }));
    }
    for call in m.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        let f = call.get("function").unwrap_or(&Value::Null);
        out.push(json!({
            "type": "function_call",
            "call_id": str_field(call, "id"),
            "name": str_field(f, "name"),
            "arguments": str_field(f, "arguments"),
        }));
    }
    out
}

fn chat_content(content: &Value) -> Value {
    match content {
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("text") => json!({"type": "input_text", "text": str_field(p, "text")}),
                    _ => p.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Chat Completions tool definition in the Responses API's flat shape.
pub fn tool_from_chat(tool: &Value) -> Value {
    match tool.get("function") {
        Some(f) => {
            let mut out = Map::new();
            out.insert("type".into(), json!("function"));
            for k in ["name", "description", "parameters", "strict"] {
                if let Some(v) = f.get(k).filter(|v| !v.is_null()) {
                    out.insert(k.into(), v.clone());
                }
            }
            Value::Object(out)
        }
        None => strip_nulls(tool),
    }
}

/// Canonical JSON text of a tool's arguments (sorted keys, no whitespace), so that calls can be
/// matched whatever formatting the model used. Non-JSON arguments are kept as given.
pub fn canonical_arguments(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v) => canonical_json(&v),
        Err(_) => arguments.trim().to_string(),
    }
}

pub fn canonical_json(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let mut keys: Vec<_> = o.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&o[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_messages_become_responses_items() {
        let msgs = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": "weather?"}),
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "Sunny"}),
        ];
        let (instructions, items) = from_chat_messages(&msgs);
        assert_eq!(instructions.as_deref(), Some("Be brief."));
        assert_eq!(items.len(), 3);
        assert_eq!(function_calls(&items)[0].name, "get_weather");
        assert_eq!(function_outputs(&items), vec![("call_1".to_string(), "Sunny".to_string())]);
        assert_eq!(last_user_text(&items).as_deref(), Some("weather?"));
    }

    #[test]
    fn output_text_joins_message_parts_only() {
        let items = vec![
            json!({"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"}),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello "}, {"type": "output_text", "text": "world"}]}),
        ];
        assert_eq!(output_text(&items), "Hello world");
    }

    #[test]
    fn canonical_arguments_ignore_formatting() {
        assert_eq!(canonical_arguments("{\"b\": 1, \"a\": [1, 2]}"), canonical_arguments("{\"a\":[1,2],\"b\":1}"));
        assert_eq!(canonical_arguments("not json "), "not json");
    }

    #[test]
    fn string_input_becomes_user_message() {
        assert_eq!(input_items(&json!("hi")), vec![json!({"role": "user", "content": "hi"})]);
    }
}
