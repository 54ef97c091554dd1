//! Load generator for `scripts/bench-collect.sh` (not a test): ingest throughput of
//! `evals collect` with Agents SDK exporter bodies, and the latency the recording proxy adds.
//!
//!   bench_collect ingest COLLECT_URL SPANS CONCURRENCY
//!   bench_collect proxy MOCK_BASE_URL PROXY_BASE_URL REQUESTS

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The SDK's `max_batch_size`.
const BATCH: usize = 128;
/// Spans per trace: agent, model turns, tool calls, a handoff, as in a small agent run.
const SPANS_PER_TRACE: usize = 16;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ingest") if args.len() == 4 => {
            ingest(&args[1], args[2].parse().expect("SPANS"), args[3].parse().expect("CONCURRENCY")).await
        }
        Some("proxy") if args.len() == 4 => proxy(&args[1], &args[2], args[3].parse().expect("REQUESTS")).await,
        _ => {
            eprintln!("usage: bench_collect ingest URL SPANS CONCURRENCY | proxy MOCK_URL PROXY_URL REQUESTS");
            std::process::exit(2);
        }
    }
}

fn span(trace: usize, n: usize) -> Value {
    let trace_id = format!("trace_{trace:032x}");
    let id = format!("span_{trace:016x}{n:08x}");
    let parent = (n > 0).then(|| format!("span_{trace:016x}{:08x}", 0));
    let data = match n % 4 {
        0 => {
            json!({"type": "agent", "name": "Triage", "handoffs": ["Weather expert"], "tools": ["get_weather"], "output_type": "str"})
        }
        1 => json!({"type": "response", "response_id": format!("resp_{trace:016x}{n:08x}"),
                    "usage": {"input_tokens": 120, "output_tokens": 18, "input_tokens_details": {"cached_tokens": 0}}}),
        2 => {
            json!({"type": "function", "name": "get_weather", "input": "{\"city\": \"Paris\"}", "output": "Sunny and 21C in Paris", "mcp_data": null})
        }
        _ => json!({"type": "handoff", "from_agent": "Triage", "to_agent": "Weather expert"}),
    };
    json!({"object": "trace.span", "id": id, "trace_id": trace_id, "parent_id": parent,
        "started_at": "2026-11-21T13:34:04.719528+00:00", "ended_at": "2026-11-21T13:34:04.923040+00:00",
        "span_data": data, "error": null})
}

/// Exporter bodies of `BATCH` records each: every trace's record, then its spans children first.
fn bodies(spans: usize) -> Vec<String> {
    let mut records = Vec::with_capacity(spans + spans / SPANS_PER_TRACE);
    for t in 0..spans / SPANS_PER_TRACE {
        records.push(json!({"object": "trace", "id": format!("trace_{t:032x}"), "workflow_name": "Agent workflow",
            "group_id": null, "metadata": null}));
        for n in (0..SPANS_PER_TRACE).rev() {
            records.push(span(t, n));
        }
    }
    records.chunks(BATCH).map(|c| json!({"data": c}).to_string()).collect()
}

async fn ingest(url: &str, spans: usize, concurrency: usize) {
    let bodies = bodies(spans);
    let posts = bodies.len();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/traces/ingest", url.trim_end_matches('/'));
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, queue) = (client.clone(), url.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().unwrap().pop() else { break };
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("authorization", "Bearer local")
                        .body(body)
                        .send()
                        .await
                        .expect("POST");
                    assert!(resp.status().is_success(), "ingest answered {}", resp.status());
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ingest: {spans} spans in {posts} POSTs of {BATCH} records, {concurrency} connections: {secs:.2} s, {:.0} spans/s",
        spans as f64 / secs
    );
}

async fn timings(client: &reqwest::Client, base: &str, n: usize) -> Vec<Duration> {
    let url = format!("{}/responses", base.trim_end_matches('/'));
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let body = json!({"model": "bench-model", "instructions": "Answer briefly.",
            "input": [{"role": "user", "content": format!("hello number {i} from the benchmark")}]});
        let start = Instant::now();
        let resp = client.post(&url).header("authorization", "Bearer sk-bench").json(&body).send().await.expect("POST");
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.bytes().await.expect("body");
        out.push(start.elapsed());
    }
    out.sort();
    out
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
}

async fn proxy(mock: &str, proxy: &str, n: usize) {
    let client = reqwest::Client::new();
    // Warm both connections up, then alternate runs so both see the same machine load.
    timings(&client, mock, 20).await;
    timings(&client, proxy, 20).await;
    let direct = timings(&client, mock, n).await;
    let through = timings(&client, proxy, n).await;
    println!(
        "proxy: {n} sequential requests; direct p50 {:.3} ms p95 {:.3} ms; through collect p50 {:.3} ms p95 {:.3} ms; added p50 {:.3} ms",
        pct(&direct, 0.5),
        pct(&direct, 0.95),
        pct(&through, 0.5),
        pct(&through, 0.95),
        pct(&through, 0.5) - pct(&direct, 0.5)
    );
}
