//! Run reports for the terminal: the per-case summary, the comparison with a baseline (deltas,
//! statistics, breakdowns, output diffs), the pass-rate trend and the gate's decision; coloured
//! only when asked.

use crate::compare::gate::Decision;
use crate::compare::{CaseRates, Class, Comparison, DiffLine, Flakiness, Op};
use crate::record::{CaseResult, Run, Status, Summary, TrendPoint, case_stats};

use super::{group_rows, pct, pts, sparkline, table};
use crate::text::truncate;

/// ANSI styling, or none.
#[derive(Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn class(self, c: Class, s: &str) -> String {
        match c {
            Class::Regressed | Class::Errored => self.red(s),
            Class::Fixed => self.green(s),
            Class::Flaky => self.yellow(s),
            _ => s.to_string(),
        }
    }
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
pub fn run(run: &Run, paint: Paint) -> String {
    let mut out = format!("suite {} ({}) · {} · model {}\n", run.suite.name, run.suite.path, run.id, run.target.model);
    if let Some(g) = &run.git {
        out.push_str(&format!("git {} {}\n", g.branch.as_deref().unwrap_or("(detached)"), short(&g.commit)));
    }
    // The repeat belongs to the name column, so the columns after it line up.
    let label = |r: &CaseResult| if r.repeat > 0 { format!("{} #{}", r.case_id, r.repeat) } else { r.case_id.clone() };
    let width = run.results.iter().map(|r| label(r).chars().count()).max().unwrap_or(0);
    for r in &run.results {
        let m = match r.status {
            Status::Pass => paint.green(mark(r.status)),
            _ => paint.red(mark(r.status)),
        };
        out.push_str(&format!(
            "  {m} {:<width$}  {:<5}  {} turn{}  {} tokens  {} ms\n",
            label(r),
            r.status.as_str(),
            r.turns,
            if r.turns == 1 { "" } else { "s" },
            r.usage.total(),
            r.latency_ms
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!("      error: {}\n", truncate(e, 200)));
        }
        for g in r.grades.iter().filter(|g| !g.pass && !g.error) {
            out.push_str(&format!("      {}: {}\n", g.grader, truncate(&g.reason, 200)));
        }
        for m in r.unmatched_calls() {
            out.push_str(&format!("      {}\n", truncate(m, 300)));
        }
    }
    out.push_str(&graders(&run.summary));
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

/// Pass rate per grader, and what the judges cost apart from the target.
pub fn graders(s: &Summary) -> String {
    if s.graders.is_empty() {
        return String::new();
    }
    let width = s.graders.iter().map(|g| g.grader.chars().count()).max().unwrap_or(0);
    let mut out = String::from("graders:\n");
    for g in &s.graders {
        let errors = if g.errors > 0 {
            format!(", {} error{}", g.errors, if g.errors == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {:<width$}  {:>6}  ({}/{}{errors})\n",
            g.grader,
            pct(g.pass_rate),
            g.passed,
            g.passed + g.failed
        ));
    }
    if let Some(c) = s.judge_cost_usd {
        out.push_str(&format!("judge cost ${c:.4} (not in the run's cost)\n"));
    }
    out
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

fn signed(x: i64) -> String {
    format!("{x:+}")
}

/// The comparison with a baseline: counts, deltas, statistics, breakdowns, and each changed case
/// with its diffs.
pub fn comparison(cmp: &Comparison, paint: Paint) -> String {
    let mut out = format!("compared with {} (baseline)\n", cmp.base.run_id);
    let counts: Vec<String> =
        Class::ALL.iter().map(|c| paint.class(*c, &format!("{} {}", c.as_str(), cmp.count(*c)))).collect();
    out.push_str(&format!("  {}\n", counts.join(" · ")));
    let (b, c) = (&cmp.base, &cmp.current);
    out.push_str(&format!(
        "  pass rate {} [{}–{}] → {} [{}–{}] ({})\n",
        pct(b.summary.pass_rate),
        pct(b.stats.pass_rate_ci.low),
        pct(b.stats.pass_rate_ci.high),
        pct(c.summary.pass_rate),
        pct(c.stats.pass_rate_ci.low),
        pct(c.stats.pass_rate_ci.high),
        pts(cmp.deltas.pass_rate)
    ));
    let d = &cmp.deltas;
    let score = |s: Option<f64>| s.map(|s| format!("{s:.3}")).unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "  mean score {} → {} · tokens {} in / {} out · cost {} · latency p50 {} ms, p95 {} ms\n",
        score(b.stats.mean_score),
        score(c.stats.mean_score),
        signed(d.input_tokens),
        signed(d.output_tokens),
        d.cost_usd.map(|c| format!("{c:+.4} $")).unwrap_or_else(|| "unknown".into()),
        signed(d.latency_p50_ms),
        signed(d.latency_p95_ms)
    ));
    let m = &cmp.mcnemar;
    out.push_str(&format!(
        "  McNemar exact p = {:.3} on {} shared cases ({} pass→fail, {} fail→pass)\n",
        m.p_value, m.shared, m.pass_to_fail, m.fail_to_pass
    ));
    if c.stats.repeats > 1 {
        let k: Vec<String> = c.stats.pass_hat_k.iter().map(|p| format!("pass^{} {}", p.k, pct(p.value))).collect();
        out.push_str(&format!("  {}\n", k.join(" · ")));
    }
    for (name, rate) in &c.stats.graders {
        let before = b.stats.graders.get(name).and_then(|r| r.rate());
        if let Some(now) = rate.rate() {
            let was = before.map(pct).unwrap_or_else(|| "-".into());
            out.push_str(&format!("  grader {name}: {was} → {}\n", pct(now)));
        }
    }
    for mode in &cmp.new_failure_modes {
        out.push_str(&paint.red(&format!("  new failure mode: {mode} fails now and did not fail in the baseline\n")));
    }
    // Only groups that fail somewhere: the terminal is for what needs a look.
    let rows: Vec<Vec<String>> = group_rows(cmp)
        .into_iter()
        .filter(|r| r.group.base.failed + r.group.current.failed > 0)
        .map(|r| vec![format!("{} {}", r.kind, r.group.key), r.before, r.now])
        .collect();
    if !rows.is_empty() {
        for line in table(&["group", "failed before", "failed now"], &rows, &[1, 2]).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    for class in Class::ALL.iter().filter(|c| **c != Class::StillPassing) {
        for (c, rates) in cmp.listed(*class) {
            let how = match rates.and_then(CaseRates::fractions) {
                Some(f) => format!(" {f}"),
                None => format!(
                    " ({} → {})",
                    c.base.map(Status::as_str).unwrap_or("-"),
                    c.current.map(Status::as_str).unwrap_or("-")
                ),
            };
            out.push_str(&format!("\n{}: {}{how}\n", paint.class(*class, class.as_str()), paint.bold(&c.case_id)));
            for r in &c.reasons {
                out.push_str(&format!("    {}\n", truncate(r, 200)));
            }
            for h in c.diff.iter().flatten() {
                out.push_str(&format!("    {}\n", h.header));
                for l in &h.lines {
                    out.push_str(&diff_line(l, paint));
                }
            }
            let Some(ch) = &c.changes else { continue };
            if !ch.tool_calls.is_empty() {
                out.push_str("    tool calls:\n");
                for l in &ch.tool_calls {
                    out.push_str(&diff_line(l, paint));
                }
            }
            for j in &ch.json {
                let v = |v: &Option<serde_json::Value>| {
                    v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into())
                };
                out.push_str(&format!(
                    "    {}: {} → {}\n",
                    j.path,
                    truncate(&v(&j.base), 80),
                    truncate(&v(&j.current), 80)
                ));
            }
            if ch.truncated {
                out.push_str("    (diff cut short by its deadline)\n");
            }
        }
    }
    out
}

/// The pass-rate trend of recent runs, as a sparkline.
/// One line of a text or tool-call diff, indented under its case.
fn diff_line(l: &DiffLine, paint: Paint) -> String {
    match l.op {
        Op::Equal => format!("     {}\n", l.text),
        Op::Delete => paint.red(&format!("    -{}\n", l.text)),
        Op::Insert => paint.green(&format!("    +{}\n", l.text)),
    }
}

pub fn trend(points: &[TrendPoint]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let rates: Vec<f64> = points.iter().map(|p| p.pass_rate).collect();
    format!(
        "trend of the last {} runs: {} {} → {}\n",
        points.len(),
        sparkline(&rates),
        pct(rates[0]),
        pct(rates[rates.len() - 1])
    )
}

/// Cases by estimated flakiness over `runs` stored runs; always-the-same cases are counted, not listed.
pub fn flaky(suite: &str, runs: usize, cases: &[Flakiness]) -> String {
    if runs == 0 {
        return format!("no finished runs of suite {suite} in the store\n");
    }
    let (shown, steady): (Vec<&Flakiness>, Vec<&Flakiness>) = cases.iter().partition(|c| c.flakiness > 0.0);
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|c| {
            vec![
                c.case_id.clone(),
                format!("{}/{}", c.rate.passed, c.rate.total),
                pct(c.rate.rate().unwrap_or(0.0)),
                format!("{:.2}", c.flakiness),
            ]
        })
        .collect();
    let mut out = format!("{} of {} cases flaky over the last {runs} runs of {suite}\n", shown.len(), cases.len());
    if !rows.is_empty() {
        out.push_str(&table(&["CASE", "PASSED", "PASS RATE", "FLAKINESS"], &rows, &[1, 2, 3]));
    }
    if !steady.is_empty() {
        out.push_str(&format!("{} cases always passed or always failed\n", steady.len()));
    }
    out
}

/// Stored runs, newest first.
pub fn runs(list: &[Run]) -> String {
    if list.is_empty() {
        return "no stored runs\n".into();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.suite.name.clone(),
                r.started_at.format("%Y-%m-%d %H:%M").to_string(),
                r.summary.cases.to_string(),
                pct(r.summary.pass_rate),
                r.git
                    .as_ref()
                    .map(|g| format!("{}@{}", g.branch.as_deref().unwrap_or("-"), short(&g.commit)))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["RUN", "SUITE", "STARTED", "CASES", "PASS RATE", "GIT"], &rows, &[3, 4])
}

pub fn decision(d: &Decision, paint: Paint) -> String {
    let s = if d.passed { paint.green(&d.reason) } else { paint.red(&d.reason) };
    format!("{s}\n")
}
