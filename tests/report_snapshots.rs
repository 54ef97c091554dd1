//! Snapshots of every run-report renderer over fixed runs (tests/fixtures/reports/): the terminal
//! report without colour, Markdown, HTML, JUnit and JSON, and the list of stored runs. A change
//! shows in `cargo insta review`; with `CI` set a missing or changed snapshot fails the test.

mod common;

use chrono::{DateTime, Utc};
use evals::compare::{self, gate};
use evals::record::{Run, Summary, TrendPoint};
use evals::report::{
    self, Format, Report,
    run::{Paint, View},
};
use serde_json::{Value, json};

/// A run fixture as the run pipeline reads it back from the store: results in case order, the
/// summary computed from them (so fixtures list only results).
fn load(name: &str) -> Run {
    let path = common::repo().join("tests/fixtures/reports").join(name);
    let mut run = Run::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    run.sort_results();
    run.summary = Summary::of(&run.results);
    run
}

fn point(run_id: &str, started_at: &str, pass_rate: f64, graded: usize) -> TrendPoint {
    let started_at: DateTime<Utc> = started_at.parse().expect("an RFC 3339 time");
    TrendPoint { run_id: run_id.into(), started_at, pass_rate, graded }
}

/// Render one run (against its baseline, when given) in every format and check each snapshot.
fn check_all(name: &str, run: &Run, baseline: Option<&Run>, trend: &[TrendPoint]) {
    let cmp = baseline.map(|b| compare::compare(b, run));
    let decision = gate::decide(&run.gate, run, cmp.as_ref());

    // The terminal report as `evals run` prints it, and with --verbose.
    let view = |verbose| View { paint: Paint(false), verbose };
    let terminal = report::run::report(run, &run.results, cmp.as_ref(), Some(&decision), trend, view(false));
    let verbose = report::run::report(run, &run.results, cmp.as_ref(), Some(&decision), trend, view(true));
    assert!(!terminal.contains('\x1b') && !verbose.contains('\x1b'), "colour off prints no escape codes");
    assert_eq!(terminal.lines().next(), Some(decision.reason.as_str()), "the verdict comes first");

    let r = Report { run, comparison: cmp.as_ref(), decision: &decision, trend };
    let json: serde_json::Value = serde_json::from_str(&Format::Json.render(&r)).expect("the JSON report parses");

    let mut settings = insta::Settings::clone_current();
    // The footer names the evals version, which changes with releases, not with the report.
    settings.add_filter(&format!("evals {}</sub>", regex::escape(env!("CARGO_PKG_VERSION"))), "evals [version]</sub>");
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}-terminal"), terminal);
        insta::assert_snapshot!(format!("{name}-terminal-verbose"), verbose);
        insta::assert_snapshot!(format!("{name}-markdown"), Format::Markdown.render(&r));
        insta::assert_snapshot!(format!("{name}-html"), Format::Html.render(&r));
        insta::assert_snapshot!(format!("{name}-junit"), Format::Junit.render(&r));
        // The exact p-value comes from the platform's exp and ln: rounded, it is the same on
        // every machine.
        insta::assert_json_snapshot!(format!("{name}-json"), json, {
            ".comparison.mcnemar.p_value" => insta::rounded_redaction(6),
            ".comparison.drop_test.p_value" => insta::rounded_redaction(6),
            ".comparison.drop_test.expected" => insta::rounded_redaction(6),
            ".decision.test.p_value" => insta::rounded_redaction(6),
        });
    });
}

#[test]
fn a_run_without_a_baseline() {
    let run = load("plain.json");
    let trend = [
        point("run_20261118T100000_0a02", "2026-11-18T10:00:00Z", 1.0, 3),
        point("run_20261119T100000_0a03", "2026-11-19T10:00:00Z", 0.5, 2),
        TrendPoint::from(&run),
    ];
    check_all("plain", &run, None, &trend);
}

#[test]
fn a_run_against_its_baseline_with_every_class_and_diff() {
    let (base, run) = (load("compare-base.json"), load("compare-current.json"));
    check_all("compare", &run, Some(&base), &[TrendPoint::from(&base), TrendPoint::from(&run)]);
}

#[test]
fn a_run_with_repeats_flaky_cases_and_pass_hat_k() {
    let (base, run) = (load("repeats-base.json"), load("repeats-current.json"));
    check_all("repeats", &run, Some(&base), &[TrendPoint::from(&base), TrendPoint::from(&run)]);
}

#[test]
fn a_run_with_errors_of_several_causes() {
    check_all("errors", &load("errors.json"), None, &[]);
}

#[test]
fn a_run_stopped_by_its_budget() {
    let run = load("budget.json");
    check_all("budget", &run, None, &[TrendPoint::from(&run)]);
}

#[test]
fn the_list_of_stored_runs() {
    let runs = [load("compare-current.json"), load("budget.json"), load("compare-base.json")];
    insta::assert_snapshot!("runs-list", report::run::runs(&runs));
    insta::assert_snapshot!("runs-list-empty", report::run::runs(&[]));
}

/// A run of `n` cases named `case-0` … (unpadded, so only a natural sort orders them), each
/// `(status, output text)` as `f` says.
fn synthetic(id: &str, n: usize, f: impl Fn(usize) -> (&'static str, String)) -> Run {
    let results: Vec<Value> = (0..n)
        .map(|i| {
            let (status, text) = f(i);
            let grade = json!({"grader": "answer", "score": if status == "pass" { 1.0 } else { 0.0 },
                               "pass": status == "pass", "reason": format!("case-{i}: expected 42")});
            let mut r = json!({"case_id": format!("case-{i}"), "repeat": 0, "status": status,
                               "output": {"text": text, "tool_calls": []}, "latency_ms": 100, "turns": 1});
            if status == "error" {
                r["error"] = json!("model call failed: HTTP 500");
                r["cause"] = json!("server_error");
            } else {
                r["grades"] = json!([grade]);
            }
            r
        })
        .collect();
    let run = json!({
        "schema_version": 1, "id": id, "suite": {"name": "support", "path": "evals/support.yaml", "hash": "h"},
        "started_at": "2026-11-20T10:00:00Z", "target": {"model": "gpt-4.1-mini", "instructions_hash": "i"},
        "dataset_hash": "d", "gate": {}, "summary": {}, "results": results,
    });
    let mut run: Run = serde_json::from_value(run).expect("a run");
    run.sort_results();
    run.summary = Summary::of(&run.results);
    run
}

#[test]
fn three_hundred_cases_with_36_regressions_fit_in_about_40_lines_plus_their_diffs() {
    let answer = |i: usize, n: u32| format!("Order {i} is on its way.\nThe total is {n} EUR.\nAnything else?");
    let base = synthetic("run_base", 300, |i| ("pass", answer(i, 42)));
    let current = synthetic("run_current", 300, |i| match i {
        _ if i % 8 == 3 && i < 288 => ("fail", answer(i, 41)),
        _ => ("pass", answer(i, 42)),
    });
    let cmp = compare::compare(&base, &current);
    assert_eq!(cmp.count(compare::Class::Regressed), 36);
    let decision = gate::decide(&current.gate, &current, Some(&cmp));
    let view = View { paint: Paint(false), verbose: false };
    let text = report::run::report(&current, &current.results, Some(&cmp), Some(&decision), &[], view);
    // What is not a case's reasons or diff (indented under it) is the report's frame.
    let frame: Vec<&str> = text.lines().filter(|l| !l.starts_with("    ")).collect();
    assert!(frame.len() <= 43, "{} lines besides the diffs:\n{text}", frame.len());
    assert!(text.lines().next().unwrap().starts_with("gate failed"), "verdict first:\n{text}");
    let regressed: Vec<&str> = frame.iter().filter_map(|l| l.strip_prefix("regressed: ")).collect();
    assert_eq!(regressed.len(), 36);
    assert!(
        regressed[0].starts_with("case-3 ") && regressed[1].starts_with("case-11 "),
        "natural order: {regressed:?}"
    );
    assert!(!text.contains("case-0 ") && !text.contains("case-0,"), "passing cases are counted, not listed");
    assert!(text.contains("\n    -The total is 42 EUR.\n    +The total is 41 EUR.\n"), "each regression has its diff");
    insta::assert_snapshot!("three-hundred-terminal", text);
    let verbose = report::run::report(
        &current,
        &current.results,
        Some(&cmp),
        Some(&decision),
        &[],
        View { verbose: true, ..view },
    );
    assert!(verbose.contains("case-0"), "--verbose lists the passing cases");
}

#[test]
fn without_a_baseline_failures_come_first_in_natural_order_and_passes_are_one_line() {
    let run = synthetic("run_plain", 12, |i| match i {
        10 => ("fail", "no".into()),
        2 => ("error", String::new()),
        9 => ("fail", "no".into()),
        _ => ("pass", "yes".into()),
    });
    let decision = gate::decide(&run.gate, &run, None);
    let view = View { paint: Paint(false), verbose: false };
    let text = report::run::report(&run, &run.results, None, Some(&decision), &[], view);
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with(['✗', '!', '✓'])).collect();
    assert_eq!(listed.len(), 4, "{text}");
    assert!(listed[0].starts_with("! errored: case-2 "), "{text}");
    assert!(listed[1].starts_with("✗ failed: case-9 ") && listed[2].starts_with("✗ failed: case-10 "), "{text}");
    assert_eq!(listed[3], "✓ 9 cases passed (--verbose lists them)");
    let verbose = report::run::report(&run, &run.results, None, Some(&decision), &[], View { verbose: true, ..view });
    assert_eq!(verbose.lines().filter(|l| l.starts_with("✓ passed: ")).count(), 9, "{verbose}");
}
