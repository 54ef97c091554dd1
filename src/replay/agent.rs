//! The agent loop: call the model, answer its tool calls from the case's recordings, switch
//! agents on handoffs, until it answers without a tool call or runs out of turns.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::cache::Cache;
use super::tools::{self, Recordings};
use crate::provider::client::{ApiError, Client};
use crate::record::{Output, ToolCall};
use crate::suite::CasePlan;
use crate::trace::Usage;
use crate::trace::items;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LoopError {
    #[error("model call failed: {0}")]
    Api(#[from] ApiError),
    /// A tool call the case cannot answer (unrecorded, forbidden by policy).
    #[error("{0}")]
    Tool(String),
    #[error("no final answer within max_turns ({0})")]
    MaxTurns(u32),
    #[error("response has no `output` list")]
    NoOutput,
}

impl LoopError {
    /// The cause a result records for this error.
    pub fn cause(&self) -> &'static str {
        match self {
            LoopError::Api(e) => e.cause(),
            LoopError::Tool(_) => "tool",
            LoopError::MaxTurns(_) => "max_turns",
            LoopError::NoOutput => "decode",
        }
    }
}

/// What one replay of a case produced. On error, what was produced before it.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    pub output: Output,
    pub turns: u32,
    pub usage: Usage,
    pub latency_ms: u64,
    /// Model calls made, how many the cache answered, and retries the scheduler needed.
    pub model_calls: u32,
    pub cache_hits: u32,
    pub retries: u32,
}

/// Where model answers come from: the cache first (when on), then the API.
pub struct Model<'a> {
    pub client: &'a Client,
    pub cache: Option<&'a Cache>,
    pub repeat: u32,
}

impl Model<'_> {
    async fn answer(&self, body: &Value, t: &mut Transcript) -> Result<Value, ApiError> {
        t.model_calls += 1;
        let key = self.cache.map(|_| Cache::key(&self.client.provider(), body, self.repeat));
        if let (Some(cache), Some(key)) = (self.cache, &key) {
            // A cache that cannot be read is a miss, not a failed case; so is an unusable answer
            // an older build cached.
            if let Ok(Some(hit)) = cache.get(key).await
                && ApiError::unusable(&hit).is_none()
            {
                t.cache_hits += 1;
                return Ok(hit);
            }
        }
        let reply = self.client.send(body).await.map_err(|(e, attempts)| {
            t.retries += attempts.saturating_sub(1);
            e
        })?;
        t.retries += reply.attempts - 1;
        if let Some(e) = ApiError::unusable(&reply.body) {
            return Err(e);
        }
        if let (Some(cache), Some(key)) = (self.cache, &key) {
            let _ = cache.put(key, &reply.body).await;
        }
        Ok(reply.body)
    }
}

/// Replay one case through the agent loop.
pub async fn play(model: &Model<'_>, plan: &CasePlan) -> Result<Transcript, (LoopError, Transcript)> {
    let started = Instant::now();
    let mut t = Transcript::default();
    let mut recordings = Recordings::new(&plan.case.recorded.tool_outputs);
    let mut events = Vec::new();
    let mut items = plan.case.input.items.clone();
    let mut agent = Active {
        name: plan.entry_agent.clone(),
        instructions: plan.instructions.clone(),
        tools: plan.tools.clone(),
        model: plan.model.clone(),
        params: plan.params.clone(),
    };
    let finish = |mut t: Transcript, agent: &Option<String>| {
        t.latency_ms = started.elapsed().as_millis() as u64;
        t.output.agent = agent.clone();
        t
    };
    loop {
        if t.turns >= plan.max_turns {
            let e = LoopError::MaxTurns(plan.max_turns);
            return Err((e, finish(t, &agent.name)));
        }
        t.turns += 1;
        let body = request(&agent, &items);
        let mut response = match model.answer(&body, &mut t).await {
            Ok(r) => r,
            Err(e) => return Err((e.into(), finish(t, &agent.name))),
        };
        if let Some(u) = response.get("usage").and_then(Usage::from_json) {
            t.usage.add(&u);
        }
        let Some(Value::Array(mut output)) = response.get_mut("output").map(Value::take) else {
            return Err((LoopError::NoOutput, finish(t, &agent.name)));
        };
        output.iter_mut().for_each(items::drop_nulls);
        let calls = items::function_calls(&output);
        t.output.text = items::output_text(&output);
        items.extend(output);
        if calls.is_empty() {
            t.output.events = std::mem::take(&mut events);
            return Ok(finish(t, &agent.name));
        }
        // A single-turn case (cut from one model span) evaluates one call: its tool calls are
        // the answer, not the start of another turn.
        if plan.case.source.span_id.is_some() {
            t.output.tool_calls.extend(calls.into_iter().map(|c| ToolCall {
                name: c.name,
                arguments: c.arguments,
                output: None,
            }));
            t.output.events = std::mem::take(&mut events);
            return Ok(finish(t, &agent.name));
        }
        for call in calls {
            // The SDK switches when the answering agent offers a handoff by that tool name.
            let target = plan
                .handoffs
                .iter()
                .filter(|h| h.tool == call.name && h.from.as_ref().is_none_or(|f| Some(f) == agent.name.as_ref()))
                .find_map(|h| plan.agents.iter().find(|a| a.name == h.to));
            let result = match target {
                Some(target) => {
                    let mut params = plan.params.clone();
                    params.extend(target.params.clone());
                    agent = Active {
                        name: Some(target.name.clone()),
                        instructions: target.instructions.clone(),
                        tools: target.tools.clone(),
                        model: target.model.clone().unwrap_or_else(|| plan.model.clone()),
                        params,
                    };
                    json!({"assistant": target.name}).to_string()
                }
                None => {
                    match tools::answer(&plan.policies, &mut recordings, &call.name, &call.arguments, &mut events) {
                        tools::Answer::Output(out) => out,
                        tools::Answer::Stop(why) => {
                            t.output.tool_calls.push(ToolCall {
                                name: call.name,
                                arguments: call.arguments,
                                output: None,
                            });
                            t.output.events = events;
                            return Err((LoopError::Tool(why), finish(t, &agent.name)));
                        }
                    }
                }
            };
            items.push(json!({"type": "function_call_output", "call_id": call.call_id, "output": result}));
            t.output.tool_calls.push(ToolCall { name: call.name, arguments: call.arguments, output: Some(result) });
        }
    }
}

/// The agent answering now: the entry agent, or the last one handed off to.
struct Active {
    name: Option<String>,
    instructions: Option<String>,
    tools: Vec<Value>,
    model: String,
    params: Map<String, Value>,
}

/// The request for one turn. Output items of earlier turns (reasoning items included) are in
/// `items`, so the model sees its own reasoning again, as the SDK passes it back.
fn request(agent: &Active, items: &[Value]) -> Value {
    let (instructions, tools) = (agent.instructions.as_deref(), &agent.tools);
    let mut body = Map::new();
    body.insert("model".into(), json!(agent.model));
    if let Some(i) = instructions {
        body.insert("instructions".into(), json!(i));
    }
    body.insert("input".into(), Value::Array(items.to_vec()));
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools.iter().map(request_tool).collect()));
    }
    for (k, v) in &agent.params {
        // Tool settings mean nothing without tools, and the API rejects them.
        if tools.is_empty() && matches!(k.as_str(), "tool_choice" | "parallel_tool_calls") {
            continue;
        }
        // The earlier context is in the case's input; the ids name responses the replayed
        // provider never stored.
        if crate::trace::agents_sdk::CONTEXT_PARAMS.contains(&k.as_str()) {
            continue;
        }
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// A tool as the API takes it. A function tool must name `strict` and `parameters`: a recorded
/// one carries them as the client sent them; one captured from Chat Completions or OpenTelemetry
/// (where `strict` defaults to off) or written in a suite without them gets that default, and an
/// empty argument object.
fn request_tool(tool: &Value) -> Value {
    let mut tool = tool.clone();
    if let Some(t) = tool.as_object_mut().filter(|t| t.get("type").and_then(Value::as_str) == Some("function")) {
        if t.get("strict").is_none_or(Value::is_null) {
            t.insert("strict".into(), json!(false));
        }
        if t.get("parameters").is_none_or(Value::is_null) {
            t.insert("parameters".into(), json!({"type": "object", "properties": {}}));
        }
    }
    tool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_agents_model_params_and_structured_output() {
        let format = json!({"format": {"type": "json_schema", "name": "a", "schema": {"type": "object"}}});
        let mut params = Map::new();
        params.insert("text".into(), format.clone());
        params.insert("parallel_tool_calls".into(), json!(true));
        let reasoning = json!({"type": "reasoning", "id": "rs_1", "summary": []});
        let a = Active { name: None, instructions: Some("i".into()), tools: vec![], model: "m2".into(), params };
        let body = request(&a, std::slice::from_ref(&reasoning));
        assert_eq!(body["model"], json!("m2"));
        assert_eq!(body["text"], format);
        assert_eq!(body["input"][0], reasoning, "reasoning items go back to the model");
        assert!(body.get("parallel_tool_calls").is_none(), "no tool settings without tools");
    }

    #[test]
    fn function_tools_carry_strict_as_recorded_else_off() {
        let recorded = json!({"type": "function", "name": "a", "parameters": {"type": "object"}, "strict": true});
        let bare = json!({"type": "function", "name": "b"});
        let a = Active {
            name: None,
            instructions: None,
            tools: vec![recorded.clone(), bare, json!({"type": "web_search"})],
            model: "m".into(),
            params: Map::new(),
        };
        let body = request(&a, &[]);
        assert_eq!(body["tools"][0], recorded);
        assert_eq!(
            body["tools"][1],
            json!({"type": "function", "name": "b", "strict": false, "parameters": {"type": "object", "properties": {}}})
        );
        assert_eq!(body["tools"][2], json!({"type": "web_search"}));
    }
}
