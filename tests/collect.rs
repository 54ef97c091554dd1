//! `evals collect` end to end: the real SDK bodies over HTTP, the recording proxy against a mock
//! upstream, joins in either order, streaming, privacy, limits, the token, and shutdown.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::*;
use evals::collect::{Options, Privacy, Route, Server};
use evals::mock::{Script, server::Server as Mock};
use evals::store::{Store, TraceFilter};
use evals::trace::{Span, SpanData};
use serde_json::{Value, json};
use tokio::sync::Notify;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A collect server on a free port over a fresh store, forwarding to `upstream`.
async fn collect(dir: &Path, upstream: String, tweak: impl FnOnce(&mut Options)) -> Server {
    let mut opts = Options { listen: loopback(), upstream, ..Options::default() };
    tweak(&mut opts);
    Server::start(opts, Store::open(&dir.join("evals.db")).unwrap()).await.unwrap()
}

async fn mock() -> Mock {
    Mock::start(Script::builtin(), loopback()).await.unwrap()
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("evals.db")).unwrap()
}

fn lines(path: PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The exporter's one body and the headers it was sent with.
fn exporter_body() -> (Value, Vec<(String, String)>) {
    let body = lines(fixture("agents_ingest.jsonl")).remove(0);
    let headers = lines(fixture("agents_ingest.jsonl.headers.jsonl")).remove(0)["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (body, headers)
}

async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> (u16, HeaderMap, String) {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.text().await.unwrap())
}

async fn ingest(server: &Server, body: &Value) -> (u16, String) {
    let (_, headers) = exporter_body();
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, text) = post(&format!("{}/v1/traces/ingest", server.url()), &h, body.to_string()).await;
    (status, text)
}

/// The exporter body cut into POSTs of `n` records, as a long run is sent.
fn in_chunks(body: &Value, n: usize) -> Vec<Value> {
    body["data"].as_array().unwrap().chunks(n).map(|c| json!({"data": c})).collect()
}

fn model_spans(s: &Store) -> Vec<Span> {
    let mut out = vec![];
    for t in s.list_traces(&TraceFilter::default()).unwrap() {
        out.extend(s.load_trace(&t.id).unwrap().1.into_iter().filter(|sp| sp.model_call().is_some()));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn exporter_bodies_are_stored_once_however_they_are_split_or_resent() {
    let dir = tempfile::tempdir().unwrap();
    let server = collect(dir.path(), "http://127.0.0.1:9/v1".into(), |_| {}).await;
    let (body, _) = exporter_body();
    // Children first, over many POSTs, then all of it again as the SDK's retry would.
    for chunk in in_chunks(&body, 4).iter().rev() {
        assert_eq!(ingest(&server, chunk).await, (200, "{}".into()));
    }
    assert_eq!(ingest(&server, &body).await.0, 200);
    server.shutdown().await;

    let p = Project::new();
    p.ok(&["traces", "import", fixture("agents_ingest.jsonl").to_str().unwrap()]);
    let imported = Store::open(&p.path(".evals/evals.db")).unwrap().list_traces(&TraceFilter::default()).unwrap();
    let collected = store(dir.path()).list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(collected.len(), 3);
    let key = |t: &evals::store::TraceSummary| (t.id.clone(), t.spans, t.turns, t.input_tokens, t.workflow.clone());
    assert_eq!(collected.iter().map(key).collect::<Vec<_>>(), imported.iter().map(key).collect::<Vec<_>>());
}

/// Send the SDK's recorded model requests through the proxy; returns the response ids.
async fn proxy_model_requests(server: &Server, which: std::ops::Range<usize>) -> Vec<String> {
    let requests = lines(fixture("agents_model_requests.jsonl"));
    let mut ids = vec![];
    for r in &requests[which] {
        let h = [("authorization", "Bearer sk-upstream-key-0001"), ("content-type", "application/json")];
        let (status, headers, text) = post(&format!("{}/v1/responses", server.url()), &h, r["body"].to_string()).await;
        assert_eq!(status, 200, "{text}");
        ids.push(response_id(&headers, &text));
    }
    ids
}

/// The exporter body with its response spans (in start order) pointing at `ids`.
fn with_response_ids(body: &Value, ids: &[String]) -> Value {
    let mut body = body.clone();
    let mut spans: Vec<&mut Value> =
        body["data"].as_array_mut().unwrap().iter_mut().filter(|r| r["span_data"]["type"] == "response").collect();
    spans.sort_by(|a, b| a["started_at"].as_str().cmp(&b["started_at"].as_str()));
    for (span, id) in spans.into_iter().zip(ids) {
        span["span_data"]["response_id"] = json!(id);
    }
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_and_exporter_join_in_either_order_into_promotable_traces() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |_| {}).await;
    // The mock's ids derive from the request, so asking it directly tells what the proxy will get.
    let ids = mock_ids(&upstream).await;
    // The first two calls are recorded before their spans are exported, the rest after.
    assert_eq!(proxy_model_requests(&server, 0..2).await, ids[..2]);
    // Committed before the answers ended.
    assert_eq!(store(dir.path()).list_traces(&TraceFilter::default()).unwrap().len(), 2);
    let (body, _) = exporter_body();
    for chunk in in_chunks(&with_response_ids(&body, &ids), 5) {
        assert_eq!(ingest(&server, &chunk).await.0, 200);
    }
    assert_eq!(proxy_model_requests(&server, 2..5).await, ids[2..]);
    server.shutdown().await;

    let s = store(dir.path());
    let traces = s.list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(traces.len(), 3, "no one-call traces left: {:?}", traces.iter().map(|t| &t.id).collect::<Vec<_>>());
    for t in &traces {
        assert_eq!(t.content_turns, t.turns, "{}: every model turn has content", t.id);
    }
    let calls = model_spans(&s);
    assert_eq!(calls.len(), 5);
    for span in &calls {
        let call = span.model_call().unwrap();
        assert!(ids.contains(call.response_id.as_ref().unwrap()));
        assert!(span.parent_id.is_some(), "the exported span keeps its place in the tree");
    }
    let dump = std::fs::read(dir.path().join("evals.db")).unwrap();
    assert!(!String::from_utf8_lossy(&dump).contains("sk-upstream-key"), "the client's key is never stored");

    // Promote the tool-call trace and replay it against the mock.
    let p = Project::new();
    std::fs::create_dir_all(p.path(".evals")).unwrap();
    std::fs::copy(dir.path().join("evals.db"), p.path(".evals/evals.db")).unwrap();
    let tool_trace = traces.iter().find(|t| t.agents == ["Triage"] && t.turns == 2).unwrap();
    let handoff_trace = traces.iter().find(|t| t.agents.len() == 2).unwrap();
    for t in [tool_trace, handoff_trace] {
        p.ok(&["promote", &t.id, "--dataset", "demo", "--verdict", "pass"]);
    }
    let case =
        std::fs::read_to_string(std::fs::read_dir(p.path("datasets/demo")).unwrap().next().unwrap().unwrap().path())
            .unwrap();
    assert!(case.contains("Sunny and 21C in Paris") || case.contains("transfer_to_weather_expert"), "{case}");
    let suite = p.suite("demo", "");
    let run = p.ok(&["run", suite.to_str().unwrap()]);
    assert!(run.contains("2 passed"), "{run}");
}

/// The id of a Responses answer, JSON or a stream.
fn response_id(headers: &HeaderMap, text: &str) -> String {
    let response: Value = if headers["content-type"].to_str().unwrap().starts_with("text/event-stream") {
        let last = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap();
        serde_json::from_str::<Value>(last).unwrap()["response"].clone()
    } else {
        serde_json::from_str(text).unwrap()
    };
    response["id"].as_str().unwrap().to_string()
}

/// The response ids the mock gives the SDK's first five model requests.
async fn mock_ids(upstream: &Mock) -> Vec<String> {
    let mut ids = vec![];
    for r in &lines(fixture("agents_model_requests.jsonl"))[..5] {
        let (_, headers, text) = post(&format!("{}/responses", upstream.base_url()), &[], r["body"].to_string()).await;
        ids.push(response_id(&headers, &text));
    }
    ids
}

/// A client that has read an answer to its end can rely on the call being stored, so a crash of
/// collect right after (kill -9) loses nothing answered: while another process holds the
/// store's write lock, the answer's end waits for the recording's commit.
#[tokio::test(flavor = "multi_thread")]
async fn a_proxied_call_is_committed_before_its_answer_ends() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |_| {}).await;
    let url = format!("{}/v1/responses", server.url());
    for stream in [false, true] {
        let blocker = rusqlite::Connection::open(dir.path().join("evals.db")).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let body = json!({"model": "m", "input": "hello", "stream": stream}).to_string();
        let call = tokio::spawn({
            let url = url.clone();
            async move { post(&url, &[("content-type", "application/json")], body).await }
        });
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!call.is_finished(), "stream {stream}: answered in full while the call could not be stored");
        blocker.execute_batch("COMMIT").unwrap();
        let (status, headers, text) = call.await.unwrap();
        assert_eq!(status, 200, "{text}");
        let id = response_id(&headers, &text);
        let stored = model_spans(&store(dir.path()));
        assert!(
            stored.iter().any(|s| s.model_call().unwrap().response_id.as_deref() == Some(id.as_str())),
            "stream {stream}: {id} was answered but is not stored"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_outside_any_sdk_trace_is_a_one_call_trace_for_both_apis() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |_| {}).await;
    let h = [("content-type", "application/json")];
    let (status, _, text) = post(
        &format!("{}/v1/responses", server.url()),
        &h,
        r#"{"model":"m","instructions":"Be brief.","input":"hello"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["output"][0]["content"][0]["text"], "HELLO");
    server.shutdown().await;
    let s = store(dir.path());
    let traces = s.list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(traces.len(), 1);
    assert_eq!((traces[0].turns, traces[0].content_turns), (1, 1));
    assert!(traces[0].duration_ms().is_some(), "latency is recorded");
    let call = model_spans(&s).remove(0);
    let call = call.model_call().unwrap();
    assert_eq!(call.instructions.as_deref(), Some("Be brief."));
}

/// An upstream that sends the first event, then waits to be released before sending the rest;
/// it also answers 429 on `/v1/chat/completions`, echoing what it received.
async fn slow_upstream(release: Arc<Notify>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::post;
    let response = json!({"id": "resp_slow", "object": "response", "model": "m", "status": "completed",
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "slow answer", "annotations": []}]}],
        "usage": {"input_tokens": 1, "output_tokens": 2}});
    let events = evals::mock::server::sse_events(&response);
    let (first, rest) = events.split_at(events.find("\n\n").unwrap() + 2);
    let (first, rest) = (first.to_string(), rest.to_string());
    let app = axum::Router::new()
        .route(
            "/v1/responses",
            post(move || {
                let (first, rest, release) = (first.clone(), rest.clone(), release.clone());
                async move {
                    let stream = futures_util::stream::unfold(0, move |step| {
                        let (first, rest, release) = (first.clone(), rest.clone(), release.clone());
                        async move {
                            match step {
                                0 => Some((Ok::<_, std::io::Error>(first), 1)),
                                1 => {
                                    release.notified().await;
                                    Some((Ok(rest), 2))
                                }
                                _ => None,
                            }
                        }
                    });
                    Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }
            }),
        )
        .route(
            "/v1/chat/completions",
            post(|headers: HeaderMap| async move {
                let seen: Vec<String> = headers.keys().map(|k| k.to_string()).collect();
                let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7"), ("x-request-id", "req_42")],
                    axum::Json(
                        json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"},
                        "seen_headers": seen, "authorization": auth}),
                    ),
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    (url, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_pass_through_event_by_event_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let release = Arc::new(Notify::new());
    let (upstream, _task) = slow_upstream(release.clone()).await;
    let server = collect(dir.path(), upstream, |_| {}).await;
    let mut resp = reqwest::Client::new()
        .post(format!("{}/v1/responses", server.url()))
        .header("content-type", "application/json")
        .body(r#"{"model":"m","input":"hi","stream":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // The upstream is holding the rest back: the first event must already be here.
    let first = tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await.expect("first event in time");
    let first = String::from_utf8(first.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.starts_with("event: response.created"), "{first}");
    assert!(store(dir.path()).list_traces(&TraceFilter::default()).unwrap().is_empty(), "nothing recorded mid-stream");
    release.notify_one();
    let mut rest = String::new();
    while let Some(c) = resp.chunk().await.unwrap() {
        rest.push_str(&String::from_utf8_lossy(&c));
    }
    assert!(rest.contains("response.completed"));
    let span = model_spans(&store(dir.path())).remove(0);
    let call = span.model_call().unwrap();
    assert_eq!(evals::trace::items::output_text(call.output.as_ref().unwrap()), "slow answer");
    assert_eq!(call.response_id.as_deref(), Some("resp_slow"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_errors_come_back_unchanged_with_the_clients_key_and_are_recorded_as_failed_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _task) = slow_upstream(Arc::new(Notify::new())).await;
    let server = collect(dir.path(), upstream, |o| o.token = Some("collect-token".into())).await;
    let h = [
        ("authorization", "Bearer sk-client-key"),
        ("x-evals-token", "collect-token"),
        ("content-type", "application/json"),
    ];
    let (status, headers, text) = post(
        &format!("{}/v1/chat/completions", server.url()),
        &h,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(
        (&headers["retry-after"], &headers["x-request-id"]),
        (&"7".parse().unwrap(), &"req_42".parse().unwrap())
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(v["authorization"], "Bearer sk-client-key", "the client's key goes upstream");
    assert!(!v["seen_headers"].as_array().unwrap().contains(&json!("x-evals-token")), "the collect token does not");
    server.shutdown().await;
    let traces = store(dir.path()).list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(traces.iter().map(|t| t.status()).collect::<Vec<_>>(), ["error"]);
    let spans = model_spans(&store(dir.path()));
    let error = spans[0].error.as_ref().unwrap();
    assert!(error.message.starts_with("HTTP 429 rate_limit_exceeded: "), "{}", error.message);
    let call = spans[0].model_call().unwrap();
    assert_eq!((call.attempts.len(), call.attempts[0].status), (1, 429));
    assert_eq!(call.input.as_ref().unwrap()[0]["content"], "hi", "what was asked is kept");
    let db = std::fs::read(dir.path().join("evals.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("sk-client-key"), "the key is never stored");
}

/// A client's retries of one request (two 429s, then the answer) are attempts of one call in
/// one trace; a call that never succeeds is a trace in error, found by `--status error`, and
/// `traces show` prints its attempts.
#[tokio::test(flavor = "multi_thread")]
async fn failed_attempts_and_their_retries_are_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let script = "faults:\n  - {when: {user: retried}, first: 2, status: 429, code: rate_limit_exceeded}\n  \
                  - {when: {user: long}, status: 400, code: context_length_exceeded}\n\
                  default: {text: '{{ user | upper }}'}\n";
    let upstream =
        Mock::start(Script::parse(&evals::yaml::Source::new("m.yaml", script)).unwrap(), loopback()).await.unwrap();
    let server = collect(dir.path(), upstream.base_url(), |_| {}).await;
    let url = format!("{}/v1/responses", server.url());
    let h = [("content-type", "application/json")];
    let mut statuses = vec![];
    for _ in 0..3 {
        statuses.push(post(&url, &h, r#"{"model":"m","input":"retried"}"#).await.0);
    }
    assert_eq!(statuses, [429, 429, 200]);
    let with_project = [("content-type", "application/json"), ("openai-project", "proj_evals")];
    for _ in 0..2 {
        assert_eq!(post(&url, &with_project, r#"{"model":"m","input":"long"}"#).await.0, 400);
    }
    server.shutdown().await;
    let s = store(dir.path());
    let traces = s.list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(traces.len(), 2, "{traces:?}");
    let spans = model_spans(&s);
    let attempts = |user: &str| {
        let span = spans.iter().find(|sp| sp.model_call().unwrap().input.as_ref().unwrap()[0]["content"] == user);
        let span = span.unwrap();
        (span.error.is_some(), span.model_call().unwrap().attempts.iter().map(|a| a.status).collect::<Vec<_>>())
    };
    assert_eq!(attempts("retried"), (false, vec![429, 429, 200]));
    assert_eq!(attempts("long"), (true, vec![400, 400]));
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_evals"))
            .args(args)
            .env("EVALS_STORE", dir.path().join("evals.db"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let errors: Value = serde_json::from_str(&cli(&["traces", "list", "--status", "error", "--json"])).unwrap();
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 1);
    let id = errors[0]["id"].as_str().unwrap();
    assert_eq!((&errors[0]["provider"], &errors[0]["project"]), (&json!("127.0.0.1"), &json!("proj_evals")));
    assert_eq!(errors[0]["first_user_text"], json!("long"));
    let ok: Value = serde_json::from_str(&cli(&["traces", "list", "--status", "ok", "--json"])).unwrap();
    assert_eq!(ok.as_array().unwrap().len(), 1);
    let shown = cli(&["traces", "show", id]);
    assert!(shown.contains("attempt 1  HTTP 400 context_length_exceeded"), "{shown}");
    assert!(shown.contains("attempt 2  HTTP 400 context_length_exceeded"), "{shown}");
    assert!(shown.contains("✗ error: HTTP 400 context_length_exceeded"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_get_400_or_413_with_the_reason_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |o| o.max_body = 16 * 1024).await;
    let (body, _) = exporter_body();
    let chunks = in_chunks(&body, 4);
    assert_eq!(ingest(&server, &chunks[0]).await.0, 200);
    let before = store(dir.path()).list_traces(&TraceFilter::default()).unwrap();

    let url = format!("{}/v1/traces/ingest", server.url());
    let (status, _, text) = post(&url, &[], "{oops").await;
    assert_eq!(status, 400);
    assert!(text.contains("body is not JSON"), "{text}");
    let (status, _, text) = post(&url, &[], r#"{"data": [{"object": "trace.span", "id": "s"}]}"#).await;
    assert_eq!(status, 400);
    assert!(text.contains("missing field `span_data`"), "{text}");
    let (status, _, text) = post(&url, &[], vec![b' '; 20 * 1024]).await;
    assert_eq!(status, 413, "{text}");
    let (status, _, text) = post(&format!("{}/v1/responses", server.url()), &[], "[1, 2").await;
    assert_eq!(status, 400);
    assert!(text.contains("not JSON"), "{text}");
    let (status, _, text) =
        post(&format!("{}/v1/traces", server.url()), &[("content-type", "application/x-protobuf")], vec![0xff; 64])
            .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("protobuf"), "{text}");
    let bad_id = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "XYZ7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "x"}]}]}]});
    let (status, _, text) =
        post(&format!("{}/v1/traces", server.url()), &[("content-type", "application/json")], bad_id.to_string()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("resourceSpans[0].scopeSpans[0].spans[0].traceId"), "{text}");

    assert_eq!(store(dir.path()).list_traces(&TraceFilter::default()).unwrap(), before, "stored data untouched");
    for chunk in &chunks[1..] {
        assert_eq!(ingest(&server, chunk).await.0, 200, "still serving");
    }
    server.shutdown().await;
    assert_eq!(store(dir.path()).list_traces(&TraceFilter::default()).unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_guards_every_route_and_is_required_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let open = Options { listen: "0.0.0.0:0".parse().unwrap(), ..Options::default() };
    let err = Server::start(open, store(dir.path())).await.err().unwrap();
    assert!(err.to_string().contains("without a token"), "{err}");

    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |o| o.token = Some("t0ken-xyz".into())).await;
    let (body, _) = exporter_body();
    let ingest_url = format!("{}/v1/traces/ingest", server.url());
    let json = ("content-type", "application/json");
    assert_eq!(post(&ingest_url, &[json], body.to_string()).await.0, 401);
    assert_eq!(post(&ingest_url, &[json, ("authorization", "Bearer wrong")], body.to_string()).await.0, 401);
    // The SDK exporter presents it as its API key.
    assert_eq!(post(&ingest_url, &[json, ("authorization", "Bearer t0ken-xyz")], body.to_string()).await.0, 200);
    let responses = format!("{}/v1/responses", server.url());
    let req = r#"{"model":"m","input":"hi"}"#;
    // On the proxy, Authorization is the upstream's key, so the token must be in its own header.
    assert_eq!(post(&responses, &[json, ("authorization", "Bearer t0ken-xyz")], req).await.0, 401);
    assert_eq!(post(&responses, &[json, ("x-evals-token", "t0ken-xyz")], req).await.0, 200);
    let otlp = format!("{}/v1/traces", server.url());
    assert_eq!(post(&otlp, &[json], "{}").await.0, 401);
    assert_eq!(post(&otlp, &[json, ("x-evals-token", "t0ken-xyz")], r#"{"resourceSpans":[]}"#).await.0, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redact_and_no_content_apply_to_what_is_stored_not_to_what_the_client_gets() {
    let secret = "write to ann@example.org or call +1 415 555 2671";
    for privacy in [Privacy::Redact, Privacy::NoContent] {
        let dir = tempfile::tempdir().unwrap();
        let upstream = mock().await;
        let server = collect(dir.path(), upstream.base_url(), |o| o.privacy = privacy).await;
        let (mut body, _) = exporter_body();
        for r in body["data"].as_array_mut().unwrap() {
            if r["span_data"]["type"] == "function" {
                r["span_data"]["output"] = json!(secret);
            }
        }
        assert_eq!(ingest(&server, &body).await.0, 200);
        let req = json!({"model": "m", "input": secret, "stream": true}).to_string();
        let (status, _, text) =
            post(&format!("{}/v1/responses", server.url()), &[("content-type", "application/json")], req).await;
        assert_eq!(status, 200);
        assert!(text.contains("ANN@EXAMPLE.ORG"), "the client gets the real answer");
        assert_eq!(store(dir.path()).list_traces(&TraceFilter::default()).unwrap().len(), 4, "recorded on answering");
        server.shutdown().await;

        let s = store(dir.path());
        let spans: Vec<Span> = s
            .list_traces(&TraceFilter::default())
            .unwrap()
            .iter()
            .flat_map(|t| s.load_trace(&t.id).unwrap().1)
            .collect();
        let all = serde_json::to_string(&spans).unwrap().to_lowercase();
        assert!(!all.contains("ann@example.org") && !all.contains("555 2671"), "{privacy:?}: {all}");
        let proxied = spans.iter().find_map(|sp| sp.model_call().filter(|c| c.model.as_deref() == Some("m"))).unwrap();
        assert!(proxied.usage.is_some(), "{privacy:?}: tokens kept");
        match privacy {
            Privacy::Redact => {
                assert!(all.contains("write to <email> or call <phone>"), "{all}");
                assert!(proxied.has_content());
            }
            _ => {
                assert!(!all.contains("write to"), "{all}");
                assert!(!proxied.has_content());
                assert!(
                    spans.iter().any(
                        |sp| matches!(&sp.data, SpanData::Tool { name, output: None, .. } if name == "get_weather")
                    )
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_protobuf_gzip_and_json_exports_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = collect(dir.path(), "http://127.0.0.1:9/v1".into(), |_| {}).await;
    let otlp = repo().join("tests/fixtures/otlp");
    let url = format!("{}/v1/traces", server.url());
    let proto = std::fs::read(otlp.join("openinference-agents-protobuf/traces/001.bin")).unwrap();
    let (status, headers, text) = post(&url, &[("content-type", "application/x-protobuf")], proto).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap(), text.as_str()), (200, "application/x-protobuf", ""));
    let gz = std::fs::read(otlp.join("openinference-agents-protobuf/gzip/traces/001.bin.gz")).unwrap();
    let h = [("content-type", "application/x-protobuf"), ("content-encoding", "gzip")];
    assert_eq!(post(&url, &h, gz).await.0, 200);
    let json = std::fs::read(otlp.join("openinference-agents-json/traces/001.raw.json")).unwrap();
    let (status, _, text) = post(&url, &[("content-type", "application/json")], json).await;
    assert_eq!((status, text.as_str()), (200, "{}"));
    let (status, _, text) = post(&url, &[("content-type", "text/plain")], "x").await;
    assert_eq!(status, 415, "{text}");
    server.shutdown().await;
    let s = store(dir.path());
    let traces = s.list_traces(&TraceFilter::default()).unwrap();
    assert!(!traces.is_empty());
    assert!(traces.iter().any(|t| t.content_turns > 0), "OpenInference carries the full response");
}

#[test]
fn sigterm_commits_everything_received_and_exits_cleanly() {
    let p = Project::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream = rt.block_on(mock());
    let mut child = Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(["collect", "--listen", "127.0.0.1:0", "--upstream", &upstream.base_url()])
        .current_dir(p.dir.path())
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    rt.block_on(async {
        let (body, _) = exporter_body();
        let posts = in_chunks(&body, 2).into_iter().map(|c| {
            let url = format!("{url}/v1/traces/ingest");
            async move { post(&url, &[("content-type", "application/json")], c.to_string()).await.0 }
        });
        assert!(futures_util::future::join_all(posts).await.iter().all(|s| *s == 200));
        let (status, _, _) = post(
            &format!("{url}/v1/responses"),
            &[("content-type", "application/json")],
            r#"{"model":"m","input":"last"}"#,
        )
        .await;
        assert_eq!(status, 200);
    });
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(status.success(), "{status:?} {rest}");
    assert!(rest.contains("stored"), "{rest}");
    let s = Store::open(&p.path(".evals/evals.db")).unwrap();
    let traces = s.list_traces(&TraceFilter::default()).unwrap();
    assert_eq!(traces.len(), 4, "three exported traces and the last proxied call");
    assert_eq!(traces.iter().map(|t| t.spans).sum::<u64>(), 19 + 1);
}

#[test]
fn collect_help_has_an_example() {
    let out = Project::new().ok(&["collect", "--help"]);
    assert!(out.contains("Examples:") && out.contains("--upstream"), "{out}");
}

/// `--no-content=traces`: the exported spans keep no text while the proxy keeps the
/// conversation; a request with `X-Evals-No-Content` is stored without content on any route,
/// and the header does not go upstream.
#[tokio::test(flavor = "multi_thread")]
async fn content_is_dropped_per_route_or_when_the_app_asks() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = mock().await;
    let server = collect(dir.path(), upstream.base_url(), |o| o.no_content = vec![Route::Traces]).await;
    let json = std::fs::read(repo().join("tests/fixtures/otlp/openinference-agents-json/traces/001.raw.json")).unwrap();
    let (status, _, _) =
        post(&format!("{}/v1/traces", server.url()), &[("content-type", "application/json")], json).await;
    assert_eq!(status, 200);
    let url = format!("{}/v1/responses", server.url());
    let kept = post(&url, &[("content-type", "application/json")], r#"{"model":"kept","input":"keep me"}"#).await;
    let h = [("content-type", "application/json"), ("x-evals-no-content", "1")];
    let asked = post(&url, &h, r#"{"model":"asked","input":"forget me"}"#).await;
    assert_eq!((kept.0, asked.0), (200, 200));
    assert!(asked.2.contains("FORGET ME"), "the client gets the real answer");
    server.shutdown().await;
    let spans = model_spans(&store(dir.path()));
    let by_model =
        |m: &str| spans.iter().filter_map(|s| s.model_call()).find(|c| c.model.as_deref() == Some(m)).unwrap();
    assert!(by_model("kept").has_content());
    assert!(!by_model("asked").has_content());
    let exported: Vec<_> = spans
        .iter()
        .filter_map(|s| s.model_call())
        .filter(|c| !matches!(c.model.as_deref(), Some("kept" | "asked")))
        .collect();
    assert!(!exported.is_empty() && exported.iter().all(|c| !c.has_content()), "the trace route kept no content");
    assert!(!serde_json::to_string(&spans).unwrap().contains("forget me"));
}
