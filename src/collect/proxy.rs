//! The recording proxy: forwards `/v1/responses` and `/v1/chat/completions` to the upstream,
//! passes the answer back as it arrives (server-sent events event by event), and records the
//! reconstructed final response before the body's end reaches the client.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::{App, NO_CONTENT_HEADER, Privacy, Route, TOKEN_HEADER, body_error, error, openai_project, writer};
use crate::trace::openai_log::{call_for, one_call_trace};
use crate::trace::{Attempt, Batch, Capture, ModelApi, PROJECT_KEY, Span, SpanData, SpanError, Trace, provider_of_url};

/// Headers that describe one hop, not the request; plus the collect token, which is ours.
const HOP_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    // Asking for an identity body keeps it readable for the recording.
    "accept-encoding",
    TOKEN_HEADER,
    NO_CONTENT_HEADER,
];

pub async fn responses(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    forward(ModelApi::Responses, app, uri, headers, body).await
}

pub async fn chat_completions(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    forward(ModelApi::ChatCompletions, app, uri, headers, body).await
}

async fn forward(
    api: ModelApi,
    app: Arc<App>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Utc::now();
    let body = match body {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return error(StatusCode::BAD_REQUEST, "request body must be a JSON object".into()),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body is not JSON: {e}")),
    };
    let path = match api {
        ModelApi::Responses => "responses",
        ModelApi::ChatCompletions => "chat/completions",
    };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut outgoing = app.client.post(format!("{}/{path}{query}", app.upstream)).body(body);
    for (name, value) in &headers {
        if !is_hop(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let key = request_key(&request);
    let project = openai_project(&headers);
    let privacy = app.privacy(Route::Proxy, &headers);
    let upstream = match outgoing.send().await {
        Ok(r) => r,
        Err(e) => {
            let status = if e.is_timeout() { StatusCode::GATEWAY_TIMEOUT } else { StatusCode::BAD_GATEWAY };
            let message = format!("upstream {} unreachable: {e}", app.upstream);
            let kind = if e.is_timeout() { "timeout" } else { "connection" };
            let body = json!({"error": {"message": message, "type": kind, "code": null}});
            let f = Finish { api, request, started, app: app.clone(), status: status.as_u16(), key, project, privacy };
            // The client sees the failure either way; a failed write is only logged.
            if let Err(e) = f.commit(&body).await {
                eprintln!("collect: a failed model call was not recorded: {e}");
            }
            return error(status, message);
        }
    };
    let status = upstream.status();
    let mut response = Response::builder().status(status);
    for (name, value) in upstream.headers() {
        // Without Content-Length the body is sent chunked and read to its end, where the
        // recording is made (with it, the server would stop polling at the last byte).
        if !is_hop(name) {
            response = response.header(name, value);
        }
    }
    let streamed = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    // Errors go back as they came and are recorded as failed attempts (their bodies are JSON).
    let recorder = Some(Recorder::new(api, streamed && status.is_success()));
    let finish = Finish { api, request, started, app, status: status.as_u16(), key, project, privacy };
    let body = Body::from_stream(tee(upstream.bytes_stream(), recorder, finish));
    response.body(body).unwrap_or_else(|e| error(StatusCode::BAD_GATEWAY, format!("bad upstream response: {e}")))
}

fn is_hop(name: &HeaderName) -> bool {
    HOP_HEADERS.contains(&name.as_str())
}

/// What is needed to turn the final response into a recording.
struct Finish {
    api: ModelApi,
    request: Value,
    started: DateTime<Utc>,
    app: Arc<App>,
    /// The upstream's HTTP status.
    status: u16,
    /// The request's identity: a client's retry sends the same body again.
    key: [u8; 16],
    /// The client's `OpenAI-Project` header.
    project: Option<String>,
    /// What of the call is stored (the route's setting, or the app's header).
    privacy: Privacy,
}

impl Finish {
    /// Record the call (an answer, or a failed attempt joined to the earlier attempts of the same
    /// request) and wait until it is committed.
    async fn commit(self, response: &Value) -> Result<(), String> {
        let ended = Utc::now();
        let attempt = Attempt {
            started_at: self.started,
            status: self.status,
            latency_ms: (ended - self.started).num_milliseconds().max(0) as u64,
            error_type: error_field(response, "type"),
            code: error_field(response, "code"),
            message: error_field(response, "message"),
        };
        let failed = !attempt.ok();
        let earlier = self.app.retries.attempt(self.key, attempt, failed);
        let mut recording = recording(self.api, &self.request, response, self.started, ended);
        if let SpanData::Model(call) = &mut recording.1.data {
            call.provider = provider_of_url(&self.app.upstream);
            call.capture = Some(Capture::Proxy);
        }
        if let Some(project) = &self.project {
            recording.0.metadata.get_or_insert_default().insert(PROJECT_KEY.into(), project.clone().into());
        }
        if let Some(earlier) = earlier {
            // Every attempt of one request is one call: the ids of its first attempt.
            let (trace, span) = &mut recording;
            trace.id.clone_from(&earlier.trace_id);
            span.trace_id.clone_from(&earlier.trace_id);
            span.id.clone_from(&earlier.span_id);
            span.started_at = Some(earlier.attempts[0].started_at);
            if let SpanData::Model(call) = &mut span.data {
                call.attempts = earlier.attempts;
            }
        }
        if failed {
            let span = &mut recording.1;
            if let SpanData::Model(call) = &mut span.data {
                // No answer, no id: a call that never succeeded is a trace of its own, in error.
                call.response_id = None;
            }
            let what = error_field(response, "code").or_else(|| error_field(response, "type"));
            let message = error_field(response, "message").unwrap_or_default();
            span.error = Some(SpanError {
                message: format!(
                    "HTTP {}{}: {message}",
                    self.status,
                    what.map(|w| format!(" {w}")).unwrap_or_default()
                ),
                data: response.get("error").cloned(),
            });
        }
        self.privacy.trace(&mut recording.0);
        self.privacy.span(&mut recording.1);
        let (done, committed) = tokio::sync::oneshot::channel();
        let write = writer::Write { batch: Default::default(), recording: Some(recording), done: Some(done) };
        match self.app.writer.send(write).await {
            Err(_) => Err("collect is shutting down".to_string()),
            Ok(()) => match committed.await {
                Ok(result) => result,
                Err(_) => Err("collect is shutting down".to_string()),
            },
        }
    }
}

fn error_field(response: &Value, key: &str) -> Option<String> {
    response.pointer(&format!("/error/{key}")).and_then(Value::as_str).map(str::to_string)
}

/// A request's identity for retries: its body, whatever the key order.
fn request_key(request: &Value) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(crate::trace::items::canonical_json(request).as_bytes());
    digest[..16].try_into().expect("16 bytes")
}

/// How long after a failed attempt the same request counts as its retry. The OpenAI SDKs wait
/// at most a minute between attempts (a `retry-after` beyond it ends their retrying).
const RETRY_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// Requests whose last attempt failed, by identity: the next attempt of one is its retry.
#[derive(Default)]
pub(super) struct Retries(std::sync::Mutex<std::collections::HashMap<[u8; 16], Earlier>>);

/// The failed attempts of one request so far, and where they are recorded.
#[derive(Clone)]
struct Earlier {
    trace_id: String,
    span_id: String,
    attempts: Vec<Attempt>,
    at: std::time::Instant,
}

impl Retries {
    /// Note an attempt of the request `key`: the earlier failed attempts it retries (with this one
    /// added), or `None` for a first attempt that succeeded. A failed first attempt starts a list.
    fn attempt(&self, key: [u8; 16], attempt: Attempt, failed: bool) -> Option<Earlier> {
        let mut map = self.0.lock().expect("retries lock");
        let now = std::time::Instant::now();
        map.retain(|_, e| now.duration_since(e.at) < RETRY_WINDOW);
        let mut earlier = match map.remove(&key) {
            Some(e) => e,
            None if !failed => return None,
            None => {
                let id = hex::encode(&key[..12]);
                let first = attempt.started_at.timestamp_micros();
                Earlier {
                    trace_id: crate::trace::openai_log::one_call_trace_id(&format!("failed_{id}_{first}")),
                    span_id: format!("span_failed_{id}_{first}"),
                    attempts: vec![],
                    at: now,
                }
            }
        };
        earlier.attempts.push(attempt);
        earlier.at = now;
        if failed {
            map.insert(key, earlier.clone());
        }
        Some(earlier)
    }
}

/// Pass every chunk on as it comes, feeding the recorder; when the upstream body ends, hand the
/// recording to the writer.
fn tee(
    upstream: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    recorder: Option<Recorder>,
    finish: Finish,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    // Fused: after a failed recording the stream is polled once more past its end.
    let state = (Box::pin(upstream.fuse()), recorder, Some(finish));
    futures_util::stream::unfold(state, |(mut upstream, mut recorder, mut finish)| async move {
        match upstream.next().await {
            Some(Ok(chunk)) => {
                if let Some(r) = &mut recorder {
                    r.feed(&chunk);
                }
                Some((Ok(chunk), (upstream, recorder, finish)))
            }
            Some(Err(e)) => {
                // A broken upstream body ends the stream; nothing complete to record.
                finish = None;
                Some((Err(std::io::Error::other(e)), (upstream, None, finish)))
            }
            None => {
                if let (Some(r), Some(f)) = (recorder, finish.take()) {
                    // An error body that is not JSON is still a failed attempt.
                    let response = match r.finish() {
                        Some(response) => response,
                        None if f.status >= 400 => json!({"error": {"message": format!("HTTP {}", f.status)}}),
                        None => return None,
                    };
                    // The body ends only once the call is committed, so a client that has its
                    // whole answer knows it is recorded; a failed write breaks the body instead.
                    if let Err(e) = f.commit(&response).await {
                        eprintln!("collect: a model call was not recorded: {e}");
                        let e = std::io::Error::other(format!("model call not recorded: {e}"));
                        return Some((Err(e), (upstream, None, None)));
                    }
                }
                None
            }
        }
    })
}

/// Rebuilds the final response from what passed through.
enum Recorder {
    Json(Vec<u8>),
    Sse { pending: Vec<u8>, data: String, events: Events },
}

enum Events {
    /// The Responses API ends its stream with the whole response.
    Responses(Option<Value>),
    Chat(ChatAccumulator),
}

impl Recorder {
    fn new(api: ModelApi, streamed: bool) -> Recorder {
        if !streamed {
            return Recorder::Json(Vec::new());
        }
        let events = match api {
            ModelApi::Responses => Events::Responses(None),
            ModelApi::ChatCompletions => Events::Chat(ChatAccumulator::default()),
        };
        Recorder::Sse { pending: Vec::new(), data: String::new(), events }
    }

    fn feed(&mut self, chunk: &[u8]) {
        match self {
            Recorder::Json(buf) => buf.extend_from_slice(chunk),
            Recorder::Sse { pending, data, events } => {
                pending.extend_from_slice(chunk);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let line = String::from_utf8_lossy(&line);
                    let line = line.trim_end_matches(['\n', '\r']);
                    if line.is_empty() {
                        if !data.is_empty() {
                            events.event(data);
                            data.clear();
                        }
                    } else if let Some(d) = line.strip_prefix("data:") {
                        if !data.is_empty() {
                            data.push('\n');
                        }
                        data.push_str(d.strip_prefix(' ').unwrap_or(d));
                    }
                }
            }
        }
    }

    /// The final response in the API's own shape (a Response, or a chat completion).
    fn finish(self) -> Option<Value> {
        match self {
            Recorder::Json(buf) => serde_json::from_slice(&buf).ok().filter(Value::is_object),
            Recorder::Sse { data, mut events, .. } => {
                if !data.is_empty() {
                    events.event(&data);
                }
                match events {
                    Events::Responses(last) => last,
                    Events::Chat(acc) => acc.completion(),
                }
            }
        }
    }
}

impl Events {
    fn event(&mut self, data: &str) {
        // Only the final event of a Responses stream matters; text deltas are not parsed.
        const FINAL: [&str; 3] = ["\"response.completed\"", "\"response.incomplete\"", "\"response.failed\""];
        if matches!(self, Events::Responses(_)) && !FINAL.iter().any(|t| data.contains(t)) {
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else { return };
        match self {
            Events::Responses(last) => {
                if matches!(
                    v.get("type").and_then(Value::as_str),
                    Some("response.completed" | "response.incomplete" | "response.failed")
                ) {
                    *last = v.get("response").cloned();
                }
            }
            Events::Chat(acc) => acc.chunk(&v),
        }
    }
}

/// Tool calls of one streamed chat completion, at most.
const MAX_TOOL_CALLS: usize = 1024;

/// A streamed chat completion, put back together from its chunks.
#[derive(Default)]
struct ChatAccumulator {
    id: Option<String>,
    model: Option<String>,
    text: String,
    /// By index: id, name, arguments.
    tool_calls: Vec<(String, String, String)>,
    usage: Option<Value>,
    seen: bool,
}

impl ChatAccumulator {
    fn chunk(&mut self, v: &Value) {
        self.seen = true;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        self.id = self.id.take().or_else(|| s("id"));
        self.model = self.model.take().or_else(|| s("model"));
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        let Some(delta) = v.pointer("/choices/0/delta") else { return };
        if let Some(t) = delta.get("content").and_then(Value::as_str) {
            self.text.push_str(t);
        }
        for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let i = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            // An index is a position among the answer's calls: a huge one is garbage, and
            // growing the list to it would take the process's memory.
            if i >= MAX_TOOL_CALLS {
                continue;
            }
            if self.tool_calls.len() <= i {
                self.tool_calls.resize(i + 1, Default::default());
            }
            let slot = &mut self.tool_calls[i];
            let part = |p: &str| call.pointer(p).and_then(Value::as_str).unwrap_or_default();
            slot.0.push_str(part("/id"));
            slot.1.push_str(part("/function/name"));
            slot.2.push_str(part("/function/arguments"));
        }
    }

    fn completion(self) -> Option<Value> {
        if !self.seen {
            return None;
        }
        let calls: Vec<Value> = self
            .tool_calls
            .into_iter()
            .map(
                |(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}),
            )
            .collect();
        let mut message = json!({"role": "assistant", "content": self.text});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        Some(json!({"id": self.id, "object": "chat.completion", "model": self.model,
            "choices": [{"index": 0, "message": message}], "usage": self.usage}))
    }
}

/// The recorded call as a one-call trace; the store moves it into the exported `response` span
/// with the same response id when there is one.
fn recording(
    api: ModelApi,
    request: &Value,
    response: &Value,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
) -> (Trace, Span) {
    let mut call = call_for(api, request, response);
    // A response without an id can never be joined: it stays a trace of its own.
    call.response_id.get_or_insert_with(|| format!("unidentified_{:016x}", fastrand::u64(..)));
    let error = response.get("error").filter(|e| !e.is_null()).map(|e| SpanError {
        message: e.get("message").and_then(Value::as_str).unwrap_or("model call failed").to_string(),
        data: Some(e.clone()),
    });
    let Batch { mut traces, mut spans } = one_call_trace(call, Some(started), Some(ended), error, "");
    (traces.remove(0), spans.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::openai_log::one_call_trace_id;

    fn openai_sdk_lines() -> Vec<Value> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/openai-sdk/requests_responses.jsonl"
        ))
        .unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn record(api: ModelApi, streamed: bool, request: &Value, chunks: &[&[u8]]) -> (Trace, Span) {
        let mut r = Recorder::new(api, streamed);
        chunks.iter().for_each(|c| r.feed(c));
        let response = r.finish().expect("a final response");
        recording(api, request, &response, Utc::now(), Utc::now())
    }

    /// Whatever bytes an upstream streams, in whatever chunks, the recorder never panics.
    #[test]
    fn any_stream_of_bytes_is_recorded_or_dropped_without_panic() {
        use proptest::prelude::*;
        let response = json!({"id": "resp_1", "output": [], "usage": {"input_tokens": 1}});
        let real = crate::mock::server::sse_events(&response).into_bytes();
        let chunks = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16);
        let cases = std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
        let config = proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() };
        proptest::test_runner::TestRunner::new(config)
            .run(&(chunks, any::<bool>(), 0..real.len()), |(chunks, chat, cut)| {
                for api in [ModelApi::Responses, ModelApi::ChatCompletions] {
                    let mut r = Recorder::new(api, true);
                    r.feed(&real[..cut]);
                    for c in &chunks {
                        r.feed(c);
                        if chat {
                            // Once made the recorder grow a list to four billion entries.
                            r.feed(b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":4000000000}]}}]}\n\n");
                        }
                    }
                    if let Some(response) = r.finish() {
                        recording(api, &json!({"input": chunks.len()}), &response, Utc::now(), Utc::now());
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn json_answers_of_both_apis_are_recorded_from_the_real_sdk_requests() {
        for line in openai_sdk_lines() {
            let api = if line["endpoint"] == "/v1/responses" { ModelApi::Responses } else { ModelApi::ChatCompletions };
            let body = line["response"].to_string();
            let (trace, span) = record(api, false, &line["request"], &[body.as_bytes()]);
            let call = span.model_call().unwrap();
            assert!(call.has_content(), "{line}");
            assert_eq!(call.response_id.as_deref(), line["response"]["id"].as_str());
            assert_eq!(trace.id, one_call_trace_id(call.response_id.as_deref().unwrap()));
            assert!(call.usage.is_some());
            assert!(!call.input.as_ref().unwrap().is_empty());
        }
    }

    #[test]
    fn a_responses_stream_split_anywhere_records_the_completed_response() {
        let response = json!({"id": "resp_1", "model": "m", "output": [{"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": "HI"}]}], "usage": {"input_tokens": 1, "output_tokens": 1}});
        let sse = crate::mock::server::sse_events(&response);
        let bytes = sse.as_bytes();
        for split in [1, 7, 100, bytes.len() / 2] {
            let chunks: Vec<&[u8]> = bytes.chunks(split).collect();
            let (_, span) = record(ModelApi::Responses, true, &json!({"model": "m", "input": "hi"}), &chunks);
            let call = span.model_call().unwrap();
            assert_eq!(crate::trace::items::output_text(call.output.as_ref().unwrap()), "HI");
            assert_eq!(call.input.as_ref().unwrap()[0]["content"], json!("hi"));
        }
    }

    #[test]
    fn a_chat_stream_is_put_back_together() {
        let chunks = [
            r#"data: {"id":"chatcmpl-1","model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
            r#"data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_weather","arguments":"{\"ci"}}]}}]}"#,
            r#"data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]}}]}"#,
            r#"data: {"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            "data: [DONE]",
        ]
        .map(|c| format!("{c}\r\n\r\n"));
        let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
        let request = json!({"model": "gpt-x", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "weather?"}]});
        let (_, span) = record(ModelApi::ChatCompletions, true, &request, &chunks);
        let call = span.model_call().unwrap();
        let out = call.output.as_ref().unwrap();
        assert_eq!(crate::trace::items::output_text(out), "Hello");
        let calls = crate::trace::items::function_calls(out);
        assert_eq!((calls[0].name.as_str(), calls[0].arguments.as_str()), ("get_weather", "{\"city\":\"Paris\"}"));
        assert_eq!(call.instructions.as_deref(), Some("Be brief."));
        assert_eq!(call.usage.unwrap().total(), 7);
        assert_eq!(call.response_id.as_deref(), Some("chatcmpl-1"));
    }
}
