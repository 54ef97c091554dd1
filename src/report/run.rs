//! Run reports for the terminal: the per-case summary, the comparison with a baseline (deltas,
//! statistics, breakdowns, output diffs), the pass-rate trend and the gate's decision; coloured
//! only when asked.

use std::borrow::Borrow;

use crate::compare::gate::Decision;
use crate::compare::{CaseRates, Class, Comparison, DiffLine, Flakiness, Op};
use crate::record::{CaseResult, Run, Status, Summary, TrendPoint};

use super::{group_rows, pct, pts, sparkline, table};
use crate::text::{self, count, natural_cmp, truncate};

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

/// What the terminal report shows.
#[derive(Clone, Copy)]
pub struct View {
    pub paint: Paint,
    /// Every case, passing ones included, and every class of change in full.
    pub verbose: bool,
}

/// Ids listed on one line for a class shown in short (fixed, removed, ...) before `… and N more`.
const IDS_ON_A_LINE: usize = 12;

/// The report of `evals run`, `evals diff` and `evals runs show`, most important first: the verdict
/// and its reason, the run in two lines, the comparison's figures, then the cases that need a
/// look (regressions, errors, flaky and failing new cases) with their reasons and diffs, and the
/// rest in one line per class. `run` is read for its header and summary only; the results come
/// as a stream in store order (by case, then repeat), so a run need not be held whole. Cases are
/// listed in natural order of their ids.
pub fn report(
    run: &Run,
    results: impl IntoIterator<Item = impl Borrow<CaseResult>>,
    cmp: Option<&Comparison>,
    decision: Option<&Decision>,
    trend_points: &[TrendPoint],
    view: View,
) -> String {
    let paint = view.paint;
    let mut out = decision.map(|d| self::decision(d, paint)).unwrap_or_default();
    out.push_str(&format!("suite {} ({}) · {} · model {}", run.suite.name, run.suite.path, run.id, run.target.model));
    if let Some(g) = &run.git {
        out.push_str(&format!(" · git {} {}", g.branch.as_deref().unwrap_or("(detached)"), short(&g.commit)));
    }
    out.push('\n');
    out.push_str(&summary_line(&run.summary));
    out.push('\n');
    let s = &run.summary;
    // How replay went matters when it did not go smoothly; --verbose always says.
    if view.verbose || s.retries > 0 || !s.errors_by_cause.is_empty() || s.repeat > 1 {
        out.push_str(&replay_lines(s));
    }
    match cmp {
        Some(cmp) => {
            if view.verbose {
                out.push_str(&graders(s));
            }
            out.push_str(&comparison(cmp, view));
        }
        None => {
            out.push_str(&if view.verbose { graders(s) } else { graders_line(s) });
            out.push_str(&cases(results, view));
        }
    }
    out.push_str(&trend(trend_points));
    out
}

/// A run's results without a baseline: each case that did not always pass with its reasons,
/// then the passing ones in one line (each on its own with `--verbose`).
fn cases<R: Borrow<CaseResult>>(results: impl IntoIterator<Item = R>, view: View) -> String {
    let paint = view.paint;
    // (id, text) of each listed case; the samples of a case are adjacent in the stream.
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut passing = 0usize;
    let mut flush = |group: &[R]| {
        let samples: Vec<&CaseResult> = group.iter().map(R::borrow).collect();
        let Some(first) = samples.first().copied() else { return };
        let count = |s: Status| samples.iter().filter(|r| r.status == s).count();
        let (passed, errored) = (count(Status::Pass), count(Status::Error));
        let shown = samples.iter().find(|r| r.status != Status::Pass).copied();
        if shown.is_none() && !view.verbose {
            passing += 1;
            return;
        }
        let r = shown.unwrap_or(first);
        let (word, m) = match shown {
            None => ("passed", paint.green(mark(Status::Pass))),
            Some(_) if errored == samples.len() => ("errored", paint.red(mark(Status::Error))),
            Some(_) if passed > 0 => ("flaky", paint.yellow(mark(Status::Fail))),
            Some(x) => ("failed", paint.red(mark(x.status))),
        };
        let fraction = if samples.len() > 1 { format!(" {passed}/{} passed", samples.len()) } else { String::new() };
        let mut text = format!(
            "{m} {word}: {}{fraction} · {} turn{} · {} tokens · {} ms\n",
            paint.bold(&r.case_id),
            r.turns,
            if r.turns == 1 { "" } else { "s" },
            r.usage.total(),
            r.latency_ms
        );
        for reason in super::reasons(r) {
            text.push_str(&format!("    {}\n", truncate(&reason, 300)));
        }
        if shown.is_none() {
            passing += 1;
        }
        listed.push((first.case_id.clone(), text));
    };
    let mut samples: Vec<R> = Vec::new();
    for r in results {
        if samples.last().is_some_and(|s| s.borrow().case_id != r.borrow().case_id) {
            flush(&samples);
            samples.clear();
        }
        samples.push(r);
    }
    flush(&samples);
    listed.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    let mut out = String::new();
    for (_, text) in &listed {
        out.push_str(text);
    }
    if passing > 0 && !view.verbose {
        out.push_str(&format!(
            "{} {} passed (--verbose lists them)\n",
            paint.green(mark(Status::Pass)),
            count(passing, "case")
        ));
    }
    out
}

/// How replay went: cache hits, retries, errors by cause, and the samples per case.
pub fn replay_lines(s: &Summary) -> String {
    let mut out = format!(
        "model calls {} · cache hits {} ({}) · retries {}",
        s.model_calls,
        s.cache_hits,
        pct(s.cache_hit_ratio),
        s.retries
    );
    if s.repeat > 1 {
        out.push_str(&format!(" · {} samples per case, {} flaky", s.repeat, s.flaky.len()));
    }
    if !s.errors_by_cause.is_empty() {
        let causes: Vec<String> = s.errors_by_cause.iter().map(|(c, n)| format!("{c} {n}")).collect();
        out.push_str(&format!(" · errors by cause: {}", causes.join(", ")));
    }
    out.push('\n');
    out
}

/// Pass rate per grader on one line, worst first.
fn graders_line(s: &Summary) -> String {
    if s.graders.is_empty() {
        return String::new();
    }
    let mut g: Vec<_> = s.graders.iter().collect();
    g.sort_by(|a, b| a.pass_rate.total_cmp(&b.pass_rate).then_with(|| a.grader.cmp(&b.grader)));
    let parts: Vec<String> = g
        .iter()
        .map(|g| {
            let graded = g.passed + g.failed;
            let rate = if graded > 0 { pct(g.pass_rate) } else { "–".into() };
            let errors = if g.errors > 0 { format!(", {}", count(g.errors, "error")) } else { String::new() };
            format!("{} {rate} ({}/{graded}{errors})", g.grader, g.passed)
        })
        .collect();
    let judges = s.judge_cost_usd.map(|c| format!(" · judge cost ${c:.4}")).unwrap_or_default();
    format!("graders: {}{judges}\n", parts.join(" · "))
}

/// Pass rate per grader, and what the judges cost apart from the target.
pub fn graders(s: &Summary) -> String {
    if s.graders.is_empty() {
        return String::new();
    }
    // Padded by terminal columns, so names with wide characters line up too.
    let width = s.graders.iter().map(|g| text::width(&g.grader)).max().unwrap_or(0);
    let mut out = String::from("graders:\n");
    for g in &s.graders {
        let errors = if g.errors > 0 {
            format!(", {} error{}", g.errors, if g.errors == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        let pad = " ".repeat(width - text::width(&g.grader));
        out.push_str(&format!(
            "  {}{pad}  {:>6}  ({}/{}{errors})\n",
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

/// The comparison with a baseline: counts, deltas and statistics, then the cases that need a
/// look in full (regressed, errored, flaky, new and not passing), the others by id on one line a
/// class; with `verbose`, every case in full and the breakdown by category and tag.
fn comparison(cmp: &Comparison, view: View) -> String {
    let paint = view.paint;
    let counts: Vec<String> = Class::ALL
        .iter()
        .filter(|c| cmp.count(**c) > 0 || view.verbose)
        .map(|c| paint.class(*c, &format!("{} {}", c.as_str(), cmp.count(*c))))
        .collect();
    let mut out = format!("compared with {} (baseline): {}\n", cmp.base.run_id, counts.join(" · "));
    let (b, c) = (&cmp.base, &cmp.current);
    let m = &cmp.mcnemar;
    out.push_str(&format!(
        "  pass rate {} [{}–{}] → {} [{}–{}] ({}) · McNemar exact p = {:.3} on {} shared cases ({} pass→fail, {} fail→pass)\n",
        pct(b.summary.pass_rate),
        pct(b.stats.pass_rate_ci.low),
        pct(b.stats.pass_rate_ci.high),
        pct(c.summary.pass_rate),
        pct(c.stats.pass_rate_ci.low),
        pct(c.stats.pass_rate_ci.high),
        pts(cmp.deltas.pass_rate),
        m.p_value,
        m.shared,
        m.pass_to_fail,
        m.fail_to_pass
    ));
    let d = &cmp.deltas;
    let score = |s: Option<f64>| s.map(|s| format!("{s:.3}")).unwrap_or_else(|| "–".into());
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
    if c.stats.repeats > 1 {
        let k: Vec<String> = c.stats.pass_hat_k.iter().map(|p| format!("pass^{} {}", p.k, pct(p.value))).collect();
        out.push_str(&format!("  {}\n", k.join(" · ")));
    }
    let graders: Vec<String> = c
        .stats
        .graders
        .iter()
        .filter_map(|(name, rate)| {
            let now = rate.rate()?;
            let was = b.stats.graders.get(name).and_then(|r| r.rate()).map(pct).unwrap_or_else(|| "–".into());
            Some(format!("{name} {was} → {}", pct(now)))
        })
        .collect();
    // One grader says what the pass rate says.
    if graders.len() > 1 || view.verbose && !graders.is_empty() {
        out.push_str(&format!("  graders: {}\n", graders.join(" · ")));
    }
    for mode in &cmp.new_failure_modes {
        out.push_str(&paint.red(&format!("  new failure mode: {mode} fails now and did not fail in the baseline\n")));
    }
    // Groups that fail more than before; every group that fails somewhere with --verbose.
    let rows: Vec<Vec<String>> = group_rows(cmp)
        .into_iter()
        .filter(|r| if view.verbose { r.group.base.failed + r.group.current.failed > 0 } else { worse(r.group) })
        .map(|r| vec![format!("{} {}", r.kind, r.group.key), r.before, r.now])
        .collect();
    if !rows.is_empty() {
        for line in table(&["group", "failed before", "failed now"], &rows, &[1, 2]).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    for class in Class::ALL {
        let mut listed = cmp.listed(class);
        listed.sort_by(|x, y| natural_cmp(&x.0.case_id, &y.0.case_id));
        // New cases that pass are good news, like fixed ones: listed by id.
        let (full, short): (Vec<_>, Vec<_>) = listed.into_iter().partition(|(c, _)| {
            view.verbose && class != Class::StillPassing
                || matches!(class, Class::Regressed | Class::Errored | Class::Flaky)
                || class == Class::New && c.current != Some(Status::Pass)
        });
        for (c, rates) in full {
            out.push_str(&case_change(class, c, rates, paint));
        }
        if short.is_empty() {
            continue;
        }
        let label = if class == Class::New { "new and passing" } else { class.as_str() };
        if class == Class::StillPassing && !view.verbose {
            out.push_str(&format!("{label}: {} (--verbose lists them)\n", count(short.len(), "case")));
            continue;
        }
        let cut = if view.verbose { short.len() } else { IDS_ON_A_LINE };
        let ids: Vec<&str> = short.iter().take(cut).map(|(c, _)| c.case_id.as_str()).collect();
        let more = short.len().saturating_sub(cut);
        let rest = if more > 0 { format!(" … and {more} more (--verbose lists them)") } else { String::new() };
        out.push_str(&format!("{} ({}): {}{rest}\n", paint.class(class, label), short.len(), ids.join(", ")));
    }
    out
}

/// A group fails more cases now than in the baseline.
fn worse(g: &crate::compare::Group) -> bool {
    g.current.failed > g.base.failed
}

/// One changed case in full: its class and verdicts, the reasons it does not pass, and the diffs
/// of its text, tool calls and JSON output.
fn case_change(class: Class, c: &crate::compare::CaseChange, rates: Option<&CaseRates>, paint: Paint) -> String {
    let how = match rates.and_then(CaseRates::fractions) {
        Some(f) => format!(" {f}"),
        None => format!(
            " ({} → {})",
            c.base.map(Status::as_str).unwrap_or("-"),
            c.current.map(Status::as_str).unwrap_or("-")
        ),
    };
    let mut out = format!("{}: {}{how}\n", paint.class(class, class.as_str()), paint.bold(&c.case_id));
    for r in &c.reasons {
        out.push_str(&format!("    {}\n", truncate(r, 200)));
    }
    for h in c.diff.iter().flatten() {
        out.push_str(&format!("    {}\n", h.header));
        for l in &h.lines {
            out.push_str(&diff_line(l, paint));
        }
    }
    let Some(ch) = &c.changes else { return out };
    if !ch.tool_calls.is_empty() {
        out.push_str("    tool calls:\n");
        for l in &ch.tool_calls {
            out.push_str(&diff_line(l, paint));
        }
    }
    for j in &ch.json {
        let v = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
        out.push_str(&format!("    {}: {} → {}\n", j.path, truncate(&v(&j.base), 80), truncate(&v(&j.current), 80)));
    }
    if ch.truncated {
        out.push_str("    (diff cut short by its deadline)\n");
    }
    out
}

/// One line of a text or tool-call diff, indented under its case.
fn diff_line(l: &DiffLine, paint: Paint) -> String {
    match l.op {
        Op::Equal => format!("     {}\n", l.text),
        Op::Delete => paint.red(&format!("    -{}\n", l.text)),
        Op::Insert => paint.green(&format!("    +{}\n", l.text)),
    }
}

/// The pass-rate trend of recent runs, as a sparkline.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::GraderStat;

    #[test]
    fn grader_names_with_wide_characters_line_up() {
        let stat = |name: &str| GraderStat { grader: name.into(), passed: 1, failed: 1, errors: 0, pass_rate: 0.5 };
        let s = Summary { graders: vec![stat("相似度"), stat("contains_all")], ..Summary::default() };
        let text = graders(&s);
        let columns: Vec<usize> = text.lines().skip(1).map(|l| text::width(&l[..l.find("50.0%").expect(l)])).collect();
        assert_eq!(columns.len(), 2);
        assert_eq!(columns[0], columns[1], "{text}");
    }
}
