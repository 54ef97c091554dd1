//! The API of `evals ui` (and of `evals collect`, which mounts it) as a client sees it: every
//! route on a store filled from real captures and a repository of datasets, every JSON answer
//! checked against the OpenAPI description the server itself serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{Project, code, fixture, text};
use serde_json::{Value, json};
use sha2::Digest;

/// A server process started in a project; killed when dropped.
struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    base: String,
    client: reqwest::Client,
    openapi: Value,
    token: Option<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `evals ARGS` in the project and read its address from the first line it prints.
async fn serve(p: &Project, args: &[&str], token: Option<&str>) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(args)
        .current_dir(p.dir.path())
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .env_remove("EVALS_UI_TOKEN")
        .env_remove("EVALS_COLLECT_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("an address in the banner");
    let base = url.trim_end_matches('/').to_string();
    let mut s =
        Served { child, base, client: reqwest::Client::new(), openapi: Value::Null, token: token.map(str::to_string) };
    let (status, doc) = s.call("GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    s.openapi = doc;
    s
}

impl Served {
    /// A request with the token (when the server has one); the JSON answer.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("X-Evals-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
        if !self.openapi.is_null() {
            self.check(method, path, status, &value);
        }
        (status, value)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, v) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// The answer matches the schema the OpenAPI description gives for this route and status.
    fn check(&self, method: &str, path: &str, status: u16, value: &Value) {
        let route = path.strip_prefix("/api/v1").unwrap_or(path).split('?').next().unwrap();
        let paths = self.openapi["paths"].as_object().unwrap();
        let segments: Vec<&str> = route.split('/').collect();
        // The template with the most literal segments that matches: /traces/stats before /traces/{id}.
        let template = paths
            .keys()
            .filter(|t| {
                let ts: Vec<&str> = t.split('/').collect();
                ts.len() == segments.len() && ts.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
            })
            .max_by_key(|t| t.split('/').filter(|s| !s.starts_with('{')).count());
        let Some(template) = template else {
            assert_eq!(status, 404, "{method} {path} is not described but answered {status}");
            return self.validate(&json!({"$ref": "#/components/schemas/Error"}), value, path);
        };
        let op = &paths[template][method.to_lowercase()];
        let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "{method} {template} does not describe status {status}: {value}");
        self.validate(schema, value, path);
    }

    fn validate(&self, schema: &Value, value: &Value, path: &str) {
        let errors = self.errors(schema, value);
        assert!(errors.is_empty(), "{path}: the answer does not match its schema:\n{}\n{value:#}", errors.join("\n"));
    }

    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut wrapped = schema.clone();
        wrapped["components"] = self.openapi["components"].clone();
        let validator = jsonschema::validator_for(&wrapped).expect("the OpenAPI schemas compile");
        validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// Every page of a list (at the JSON pointer `list`), following `next_cursor`.
    async fn pages(&self, path: &str, list: &str) -> (Vec<Value>, usize) {
        let (mut rows, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_string(),
            };
            let v = self.ok(&url).await;
            pages += 1;
            rows.extend(v.pointer(list).unwrap().as_array().unwrap().iter().cloned());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return (rows, pages),
            }
            assert!(pages < 100, "the cursors do not end");
        }
    }
}

fn ids(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter().map(|r| r[key].as_str().unwrap().to_string()).collect()
}

/// The bad request names its parameter.
async fn refused(s: &Served, path: &str, code: &str, parameter: &str) {
    let (status, v) = s.get(path).await;
    assert_eq!(status, 400, "GET {path}: {v}");
    assert_eq!(v["error"]["code"], code, "GET {path}: {v}");
    assert_eq!(v["error"]["parameter"], parameter, "GET {path}: {v}");
}

/// The demo cases, a baseline run of them and a run of the French prompt that regresses.
fn project_with_runs() -> Project {
    let p = Project::new();
    p.with_demo_cases();
    let good = p.suite("demo", "");
    p.ok(&["run", good.to_str().unwrap(), "--out", "runs/base.json"]);
    let bad = p.suite("french", " Always answer in French.");
    let out = p.evals(&["run", bad.to_str().unwrap(), "--baseline", "runs/base.json"]);
    assert_eq!(code(&out), 1, "the French prompt regresses: {}", text(&out.stdout));
    p
}

#[tokio::test]
async fn traces_filters_pages_and_totals() {
    let p = project_with_runs();
    let s = serve(&p, &["ui", "--listen", "127.0.0.1:0"], None).await;
    let all = s.ok("/api/v1/traces").await;
    let rows = all["traces"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(all["totals"]["traces"], 3);
    let tokens: u64 = rows.iter().map(|r| r["input_tokens"].as_u64().unwrap()).sum();
    assert_eq!(all["totals"]["input_tokens"], tokens, "totals add up the rows");
    // The schemas are strict enough to catch a missing or mistyped field.
    let row = json!({"$ref": "#/components/schemas/TraceRow"});
    let mut broken = rows[0].clone();
    broken.as_object_mut().unwrap().remove("cost_usd");
    assert!(!s.errors(&row, &broken).is_empty());
    broken["cost_usd"] = "free".into();
    assert!(!s.errors(&row, &broken).is_empty());
    assert!(s.errors(&row, &rows[0]).is_empty());
    let starts: Vec<&str> = rows.iter().map(|r| r["started_at"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first: {starts:?}");

    // Pages of one cover every trace once, in the same order, each with the totals of all.
    let (paged, pages) = s.pages("/api/v1/traces?limit=1", "/traces").await;
    assert_eq!((ids(&paged, "id"), pages), (ids(rows, "id"), 3));
    let second = s.ok("/api/v1/traces?limit=2").await;
    assert_eq!(second["totals"], all["totals"]);

    let expert = s.ok("/api/v1/traces?agent=Weather%20expert").await;
    assert_eq!(expert["traces"].as_array().unwrap().len(), 1);
    assert_eq!(expert["totals"]["traces"], 1);
    let paris = s.ok("/api/v1/traces?q=paris").await;
    assert_eq!(paris["traces"].as_array().unwrap().len(), 1, "{paris}");
    assert_eq!(s.ok("/api/v1/traces?status=error").await["totals"]["traces"], 0);
    assert_eq!(s.ok("/api/v1/traces?model=fake-model&since=2000-01-01").await["totals"]["traces"], 3);
    assert_eq!(s.ok("/api/v1/traces?until=2000-01-01").await["totals"]["traces"], 0);
    assert_eq!(s.ok("/api/v1/traces?meta=customer%3Dnobody").await["totals"]["traces"], 0);

    let stats = s.ok("/api/v1/traces/stats?bucket=5m").await;
    assert_eq!(stats["bucket_seconds"], 300);
    let buckets = stats["buckets"].as_array().unwrap();
    assert_eq!(buckets.iter().map(|b| b["traces"].as_u64().unwrap()).sum::<u64>(), 3);
    let calls: u64 = rows.iter().map(|r| r["turns"].as_u64().unwrap()).sum();
    assert_eq!(buckets.iter().map(|b| b["calls"].as_u64().unwrap()).sum::<u64>(), calls);
    assert!(s.ok("/api/v1/traces/stats").await["bucket_seconds"].as_u64().unwrap() > 0);

    // One trace, by a prefix, with every model call's content on its timeline.
    let t = s.ok("/api/v1/traces/trace_6a4a").await;
    assert_eq!(t["trace"]["id"], "trace_6a4a39cf054a4507af79b8b2b2cfbe80");
    assert_eq!(t["spans"].as_array().unwrap().len() as u64, t["trace"]["spans"].as_u64().unwrap());
    let timeline = t["timeline"].as_array().unwrap();
    let models: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "model").collect();
    assert_eq!(models.len(), 2);
    assert!(models[0]["instructions"].as_str().unwrap().contains("get_weather"));
    assert_eq!(models[0]["input"][0]["content"], "call_tool transfer_to_weather_expert please");
    let handoff = timeline.iter().find(|e| e["kind"] == "handoff").unwrap();
    assert_eq!((handoff["from"].as_str(), handoff["to"].as_str()), (Some("Triage"), Some("Weather expert")));
    assert!(handoff["depth"].as_u64().unwrap() > 0, "nested under its agent");

    // Bad input: named, and the server keeps serving.
    refused(&s, "/api/v1/traces?colour=red", "unknown_parameter", "colour").await;
    refused(&s, "/api/v1/traces?status=maybe", "bad_parameter", "status").await;
    refused(&s, "/api/v1/traces?limit=0", "bad_parameter", "limit").await;
    refused(&s, "/api/v1/traces?limit=501", "bad_parameter", "limit").await;
    refused(&s, "/api/v1/traces?since=last%20tuesday", "bad_parameter", "since").await;
    refused(&s, "/api/v1/traces?meta=nokey", "bad_parameter", "meta").await;
    refused(&s, "/api/v1/traces?cursor=not-a-cursor", "bad_cursor", "cursor").await;
    refused(&s, "/api/v1/traces/stats?bucket=7m", "bad_parameter", "bucket").await;
    let runs_cursor = s.ok("/api/v1/runs?limit=1").await["next_cursor"].as_str().unwrap().to_string();
    refused(&s, &format!("/api/v1/traces?cursor={runs_cursor}"), "bad_cursor", "cursor").await;
    let (status, v) = s.get("/api/v1/traces/trace_nope").await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(s.ok("/api/v1/traces").await["totals"]["traces"], 3, "still serving");
}

#[tokio::test]
async fn runs_comparisons_trend_cases_taxonomy_and_the_web_app() {
    let p = project_with_runs();
    let s = serve(&p, &["ui", "--listen", "127.0.0.1:0"], None).await;
    let runs = s.ok("/api/v1/runs").await;
    let list = runs["runs"].as_array().unwrap();
    assert_eq!(ids(list, "suite"), ["french", "demo"], "newest first");
    let (paged, _) = s.pages("/api/v1/runs?limit=1", "/runs").await;
    assert_eq!(ids(&paged, "id"), ids(list, "id"));
    assert_eq!(s.ok("/api/v1/runs?suite=demo").await["runs"].as_array().unwrap().len(), 1);
    let (french, base) = (list[0]["id"].as_str().unwrap(), list[1]["id"].as_str().unwrap());

    let run = s.ok(&format!("/api/v1/runs/{french}")).await;
    let cases = run["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    assert!(cases.iter().all(|c| !c["grades"].as_array().unwrap().is_empty()));
    assert!(cases.iter().all(|c| c["input"].as_str().is_some_and(|i| !i.is_empty())), "{run}");
    assert_eq!(run["decision"]["passed"], false);
    let (paged, pages) = s.pages(&format!("/api/v1/runs/{french}?limit=2"), "/cases").await;
    assert_eq!((ids(&paged, "case_id"), pages), (ids(cases, "case_id"), 2));
    let failed = s.ok(&format!("/api/v1/runs/{french}?status=fail")).await;
    assert!(failed["cases"].as_array().unwrap().iter().all(|c| c["status"] == "fail"));

    let cmp = s.ok(&format!("/api/v1/runs/{french}/compare/{base}")).await;
    assert_eq!(cmp["decision"]["passed"], false);
    assert_eq!(cmp["base"]["id"], base);
    let changes = cmp["comparison"]["cases"].as_array().unwrap();
    let regressed: Vec<&Value> = changes.iter().filter(|c| c["class"] == "regressed").collect();
    assert!(!regressed.is_empty(), "{cmp}");
    let r = regressed[0];
    assert_ne!(r["base_output"]["text"], r["current_output"]["text"], "both sides for the diff");
    assert!(r["diff"].is_array());
    let only = s.ok(&format!("/api/v1/runs/{french}/compare/{base}?class=regressed")).await;
    assert_eq!(only["comparison"]["cases"].as_array().unwrap().len(), regressed.len());
    assert_eq!(only["comparison"]["counts"], cmp["comparison"]["counts"], "counts are of the whole run");
    let (paged, pages) = s.pages(&format!("/api/v1/runs/{french}/compare/{base}?limit=1"), "/comparison/cases").await;
    assert_eq!((ids(&paged, "case_id"), pages), (ids(changes, "case_id"), changes.len()));
    refused(&s, &format!("/api/v1/runs/{french}/compare/{base}?class=worse"), "bad_parameter", "class").await;
    refused(&s, &format!("/api/v1/runs/{french}?cursor=00"), "bad_cursor", "cursor").await;
    assert_eq!(s.get("/api/v1/runs/run_nope").await.0, 404);
    assert_eq!(s.get(&format!("/api/v1/runs/{french}/compare/run_nope")).await.0, 404);

    let trend = s.ok("/api/v1/suites/demo/trend").await;
    assert_eq!(trend["points"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/api/v1/suites/nope/trend").await.0, 404);

    let cases = s.ok("/api/v1/cases").await;
    let rows = cases["cases"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let one = s.ok(&format!("/api/v1/cases/{}", rows[0]["id"].as_str().unwrap())).await;
    let bytes = std::fs::read(p.path(one["path"].as_str().unwrap())).unwrap();
    assert_eq!(one["etag"], hex::encode(sha2::Sha256::digest(&bytes)), "the etag is the file's SHA-256");
    assert_eq!(one["dataset"], "demo");
    assert_eq!(s.ok("/api/v1/cases?dataset=demo&status=clean").await["cases"].as_array().unwrap().len(), 3);
    assert_eq!(s.ok("/api/v1/cases?status=pending").await["cases"].as_array().unwrap().len(), 0);
    assert_eq!(s.ok("/api/v1/cases?q=paris").await["cases"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/api/v1/cases/no-such-case").await.0, 404);
    assert_eq!(s.get("/api/v1/cases?dataset=nope").await.0, 404);
    refused(&s, "/api/v1/cases?dataset=..%2Fx", "bad_parameter", "dataset").await;

    let taxonomy = s.ok("/api/v1/taxonomy").await;
    let cats = taxonomy["categories"].as_array().unwrap();
    let wrong_tool = cats.iter().find(|c| c["id"] == "wrong_tool").unwrap();
    assert_eq!(wrong_tool["parent"], "tool_use");
    let (status, v) = s.get("/api/v1/no/such/route").await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")));

    // The web app: its three files, any other page is the app's index.
    for (path, kind) in
        [("/", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css"), ("/runs/x", "text/html")]
    {
        let r = s.client.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache");
    }
    // Every route of the contract is described.
    let described: Vec<&String> = s.openapi["paths"].as_object().unwrap().keys().collect();
    for route in [
        "/traces",
        "/traces/stats",
        "/traces/{id}",
        "/traces/{id}/promote",
        "/runs",
        "/runs/{id}",
        "/runs/{id}/compare/{base}",
        "/suites/{name}/trend",
        "/cases",
        "/cases/{id}",
        "/cases/{id}/approve",
        "/cases/{id}/reject",
        "/cases/{id}/label",
        "/cases/{id}/expected",
        "/taxonomy",
        "/openapi.json",
    ] {
        assert!(described.iter().any(|d| *d == route), "{route} is not in openapi.json");
    }
}

/// The three demo traces, with an e-mail address in the streamed run's question.
fn traces_with_an_email(p: &Project) {
    let raw = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap();
    let with = raw.replace("hello from a streamed run", "hello from a streamed run, mail ann.lee@example.org");
    assert_ne!(raw, with);
    p.write("traces.jsonl", &with);
    p.ok(&["traces", "import", "traces.jsonl"]);
}

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[tokio::test]
async fn writes_do_what_the_cli_does_and_refuse_a_file_changed_since_it_was_read() {
    let p = Project::new();
    traces_with_an_email(&p);
    let s = serve(&p, &["ui", "--listen", "127.0.0.1:0"], None).await;
    let body = json!({"dataset": "demo", "verdict": "fail", "failure": "wrong_tool", "note": "greets only",
        "expected": {"contains": ["weather"], "tools_forbidden": ["get_weather"]}});
    let (status, promoted) = s.call("POST", "/api/v1/traces/trace_07ac/promote", Some(body.clone())).await;
    assert_eq!(status, 201, "{promoted}");
    assert_eq!(promoted["case"]["case"]["privacy"]["status"], "pending");
    assert_eq!(promoted["duplicate_of"], Value::Null, "nothing like it on disk yet");
    let finding = &promoted["case"]["findings"][0];
    assert_eq!(finding["kind"], "email");
    assert_eq!(finding["snippets"][0]["placeholder"], "<EMAIL_1>");
    assert!(finding["snippets"][0]["before"].as_str().unwrap().ends_with("mail "));

    // The same promotion by the CLI in another project writes the same file.
    let cli = Project::new();
    traces_with_an_email(&cli);
    cli.ok(&[
        "promote",
        "trace_07ac",
        "--dataset",
        "demo",
        "--verdict",
        "fail",
        "--failure",
        "wrong_tool",
        "--note",
        "greets only",
        "--expect-contains",
        "weather",
        "--expect-not-tool",
        "get_weather",
    ]);
    let (api_file, cli_file) = (only_file(&p.path("datasets/demo")), only_file(&cli.path("datasets/demo")));
    assert_eq!(api_file.file_name(), cli_file.file_name());
    assert_eq!(std::fs::read_to_string(&api_file).unwrap(), std::fs::read_to_string(&cli_file).unwrap());
    let (status, again) = s.call("POST", "/api/v1/traces/trace_07ac/promote", Some(body)).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("conflict")), "a duplicate: {again}");

    assert_ne!(code(&p.evals(&["check"])), 0, "a pending case fails the check");
    let pending = s.ok("/api/v1/cases?status=pending").await;
    let id = pending["cases"][0]["id"].as_str().unwrap().to_string();
    let case = s.ok(&format!("/api/v1/cases/{id}")).await;
    let etag = case["etag"].as_str().unwrap().to_string();

    // Edited on disk after it was read: the write is refused and the file left as edited.
    let edited = format!("{}# a reviewer's note\n", std::fs::read_to_string(&api_file).unwrap());
    std::fs::write(&api_file, &edited).unwrap();
    for (method, route, body) in [
        ("POST", "approve", json!({"etag": etag, "reviewer": "Ada"})),
        ("POST", "label", json!({"etag": etag, "note": "clobber"})),
        ("PUT", "expected", json!({"etag": etag, "expected": {"contains": ["x"]}})),
        ("POST", "reject", json!({"etag": etag})),
    ] {
        let (status, v) = s.call(method, &format!("/api/v1/cases/{id}/{route}"), Some(body)).await;
        assert_eq!((status, v["error"]["code"].as_str()), (409, Some("conflict")), "{route}: {v}");
        assert_eq!(std::fs::read_to_string(&api_file).unwrap(), edited, "{route} wrote nothing");
    }

    // With the file's etag now, in If-Match: the label is written.
    let fresh = s.ok(&format!("/api/v1/cases/{id}")).await["etag"].as_str().unwrap().to_string();
    let resp = s
        .client
        .post(format!("{}/api/v1/cases/{id}/label", s.base))
        .header("If-Match", format!("\"{fresh}\""))
        .json(&json!({"verdict": "fail", "failure": "hallucination", "note": "made up"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let labelled: Value = resp.json().await.unwrap();
    assert_eq!(labelled["case"]["label"]["failure"], "hallucination");
    let (status, v) = s
        .call(
            "PUT",
            &format!("/api/v1/cases/{id}/expected"),
            Some(json!({"etag": labelled["etag"], "expected": {"contains": ["sunny"]}})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["case"]["expected"], json!({"contains": ["sunny"]}), "replaced, not added to");

    let (status, v) = s
        .call("POST", &format!("/api/v1/cases/{id}/approve"), Some(json!({"etag": v["etag"], "reviewer": "Ada"})))
        .await;
    assert_eq!(status, 200, "{v}");
    let on_disk = std::fs::read_to_string(&api_file).unwrap();
    assert!(on_disk.contains("status: approved") && on_disk.contains("reviewer: Ada"), "{on_disk}");
    let check = p.evals(&["check"]);
    assert_eq!(code(&check), 0, "approved, the check passes: {}{}", text(&check.stdout), text(&check.stderr));

    // Bad bodies: 400 with the reason, nothing written.
    for (route, body) in [
        ("/api/v1/traces/trace_1a36/promote", json!({"dataset": "demo", "colour": "red"})),
        ("/api/v1/traces/trace_1a36/promote", json!({"dataset": "../outside"})),
        ("/api/v1/traces/trace_1a36/promote", json!({"dataset": "demo", "failure": "no_such_category"})),
        ("/api/v1/traces/trace_1a36/promote", json!({"dataset": "demo", "turn": 0})),
        (&format!("/api/v1/cases/{id}/label") as &str, json!({"etag": "x"})),
        (&format!("/api/v1/cases/{id}/approve"), json!({})),
    ] {
        let (status, v) = s.call("POST", route, Some(body.clone())).await;
        assert_eq!(status, 400, "{route} {body}: {v}");
        assert_eq!(v["error"]["code"], "invalid", "{v}");
    }
    let resp =
        s.client.post(format!("{}/api/v1/traces/trace_1a36/promote", s.base)).body("{not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(!p.path("outside").exists());
    assert_eq!(only_file(&p.path("datasets/demo")), api_file, "nothing else was written");
    let (status, _) = s.call("POST", "/api/v1/traces/trace_nope/promote", Some(json!({"dataset": "demo"}))).await;
    assert_eq!(status, 404);

    let etag = s.ok(&format!("/api/v1/cases/{id}")).await["etag"].clone();
    let (status, v) = s.call("POST", &format!("/api/v1/cases/{id}/reject"), Some(json!({"etag": etag}))).await;
    assert_eq!((status, v["rejected"].as_str()), (200, Some(id.as_str())));
    assert!(!api_file.exists(), "a rejected case's file is deleted");
    assert_eq!(s.get(&format!("/api/v1/cases/{id}")).await.0, 404);
}

#[tokio::test]
async fn with_a_token_every_api_route_demands_it_and_off_loopback_one_is_required() {
    let p = project_with_runs();
    let s = serve(&p, &["ui", "--listen", "127.0.0.1:0", "--token", "s3cret"], Some("s3cret")).await;
    let run = s.ok("/api/v1/runs").await["runs"][0]["id"].as_str().unwrap().to_string();
    let case = s.ok("/api/v1/cases").await["cases"][0]["id"].as_str().unwrap().to_string();
    let reads = [
        "/api/v1/traces".to_string(),
        "/api/v1/traces/stats".into(),
        "/api/v1/traces/trace_6a4a".into(),
        "/api/v1/runs".into(),
        format!("/api/v1/runs/{run}"),
        format!("/api/v1/runs/{run}/compare/{run}"),
        "/api/v1/suites/demo/trend".into(),
        "/api/v1/cases".into(),
        format!("/api/v1/cases/{case}"),
        "/api/v1/taxonomy".into(),
        "/api/v1/openapi.json".into(),
    ];
    for path in &reads {
        let url = format!("{}{path}", s.base);
        let r = s.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without the token");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unauthorized");
        assert_eq!(s.client.get(&url).header("X-Evals-Token", "wrong").send().await.unwrap().status(), 401);
        assert_eq!(s.client.get(&url).header("X-Evals-Token", "s3cret").send().await.unwrap().status(), 200, "{path}");
        assert_eq!(s.client.get(&url).bearer_auth("s3cret").send().await.unwrap().status(), 200, "{path}");
    }
    let before = std::fs::read_dir(p.path("datasets/demo")).unwrap().count();
    for (method, path) in [
        ("POST", "/api/v1/traces/trace_6a4a/promote".to_string()),
        ("POST", format!("/api/v1/cases/{case}/approve")),
        ("POST", format!("/api/v1/cases/{case}/reject")),
        ("POST", format!("/api/v1/cases/{case}/label")),
        ("PUT", format!("/api/v1/cases/{case}/expected")),
    ] {
        let r = s
            .client
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .json(&json!({"dataset": "other", "etag": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    assert_eq!(std::fs::read_dir(p.path("datasets/demo")).unwrap().count(), before, "nothing written or deleted");
    assert!(!p.path("datasets/other").exists());
    // The web app's files hold no data: served without the token.
    assert_eq!(s.client.get(format!("{}/", s.base)).send().await.unwrap().status(), 200);

    let out = p.evals(&["ui", "--listen", "0.0.0.0:0"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("without a token"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn collect_serves_the_api_and_the_web_app_on_its_port() {
    let p = Project::new();
    p.ok(&["traces", "import", fixture("agents_processor_full.jsonl").to_str().unwrap()]);
    let s = serve(&p, &["collect", "--listen", "127.0.0.1:0", "--token", "t0k"], Some("t0k")).await;
    assert_eq!(s.ok("/api/v1/traces").await["totals"]["traces"], 3);
    let r = s.client.get(format!("{}/api/v1/traces", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 401, "the collect token guards the API too");
    let page = s.client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    // The capture routes are still there, and still guarded.
    let ingest = s.client.post(format!("{}/v1/traces/ingest", s.base)).json(&json!({"data": []})).send().await.unwrap();
    assert_eq!(ingest.status(), 401);
    let ingest = s
        .client
        .post(format!("{}/v1/traces/ingest", s.base))
        .header("X-Evals-Token", "t0k")
        .json(&json!({"data": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(ingest.status(), 200);
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_stops_the_server_cleanly() {
    let p = Project::new();
    let mut s = serve(&p, &["ui", "--listen", "127.0.0.1:0"], None).await;
    assert_eq!(s.ok("/api/v1/traces").await["totals"]["traces"], 0, "an empty store is browsable");
    // SAFETY: kill(2) on the pid of our own child process.
    assert_eq!(unsafe { libc::kill(s.child.id() as i32, libc::SIGINT) }, 0);
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
