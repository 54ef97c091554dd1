//! The Markdown report, for a pull-request comment or `$GITHUB_STEP_SUMMARY`: verdict and numbers
//! first, every case list collapsed, and cut to fit GitHub's size limit.

use std::fmt::Write;

use crate::compare::{CaseRates, Class, Comparison, Op};
use crate::record::Status;

use super::{Links, Report, escape, group_rows, metric_rows, pct, pts, sparkline};
use crate::text::truncate;

/// GitHub refuses comments and step summaries longer than this many characters.
pub const GITHUB_LIMIT: usize = 65_536;

/// Room kept for the closing lines after the case lists are cut.
const RESERVE: usize = 600;

pub fn render(r: &Report, limit: usize) -> String {
    let d = r.decision;
    let mut out = String::new();
    let icon = if d.passed { "✅" } else { "❌" };
    let _ = writeln!(
        out,
        "## {icon} evals · {} · {}\n",
        escape(&r.run.suite.name),
        if d.passed { "gate passed" } else { "gate failed" }
    );
    let _ = writeln!(out, "**{}**\n", escape(&d.reason));
    match r.comparison {
        Some(cmp) => head(&mut out, cmp),
        None => {
            let s = &r.run.summary;
            let _ = writeln!(
                out,
                "{} cases: {} passed, {} failed, {} errors · pass rate {}\n",
                s.cases,
                s.passed,
                s.failed,
                s.errored,
                pct(s.pass_rate)
            );
        }
    }
    if r.trend.len() > 1 {
        let rates: Vec<f64> = r.trend.iter().map(|p| p.pass_rate).collect();
        let _ = writeln!(out, "Pass-rate trend, last {} runs: `{}`\n", rates.len(), sparkline(&rates));
    }

    // Case lists, worst first, until the budget is spent.
    let budget = limit.saturating_sub(RESERVE);
    let mut omitted = 0usize;
    let blocks = case_blocks(r);
    for (title, cases) in blocks {
        if cases.is_empty() {
            continue;
        }
        let open = format!("<details><summary>{} ({})</summary>\n\n", escape(&title), cases.len());
        if out.len() + open.len() + 20 > budget {
            omitted += cases.len();
            continue;
        }
        out.push_str(&open);
        for (i, block) in cases.iter().enumerate() {
            if out.len() + block.len() + 20 > budget {
                omitted += cases.len() - i;
                break;
            }
            out.push_str(block);
        }
        out.push_str("</details>\n\n");
    }
    if omitted > 0 {
        let _ = writeln!(out, "_{omitted} more cases not shown here (size limit); the HTML report has them all._\n");
    }
    let _ = writeln!(out, "<sub>run {} · evals {}</sub>", escape(&r.run.id), env!("CARGO_PKG_VERSION"));
    out
}

fn head(out: &mut String, cmp: &Comparison) {
    let (b, c, d) = (&cmp.base, &cmp.current, &cmp.deltas);
    let ci = |s: &crate::compare::Side| {
        format!(
            "{} <sub>[{}–{}]</sub>",
            pct(s.summary.pass_rate),
            pct(s.stats.pass_rate_ci.low),
            pct(s.stats.pass_rate_ci.high)
        )
    };
    let _ = writeln!(out, "| | baseline | current | Δ |\n|---|---:|---:|---:|");
    let _ = writeln!(out, "| pass rate (95% CI) | {} | {} | {} |", ci(b), ci(c), pts(d.pass_rate));
    for [name, x, y, z] in metric_rows(cmp) {
        let _ = writeln!(out, "| {name} | {x} | {y} | {z} |");
    }
    out.push('\n');
    let counts: Vec<String> = Class::ALL
        .iter()
        .filter(|k| cmp.count(**k) > 0)
        .map(|k| format!("{} **{}**", k.as_str(), cmp.count(*k)))
        .collect();
    let _ = writeln!(out, "{}\n", counts.join(" · "));
    let m = &cmp.mcnemar;
    let _ = writeln!(
        out,
        "McNemar exact test on {} shared cases: {} pass→fail, {} fail→pass, p = {:.3}.\n",
        m.shared, m.pass_to_fail, m.fail_to_pass, m.p_value
    );
    if c.stats.repeats > 1 {
        let k: Vec<String> = c.stats.pass_hat_k.iter().map(|p| format!("pass^{} {}", p.k, pct(p.value))).collect();
        let _ = writeln!(out, "Over {} repeats: {}.\n", c.stats.repeats, k.join(" · "));
    }
    for mode in &cmp.new_failure_modes {
        let _ =
            writeln!(out, "⚠️ **New failure mode:** `{}` fails now and did not fail in the baseline.\n", escape(mode));
    }
    if !c.stats.graders.is_empty() {
        let _ =
            writeln!(out, "<details><summary>Per grader</summary>\n\n| grader | baseline | current |\n|---|---:|---:|");
        for (name, rate) in &c.stats.graders {
            let was = b.stats.graders.get(name).and_then(|r| r.rate()).map(pct).unwrap_or_else(|| "–".into());
            let _ =
                writeln!(out, "| {} | {was} | {} |", escape(name), rate.rate().map(pct).unwrap_or_else(|| "–".into()));
        }
        out.push_str("\n</details>\n\n");
    }
    let groups = group_rows(cmp);
    if !groups.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>By failure category and tag</summary>\n\n| group | failed before | failed now |\n|---|---:|---:|"
        );
        for r in groups {
            let _ = writeln!(out, "| {} `{}` | {} | {} |", r.kind, escape(&r.group.key), r.before, r.now);
        }
        out.push_str("\n</details>\n\n");
    }
}

/// One Markdown block per case to list, grouped under a title, worst group first.
fn case_blocks(r: &Report) -> Vec<(String, Vec<String>)> {
    let Some(cmp) = r.comparison else {
        let failing: Vec<String> = r
            .run
            .results
            .iter()
            .filter(|x| x.status != Status::Pass)
            .map(|x| {
                let reasons = super::reasons(x);
                let mut s = format!("**`{}`** {}\n", escape(&x.case_id), x.status.as_str());
                about(&mut s, r.links, x.case_file.as_deref(), x.trace_id.as_deref(), x.input.as_deref());
                for reason in reasons {
                    let _ = writeln!(s, "- {}", escape(&truncate(&reason, 300)));
                }
                s.push('\n');
                s
            })
            .collect();
        return vec![("Failed and errored cases".into(), failing)];
    };
    Class::ALL
        .iter()
        .filter(|c| **c != Class::StillPassing)
        .map(|class| {
            let mut title = class.as_str().to_string();
            title[..1].make_ascii_uppercase();
            let blocks = cmp
                .listed(*class)
                .into_iter()
                .map(|(c, rates)| {
                    let how = rates.and_then(CaseRates::fractions).unwrap_or_else(|| {
                        format!(
                            "{} → {}",
                            c.base.map(Status::as_str).unwrap_or("–"),
                            c.current.map(Status::as_str).unwrap_or("–")
                        )
                    });
                    let mut s = format!("**`{}`** {how}\n", escape(&c.case_id));
                    about(&mut s, r.links, c.case_file.as_deref(), c.trace_id.as_deref(), c.input.as_deref());
                    for reason in &c.reasons {
                        let _ = writeln!(s, "- {}", escape(&truncate(reason, 300)));
                    }
                    let mut diff = String::new();
                    for h in c.diff.iter().flatten() {
                        let _ = writeln!(diff, "{}", h.header);
                        for l in h.lines.iter().take(40) {
                            let sign = match l.op {
                                Op::Equal => ' ',
                                Op::Delete => '-',
                                Op::Insert => '+',
                            };
                            let _ = writeln!(diff, "{sign}{}", truncate(&l.text, 300).replace("```", "ˋˋˋ"));
                        }
                    }
                    for l in c.changes.iter().flat_map(|ch| &ch.tool_calls) {
                        let sign = match l.op {
                            Op::Equal => "  ",
                            Op::Delete => "- tool ",
                            Op::Insert => "+ tool ",
                        };
                        let _ = writeln!(diff, "{sign}{}", truncate(&l.text, 300).replace("```", "ˋˋˋ"));
                    }
                    if !diff.is_empty() {
                        let _ = write!(s, "\n```diff\n{diff}```\n");
                    }
                    s.push('\n');
                    s
                })
                .collect();
            (title, blocks)
        })
        .collect()
}

/// The case file and trace of a listed case, and its input as a quote. A comment resolves no
/// relative link, so the path is text; the trace links when the suite has a `trace_url`.
fn about(s: &mut String, links: &Links, file: Option<&str>, trace: Option<&str>, input: Option<&str>) {
    let mut refs = Vec::new();
    if let Some(f) = file {
        refs.push(format!("`{}`", escape(f)));
    }
    if let Some(t) = trace {
        refs.push(match links.traces.trace_link(t) {
            Some(url) => format!("trace [`{}`]({})", escape(t), url.replace('(', "%28").replace(')', "%29")),
            None => format!("trace `{}`", escape(t)),
        });
    }
    if !refs.is_empty() {
        let _ = writeln!(s, "<sub>{}</sub>\n", refs.join(" · "));
    }
    for line in input.into_iter().flat_map(str::lines) {
        // Escaped, so what the user wrote cannot turn into Markdown or HTML of the comment.
        s.push_str("> ");
        for ch in escape(line).chars() {
            if "\\`*_[]#|~".contains(ch) {
                s.push('\\');
            }
            s.push(ch);
        }
        s.push('\n');
    }
    if input.is_some_and(|i| !i.is_empty()) {
        s.push('\n');
    }
}
