//! The gate: the suite's pass criteria, and the decision (with its one-sentence reason) that
//! becomes the exit code.

use serde::{Deserialize, Serialize};

use super::{Class, Comparison};
use crate::run::Summary;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Lowest acceptable pass rate, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pass_rate: Option<f64>,
    /// Cases allowed to go from pass to fail against the baseline (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regressions: Option<usize>,
    /// Spending limits for replay: once reached, no new case starts and the rest end as errors
    /// with the cause `budget`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub passed: bool,
    /// One sentence saying why.
    pub reason: String,
    pub checks: Vec<Check>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Decide the gate for a run, against its baseline when there is one.
pub fn decide(gate: &Gate, summary: &Summary, comparison: Option<&Comparison>) -> Decision {
    let mut checks = Vec::new();
    checks.push(Check {
        name: "graded".into(),
        passed: summary.graded() > 0,
        detail: format!("{} of {} cases graded ({} errors)", summary.graded(), summary.cases, summary.errored),
    });
    if let Some(min) = gate.min_pass_rate {
        checks.push(Check {
            name: "min_pass_rate".into(),
            passed: summary.pass_rate + 1e-12 >= min,
            detail: format!("pass rate {} (min {})", pct(summary.pass_rate), pct(min)),
        });
    }
    if let Some(cmp) = comparison {
        let max = gate.max_regressions.unwrap_or(0);
        let n = cmp.count(Class::Regressed);
        let names: Vec<&str> = cmp.of_class(Class::Regressed).map(|c| c.case_id.as_str()).take(5).collect();
        let more = if n > names.len() { format!(", and {} more", n - names.len()) } else { String::new() };
        checks.push(Check {
            name: "max_regressions".into(),
            passed: n <= max,
            detail: if n == 0 {
                format!("0 regressions (max {max})")
            } else {
                format!("{n} regression{} (max {max}): {}{more}", if n == 1 { "" } else { "s" }, names.join(", "))
            },
        });
    }
    if let Some(n) = summary.errors_by_cause.get("budget") {
        checks.push(Check {
            name: "budget".into(),
            passed: false,
            detail: format!("budget reached: {n} case{} not run", if *n == 1 { "" } else { "s" }),
        });
    }
    let passed = checks.iter().all(|c| c.passed);
    let shown: Vec<&str> = checks.iter().filter(|c| c.passed == passed).map(|c| c.detail.as_str()).collect();
    let reason = format!("gate {}: {}", if passed { "passed" } else { "failed" }, shown.join("; "));
    Decision { passed, reason, checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::compare::tests::run;
    use crate::run::Status;

    #[test]
    fn pass_rate_floor() {
        let r = run("r", &[("a", Status::Pass, ""), ("b", Status::Fail, "")]);
        let gate = Gate { min_pass_rate: Some(0.6), ..Gate::default() };
        let d = decide(&gate, &r.summary, None);
        assert!(!d.passed);
        assert_eq!(d.reason, "gate failed: pass rate 50.0% (min 60.0%)");
        let d = decide(&Gate { min_pass_rate: Some(0.5), ..gate }, &r.summary, None);
        assert!(d.passed, "{}", d.reason);
    }

    #[test]
    fn regressions_fail_by_default_and_are_named() {
        let base = run("b", &[("a", Status::Pass, "x"), ("b", Status::Pass, "x")]);
        let cur = run("c", &[("a", Status::Fail, "y"), ("b", Status::Pass, "x")]);
        let cmp = compare(&base, &cur);
        let d = decide(&Gate::default(), &cur.summary, Some(&cmp));
        assert!(!d.passed);
        assert_eq!(d.reason, "gate failed: 1 regression (max 0): a");
        let lenient = Gate { max_regressions: Some(1), ..Gate::default() };
        assert!(decide(&lenient, &cur.summary, Some(&cmp)).passed);
    }

    #[test]
    fn a_run_with_nothing_graded_fails() {
        let r = run("r", &[("a", Status::Error, "")]);
        let d = decide(&Gate::default(), &r.summary, None);
        assert!(!d.passed);
        assert!(d.reason.contains("0 of 1 cases graded (1 errors)"), "{}", d.reason);
    }
}
