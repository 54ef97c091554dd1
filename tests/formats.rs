//! Capture formats through the CLI: OTLP (protobuf, JSON, gzip; OpenInference and GenAI),
//! OpenAI request/response logs, format detection and bad lines; then querying the store.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn otlp(path: &str) -> PathBuf {
    repo().join("tests/fixtures/otlp").join(path)
}

fn openai_log() -> PathBuf {
    repo().join("tests/fixtures/openai-sdk/requests_responses.jsonl")
}

/// Requests one per line, as the OpenTelemetry Collector's file exporter writes them.
fn collector_file(p: &Project, name: &str, files: &[PathBuf]) -> PathBuf {
    let lines: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap().trim().to_string()).collect();
    p.write(name, &(lines.join("\n") + "\n"))
}

fn list(p: &Project, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["traces", "list", "--jsonl"];
    all.extend_from_slice(args);
    p.ok(&all).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn ids(rows: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn openinference_protobuf_and_gzip_import_with_content_and_promote() {
    let p = Project::new();
    let files = [
        otlp("openinference-agents-protobuf/traces/001.bin"),
        otlp("openinference-agents-protobuf/traces/002.bin"),
        otlp("openinference-agents-protobuf/traces/003.bin"),
        otlp("openinference-agents-protobuf/gzip/traces/001.bin.gz"),
    ];
    let out = p.ok(&["traces", "import", s(&files[0]), s(&files[1]), s(&files[2]), s(&files[3])]);
    assert!(out.contains("001.bin: 1 records, 1 new traces, 8 new spans"), "{out}");
    assert!(out.contains("001.bin.gz: 1 records, 1 new traces, 5 new spans"), "{out}");
    let rows = list(&p, &[]);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["workflow"] == "Agent workflow" && r["content_turns"] == r["turns"]));

    let tool_run = p.ok(&["traces", "show", "84601a80"]);
    for expected in [
        "agent Triage",
        "← user: call_tool get_weather city=Paris",
        "→ call get_weather({\"city\": \"Paris\"})",
        "tool get_weather({\"city\": \"Paris\"})",
        "→ Sunny and 21C in Paris",
        "→ TOOL RESULT: Sunny and 21C in Paris",
        "12 in / 2 out tokens",
    ] {
        assert!(tool_run.contains(expected), "missing {expected:?} in\n{tool_run}");
    }
    let handoff = p.ok(&["traces", "show", "32f9a00c"]);
    assert!(handoff.contains("handoff Triage → Weather expert"), "{handoff}");
    assert!(handoff.contains("agent Weather expert"), "{handoff}");

    // A trace captured over OTLP is complete enough to become a case, and it is the same case
    // as the Agents SDK processor capture of the same run.
    let promoted = p.ok(&["promote", "84601a80", "--dataset", "oi"]);
    assert!(promoted.contains("call-tool-get-weather-city-paris-a258354f"), "{promoted}");
    let case = std::fs::read_to_string(p.path("datasets/oi/call-tool-get-weather-city-paris-a258354f.yaml")).unwrap();
    assert!(case.contains("output: Sunny and 21C in Paris"), "{case}");
    assert!(case.contains("instructions: Answer, call get_weather, or hand off to the expert."), "{case}");
}

#[test]
fn otlp_json_lines_with_traces_and_logs_merge_per_span() {
    let p = Project::new();
    let mut files: Vec<PathBuf> =
        (1..=4).map(|n| otlp(&format!("otel-genai-openai-v2-json/logs/00{n}.raw.json"))).collect();
    files.extend((1..=4).map(|n| otlp(&format!("otel-genai-openai-v2-json/traces/00{n}.raw.json"))));
    // Logs first: the content arrives before its span, and is merged into it.
    let f = collector_file(&p, "otel.jsonl", &files);
    let out = p.ok(&["traces", "import", s(&f)]);
    assert!(out.contains("8 records, 4 new traces, 4 new spans"), "{out}");
    let rows = list(&p, &[]);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["workflow"] == "chat fake-model" && r["started_at"].is_string()));
    assert!(rows.iter().all(|r| r["content_turns"] == 1));
    let answer = list(&p, &["--search", "TOOL RESULT"]);
    assert_eq!(answer.len(), 1);
    let shown = p.ok(&["traces", "show", answer[0]["id"].as_str().unwrap()]);
    assert!(shown.contains("← function_call_output: Sunny and 21C in Paris"), "{shown}");
    assert!(shown.contains("→ TOOL RESULT: Sunny and 21C in Paris"), "{shown}");
    assert!(shown.contains("8 in / 7 out tokens"), "{shown}");
    // The OpenInference JSON exporter's request too.
    let oi = collector_file(&p, "oi.jsonl", &[otlp("openinference-agents-json/traces/001.raw.json")]);
    assert!(p.ok(&["traces", "import", s(&oi)]).contains("1 new traces, 8 new spans"));
}

#[test]
fn genai_protobuf_spans_and_log_events_import() {
    let p = Project::new();
    let dir = "otel-genai-openai-v2/span_and_event";
    for n in 1..=4 {
        p.ok(&["traces", "import", s(&otlp(&format!("{dir}/traces/00{n}.bin")))]);
    }
    let tool = list(&p, &["--search", "get_weather"]);
    assert_eq!(tool.len(), 2, "the call that asked for the tool and the one that got its result");
    // Content without a span yet (event_only capture) still lands, and the span completes it.
    // (The decoded log request is one pretty-printed JSON document.)
    let q = Project::new();
    q.ok(&["traces", "import", s(&otlp(&format!("{dir}/logs/001.json")))]);
    let rows = list(&q, &["--search", "terse"]);
    assert_eq!(rows.len(), 1);
    q.ok(&["traces", "import", s(&otlp("otel-genai-openai-v2/span_and_event/traces/001.bin"))]);
    let rows = list(&q, &[]);
    assert_eq!((rows.len(), rows[0]["spans"].as_u64()), (1, Some(1)));
    assert!(rows[0]["duration_ms"].is_number());
}

#[test]
fn openai_logs_become_one_call_traces() {
    let p = Project::new();
    let out = p.ok(&["traces", "import", s(&openai_log())]);
    assert!(out.contains("4 records, 4 new traces, 4 new spans"), "{out}");
    assert!(p.ok(&["traces", "import", s(&openai_log())]).contains("0 new traces, 0 new spans"));
    let rows = list(&p, &["--workflow", "openai.responses"]);
    assert_eq!(rows.len(), 3);
    let chat = list(&p, &["--search", "hello chat completions"]);
    assert_eq!(chat.len(), 1);
    assert_eq!(chat[0]["workflow"], "openai.chat.completions");
    let id = list(&p, &["--search", "TOOL RESULT"])[0]["id"].as_str().unwrap().to_string();
    let promoted = p.ok(&["promote", &id, "--dataset", "raw"]);
    assert!(promoted.contains("promoted"), "{promoted}");
}

#[test]
fn detection_per_line_bad_lines_and_forced_format() {
    let p = Project::new();
    let processor = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap();
    let log = std::fs::read_to_string(openai_log()).unwrap();
    let otlp_line = std::fs::read_to_string(otlp("otel-genai-openai-v2-json/traces/001.raw.json")).unwrap();
    let mixed = format!(
        "{}\n{}\n{{\"resourceSpans\": 3}}\nnot json\n{}\n{}",
        processor.lines().next().unwrap(),
        otlp_line.trim(),
        log.lines().next().unwrap(),
        processor.lines().skip(1).collect::<Vec<_>>().join("\n")
    );
    let f = p.write("mixed.jsonl", &mixed);
    let out = p.evals(&["traces", "import", s(&f)]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(
        err.contains("mixed.jsonl:3: otlp-json: invalid OTLP JSON: expected an object with `resourceSpans`"),
        "{err}"
    );
    assert!(err.contains("mixed.jsonl:4: not JSON"), "{err}");
    // Everything else is there: 3 SDK traces, the OTLP call and the logged call.
    assert_eq!(list(&p, &[]).len(), 5);

    let forced = p.evals(&[
        "traces",
        "import",
        "--format",
        "openai-log",
        s(&otlp("otel-genai-openai-v2-json/traces/001.raw.json")),
    ]);
    assert_eq!(code(&forced), 2);
    assert!(text(&forced.stderr).contains("001.raw.json:1: openai-log: expected an object with `request`"));
    let gz = p.path("requests.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, log.as_bytes()).unwrap();
    enc.finish().unwrap();
    let q = Project::new();
    assert!(q.ok(&["traces", "import", "--format", "openai-log", s(&gz)]).contains("4 new traces"));
    let bad_pb = q.write("garbage.bin", "\u{1}\u{2}\u{3}");
    let out = q.evals(&["traces", "import", s(&bad_pb)]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("garbage.bin:1: otlp-protobuf: invalid OTLP protobuf"), "{}", text(&out.stderr));
}

#[test]
fn list_filters_formats_and_footer() {
    let p = Project::new();
    p.ok(&["traces", "import", s(&fixture("agents_processor_full.jsonl")), s(&openai_log())]);
    p.ok(&["traces", "import", s(&otlp("openinference-agents-protobuf/traces/002.bin"))]);

    assert_eq!(list(&p, &["--agent", "Weather expert"]).len(), 2, "SDK and OTLP captures of the handoff run");
    assert_eq!(list(&p, &["--search", "weather", "--workflow", "Agent workflow"]).len(), 4);
    assert_eq!(list(&p, &["--search", "hello", "--model", "fake-model"]).len(), 3);
    assert!(list(&p, &["--search", "hello", "--model", "gpt-4.1"]).is_empty());
    assert_eq!(list(&p, &["--meta", "service.name=otlp-capture-openinference-agents"]).len(), 1);
    assert!(list(&p, &["--status", "error"]).is_empty());
    assert_eq!(list(&p, &["--since", "2026-11-21", "--until", "2100-01-01", "--limit", "2"]).len(), 2);
    assert!(list(&p, &["--until", "2026-11-21"]).is_empty());

    let json: Value = serde_json::from_str(&p.ok(&["traces", "list", "--json", "--search", "Paris"])).unwrap();
    let ids_json = ids(json.as_array().unwrap());
    assert_eq!(ids_json, ids(&list(&p, &["--search", "Paris"])));

    // Prices: fake-model has none until the project gives it one.
    let table = p.ok(&["traces", "list"]);
    assert!(table.contains("8 traces ·"), "{table}");
    assert!(table.contains("(+8 traces on models without a price)"), "{table}");
    assert!(table.contains("latency p50"), "{table}");
    p.write("evals/prices.yaml", "fake-model: {input: 1000000, output: 2000000}\n");
    let rows = list(&p, &[]);
    let tokens: u64 = rows.iter().map(|r| r["input_tokens"].as_u64().unwrap()).sum::<u64>();
    let out_tokens: u64 = rows.iter().map(|r| r["output_tokens"].as_u64().unwrap()).sum::<u64>();
    let cost: f64 = rows.iter().map(|r| r["cost_usd"].as_f64().unwrap()).sum();
    assert!((cost - (tokens + 2 * out_tokens) as f64).abs() < 1e-6, "{cost}");
    let table = p.ok(&["traces", "list"]);
    assert!(table.contains(&format!("${:.2}", cost)), "{table}");
    p.write("evals/prices.yaml", "fake-model: {input: 1, outptu: 2}\n");
    let out = p.evals(&["traces", "list"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("evals/prices.yaml:1:"), "{}", text(&out.stderr));

    let bad = p.evals(&["traces", "list", "--meta", "nokey"]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad.stderr).contains("KEY=VALUE"));
}

#[test]
fn prune_deletes_old_traces_and_reports_sizes() {
    let p = Project::new();
    p.ok(&["traces", "import", s(&fixture("agents_processor_full.jsonl"))]);
    // The fixture was captured in 2026-11; nothing is a century old.
    let none = p.ok(&["traces", "prune", "--older-than", "36500d"]);
    assert!(none.starts_with("pruned 0 traces"), "{none}");
    assert_eq!(list(&p, &[]).len(), 3);
    let out = p.ok(&["traces", "prune", "--older-than", "0s"]);
    assert!(out.starts_with("pruned 3 traces (19 spans)"), "{out}");
    assert!(out.contains(" MB → "), "{out}");
    assert!(list(&p, &[]).is_empty());
    assert!(list(&p, &["--search", "Paris"]).is_empty());
    let help = p.ok(&["traces", "prune", "--help"]);
    assert!(help.contains("Examples:"), "{help}");
    let bad = p.evals(&["traces", "prune", "--older-than", "30"]);
    assert_eq!(code(&bad), 2);
}
