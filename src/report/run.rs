//! Run reports for the terminal: the per-case summary, the comparison with a baseline (with
//! output diffs), and the gate's decision.

use crate::compare::gate::Decision;
use crate::compare::{Class, Comparison, Op};
use crate::run::{Run, Status, Summary, case_stats};

use super::truncate;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Error => "!",
    }
}

pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} cases: {} passed, {} failed, {} errors · pass rate {} · tokens {} in / {} out · cost {} · latency p50 {} ms, p95 {} ms",
        s.cases,
        s.passed,
        s.failed,
        s.errored,
        pct(s.pass_rate),
        s.input_tokens,
        s.output_tokens,
        s.cost_usd.map(|c| format!("${c:.4}")).unwrap_or_else(|| "unknown (model not priced)".into()),
        s.latency_p50_ms,
        s.latency_p95_ms
    )
}

/// The run, case by case: failures and errors with their reasons.
pub fn run(run: &Run) -> String {
    let mut out = format!("suite {} ({}) · {} · model {}\n", run.suite.name, run.suite.path, run.id, run.target.model);
    let width = run.results.iter().map(|r| r.case_id.chars().count()).max().unwrap_or(0);
    for r in &run.results {
        let repeat = if r.repeat > 0 { format!(" #{}", r.repeat) } else { String::new() };
        out.push_str(&format!(
            "  {} {:<width$}{repeat}  {:<5}  {} turn{}  {} tokens  {} ms\n",
            mark(r.status),
            r.case_id,
            r.status.as_str(),
            r.turns,
            if r.turns == 1 { "" } else { "s" },
            r.usage.total(),
            r.latency_ms
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!("      error: {}\n", truncate(e, 200)));
        }
        for g in r.grades.iter().filter(|g| !g.pass) {
            out.push_str(&format!("      {}: {}\n", g.grader, truncate(&g.reason, 200)));
        }
    }
    out.push_str(&summary_line(&run.summary));
    out.push('\n');
    out.push_str(&replay_lines(run));
    out
}

/// How replay went: cache hits, retries, errors by cause, and per-case pass counts over repeats.
pub fn replay_lines(run: &Run) -> String {
    let s = &run.summary;
    let mut out = format!(
        "model calls {} · cache hits {} ({}) · retries {}\n",
        s.model_calls,
        s.cache_hits,
        pct(s.cache_hit_ratio),
        s.retries
    );
    if !s.errors_by_cause.is_empty() {
        let causes: Vec<String> = s.errors_by_cause.iter().map(|(c, n)| format!("{c} {n}")).collect();
        out.push_str(&format!("errors by cause: {}\n", causes.join(", ")));
    }
    if s.repeat > 1 {
        out.push_str(&format!("{} samples per case; flaky: {}\n", s.repeat, s.flaky.len()));
        for c in case_stats(&run.results) {
            let flaky = if c.flaky() { "  flaky" } else { "" };
            out.push_str(&format!("  {}  {}/{} passed{flaky}\n", c.case_id, c.passed, c.samples));
        }
    }
    out
}

/// The comparison with a baseline: counts, pass-rate delta, and each changed case with its diff.
pub fn comparison(cmp: &Comparison) -> String {
    let mut out = format!("compared with {} (baseline)\n", cmp.base.run_id);
    let order = [
        Class::Regressed,
        Class::Errored,
        Class::Fixed,
        Class::StillFailing,
        Class::New,
        Class::Removed,
        Class::StillPassing,
    ];
    let counts: Vec<String> = order.iter().map(|c| format!("{} {}", c.as_str(), cmp.count(*c))).collect();
    out.push_str(&format!("  {}\n", counts.join(" · ")));
    out.push_str(&format!(
        "  pass rate {} → {} ({:+.1} pts)\n",
        pct(cmp.base.summary.pass_rate),
        pct(cmp.current.summary.pass_rate),
        cmp.pass_rate_delta * 100.0
    ));
    for class in &order[..order.len() - 1] {
        for c in cmp.of_class(*class) {
            let repeat = if c.repeat > 0 { format!(" #{}", c.repeat) } else { String::new() };
            let statuses = format!(
                "{} → {}",
                c.base.map(Status::as_str).unwrap_or("-"),
                c.current.map(Status::as_str).unwrap_or("-")
            );
            out.push_str(&format!("\n{}: {}{repeat} ({statuses})\n", class.as_str(), c.case_id));
            for r in &c.reasons {
                out.push_str(&format!("    {}\n", truncate(r, 200)));
            }
            for h in c.diff.iter().flatten() {
                out.push_str(&format!("    {}\n", h.header));
                for l in &h.lines {
                    let sign = match l.op {
                        Op::Equal => ' ',
                        Op::Delete => '-',
                        Op::Insert => '+',
                    };
                    out.push_str(&format!("    {sign}{}\n", l.text));
                }
            }
        }
    }
    out
}

pub fn decision(d: &Decision) -> String {
    format!("{}\n", d.reason)
}
