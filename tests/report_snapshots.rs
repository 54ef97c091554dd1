//! Snapshots of every run-report renderer over fixed runs (tests/fixtures/reports/): the terminal
//! report without colour, Markdown, HTML, JUnit and JSON, and the list of stored runs. A change
//! shows in `cargo insta review`; with `CI` set a missing or changed snapshot fails the test.

mod common;

use chrono::{DateTime, Utc};
use evals::compare::{self, gate};
use evals::record::{Run, Summary, TrendPoint};
use evals::report::{self, Format, Report, run::Paint};

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

    // The terminal report in the order `evals run` prints it.
    let paint = Paint(false);
    let mut terminal = report::run::run(run, paint);
    if let Some(cmp) = &cmp {
        terminal.push('\n');
        terminal.push_str(&report::run::comparison(cmp, paint));
    }
    terminal.push_str(&report::run::trend(trend));
    terminal.push_str(&report::run::decision(&decision, paint));
    assert!(!terminal.contains('\x1b'), "colour off prints no escape codes");

    let r = Report { run, comparison: cmp.as_ref(), decision: &decision, trend };
    let json: serde_json::Value = serde_json::from_str(&Format::Json.render(&r)).expect("the JSON report parses");

    let mut settings = insta::Settings::clone_current();
    // The footer names the evals version, which changes with releases, not with the report.
    settings.add_filter(&format!("evals {}</sub>", regex::escape(env!("CARGO_PKG_VERSION"))), "evals [version]</sub>");
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}-terminal"), terminal);
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
