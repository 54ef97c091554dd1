//! One store, many writers: `evals collect` under exporter and proxy load beside two `evals run`,
//! a `traces import` and `traces prune`, all at once. Counts what a user relies on: no 5xx
//! answer, no answered call or accepted record missing, every run and the import complete.
//! `scripts/bench-contention.sh` times it on a release build.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use evals::mock::{Script, server::Server as Mock};
use evals::record::StoredRuns;
use evals::store::Store;

struct Load {
    /// Copies of the 22-line processor fixture in the imported file.
    import_copies: usize,
    /// Exporter bodies (three traces each) and proxied model calls sent to collect.
    posts: usize,
    calls: usize,
    /// `--repeat` of each of the two runs (three cases each).
    repeat: u32,
}

/// The text with every trace, span and response id made unique to `tag`.
fn renamed(text: &str, tag: &str) -> String {
    static IDS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r#""(trace|span|resp)_([0-9a-f]{8})"#).unwrap());
    IDS.replace_all(text, format!("\"${{1}}_{tag}${{2}}").as_str()).into_owned()
}

fn spawn(p: &Project, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(args)
        .current_dir(p.dir.path())
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(name: &str, child: Child) -> i32 {
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{name} exited {code}:\n{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!text(&out.stderr).contains("locked"), "{name}: {}", text(&out.stderr));
    code
}

fn contend(load: Load) {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let suite = suite.to_str().unwrap().to_string();
    let lines = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap();
    let import: String = (0..load.import_copies).map(|k| renamed(&lines, &format!("i{k:06}"))).collect();
    std::fs::write(p.path("import.jsonl"), import).unwrap();
    let exporter = std::fs::read_to_string(fixture("agents_ingest.jsonl")).unwrap();
    let exporter = exporter.lines().next().unwrap().to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream = rt.block_on(Mock::start(Script::builtin(), "127.0.0.1:0".parse().unwrap())).unwrap();
    let mut collect = spawn(&p, &["collect", "--listen", "127.0.0.1:0", "--upstream", &upstream.base_url()]);
    let mut first = String::new();
    BufReader::new(collect.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();

    let started = std::time::Instant::now();
    let runs = [
        spawn(&p, &["run", &suite, "--no-cache", "-q", "--repeat", &load.repeat.to_string()]),
        spawn(&p, &["run", &suite, "--no-cache", "-q", "--repeat", &load.repeat.to_string()]),
    ];
    let importer = spawn(&p, &["traces", "import", "import.jsonl"]);
    let pruner = spawn(&p, &["traces", "prune", "--older-than", "3650d"]);

    let (server_errors, answered) = rt.block_on(async {
        let client = reqwest::Client::new();
        let server_errors = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        let workers = 4;
        for w in 0..workers {
            let (client, url, exporter) = (client.clone(), url.clone(), exporter.clone());
            let (server_errors, answered) = (server_errors.clone(), answered.clone());
            let (posts, calls) = (load.posts, load.calls);
            tasks.spawn(async move {
                for i in (w..posts.max(calls)).step_by(workers) {
                    if i < posts {
                        let body = renamed(&exporter, &format!("c{i:06}"));
                        let r = client.post(format!("{url}/v1/traces/ingest")).body(body).send().await.unwrap();
                        let status = r.status().as_u16();
                        if status >= 500 {
                            server_errors.fetch_add(1, Ordering::Relaxed);
                            eprintln!("ingest {i}: {status} {}", r.text().await.unwrap_or_default());
                        } else {
                            assert_eq!(status, 200, "ingest {i}: {}", r.text().await.unwrap_or_default());
                        }
                    }
                    if i < calls {
                        let body =
                            serde_json::json!({"model": "m", "input": format!("call {i}"), "stream": i % 2 == 0});
                        let r = client
                            .post(format!("{url}/v1/responses"))
                            .header("content-type", "application/json")
                            .body(body.to_string())
                            .send()
                            .await
                            .unwrap();
                        let status = r.status().as_u16();
                        let text = r.text().await;
                        if status >= 500 || text.is_err() {
                            server_errors.fetch_add(1, Ordering::Relaxed);
                            eprintln!("call {i}: {status} {text:?}");
                            continue;
                        }
                        let text = text.unwrap();
                        let id = text
                            .split("\"id\":\"")
                            .find_map(|rest| rest.split('"').next().filter(|id| id.starts_with("resp_")))
                            .unwrap_or_else(|| panic!("no response id in {text}"))
                            .to_string();
                        answered.lock().unwrap().push(id);
                    }
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let answered = std::mem::take(&mut *answered.lock().unwrap());
        (server_errors.load(Ordering::Relaxed), answered)
    });
    let codes: Vec<i32> = runs.into_iter().map(|r| finish("run", r)).collect();
    assert_eq!(finish("traces import", importer), 0);
    assert_eq!(finish("traces prune", pruner), 0);
    let killed = Command::new("kill").args(["-TERM", &collect.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = collect.wait_with_output().unwrap();
    let closing = text(&out.stdout);
    assert!(out.status.success(), "collect: {closing}{}", text(&out.stderr));
    assert!(!closing.contains("could not be stored"), "{closing}");
    println!(
        "{} import lines, {} exporter posts, {} proxied calls, two runs of {} samples: {:.1} s; runs exited {codes:?}",
        22 * load.import_copies,
        load.posts,
        load.calls,
        3 * load.repeat,
        started.elapsed().as_secs_f64()
    );

    assert_eq!(server_errors, 0, "5xx answers from collect");
    let s = Store::open(&p.path(".evals/evals.db")).unwrap();
    let traces = |prefix: &str| {
        let f = evals::store::TraceFilter { limit: Some(10_000_000), ..Default::default() };
        s.list_traces(&f).unwrap().iter().filter(|t| t.id.starts_with(prefix)).count()
    };
    assert_eq!(traces("trace_i"), 3 * load.import_copies, "imported traces");
    assert_eq!(traces("trace_c"), 3 * load.posts, "exported traces");
    assert_eq!(answered.len(), load.calls);
    let recorded: Vec<&String> = answered
        .iter()
        .filter(|id| {
            let one_call = evals::trace::openai_log::one_call_trace_id(id);
            s.resolve_trace(&one_call).is_ok()
        })
        .collect();
    assert_eq!(recorded.len(), answered.len(), "answered proxy calls not recorded");
    let runs = s.list_runs(None, 10).unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        let run = s.load_run(&r.id).unwrap();
        assert!(run.finished_at.is_some(), "{} finished", r.id);
        assert_eq!(run.results.len(), 3 * load.repeat as usize, "results of {}", r.id);
    }
}

/// At the size of the report that asked for it: a 100,000-line import beside collect under
/// exporter and proxy load and two runs (about two minutes of a debug build; `IMPORT_LINES`
/// makes it smaller while working on it).
#[test]
fn writers_on_one_store_wait_for_each_other_and_lose_nothing() {
    let copies = std::env::var("IMPORT_LINES").ok().and_then(|n| n.parse::<usize>().ok()).unwrap_or(100_000) / 22 + 1;
    contend(Load { import_copies: copies, posts: 6000, calls: 3000, repeat: 300 });
}
