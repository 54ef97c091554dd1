//! The mock's HTTP side: `POST /v1/responses` and `POST /v1/chat/completions` (JSON or
//! server-sent events) on a local port, both answered by the one script.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::clock::Clock;
use super::{Answer, Arrival, FaultKind, Script};
use crate::trace::chat;
use crate::trace::items::{self, input_items};

struct Shared {
    script: Script,
    requests: AtomicU64,
    /// Of those, the ones that came to `/chat/completions`.
    chat: AtomicU64,
    /// Times each exact request body arrived, for faults on the first N attempts.
    attempts: Mutex<HashMap<u64, u32>>,
    /// Requests per conversation (last user text), so tests can see what was asked twice.
    by_user: Mutex<HashMap<String, u64>>,
    faults: AtomicU64,
    /// Requests refused because their body fails the API's published request schema.
    invalid: AtomicU64,
    clock: Clock,
}

/// A running mock server; stops when dropped or on `stop`.
pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(script: Script, listen: SocketAddr) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            script,
            requests: AtomicU64::new(0),
            chat: AtomicU64::new(0),
            attempts: Mutex::new(HashMap::new()),
            by_user: Mutex::new(HashMap::new()),
            faults: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            clock: Clock::start(),
        });
        let app = Router::new()
            .route("/v1/responses", post(responses))
            .route("/responses", post(responses))
            .route("/v1/chat/completions", post(chat_completions))
            .route("/chat/completions", post(chat_completions))
            .route("/v1/embeddings", post(embeddings))
            .route("/embeddings", post(embeddings))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Server { addr, shared, shutdown: Some(tx), task: Some(task) })
    }

    /// The base URL clients use, as in `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Requests answered on `/chat/completions` so far.
    pub fn chat_requests(&self) -> u64 {
        self.shared.chat.load(Ordering::Relaxed)
    }

    /// Faults injected so far.
    pub fn faults(&self) -> u64 {
        self.shared.faults.load(Ordering::Relaxed)
    }

    /// Requests refused with 400 because their body fails the `CreateResponse` schema.
    pub fn invalid_requests(&self) -> u64 {
        self.shared.invalid.load(Ordering::Relaxed)
    }

    /// Requests received per conversation, keyed by the request's last user text.
    pub fn requests_by_user(&self) -> HashMap<String, u64> {
        self.shared.by_user.lock().expect("mock lock").clone()
    }

    /// Serve until `signal` resolves, then finish in-flight requests.
    pub async fn run_until(mut self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn error(status: StatusCode, message: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}

async fn responses(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    serve(&shared, body, false).await
}

/// Chat Completions: the request read as the Responses request that asks the same, the
/// script's answer given back as a `chat.completion` (or its chunks).
async fn chat_completions(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    serve(&shared, body, true).await
}

async fn serve(shared: &Shared, body: Bytes, chat: bool) -> Response {
    // The latency is counted from the request's arrival, as a client would see it.
    let arrived = std::time::Instant::now();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let mut request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return error(StatusCode::BAD_REQUEST, "request body must be a JSON object", "invalid_json"),
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("request body is not JSON: {e}"), "invalid_json"),
    };
    // The real API refuses a body its schema does not allow (a function tool without `strict`,
    // `reasoning` where it has no place); so does the mock, or a replay that passes here could
    // fail there. (Chat Completions bodies are not Responses requests.)
    if !chat && let Some(why) = schema_error(&request) {
        shared.invalid.fetch_add(1, Ordering::Relaxed);
        return error(StatusCode::BAD_REQUEST, &why, "invalid_request_schema");
    }
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let include_usage = request.pointer("/stream_options/include_usage").and_then(Value::as_bool) == Some(true);
    if chat {
        shared.chat.fetch_add(1, Ordering::Relaxed);
        if !request.get("messages").is_some_and(Value::is_array) {
            return error(StatusCode::BAD_REQUEST, "`messages` must be a list of messages", "invalid_messages");
        }
        request = chat::responses_request(&request);
    }
    let user = items::last_user_text(&input_items(request.get("input").unwrap_or(&Value::Null))).unwrap_or_default();
    *shared.by_user.lock().expect("mock lock").entry(user).or_insert(0) += 1;
    let arrival = if shared.script.counts_attempts() {
        let mut h = std::hash::DefaultHasher::new();
        body.hash(&mut h);
        let body = h.finish();
        let mut map = shared.attempts.lock().expect("mock lock");
        let n = map.entry(body).or_insert(0);
        *n += 1;
        Arrival { body, attempt: *n }
    } else {
        Arrival::default()
    };
    let mut delay = 0;
    let mut unusable = None;
    if let Some(fault) = shared.script.fault(&request, arrival) {
        shared.faults.fetch_add(1, Ordering::Relaxed);
        match &fault.kind {
            FaultKind::Slow(ms) => delay = *ms,
            kind @ (FaultKind::Failed(_) | FaultKind::Incomplete(_)) => unusable = Some(kind),
            kind => return inject(kind, &fault.headers),
        }
    }
    match shared.script.answer(&request, arrival) {
        Answer::NoRule(message) => error(StatusCode::BAD_REQUEST, &message, "mock_no_rule"),
        Answer::Response { mut body, latency_ms } => {
            match unusable {
                Some(FaultKind::Failed(code)) => {
                    body["status"] = json!("failed");
                    body["output"] = json!([]);
                    body["error"] = json!({"code": code, "message": format!("mock fault: {code}")});
                }
                // A response cut short keeps what was written before the cut, as the API does.
                Some(FaultKind::Incomplete(reason)) => {
                    body["status"] = json!("incomplete");
                    body["incomplete_details"] = json!({"reason": reason});
                }
                _ => {}
            }
            let latency_ms = latency_ms.max(delay);
            // The answer is ready before the wait, so the wait is all the latency there is.
            let resp = if chat {
                let completion = chat::chat_completion(&body);
                if stream {
                    Response::builder()
                        .header(header::CONTENT_TYPE, "text/event-stream")
                        .header(header::CACHE_CONTROL, "no-cache")
                        .body(Body::from(chat::chat_sse(&completion, include_usage)))
                        .expect("valid response")
                } else {
                    axum::Json(completion).into_response()
                }
            } else if stream {
                let events = sse_events(&body);
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/event-stream")
                    .header(header::CACHE_CONTROL, "no-cache")
                    .body(Body::from(events))
                    .expect("valid response")
            } else {
                axum::Json(body).into_response()
            };
            if latency_ms > 0 {
                shared.clock.sleep_until(arrived + Duration::from_millis(latency_ms)).await;
            }
            resp
        }
    }
}

/// `CreateResponse` as OpenAI's OpenAPI document publishes it (scripts/vendor-openapi.py cut it).
const CREATE_RESPONSE_SCHEMA: &str = include_str!("create-response.schema.json");

/// Why a request body fails the `CreateResponse` schema: every violation, with where it is.
pub fn schema_error(request: &Value) -> Option<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(CREATE_RESPONSE_SCHEMA).expect("the vendored schema is JSON");
        jsonschema::validator_for(&schema).expect("the vendored schema compiles")
    });
    // Most bodies pass: a yes/no answer costs a fraction of collecting every error.
    if validator.is_valid(request) {
        return None;
    }
    // A failed `anyOf` prints the whole value it looked at: keep each reason short.
    let errors: Vec<String> = validator
        .iter_errors(request)
        .map(|e| {
            let path = e.instance_path().as_str().to_string();
            format!("at {}: {}", if path.is_empty() { "/" } else { &path }, crate::text::truncate(&e.to_string(), 200))
        })
        .collect();
    (!errors.is_empty()).then(|| format!("request does not match CreateResponse: {}", errors.join("; ")))
}

/// `POST /embeddings`: a bag of words hashed into 64 dimensions, so texts sharing words point
/// the same way and the same text always gives the same vector.
async fn embeddings(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let texts: Vec<String> = match &request["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect(),
        _ => return error(StatusCode::BAD_REQUEST, "input must be a string or a list of strings", "invalid_input"),
    };
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": bag_of_words(t)}))
        .collect();
    axum::Json(json!({"object": "list", "data": data, "model": request["model"], "usage": {"prompt_tokens": 0, "total_tokens": 0}}))
        .into_response()
}

fn bag_of_words(text: &str) -> Vec<f64> {
    let mut v = vec![0.0; 64];
    for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        // FNV-1a: stable across runs and platforms.
        let h = w
            .to_lowercase()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        v[(h % 64) as usize] += 1.0;
    }
    v
}

/// The response of an injected fault (other than a slow answer).
fn inject(kind: &FaultKind, headers: &[(String, String)]) -> Response {
    let mut resp = match kind {
        FaultKind::Status { status, code } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let kind = if status.as_u16() == 429 { "requests" } else { "server_error" };
            let body = json!({"error": {"message": format!("mock fault: {code}"), "type": if code == "insufficient_quota" { code.as_str() } else { kind }, "param": null, "code": code}});
            (status, axum::Json(body)).into_response()
        }
        FaultKind::Malformed => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"id": "resp_mock", "object": "respo"#))
            .expect("valid response"),
        // Headers go out, then the body stream fails: the client sees the connection break.
        FaultKind::Drop => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures_util::stream::iter([
                Ok(Bytes::from_static(b"{\"id\": ")),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "mock fault: dropped")),
            ])))
            .expect("valid response"),
        FaultKind::Slow(_) | FaultKind::Failed(_) | FaultKind::Incomplete(_) => {
            unreachable!("slow and unusable answers are served from the script")
        }
    };
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::from_bytes(k.as_bytes()), header::HeaderValue::from_str(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// The event stream the Responses API sends for `stream: true`, ending with the full response.
pub fn sse_events(response: &Value) -> String {
    let mut events: Vec<Value> = Vec::new();
    let mut started = response.clone();
    started["status"] = json!("in_progress");
    started["output"] = json!([]);
    events.push(json!({"type": "response.created", "response": started.clone()}));
    events.push(json!({"type": "response.in_progress", "response": started}));
    for (i, item) in response["output"].as_array().into_iter().flatten().enumerate() {
        let mut added = item.clone();
        added["status"] = json!("in_progress");
        let id = item["id"].clone();
        match item["type"].as_str() {
            Some("message") => {
                added["content"] = json!([]);
                events.push(json!({"type": "response.output_item.added", "output_index": i, "item": added}));
                for (c, part) in item["content"].as_array().into_iter().flatten().enumerate() {
                    let text = part["text"].clone();
                    events.push(json!({"type": "response.content_part.added", "item_id": id, "output_index": i, "content_index": c,
                        "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}}));
                    events.push(json!({"type": "response.output_text.delta", "item_id": id, "output_index": i, "content_index": c, "delta": text}));
                    events.push(json!({"type": "response.output_text.done", "item_id": id, "output_index": i, "content_index": c, "text": text}));
                    events.push(json!({"type": "response.content_part.done", "item_id": id, "output_index": i, "content_index": c, "part": part}));
                }
            }
            Some("function_call") => {
                added["arguments"] = json!("");
                events.push(json!({"type": "response.output_item.added", "output_index": i, "item": added}));
                events.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": i, "delta": item["arguments"]}));
                events.push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": i, "arguments": item["arguments"]}));
            }
            _ => events.push(json!({"type": "response.output_item.added", "output_index": i, "item": added})),
        }
        events.push(json!({"type": "response.output_item.done", "output_index": i, "item": item}));
    }
    let end = match response["status"].as_str() {
        Some("failed") => "response.failed",
        Some("incomplete") => "response.incomplete",
        _ => "response.completed",
    };
    events.push(json!({"type": end, "response": response}));
    let mut out = String::new();
    for (n, mut e) in events.into_iter().enumerate() {
        e["sequence_number"] = json!(n);
        out.push_str(&format!("event: {}\ndata: {}\n\n", e["type"].as_str().unwrap_or_default(), e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn post(url: &str, body: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    #[tokio::test]
    async fn serves_json_and_reports_problems_as_400() {
        let server = Server::start(Script::builtin(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("{}/responses", server.base_url());
        let (status, text) = post(&url, r#"{"model":"m","input":"hi"}"#).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["output"][0]["content"][0]["text"], json!("HI"));
        let (status, text) = post(&url, "{nope").await;
        assert_eq!(status, 400);
        assert!(text.contains("not JSON"));
        assert_eq!(server.requests(), 2);
    }

    #[tokio::test]
    async fn unusable_faults_answer_200_with_the_status_the_client_refuses() {
        let script = "faults:\n  - {when: {user: fail}, response_status: failed, code: invalid_prompt}\n  \
                      - {response_status: incomplete, reason: content_filter}\ndefault: {text: ok}\n";
        let script = Script::parse(&crate::yaml::Source::new("m.yaml", script)).unwrap();
        let server = Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("{}/responses", server.base_url());
        let (status, text) = post(&url, r#"{"model":"m","input":"fail"}"#).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (&v["status"], &v["output"], &v["error"]["code"]),
            (&json!("failed"), &json!([]), &json!("invalid_prompt"))
        );
        let (_, text) = post(&url, r#"{"model":"m","input":"long"}"#).await;
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (&v["status"], &v["incomplete_details"]["reason"]),
            (&json!("incomplete"), &json!("content_filter"))
        );
        assert_eq!(v["output"][0]["content"][0]["text"], json!("ok"), "what was written before the cut stays");
        let (_, text) = post(&url, r#"{"model":"m","input":"long","stream":true}"#).await;
        let last = text.lines().filter_map(|l| l.strip_prefix("event: ")).next_back().unwrap();
        assert_eq!(last, "response.incomplete");
        assert_eq!(server.faults(), 3);
    }

    fn fixture_lines(path: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn the_schema_accepts_what_the_real_sdks_send() {
        let mut bodies: Vec<Value> = fixture_lines("agents-sdk/agents_model_requests.jsonl")
            .into_iter()
            .filter(|l| l["path"] == "/v1/responses")
            .map(|l| l["body"].clone())
            .collect();
        bodies.extend(
            fixture_lines("openai-sdk/requests_responses.jsonl")
                .into_iter()
                .filter(|l| l["endpoint"] == "/v1/responses")
                .map(|l| l["request"].clone()),
        );
        // The Node SDK's: plain, streamed, and a failing call with its retries.
        bodies.extend(fixture_lines("openai-sdk-js/requests.jsonl").into_iter().map(|l| l["request"].clone()));
        assert!(bodies.len() >= 13, "{}", bodies.len());
        for b in &bodies {
            assert_eq!(schema_error(b), None, "{b}");
        }
    }

    #[tokio::test]
    async fn a_body_the_api_schema_refuses_gets_400_saying_where() {
        let server = Server::start(Script::builtin(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("{}/responses", server.base_url());
        // A function tool without `strict`, as replay used to send them.
        let body = r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{}}]}"#;
        let (status, text) = post(&url, body).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("at /tools/0:"), "{text}");
        let (status, text) = post(&url, r#"{"model":"m","input":"hi","truncation":"sometimes"}"#).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("at /truncation"), "{text}");
        assert_eq!(server.invalid_requests(), 2);
        let ok =
            r#"{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":{},"strict":false}]}"#;
        assert_eq!(post(&url, ok).await.0, 200);
    }

    #[tokio::test]
    async fn embeds_texts_deterministically() {
        let server = Server::start(Script::builtin(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (status, text) =
            post(&format!("{}/embeddings", server.base_url()), r#"{"model":"e","input":["a b","B a","c"]}"#).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["data"][0]["embedding"], v["data"][1]["embedding"]);
        assert_ne!(v["data"][0]["embedding"], v["data"][2]["embedding"]);
        assert_eq!(v["data"][2]["embedding"].as_array().unwrap().len(), 64);
    }

    #[tokio::test]
    async fn streams_events_ending_with_the_full_response() {
        let server = Server::start(Script::builtin(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (status, text) =
            post(&format!("{}/responses", server.base_url()), r#"{"model":"m","input":"hi","stream":true}"#).await;
        assert_eq!(status, 200);
        let datas: Vec<Value> =
            text.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect();
        assert_eq!(datas[0]["type"], json!("response.created"));
        let last = datas.last().unwrap();
        assert_eq!(last["type"], json!("response.completed"));
        assert_eq!(last["response"]["output"][0]["content"][0]["text"], json!("HI"));
        let seq: Vec<u64> = datas.iter().map(|d| d["sequence_number"].as_u64().unwrap()).collect();
        assert_eq!(seq, (0..datas.len() as u64).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn answers_chat_completions_with_the_same_script() {
        let server = Server::start(Script::builtin(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("{}/chat/completions", server.base_url());
        let tools = r#"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]"#;
        let ask = format!(
            r#"{{"model":"m","tools":{tools},"messages":[{{"role":"system","content":"i"}},{{"role":"user","content":"call_tool get_weather city=Paris"}}]}}"#
        );
        let (status, text) = post(&url, &ask).await;
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["object"], json!("chat.completion"));
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"], json!({"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}));
        assert_eq!(v["choices"][0]["finish_reason"], json!("tool_calls"));
        // The tool result goes back as a `tool` message; the script answers it.
        let answer = format!(
            r#"{{"model":"m","stream":true,"stream_options":{{"include_usage":true}},"messages":[{{"role":"user","content":"call_tool get_weather city=Paris"}},
            {{"role":"assistant","content":null,"tool_calls":[{call}]}},{{"role":"tool","tool_call_id":{},"content":"Sunny"}}]}}"#,
            call["id"]
        );
        let (status, text) = post(&url, &answer).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.ends_with("data: [DONE]\n\n"));
        assert!(text.contains(r#""content":"TOOL RESULT: Sunny""#), "{text}");
        assert!(text.contains(r#""prompt_tokens""#), "usage chunk asked for");
        let (status, text) = post(&url, r#"{"model":"m","input":"hi"}"#).await;
        assert_eq!(status, 400);
        assert!(text.contains("`messages` must be a list"), "{text}");
    }
}
