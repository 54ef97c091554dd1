//! Reports and the gate through the binary: every format from one comparison, the HTML in
//! headless Chromium, the Markdown size limit, significance, baselines, history.

mod common;
use common::*;

use serde_json::{Value, json};

/// A run file with these results: (case, repeat, status, output text).
fn run_file(id: &str, gate: Value, results: &[(String, u32, &str, String)]) -> String {
    let passed = results.iter().filter(|r| r.2 == "pass").count();
    let failed = results.iter().filter(|r| r.2 == "fail").count();
    let errored = results.iter().filter(|r| r.2 == "error").count();
    let results: Vec<Value> = results
        .iter()
        .map(|(case, repeat, status, text)| {
            json!({
                "case_id": case, "repeat": repeat, "status": status,
                "output": {"text": text, "tool_calls": []},
                "grades": [{"grader": "same answer", "score": if *status == "pass" { 1.0 } else { 0.2 },
                            "pass": *status == "pass", "reason": format!("{case} was judged {status}")}],
                "latency_ms": 5,
            })
        })
        .collect();
    json!({
        "schema_version": 1, "id": id,
        "suite": {"name": "synthetic", "path": "s.yaml", "hash": "h"},
        "started_at": "2026-11-20T10:00:00Z",
        "target": {"model": "m", "instructions_hash": "i"}, "dataset_hash": "d",
        "gate": gate,
        "summary": {"cases": passed + failed + errored, "passed": passed, "failed": failed, "errored": errored,
                    "pass_rate": passed as f64 / (passed + failed).max(1) as f64,
                    "input_tokens": 0, "output_tokens": 0, "latency_p50_ms": 5, "latency_p95_ms": 5},
        "results": results,
    })
    .to_string()
}

fn cases(
    n: usize,
    status: impl Fn(usize) -> &'static str,
    text: impl Fn(usize) -> String,
) -> Vec<(String, u32, &'static str, String)> {
    (0..n).map(|i| (format!("case-{i:05}"), 0, status(i), text(i))).collect()
}

fn read(p: &Project, f: &str) -> String {
    std::fs::read_to_string(p.path(f)).unwrap()
}

/// The demo cases, a baseline run, and the French prompt run with every report format.
fn french_reports(p: &Project, env: &[(&str, &str)]) -> std::process::Output {
    p.with_demo_cases();
    let good = p.suite("demo", "");
    p.ok(&["run", good.to_str().unwrap(), "--out", "runs/base.json"]);
    let bad = p.suite("french", " Always answer in French.");
    p.evals_env(
        &[
            "run",
            bad.to_str().unwrap(),
            "--baseline",
            "runs/base.json",
            "--report",
            "md:out/report.md",
            "--report",
            "html:out/report.html",
            "--report",
            "junit:out/junit.xml",
            "--report",
            "json:out/report.json",
        ],
        env,
    )
}

#[test]
fn every_format_renders_the_same_comparison_and_the_exit_code_matches_the_verdict() {
    let p = Project::new();
    let summary = p.write("step-summary.md", "earlier step\n");
    let out = french_reports(&p, &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}{}", text(&out.stderr));
    let reason = stdout.lines().next().unwrap();
    assert!(reason.starts_with("gate failed: ") && reason.contains("pass rate 33.3% (min 100.0%)"), "{stdout}");
    assert!(stdout.contains("McNemar exact p = 0.500 on 3 shared cases (2 pass→fail, 0 fail→pass)"), "{stdout}");
    assert!(stdout.contains("pass rate 100.0% [43.9%–100.0%] → 33.3%"), "{stdout}");
    assert!(!stdout.contains("\x1b["), "no colour when stdout is not a terminal");

    let md = read(&p, "out/report.md");
    assert!(md.starts_with("## ❌ evals · french · gate failed"), "{md}");
    assert!(md.contains(&format!("**{reason}**")), "the Markdown states the same reason:\n{md}");
    assert!(md.contains("<details><summary>Regressed (2)</summary>"), "{md}");
    assert!(md.contains("-TOOL RESULT: Sunny and 21C in Paris\n+RÉSULTAT : Sunny and 21C in Paris"), "{md}");
    assert!(md.contains("| pass rate (95% CI) | 100.0% <sub>[43.9%–100.0%]</sub> | 33.3%"), "{md}");
    // The step summary got the same Markdown, after what was there.
    assert_eq!(read(&p, "step-summary.md"), format!("earlier step\n{md}"));

    let junit = read(&p, "out/junit.xml");
    assert!(junit.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_eq!(junit.matches("<testcase ").count(), 3, "{junit}");
    assert_eq!(junit.matches("<failure type=\"regression\"").count(), 2, "{junit}");
    assert!(junit.contains("same answer: fuzzy similarity to the recorded output"), "{junit}");
    assert!(junit.contains("tests=\"3\" failures=\"2\" errors=\"0\""), "{junit}");

    let report: Value = serde_json::from_str(&read(&p, "out/report.json")).unwrap();
    assert_eq!(report["schema"], "evals.report");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["decision"]["passed"], false);
    assert_eq!(report["decision"]["reason"], reason);
    assert_eq!(report["comparison"]["counts"]["regressed"], 2);
    assert_eq!(report["comparison"]["counts"]["still_passing"], 1);
    assert!((report["comparison"]["deltas"]["pass_rate"].as_f64().unwrap() + 2.0 / 3.0).abs() < 1e-9);
    let words = &report["comparison"]["cases"][0]["changes"]["words"];
    assert!(words.as_array().unwrap().iter().any(|w| w["op"] == "insert"), "{words}");

    let html = read(&p, "out/report.html");
    assert!(html.contains(&format!("id=\"verdict\">{}</p>", reason)), "HTML states the reason");
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "the HTML must be self-contained, found {external}");
    }
}

fn chromium_dom(file: &std::path::Path, fragment: &str) -> String {
    chromium_dom_with(file, fragment, &[])
}

fn chromium_dom_with(file: &std::path::Path, fragment: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("/usr/bin/chromium")
        .args(extra)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &format!("file://{}{fragment}", file.display()),
        ])
        .output()
        .expect("/usr/bin/chromium runs (scripts/setup-chromium.sh installs it)");
    assert!(out.status.success(), "chromium failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The `<details>` element of each case in a dumped DOM, with whether the page's script hid it.
fn shown_cases(dom: &str) -> Vec<(String, bool)> {
    dom.split("<details class=\"case ")
        .skip(1)
        .map(|d| {
            let tag = &d[..d.find('>').unwrap()];
            let class = tag.split('"').nth(2).unwrap().to_string();
            (class, !tag.contains("hidden"))
        })
        .collect()
}

#[test]
fn html_report_filters_by_class_in_headless_chromium() {
    let p = Project::new();
    let out = french_reports(&p, &[]);
    assert_eq!(code(&out), 1);
    let html = p.path("out/report.html");

    let all = chromium_dom(&html, "");
    assert!(all.contains("<p id=\"shown\">3 of 3 cases shown</p>"), "the script ran and counted:\n{all}");
    assert_eq!(shown_cases(&all).iter().filter(|c| c.1).count(), 3);
    // The side-by-side diff and the word diff are in the page.
    assert!(all.contains("<td class=\"del\">TOOL RESULT: Sunny and 21C in Paris</td><td class=\"ins\">RÉSULTAT : Sunny and 21C in Paris</td>"), "{all}");
    assert!(all.contains("<ins>RÉSULTAT :</ins>") || all.contains("<ins>RÉSULTAT</ins>"), "{all}");

    let only = chromium_dom(&html, "#only=still_passing");
    assert!(only.contains("<p id=\"shown\">1 of 3 cases shown</p>"), "{only}");
    let cases = shown_cases(&only);
    assert_eq!(cases.len(), 3);
    for (class, shown) in cases {
        assert_eq!(shown, class == "still_passing", "{class} shown={shown}");
    }
    // Its checkbox state follows the filter.
    assert!(only.contains("value=\"regressed\"> regressed (2)"), "regressed is unchecked:\n{only}");
    assert!(only.contains("value=\"still_passing\" checked=\"\"> still passing (1)"), "{only}");
}

/// How the report lays out in a frame `width` pixels wide, measured by Chromium: a page that
/// frames it writes the measures into its own DOM.
fn layout_at(html: &std::path::Path, width: u32) -> Value {
    let frame = html.with_file_name(format!("frame-{width}.html"));
    std::fs::write(
        &frame,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"{}\" style=\"width:{width}px;height:900px;border:0\"></iframe>\
             <pre id=\"out\"></pre><script>f.onload=function(){{var d=f.contentDocument,e=d.documentElement;\
             var wide=[].slice.call(d.querySelectorAll('body *')).filter(function(x){{return x.getBoundingClientRect().right>e.clientWidth+1&&!x.closest('.scroll');}}).map(function(x){{return x.tagName+'.'+x.className;}});\
             document.getElementById('out').textContent=JSON.stringify({{scroll:e.scrollWidth,client:e.clientWidth,wide:wide.slice(0,5),\
             font:parseFloat(getComputedStyle(d.body).fontSize),trend:d.getElementById('trend').getBoundingClientRect().width,\
             open:[].slice.call(d.querySelectorAll('details[open]')).map(function(x){{return x.dataset.class;}})}});}};</script></body></html>",
            html.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    let dom = chromium_dom_with(&frame, "", &["--allow-file-access-from-files", "--virtual-time-budget=10000"]);
    let json = dom.split("<pre id=\"out\">").nth(1).and_then(|d| d.split("</pre>").next()).unwrap_or("");
    serde_json::from_str(&json.replace("&quot;", "\"")).unwrap_or_else(|e| panic!("{e}: no measures in\n{dom}"))
}

#[test]
fn html_report_is_readable_on_a_phone_and_on_a_desktop_in_headless_chromium() {
    let p = Project::new();
    assert_eq!(code(&french_reports(&p, &[])), 1);
    // A second run of the suite, so the report has a trend to draw.
    let suite = p.path("evals/french.yaml");
    let again = ["run", suite.to_str().unwrap(), "--baseline", "runs/base.json", "--report", "html:out/again.html"];
    assert_eq!(code(&p.evals(&again)), 1);
    let html = p.path("out/again.html");
    let page = read(&p, "out/again.html");
    assert!(page.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    // The trend chart has its axes: percentages up the side, dates along the bottom.
    for label in [">0%</text>", ">50%</text>", ">100%</text>", "runs, oldest to newest (UTC)"] {
        assert!(page.contains(label), "the chart's axis shows {label}");
    }
    for width in [390, 1280] {
        let m = layout_at(&html, width);
        assert!(m["scroll"].as_f64() <= m["client"].as_f64(), "{width} px: the page scrolls sideways: {m}");
        assert_eq!(m["wide"], json!([]), "{width} px: elements run off the page: {m}");
        assert!(m["font"].as_f64().unwrap() >= 14.0, "{m}");
        assert!(m["trend"].as_f64().unwrap() <= width as f64, "{width} px: the chart fits: {m}");
        // Regressions are open to read; the passing case is a click away.
        assert_eq!(m["open"], json!(["regressed", "regressed"]), "{m}");
    }
}

#[test]
fn markdown_stays_under_the_github_limit_and_html_keeps_every_case() {
    let p = Project::new();
    let long = |i: usize| format!("answer {i} ").repeat(60);
    p.write("a.json", &run_file("run_a", json!({}), &cases(3_000, |_| "pass", long)));
    p.write(
        "b.json",
        &run_file(
            "run_b",
            json!({}),
            &cases(3_000, |i| if i % 2 == 0 { "fail" } else { "pass" }, |i| format!("changed {i}\n{}", long(i))),
        ),
    );
    let out = p.evals(&["diff", "a.json", "b.json", "--report", "md:r.md", "--report", "html:r.html"]);
    assert_eq!(code(&out), 1);
    let md = read(&p, "r.md");
    assert!(md.chars().count() <= 65_536, "{} chars", md.chars().count());
    assert!(md.len() > 50_000, "the budget is used, not wasted: {}", md.len());
    assert!(
        md.contains("more cases not shown here (size limit); the HTML report has them all"),
        "{}",
        &md[md.len() - 500..]
    );
    assert!(md.trim_end().ends_with("</sub>"));
    // Every <details> opened is closed.
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count());
    let html = read(&p, "r.html");
    assert_eq!(html.matches("<details class=\"case ").count(), 3_000);
}

#[test]
fn by_default_the_drop_test_keeps_noise_from_failing_the_gate_and_catches_a_real_drop() {
    let p = Project::new();
    // No gate keys at all: the shipped defaults.
    let base = cases(40, |i| if i == 2 { "fail" } else { "pass" }, |_| "x".into());
    p.write("base.json", &run_file("run_base", json!({}), &base));
    // Two cases regress and one gets fixed: one-sided p = 0.5, noise.
    let noisy = cases(40, |i| if i < 2 { "fail" } else { "pass" }, |_| "x".into());
    p.write("noisy.json", &run_file("run_noisy", json!({}), &noisy));
    let out = p.evals(&["diff", "base.json", "noisy.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}");
    assert!(stdout.lines().next().unwrap().starts_with("gate passed: "), "{stdout}");
    assert!(
        stdout.contains(
            "a drop that is not significant (stratified exact test vs the baseline, one-sided p = 0.500, \
             38 current passes where 38.5 were expected over 40 shared cases, need < 0.05): 2 cases fell: \
             case-00000, case-00001"
        ),
        "{stdout}"
    );
    // The same noise under an explicit budget of 0 fails, by count.
    p.write("strict.json", &run_file("run_strict", json!({"max_regressions": 0}), &noisy));
    let out = p.evals(&["diff", "base.json", "strict.json"]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stdout).contains("gate failed: 2 regressions (max 0): case-00000, case-00001"));
    // Nine regress, one fixed: p = 11 / 1024 = 0.011, a real drop.
    let real = cases(40, |i| if (3..12).contains(&i) { "fail" } else { "pass" }, |_| "x".into());
    p.write("real.json", &run_file("run_real", json!({}), &real));
    let out = p.evals(&["diff", "base.json", "real.json", "--report", "json:r.json", "--report", "junit:j.xml"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(
        stdout.contains("a significant drop (stratified exact test vs the baseline, one-sided p = 0.011"),
        "{stdout}"
    );
    let r: Value = serde_json::from_str(&read(&p, "r.json")).unwrap();
    assert_eq!(r["decision"]["test"]["method"], "stratified exact test");
    assert!((r["decision"]["test"]["p_value"].as_f64().unwrap() - 11.0 / 1024.0).abs() < 1e-9, "{}", r["decision"]);
    assert_eq!(r["comparison"]["drop_test"]["informative"], 10);
    let junit = read(&p, "j.xml");
    assert!(junit.contains("<property name=\"test\" value=\"stratified exact test vs the baseline\"/><property name=\"p_value\" value=\"0.0107421875\"/>"), "{junit}");
    // The mirror image is an improvement: never a failure, and called a rise.
    let out = p.evals(&["diff", "real.json", "base.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}");
    assert!(
        stdout.contains("a rise, not a significant drop (stratified exact test vs the baseline, one-sided p = 0.999"),
        "{stdout}"
    );
}

#[test]
fn repeats_pair_by_repeat_flaky_cases_and_pass_hat_k() {
    let p = Project::new();
    let rows = |statuses: &[(&str, u32, &'static str)]| -> Vec<(String, u32, &'static str, String)> {
        statuses.iter().map(|(c, r, s)| (c.to_string(), *r, *s, format!("{c} {s}"))).collect()
    };
    p.write(
        "a.json",
        &run_file(
            "run_a",
            json!({}),
            &rows(&[("steady", 0, "pass"), ("steady", 1, "pass"), ("wobbly", 0, "pass"), ("wobbly", 1, "pass")]),
        ),
    );
    p.write(
        "b.json",
        &run_file(
            "run_b",
            json!({}),
            &rows(&[("steady", 0, "pass"), ("steady", 1, "pass"), ("wobbly", 0, "pass"), ("wobbly", 1, "fail")]),
        ),
    );
    let out = p.evals(&["diff", "a.json", "b.json", "--report", "json:r.json"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("compared with run_a (baseline): flaky 2 · still passing 2\n"), "{stdout}");
    assert!(stdout.contains("flaky: wobbly 2/2 → 1/2\n"), "{stdout}");
    assert!(stdout.contains("pass^1 75.0% · pass^2 50.0%"), "{stdout}");
    // Flaky cases are not regressions: the gate passes on them.
    assert_eq!(code(&out), 0, "{stdout}");
}

/// With repeats a case is listed once per class with its pass fractions, in every report, not
/// once per repeat.
#[test]
fn a_repeated_regression_is_listed_once_with_its_pass_fractions() {
    let p = Project::new();
    let rows = |wobbly: &'static str| -> Vec<(String, u32, &'static str, String)> {
        (0..3)
            .flat_map(|r| {
                [("steady", "pass"), ("wobbly", wobbly)].map(|(c, s)| (c.to_string(), r, s, format!("{c} {s}")))
            })
            .collect()
    };
    p.write("a.json", &run_file("run_a", json!({}), &rows("pass")));
    p.write("b.json", &run_file("run_b", json!({}), &rows("fail")));
    let out = p.evals(&["diff", "a.json", "b.json", "--report", "md:r.md", "--report", "html:r.html"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("regressed 3"), "three samples regressed: {stdout}");
    assert_eq!(stdout.matches("regressed: wobbly").count(), 1, "{stdout}");
    assert!(stdout.contains("regressed: wobbly 3/3 → 0/3\n"), "{stdout}");
    let md = std::fs::read_to_string(p.path("r.md")).unwrap();
    assert_eq!(md.matches("**`wobbly`**").count(), 1, "{md}");
    assert!(md.contains("**`wobbly`** 3/3 → 0/3\n"), "{md}");
    let html = std::fs::read_to_string(p.path("r.html")).unwrap();
    assert_eq!(html.matches("data-case=\"wobbly\"").count(), 1, "{html}");
    assert!(html.contains("regressed: <code>wobbly</code> 3/3 → 0/3</summary>"), "{html}");
    for report in [&stdout, &md, &html] {
        assert!(!report.contains("wobbly #"), "no case is listed by repeat: {report}");
    }
}

#[test]
fn tool_call_and_json_output_changes_are_diffed() {
    let p = Project::new();
    let mut a: Value = serde_json::from_str(&run_file(
        "run_a",
        json!({}),
        &[("c".into(), 0, "pass", r#"{"city": "Paris", "days": 3}"#.into())],
    ))
    .unwrap();
    let mut b: Value = serde_json::from_str(&run_file(
        "run_b",
        json!({}),
        &[("c".into(), 0, "pass", r#"{"city": "Rome", "days": 3}"#.into())],
    ))
    .unwrap();
    a["results"][0]["output"]["tool_calls"] = json!([{"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}]);
    b["results"][0]["output"]["tool_calls"] =
        json!([{"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}, {"name": "book", "arguments": "{}"}]);
    p.write("a.json", &a.to_string());
    p.write("b.json", &b.to_string());
    // A passing case whose output changed is shown only in the reports that list every case.
    let out = p.evals(&["diff", "a.json", "b.json", "--report", "html:r.html", "--report", "json:r.json"]);
    assert_eq!(code(&out), 0);
    let r: Value = serde_json::from_str(&read(&p, "r.json")).unwrap();
    let changes = &r["comparison"]["cases"][0]["changes"];
    assert_eq!(changes["json"], json!([{"path": "$.city", "base": "Paris", "current": "Rome"}]));
    let calls: Vec<(String, String)> = changes["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["op"].as_str().unwrap().to_string(), c["text"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("delete".to_string(), r#"get_weather({"city":"Paris"})"#.to_string()),
            ("insert".to_string(), r#"get_weather({"city":"Rome"})"#.to_string()),
            ("insert".to_string(), "book({})".to_string()),
        ]
    );
    let html = read(&p, "r.html");
    assert!(html.contains("<td><code>$.city</code></td><td class=\"del\">&quot;Paris&quot;</td>"), "{html}");
}

#[test]
fn blessed_baselines_are_stable_and_the_suite_can_name_one() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    p.ok(&["run", suite.to_str().unwrap(), "--out", "runs/one.json"]);
    p.ok(&["run", suite.to_str().unwrap(), "--out", "runs/two.json"]);
    let out = p.ok(&["baseline", "bless", "runs/one.json"]);
    assert!(out.contains("as baselines/demo.json"), "{out}");
    p.ok(&["baseline", "bless", "runs/two.json", "--out", "baselines/again.json"]);
    let (one, two) = (read(&p, "baselines/demo.json"), read(&p, "baselines/again.json"));
    assert_eq!(one, two, "two runs with the same results bless to the same bytes");
    for volatile in ["started_at", "finished_at", "latency", "\"git\"", "run_2"] {
        assert!(!one.contains(volatile), "{volatile} in the baseline:\n{one}");
    }
    let v: Value = serde_json::from_str(&one).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // gate.baseline in the suite, relative to it; a French run against it fails its budget of
    // no regressions (two of three cases alone are no significant drop).
    let text_of = std::fs::read_to_string(&suite).unwrap();
    let french = text_of.replace("expert.'", "expert. Always answer in French.'").replace(
        "gate: {min_pass_rate: 1.0}",
        "gate: {min_pass_rate: 0.0, max_regressions: 0, baseline: ../baselines/demo.json}",
    );
    p.write("evals/demo.yaml", &french);
    let out = p.evals(&["run", "evals/demo.yaml"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("compared with baseline_demo (baseline)") && stdout.contains("regressed 2"), "{stdout}");
}

fn git(p: &Project, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(p.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn baseline_auto_takes_the_latest_run_of_the_branch_and_runs_show_the_trend() {
    let p = Project::new();
    p.with_demo_cases();
    git(&p, &["init", "-q", "-b", "main"]);
    let suite = p.suite("demo", "");
    git(&p, &["add", "."]);
    git(&p, &["commit", "-q", "-m", "suite"]);
    // No run on main yet: a note, and the gate without a baseline.
    let first = p.evals(&["run", suite.to_str().unwrap(), "--baseline", "auto"]);
    assert_eq!(code(&first), 0);
    assert!(text(&first.stderr).contains("no stored run of suite demo on branch main"), "{}", text(&first.stderr));
    let main_run = p.ok(&["run", suite.to_str().unwrap()]);
    let main_id = main_run.split(" · ").nth(1).unwrap().to_string();
    assert!(main_run.contains("git main "), "the run header records the branch:\n{main_run}");

    git(&p, &["checkout", "-q", "-b", "prompt-change"]);
    let french = std::fs::read_to_string(&suite).unwrap().replace("expert.'", "expert. Always answer in French.'");
    p.write("evals/demo.yaml", &french);
    let out = p.evals(&["run", "evals/demo.yaml", "--baseline", "auto"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(stdout.contains(&format!("compared with {main_id} (baseline)")), "{stdout}");
    // Against the branch itself, the newest run there is the French one: nothing regresses.
    let out = p.evals(&["run", "evals/demo.yaml", "--baseline", "auto", "--baseline-branch", "prompt-change"]);
    assert!(!text(&out.stdout).contains("regressed"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("trend of the last 4 runs: ██▃▃"), "{}", text(&out.stdout));

    let list = p.ok(&["runs", "list", "--suite", "demo"]);
    assert_eq!(list.lines().count(), 1 + 4, "{list}");
    assert!(list.lines().nth(1).unwrap().contains("prompt-change@"), "newest first:\n{list}");
    assert!(p.ok(&["runs", "list", "--suite", "other"]).contains("no stored runs"));
    let show = p.ok(&["runs", "show", &main_id]);
    assert!(show.contains("3 cases: 3 passed"), "{show}");
    assert!(show.contains("trend of the last 2 runs: ██ 100.0% → 100.0%"), "the trend ends at the run shown:\n{show}");
}

#[test]
fn bad_report_arguments_are_usage_errors() {
    let p = Project::new();
    for (arg, msg) in
        [("pdf:x.pdf", "unknown report format `pdf`"), ("report.md", "is not FORMAT:PATH"), ("md:", "names no file")]
    {
        let out = p.evals(&["diff", "a.json", "b.json", "--report", arg]);
        assert_eq!(code(&out), 2, "{arg}");
        assert!(text(&out.stderr).contains(msg), "{arg}: {}", text(&out.stderr));
    }
    let out = p.evals(&["baseline", "bless", "missing.json"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("missing.json does not exist"), "{}", text(&out.stderr));
}

#[test]
fn new_commands_have_examples_in_their_help() {
    let p = Project::new();
    for args in [["runs", "--help"], ["baseline", "--help"]] {
        let help = p.ok(&args);
        assert!(help.contains("Examples:\n  evals "), "{args:?}:\n{help}");
    }
}

#[test]
fn the_terminal_report_opens_with_the_verdict_and_run_failed_replays_only_what_did_not_pass() {
    let p = Project::new();
    p.with_demo_cases();
    let good = p.suite("demo", "");
    p.ok(&["run", good.to_str().unwrap(), "--out", "runs/base.json"]);
    let bad = p.suite("french", " Always answer in French.");
    let out = p.evals(&["run", bad.to_str().unwrap(), "--baseline", "runs/base.json", "--out", "runs/fr.json"]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.starts_with("gate failed: "), "the verdict comes first:\n{report}");
    let fr: Value = serde_json::from_str(&read(&p, "runs/fr.json")).unwrap();
    let not_passed: Vec<&str> = fr["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass")
        .map(|r| r["case_id"].as_str().unwrap())
        .collect();
    let total = fr["results"].as_array().unwrap().len();
    assert!(!not_passed.is_empty() && not_passed.len() < total, "some cases fail in French: {not_passed:?}");
    let passed = total - not_passed.len();
    assert!(
        report.contains(&format!("still passing: {passed} case")) && report.contains("(--verbose lists them)"),
        "passing cases are one line:\n{report}"
    );

    // No suite given: the failed run's suite, and only its failed cases.
    let rerun = p.evals(&["run", "--failed", "runs/fr.json", "--out", "runs/rerun.json"]);
    assert_eq!(code(&rerun), 1, "{}", text(&rerun.stderr));
    let rerun: Value = serde_json::from_str(&read(&p, "runs/rerun.json")).unwrap();
    let mut ids: Vec<&str> =
        rerun["results"].as_array().unwrap().iter().map(|r| r["case_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, not_passed, "--failed replays exactly the failed and errored cases");
    assert_eq!(rerun["suite"]["name"], "french");

    // By stored run id too, with the suite given; a run where everything passed has nothing to rerun.
    let id = fr["id"].as_str().unwrap();
    let again = p.evals(&["run", bad.to_str().unwrap(), "--rerun-failed", id, "--verbose"]);
    assert_eq!(code(&again), 1, "{}", text(&again.stderr));
    let verbose = text(&again.stdout);
    assert!(!verbose.contains("still passing"), "{verbose}");
    let base_id: Value = serde_json::from_str(&read(&p, "runs/base.json")).unwrap();
    let none = p.evals(&["run", "--failed", base_id["id"].as_str().unwrap()]);
    assert_eq!(code(&none), 4, "{}", text(&none.stderr));
    assert!(text(&none.stderr).contains("no case failed or errored"), "{}", text(&none.stderr));
}
