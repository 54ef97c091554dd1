//! The gate: the suite's pass criteria, and the decision (with its one-sentence reason) that
//! becomes the exit code.

use serde::{Deserialize, Serialize};

use super::{CaseRates, Comparison, Reference};
use crate::record::{Run, Summary};
use crate::suite::gate::{DEFAULT_SIGNIFICANCE, Gate, MaxErrors};
use crate::text::count;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// Which test decided about a drop, against what, and its p-value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// `stratified exact` (or `stratified normal approximation` on very large runs).
    pub method: String,
    /// `the baseline` or `N earlier runs`.
    pub reference: String,
    /// One-sided: the chance of passes this low if nothing changed.
    pub p_value: f64,
    pub alpha: f64,
    /// A significant drop: it failed the gate.
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub passed: bool,
    /// One sentence saying why.
    pub reason: String,
    pub checks: Vec<Check>,
    /// The drop test, when there was a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestOutcome>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Decide the gate for a run, against its baseline when there is one.
pub fn decide(gate: &Gate, run: &Run, comparison: Option<&Comparison>) -> Decision {
    let summary = &run.summary;
    let mut checks = Vec::new();
    checks.push(Check {
        name: "graded".into(),
        passed: summary.graded() > 0,
        detail: format!("{} of {} cases graded", summary.graded(), summary.cases),
    });
    checks.push(errors(gate, summary));
    if let Some(min) = gate.min_pass_rate {
        checks.push(Check {
            name: "min_pass_rate".into(),
            passed: summary.pass_rate + 1e-12 >= min,
            detail: format!("pass rate {} (min {})", pct(summary.pass_rate), pct(min)),
        });
    }
    let mut test = None;
    if let Some(cmp) = comparison {
        let (check, outcome) = drop_check(gate, cmp);
        checks.push(check);
        test = Some(outcome);
        if let Some(max) = gate.max_regressions {
            checks.push(regressions(max, cmp));
        }
    }
    if let Some(n) = summary.errors_by_cause.get("budget") {
        checks.push(Check {
            name: "budget".into(),
            passed: false,
            detail: format!("budget reached: {} not run", count(*n, "case")),
        });
    }
    // A partial merge is reported whatever the verdict: the run is not the whole suite.
    if let Some(partial) = run.options.partial() {
        checks.push(Check { name: "partial".into(), passed: true, detail: format!("partial run, {partial}") });
    }
    let passed = checks.iter().all(|c| c.passed);
    let shown: Vec<&str> =
        checks.iter().filter(|c| c.passed == passed || c.name == "partial").map(|c| c.detail.as_str()).collect();
    let reason = format!("gate {}: {}", if passed { "passed" } else { "failed" }, shown.join("; "));
    Decision { passed, reason, checks, test }
}

/// Errors are verdicts the run owes: beyond `max_errors` (default none) they fail the gate.
/// The share is of all results; cases the budget stopped count under `budget` instead.
fn errors(gate: &Gate, summary: &Summary) -> Check {
    let max = gate.max_errors.clone().unwrap_or(MaxErrors::Count(0));
    // Cases the budget stopped have a check of their own.
    let budget = summary.errors_by_cause.get("budget").copied().unwrap_or(0);
    let n = summary.errored - budget;
    let causes: Vec<String> = summary
        .errors_by_cause
        .iter()
        .filter(|(cause, _)| *cause != "budget")
        .map(|(cause, k)| format!("{cause} {k}"))
        .collect();
    let detail = if n == 0 {
        format!("0 errors (max {})", max.describe())
    } else {
        format!("{} (max {}): {}", count(n, "error"), max.describe(), causes.join(", "))
    };
    Check { name: "max_errors".into(), passed: n <= max.allowed(summary.cases), detail }
}

/// The drop test decides regressions: a drop fails only when it is significant, a rise never.
fn drop_check(gate: &Gate, cmp: &Comparison) -> (Check, TestOutcome) {
    let alpha = gate.significance.unwrap_or(DEFAULT_SIGNIFICANCE);
    let t = &cmp.drop_test;
    let reference = match cmp.reference {
        Reference::Baseline => "the baseline".to_string(),
        Reference::History { runs } => format!("{runs} earlier runs"),
    };
    let method = if t.exact { "stratified exact test" } else { "stratified normal approximation" };
    let significant = t.p_value < alpha;
    let dropped: Vec<&CaseRates> = cmp.case_rates.iter().filter(|c| c.dropped()).collect();
    let moved = if f64::from(t.observed) + 1e-9 < t.expected {
        "a drop"
    } else if f64::from(t.observed) > t.expected + 1e-9 {
        "a rise"
    } else {
        "no change"
    };
    let test = format!(
        "{method} vs {reference}, one-sided p = {}, {} current passes where {:.1} were expected over {}",
        fmt_p(t.p_value),
        t.observed,
        t.expected,
        count(t.cases, "shared case")
    );
    let detail = if significant {
        format!("a significant drop ({test} < {alpha}){}", listed(&dropped))
    } else if moved == "a drop" {
        format!("a drop that is not significant ({test}, need < {alpha}){}", listed(&dropped))
    } else {
        format!("{moved}, not a significant drop ({test})")
    };
    let outcome = TestOutcome { method: method.into(), reference, p_value: t.p_value, alpha, significant };
    (Check { name: "significance".into(), passed: !significant, detail }, outcome)
}

/// `: 2 cases fell: a 3/3 → 0/3, b 2/3 → 1/3`, each case once.
fn listed(dropped: &[&CaseRates]) -> String {
    if dropped.is_empty() {
        return String::new();
    }
    format!(": {} fell: {}", count(dropped.len(), "case"), names(dropped))
}

/// The first five cases in natural order of their ids, and how many more.
fn names(dropped: &[&CaseRates]) -> String {
    let mut sorted = dropped.to_vec();
    sorted.sort_by(|a, b| crate::text::natural_cmp(&a.case_id, &b.case_id));
    let names: Vec<String> = sorted.iter().take(5).map(|c| c.label()).collect();
    let more =
        if dropped.len() > names.len() { format!(", and {} more", dropped.len() - names.len()) } else { String::new() };
    format!("{}{more}", names.join(", "))
}

/// `max_regressions`: an absolute budget of cases whose pass fraction fell.
fn regressions(max: usize, cmp: &Comparison) -> Check {
    let dropped: Vec<&CaseRates> = cmp.case_rates.iter().filter(|c| c.dropped()).collect();
    let n = dropped.len();
    let detail = if n == 0 {
        format!("0 regressions (max {max})")
    } else {
        format!("{} (max {max}): {}", count(n, "regression"), names(&dropped))
    };
    Check { name: "max_regressions".into(), passed: n <= max, detail }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 { format!("{p:.1e}") } else { format!("{p:.3}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::tests::{result, run, run_of};
    use crate::compare::{History, Rate, compare, compare_with};
    use crate::record::Status;

    /// `n` cases named `{prefix}{i}` with one status.
    fn many(prefix: &str, n: usize, status: Status) -> Vec<(String, Status)> {
        (0..n).map(|i| (format!("{prefix}{i}"), status)).collect()
    }

    fn run_from(id: &str, cases: &[(String, Status)]) -> Run {
        let rows: Vec<(&str, Status, &str)> = cases.iter().map(|(c, s)| (c.as_str(), *s, "x")).collect();
        run(id, &rows)
    }

    #[test]
    fn pass_rate_floor_alone_adds_no_regression_budget() {
        let r = run("r", &[("a", Status::Pass, ""), ("b", Status::Fail, "")]);
        let gate = Gate { min_pass_rate: Some(0.6), ..Gate::default() };
        let d = decide(&gate, &r, None);
        assert!(!d.passed);
        assert_eq!(d.reason, "gate failed: pass rate 50.0% (min 60.0%)");
        let d = decide(&Gate { min_pass_rate: Some(0.5), ..gate.clone() }, &r, None);
        assert!(d.passed, "{}", d.reason);
        // One regression out of twenty with a floor of 90% and no other key: the floor holds,
        // the drop is noise, so the gate passes (no hidden `max_regressions: 0`).
        let mut b = many("s", 19, Status::Pass);
        b.push(("a".into(), Status::Pass));
        let mut c = many("s", 19, Status::Pass);
        c.push(("a".into(), Status::Fail));
        let cur = run_from("c", &c);
        let cmp = compare(&run_from("b", &b), &cur);
        let floor = Gate { min_pass_rate: Some(0.9), ..Gate::default() };
        let d = decide(&floor, &cur, Some(&cmp));
        assert!(d.passed, "{}", d.reason);
        assert!(d.reason.contains("a drop that is not significant"), "{}", d.reason);
    }

    #[test]
    fn errors_fail_the_gate_by_default_naming_their_causes() {
        let mut r = run("r", &[("a", Status::Pass, ""), ("b", Status::Error, ""), ("c", Status::Error, "")]);
        r.results[1].cause = Some("timeout".into());
        r.results[2].cause = Some("server".into());
        r.summary = Summary::of(&r.results);
        let d = decide(&Gate::default(), &r, None);
        assert!(!d.passed);
        assert_eq!(d.reason, "gate failed: 2 errors (max 0): server 1, timeout 1");
        let two = Gate { max_errors: Some(MaxErrors::Count(2)), ..Gate::default() };
        assert!(decide(&two, &r, None).passed);
        // 2 of 3 results is 66%: over 50%, within 70%.
        let half = Gate { max_errors: Some(MaxErrors::Share("50%".into())), ..Gate::default() };
        let d = decide(&half, &r, None);
        assert!(!d.passed && d.reason.contains("2 errors (max 50%)"), "{}", d.reason);
        let seventy = Gate { max_errors: Some(MaxErrors::Share("70%".into())), ..Gate::default() };
        assert!(decide(&seventy, &r, None).passed);
        assert_eq!(MaxErrors::share("5%"), Ok(0.05));
        assert!(MaxErrors::share("five").is_err() && MaxErrors::share("120%").is_err());
    }

    #[test]
    fn a_partial_merge_is_named_whatever_the_verdict() {
        let mut r = run("r", &[("a", Status::Pass, "")]);
        r.options.missing_shards = vec!["2/2".into()];
        let d = decide(&Gate::default(), &r, None);
        assert!(d.passed);
        assert_eq!(
            d.reason,
            "gate passed: 1 of 1 cases graded; 0 errors (max 0); partial run, merged 1 of 2 shards: 2/2 missing"
        );
        r.results[0].status = Status::Fail;
        r.summary = Summary::of(&r.results);
        let d = decide(&Gate { min_pass_rate: Some(1.0), ..Gate::default() }, &r, None);
        assert_eq!(
            d.reason,
            "gate failed: pass rate 0.0% (min 100.0%); partial run, merged 1 of 2 shards: 2/2 missing"
        );
    }

    #[test]
    fn a_run_with_nothing_graded_fails_even_when_errors_are_allowed() {
        let r = run("r", &[("a", Status::Error, "")]);
        let gate = Gate { max_errors: Some(MaxErrors::Share("100%".into())), ..Gate::default() };
        let d = decide(&gate, &r, None);
        assert!(!d.passed);
        assert_eq!(d.reason, "gate failed: 0 of 1 cases graded");
    }

    #[test]
    fn by_default_noise_passes_and_a_real_drop_fails_naming_the_test() {
        // 2 of 20 cases regress, 1 got fixed: p = 0.5, noise.
        let mut b = vec![("a".to_string(), Status::Pass), ("b".into(), Status::Pass), ("c".into(), Status::Fail)];
        let mut c = vec![("a".to_string(), Status::Fail), ("b".into(), Status::Fail), ("c".into(), Status::Pass)];
        b.extend(many("same", 17, Status::Pass));
        c.extend(many("same", 17, Status::Pass));
        let cur = run_from("c", &c);
        let cmp = compare(&run_from("b", &b), &cur);
        let d = decide(&Gate::default(), &cur, Some(&cmp));
        assert!(d.passed, "{}", d.reason);
        assert!(
            d.reason.contains(
                "a drop that is not significant (stratified exact test vs the baseline, one-sided p = 0.500, \
                 18 current passes where 18.5 were expected over 20 shared cases, need < 0.05): 2 cases fell: a, b"
            ),
            "{}",
            d.reason
        );
        let t = d.test.unwrap();
        assert_eq!(
            (t.method.as_str(), t.reference.as_str(), t.significant),
            ("stratified exact test", "the baseline", false)
        );
        // An explicit budget still counts cases.
        let strict = Gate { max_regressions: Some(0), ..Gate::default() };
        let d = decide(&strict, &cur, Some(&cmp));
        assert!(!d.passed && d.reason == "gate failed: 2 regressions (max 0): a, b", "{}", d.reason);

        // 6 regressions, no fixes: p = 1/64 < 0.05, a real drop.
        let b = many("s", 20, Status::Pass);
        let c: Vec<_> = (0..20).map(|i| (format!("s{i}"), if i < 6 { Status::Fail } else { Status::Pass })).collect();
        let cur = run_from("c", &c);
        let cmp = compare(&run_from("b", &b), &cur);
        let d = decide(&Gate::default(), &cur, Some(&cmp));
        assert!(!d.passed);
        assert!(
            d.reason.contains("a significant drop (stratified exact test vs the baseline, one-sided p = 0.016"),
            "{}",
            d.reason
        );
        assert!(d.test.unwrap().significant);
        // A stricter level lets the same drop through.
        let strict = Gate { significance: Some(0.01), ..Gate::default() };
        assert!(decide(&strict, &cur, Some(&cmp)).passed);
    }

    #[test]
    fn an_improvement_never_fails_and_is_called_a_rise() {
        let b = many("s", 20, Status::Fail);
        let c = many("s", 20, Status::Pass);
        let cur = run_from("c", &c);
        let cmp = compare(&run_from("b", &b), &cur);
        let d = decide(&Gate::default(), &cur, Some(&cmp));
        assert!(d.passed, "{}", d.reason);
        assert!(
            d.reason
                .contains("a rise, not a significant drop (stratified exact test vs the baseline, one-sided p = 1.000"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn repeats_use_every_sample_and_list_each_case_once_with_its_fractions() {
        // Four cases fall from 3/3 to 0/3 or 1/3; with one sample they would be 4 discordant
        // pairs (p = 1/16); with three, every sample counts.
        let mut base = Vec::new();
        let mut cur = Vec::new();
        for i in 0..10 {
            let id = format!("c{i}");
            for k in 0..3 {
                base.push(result(&id, k, Status::Pass, "x"));
                let fail = (i < 3) || (i == 3 && k > 0);
                cur.push(result(&id, k, if fail { Status::Fail } else { Status::Pass }, "x"));
            }
        }
        let cur = run_of("c", cur);
        let cmp = compare(&run_of("b", base), &cur);
        let d = decide(&Gate::default(), &cur, Some(&cmp));
        assert!(!d.passed, "{}", d.reason);
        assert!(
            d.reason.contains("4 cases fell: c0 3/3 → 0/3, c1 3/3 → 0/3, c2 3/3 → 0/3, c3 3/3 → 1/3"),
            "{}",
            d.reason
        );
        assert!(cmp.drop_test.p_value < 1e-3, "{:?}", cmp.drop_test);
    }

    #[test]
    fn history_weighs_a_stable_case_that_flips_over_a_known_flaky_one() {
        // Baseline and current differ in two cases; the baseline alone cannot tell which is
        // stable (p = 0.25). Six earlier runs can: `stable` always passed, `wobbly` half the time.
        let b = vec![("stable".to_string(), Status::Pass), ("wobbly".into(), Status::Pass)];
        let c = vec![("stable".to_string(), Status::Fail), ("wobbly".into(), Status::Fail)];
        let (base, cur) = (run_from("b", &b), run_from("c", &c));
        let d = decide(&Gate::default(), &cur, Some(&compare(&base, &cur)));
        assert!(d.passed, "{}", d.reason);
        let history = |stable: usize, wobbly: usize| History {
            runs: 6,
            cases: [
                ("stable".to_string(), Rate { passed: stable, total: 6 }),
                ("wobbly".to_string(), Rate { passed: wobbly, total: 6 }),
            ]
            .into(),
        };
        // Stable flips: P = 1/7 * 4/7 ≈ 0.08 (not yet below 0.05 with two cases), yet lower
        // than when both are known to be flaky.
        let sharp = compare_with(&base, &cur, &history(6, 3));
        let blunt = compare_with(&base, &cur, &history(3, 3));
        assert!(sharp.drop_test.p_value < blunt.drop_test.p_value, "{:?} {:?}", sharp.drop_test, blunt.drop_test);
        assert!((sharp.drop_test.p_value - 4.0 / 49.0).abs() < 1e-9, "{:?}", sharp.drop_test);
        let d = decide(&Gate::default(), &cur, Some(&sharp));
        assert!(d.reason.contains("stratified exact test vs 6 earlier runs"), "{}", d.reason);
        // Fewer than two earlier runs: the baseline is the reference.
        let one = compare_with(&base, &cur, &History { runs: 1, ..history(6, 3) });
        assert_eq!(one.reference, Reference::Baseline);
    }
}
