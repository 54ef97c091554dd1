//! The HTML report: one self-contained file (inline style and script, no external assets) with
//! the verdict, the numbers, a pass-rate trend chart, class filters and side-by-side diffs.

use std::fmt::Write;

use crate::compare::{CaseChange, CaseRates, Class, Comparison, DiffLine, Hunk, Op};
use crate::record::{Status, TrendPoint};

use super::{Report, escape, group_rows, metric_rows, pct, pts};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;padding:0 1em;max-width:1200px;color:#222;overflow-wrap:anywhere}\
h1{font-size:1.4em}.verdict{padding:.6em 1em;border-radius:6px}.pass{background:#e6f4ea}.fail{background:#fce8e6}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
.num{text-align:right}.filters label{margin-right:1em}.case{border:1px solid #ddd;border-radius:6px;margin:.5em 0;padding:.3em .8em}\
.case[hidden]{display:none}.regressed>summary,.errored>summary{color:#b00}.fixed>summary{color:#070}.flaky>summary{color:#a60}\
.sbs{width:100%;table-layout:fixed;font:12px monospace;white-space:pre-wrap}.sbs td{width:50%}.del{background:#fdd}.ins{background:#dfd}\
del{background:#fdd}ins{background:#dfd;text-decoration:none}.words{font-family:monospace;white-space:pre-wrap}\
.hunk{color:#888}svg{background:#fafafa;border:1px solid #ddd;max-width:100%;height:auto}.axis{font:11px sans-serif;fill:#555}\
.grid{stroke:#ddd}.scroll{overflow-x:auto;max-width:100%}.input{font:12px monospace;white-space:pre-wrap;background:#f6f6f6;padding:.3em}\
@media(max-width:600px){body{margin:.5em auto;padding:0 .5em}td,th{padding:2px 4px}.sbs{font-size:11px}}";

/// Applies the class filter: the checkboxes, or `#only=regressed,fixed` in the address.
const SCRIPT: &str = r#"(function(){
var boxes=[].slice.call(document.querySelectorAll('.filters input'));
var cases=[].slice.call(document.querySelectorAll('.case'));
function apply(){
  var on={};boxes.forEach(function(b){b.defaultChecked=b.checked;if(b.checked)on[b.value]=1;});
  var shown=0;
  cases.forEach(function(c){var v=!!on[c.dataset.class];c.hidden=!v;if(v)shown++;});
  document.getElementById('shown').textContent=shown+' of '+cases.length+' cases shown';
}
var m=/only=([\w,]+)/.exec(location.hash);
if(m){var only=m[1].split(',');boxes.forEach(function(b){b.checked=only.indexOf(b.value)>=0;});}
boxes.forEach(function(b){b.addEventListener('change',apply);});
apply();
})();"#;

pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let d = r.decision;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>evals · {}</title><style>{STYLE}</style></head><body>\n",
        escape(&r.run.suite.name)
    );
    let _ = writeln!(out, "<h1>evals · {} · {}</h1>", escape(&r.run.suite.name), escape(&r.run.id));
    let _ = writeln!(
        out,
        "<p class=\"verdict {}\" id=\"verdict\">{}</p>",
        if d.passed { "pass" } else { "fail" },
        escape(&d.reason)
    );
    if let Some(cmp) = r.comparison {
        metrics(&mut out, cmp);
    } else {
        let s = &r.run.summary;
        let _ = writeln!(
            out,
            "<p>{} cases: {} passed, {} failed, {} errors · pass rate {}</p>",
            s.cases,
            s.passed,
            s.failed,
            s.errored,
            pct(s.pass_rate)
        );
    }
    trend(&mut out, r.trend);
    match r.comparison {
        Some(cmp) => cases(&mut out, cmp),
        None => run_cases(&mut out, r),
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn metrics(out: &mut String, cmp: &Comparison) {
    let (b, c, d) = (&cmp.base, &cmp.current, &cmp.deltas);
    let _ = writeln!(
        out,
        "<p>compared with <code>{}</code></p><div class=\"scroll\"><table id=\"metrics\"><tr><th></th><th>baseline</th><th>current</th><th>Δ</th></tr>",
        escape(&b.run_id)
    );
    let row = |out: &mut String, name: &str, x: String, y: String, z: String| {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{x}</td><td class=\"num\">{y}</td><td class=\"num\">{z}</td></tr>"
        );
    };
    let ci = |s: &crate::compare::Side| {
        format!("{} [{}–{}]", pct(s.summary.pass_rate), pct(s.stats.pass_rate_ci.low), pct(s.stats.pass_rate_ci.high))
    };
    row(out, "pass rate (95% CI)", ci(b), ci(c), pts(d.pass_rate));
    for [name, x, y, z] in metric_rows(cmp) {
        row(out, &name, x, y, z);
    }
    for (name, rate) in &c.stats.graders {
        let was = b.stats.graders.get(name).and_then(|r| r.rate());
        let now = rate.rate();
        let delta = was.zip(now).map(|(w, n)| pts(n - w)).unwrap_or_else(|| "–".into());
        row(
            out,
            &format!("grader {}", escape(name)),
            was.map(pct).unwrap_or_else(|| "–".into()),
            now.map(pct).unwrap_or_else(|| "–".into()),
            delta,
        );
    }
    out.push_str("</table></div>\n");
    let m = &cmp.mcnemar;
    let _ = writeln!(
        out,
        "<p>McNemar exact test on {} shared cases: {} pass→fail, {} fail→pass, p = {:.3}.</p>",
        m.shared, m.pass_to_fail, m.fail_to_pass, m.p_value
    );
    if c.stats.repeats > 1 {
        let k: Vec<String> = c.stats.pass_hat_k.iter().map(|p| format!("pass^{} {}", p.k, pct(p.value))).collect();
        let _ = writeln!(out, "<p>Over {} repeats: {}.</p>", c.stats.repeats, k.join(" · "));
    }
    for mode in &cmp.new_failure_modes {
        let _ = writeln!(
            out,
            "<p class=\"new-failure-mode\"><strong>New failure mode:</strong> <code>{}</code> fails now and did not fail in the baseline.</p>",
            escape(mode)
        );
    }
    let groups = group_rows(cmp);
    if !groups.is_empty() {
        out.push_str("<div class=\"scroll\"><table id=\"breakdown\"><tr><th>group</th><th>failed before</th><th>failed now</th></tr>\n");
        for r in groups {
            let _ = writeln!(
                out,
                "<tr><td>{} <code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                r.kind,
                escape(&r.group.key),
                r.before,
                r.now
            );
        }
        out.push_str("</table></div>\n");
    }
}

/// The pass rate of recent runs as an inline SVG line chart with axes: pass rate 0–100% up the
/// left, the runs' dates along the bottom (first, middle and last).
fn trend(out: &mut String, points: &[TrendPoint]) {
    if points.len() < 2 {
        return;
    }
    let (w, h) = (600.0, 200.0);
    let (left, right, top, bottom) = (48.0, 16.0, 12.0, 40.0);
    let step = (w - left - right) / (points.len() - 1) as f64;
    let x_of = |i: usize| left + step * i as f64;
    let y_of = |rate: f64| top + (1.0 - rate.clamp(0.0, 1.0)) * (h - top - bottom);
    let _ = writeln!(
        out,
        "<h2>Pass-rate trend</h2><svg id=\"trend\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"pass rate of the last {} runs\">",
        points.len()
    );
    for rate in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = y_of(rate);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>",
            w - right,
            left - 6.0,
            y + 4.0,
            rate * 100.0
        );
    }
    let (x0, y0) = (left, h - bottom);
    let _ = writeln!(
        out,
        "<line stroke=\"#555\" x1=\"{x0}\" x2=\"{x0}\" y1=\"{top}\" y2=\"{y0}\"/><line stroke=\"#555\" x1=\"{x0}\" x2=\"{:.1}\" y1=\"{y0}\" y2=\"{y0}\"/>",
        w - right
    );
    let mut ticks = vec![0, points.len() / 2, points.len() - 1];
    ticks.dedup();
    for i in ticks {
        let anchor = if i == 0 {
            "start"
        } else if i == points.len() - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            x_of(i),
            y0 + 16.0,
            points[i].started_at.format("%Y-%m-%d")
        );
    }
    let _ = writeln!(
        out,
        "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">runs, oldest to newest (UTC)</text>",
        left + (w - left - right) / 2.0,
        h - 6.0
    );
    let line: Vec<String> =
        points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x_of(i), y_of(p.pass_rate))).collect();
    let _ = writeln!(out, "<polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"2\" points=\"{}\"/>", line.join(" "));
    for (i, p) in points.iter().enumerate() {
        let _ = writeln!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#36c\"><title>{} · {} · {}</title></circle>",
            x_of(i),
            y_of(p.pass_rate),
            escape(&p.run_id),
            p.started_at.format("%Y-%m-%d %H:%M"),
            pct(p.pass_rate)
        );
    }
    out.push_str("</svg>\n");
}

fn filters(out: &mut String, counts: &[(Class, usize)]) {
    out.push_str("<h2>Cases</h2><p class=\"filters\">");
    for (class, n) in counts.iter().filter(|(_, n)| *n > 0) {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" value=\"{}\" checked> {} ({n})</label>",
            class.slug(),
            class.as_str()
        );
    }
    out.push_str("</p><p id=\"shown\"></p>\n");
}

fn cases(out: &mut String, cmp: &Comparison) {
    let counts: Vec<(Class, usize)> = Class::ALL.iter().map(|c| (*c, cmp.count(*c))).collect();
    filters(out, &counts);
    for class in Class::ALL {
        for (c, rates) in cmp.listed(class) {
            case(out, c, rates);
        }
    }
}

fn case(out: &mut String, c: &CaseChange, rates: Option<&CaseRates>) {
    let how = rates.and_then(CaseRates::fractions).unwrap_or_else(|| {
        format!("({} → {})", c.base.map(Status::as_str).unwrap_or("–"), c.current.map(Status::as_str).unwrap_or("–"))
    });
    let _ = write!(
        out,
        "<details class=\"case {0}\" data-class=\"{0}\" data-case=\"{1}\"{open}><summary>{2}: <code>{1}</code> {how}",
        c.class.slug(),
        escape(&c.case_id),
        c.class.as_str(),
        // What a reviewer must read is open; the rest a click away.
        open = if matches!(c.class, Class::Regressed | Class::Errored) { " open" } else { "" },
    );
    out.push_str("</summary>\n");
    if let Some(f) = &c.failure {
        let _ = write!(out, "<p>failure category <code>{}</code></p>", escape(f));
    }
    if !c.reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">");
        for r in &c.reasons {
            let _ = write!(out, "<li>{}</li>", escape(r));
        }
        out.push_str("</ul>\n");
    }
    if let Some(lines) = &c.diff {
        side_by_side(out, lines);
    }
    if let Some(ch) = &c.changes {
        if !ch.words.is_empty() {
            out.push_str("<p class=\"words\">");
            for w in &ch.words {
                let _ = match w.op {
                    Op::Equal => write!(out, "{}", escape(&w.text)),
                    Op::Delete => write!(out, "<del>{}</del>", escape(&w.text)),
                    Op::Insert => write!(out, "<ins>{}</ins>", escape(&w.text)),
                };
            }
            out.push_str("</p>\n");
        }
        if !ch.tool_calls.is_empty() {
            out.push_str("<p>tool calls</p>");
            side_by_side(out, &[Hunk { header: String::new(), lines: ch.tool_calls.clone() }]);
        }
        if !ch.json.is_empty() {
            out.push_str("<table class=\"json\"><tr><th>path</th><th>baseline</th><th>current</th></tr>");
            let v =
                |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
            for j in &ch.json {
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td class=\"del\">{}</td><td class=\"ins\">{}</td></tr>",
                    escape(&j.path),
                    escape(&v(&j.base)),
                    escape(&v(&j.current))
                );
            }
            out.push_str("</table>\n");
        }
        if ch.truncated {
            out.push_str("<p>(diff cut short by its deadline)</p>");
        }
    }
    out.push_str("</details>\n");
}

/// Baseline on the left, current on the right; deleted and inserted runs side by side.
fn side_by_side(out: &mut String, hunks: &[Hunk]) {
    out.push_str("<table class=\"sbs\">");
    for h in hunks {
        if !h.header.is_empty() {
            let _ = write!(out, "<tr><td class=\"hunk\" colspan=\"2\">{}</td></tr>", escape(&h.header));
        }
        let mut i = 0;
        let lines = &h.lines;
        while i < lines.len() {
            if lines[i].op == Op::Equal {
                let t = escape(&lines[i].text);
                let _ = write!(out, "<tr><td>{t}</td><td>{t}</td></tr>");
                i += 1;
                continue;
            }
            let run_of = |from: usize, op: Op| -> &[DiffLine] {
                let end = lines[from..].iter().position(|l| l.op != op).map_or(lines.len(), |p| from + p);
                &lines[from..end]
            };
            let dels = run_of(i, Op::Delete);
            let ins = run_of(i + dels.len(), Op::Insert);
            for k in 0..dels.len().max(ins.len()) {
                let cell = |l: Option<&DiffLine>, class: &str| {
                    l.map(|l| format!("<td class=\"{class}\">{}</td>", escape(&l.text)))
                        .unwrap_or_else(|| "<td></td>".into())
                };
                let _ = write!(out, "<tr>{}{}</tr>", cell(dels.get(k), "del"), cell(ins.get(k), "ins"));
            }
            i += dels.len() + ins.len();
        }
    }
    out.push_str("</table>\n");
}

/// Without a baseline: every result, with the same filters (by status).
fn run_cases(out: &mut String, r: &Report) {
    let class = |s: Status| match s {
        Status::Pass => Class::StillPassing,
        Status::Fail => Class::StillFailing,
        Status::Error => Class::Errored,
    };
    let counts: Vec<(Class, usize)> = [Class::Errored, Class::StillFailing, Class::StillPassing]
        .iter()
        .map(|c| (*c, r.run.results.iter().filter(|x| class(x.status) == *c).count()))
        .collect();
    filters(out, &counts);
    for x in &r.run.results {
        let _ = write!(
            out,
            "<details class=\"case {0}\" data-class=\"{0}\" data-case=\"{1}\"{open}><summary>{2}: <code>{1}</code></summary><ul class=\"reasons\">",
            class(x.status).slug(),
            escape(&x.case_id),
            x.status.as_str(),
            open = if x.status == Status::Pass { "" } else { " open" },
        );
        // A grader that errored is already in the result's error.
        for g in x.grades.iter().filter(|g| !g.pass && !g.error) {
            let _ = write!(out, "<li>{}: {}</li>", escape(&g.grader), escape(&g.reason));
        }
        if let Some(e) = &x.error {
            let _ = write!(out, "<li>{}</li>", escape(e));
        }
        for m in x.unmatched_calls() {
            let _ = write!(out, "<li>{}</li>", escape(m));
        }
        let _ = writeln!(out, "</ul><p class=\"words\">{}</p></details>", escape(&x.output.text));
    }
}
