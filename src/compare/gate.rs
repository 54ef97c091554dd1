//! The gate: the suite's pass criteria, and the decision (with its one-sentence reason) that
//! becomes the exit code.

use serde::{Deserialize, Serialize};

use super::{Class, Comparison};
use crate::record::Summary;
use crate::suite::gate::Gate;

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
        checks.push(regressions(gate, cmp));
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

fn regressions(gate: &Gate, cmp: &Comparison) -> Check {
    let max = gate.max_regressions.unwrap_or(0);
    let n = cmp.count(Class::Regressed);
    let names: Vec<&str> = cmp.of_class(Class::Regressed).map(|c| c.case_id.as_str()).take(5).collect();
    let more = if n > names.len() { format!(", and {} more", n - names.len()) } else { String::new() };
    let counted = if n == 0 {
        format!("0 regressions (max {max})")
    } else {
        format!("{n} regression{} (max {max}): {}{more}", if n == 1 { "" } else { "s" }, names.join(", "))
    };
    let over = n > max;
    let Some(alpha) = gate.significance.filter(|_| over) else {
        return Check { name: "max_regressions".into(), passed: !over, detail: counted };
    };
    let m = &cmp.mcnemar;
    // A drop is significant when the discordant pairs lean to pass → fail beyond chance.
    let significant = m.pass_to_fail > m.fail_to_pass && m.p_value < alpha;
    let test = format!(
        "McNemar p = {} on {} shared cases ({} pass→fail, {} fail→pass)",
        fmt_p(m.p_value),
        m.shared,
        m.pass_to_fail,
        m.fail_to_pass
    );
    Check {
        name: "max_regressions".into(),
        passed: !significant,
        detail: if significant {
            format!("{counted}, a significant drop ({test} < {alpha})")
        } else {
            format!("{counted}, but the drop is not significant ({test}, need < {alpha})")
        },
    }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 { format!("{p:.1e}") } else { format!("{p:.3}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::compare::tests::run;
    use crate::record::Status;

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

    #[test]
    fn significance_keeps_noise_from_failing_the_gate() {
        // 2 of 20 cases regress, 1 got fixed: p = 1.0, noise.
        let mut b = vec![("a", Status::Pass, "x"), ("b", Status::Pass, "x"), ("c", Status::Fail, "x")];
        let mut c = vec![("a", Status::Fail, "y"), ("b", Status::Fail, "y"), ("c", Status::Pass, "x")];
        let ids: Vec<String> = (0..17).map(|i| format!("same{i}")).collect();
        for id in &ids {
            b.push((id, Status::Pass, "x"));
            c.push((id, Status::Pass, "x"));
        }
        let cmp = compare(&run("b", &b), &run("c", &c));
        let gate = Gate { significance: Some(0.05), ..Gate::default() };
        let d = decide(&gate, &cmp.current.summary, Some(&cmp));
        assert!(d.passed, "{}", d.reason);
        assert!(d.reason.starts_with("gate passed:") && d.reason.contains("not significant"), "{}", d.reason);
        // Without significance the same change fails.
        assert!(!decide(&Gate::default(), &cmp.current.summary, Some(&cmp)).passed);

        // 8 regressions, no fixes: p = 2/256 < 0.05, a real drop.
        let b: Vec<_> = ids.iter().map(|id| (id.as_str(), Status::Pass, "x")).collect();
        let c: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), if i < 8 { Status::Fail } else { Status::Pass }, "x"))
            .collect();
        let cmp = compare(&run("b", &b), &run("c", &c));
        let d = decide(&gate, &cmp.current.summary, Some(&cmp));
        assert!(!d.passed);
        assert!(d.reason.contains("a significant drop (McNemar p = 0.008"), "{}", d.reason);
    }
}
