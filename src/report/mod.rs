//! Renderers: everything the user reads is formatted here, from data the other modules return.
//! Run and comparison reports come from one model (`Report`) in every format.

pub mod curation;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod run;
pub mod traces;

use std::io::IsTerminal;

use crate::compare::gate::Decision;
use crate::compare::{Comparison, Group, Verdicts};
use crate::record::{CaseResult, Run, TrendPoint};
use crate::text::width;

/// Everything a run or diff report shows.
pub struct Report<'a> {
    /// The run judged (the current side of a comparison).
    pub run: &'a Run,
    pub comparison: Option<&'a Comparison>,
    pub decision: &'a Decision,
    /// Recent runs of the suite, oldest first, this one last.
    pub trend: &'a [TrendPoint],
}

/// Why a case did not pass: the failed graders' reasons, its error, and the calls no recording
/// answered; the same list in every report.
pub fn reasons(x: &CaseResult) -> Vec<String> {
    let mut reasons: Vec<String> =
        x.grades.iter().filter(|g| !g.pass && !g.error).map(|g| format!("{}: {}", g.grader, g.reason)).collect();
    reasons.extend(x.error.clone());
    reasons.extend(x.unmatched_calls().map(String::from));
    reasons
}

/// A file format of `--report FORMAT:PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Junit,
    Json,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "md" | "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "junit" | "xml" => Some(Format::Junit),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn render(self, r: &Report) -> String {
        match self {
            Format::Markdown => markdown::render(r, markdown::GITHUB_LIMIT),
            Format::Html => html::render(r),
            Format::Junit => junit::render(r),
            Format::Json => json::render(r),
        }
    }
}

/// `--color`: whether the terminal output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` colours a pipe too.
    Auto,
    Always,
    Never,
}

/// The `--color` of this process, set once by the command line before any output.
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

pub fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// Colour for the terminal, by `--color` (no-color.org and bixense.com/clicolors for `auto`).
pub fn use_color() -> bool {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    color_for(
        COLOR.get().copied().unwrap_or(ColorChoice::Auto),
        std::io::stdout().is_terminal(),
        var("NO_COLOR").is_some(),
        var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
    )
}

fn color_for(choice: ColorChoice, tty: bool, no_color: bool, force: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && (tty || force),
    }
}

/// The metric rows every comparison table shows after the pass rate: name, baseline, current,
/// delta, already formatted, so Markdown and HTML say the same thing.
pub fn metric_rows(cmp: &Comparison) -> Vec<[String; 4]> {
    let (b, c, d) = (&cmp.base, &cmp.current, &cmp.deltas);
    let or_dash = |x: Option<String>| x.unwrap_or_else(|| "–".into());
    let score = |s: Option<f64>| or_dash(s.map(|s| format!("{s:.3}")));
    let cost = |x: Option<f64>| or_dash(x.map(|x| format!("${x:.4}")));
    vec![
        [
            "mean score".into(),
            score(b.stats.mean_score),
            score(c.stats.mean_score),
            or_dash(d.mean_score.map(|x| format!("{x:+.3}"))),
        ],
        [
            "input tokens".into(),
            b.summary.input_tokens.to_string(),
            c.summary.input_tokens.to_string(),
            format!("{:+}", d.input_tokens),
        ],
        [
            "output tokens".into(),
            b.summary.output_tokens.to_string(),
            c.summary.output_tokens.to_string(),
            format!("{:+}", d.output_tokens),
        ],
        [
            "cost".into(),
            cost(b.summary.cost_usd),
            cost(c.summary.cost_usd),
            or_dash(d.cost_usd.map(|x| format!("{x:+.4}"))),
        ],
        [
            "latency p50 (ms)".into(),
            b.summary.latency_p50_ms.to_string(),
            c.summary.latency_p50_ms.to_string(),
            format!("{:+}", d.latency_p50_ms),
        ],
        [
            "latency p95 (ms)".into(),
            b.summary.latency_p95_ms.to_string(),
            c.summary.latency_p95_ms.to_string(),
            format!("{:+}", d.latency_p95_ms),
        ],
    ]
}

/// One row of the failure-category and tag breakdown, with `failed/total` already formatted.
pub struct GroupRow<'a> {
    /// `category` or `tag`.
    pub kind: &'static str,
    pub group: &'a Group,
    pub before: String,
    pub now: String,
}

/// The breakdown every format shows: failure categories, then tags.
pub fn group_rows(cmp: &Comparison) -> Vec<GroupRow<'_>> {
    let failed_of = |v: &Verdicts| format!("{}/{}", v.failed, v.failed + v.passed);
    let kinds = cmp.by_failure.iter().map(|g| ("category", g)).chain(cmp.by_tag.iter().map(|g| ("tag", g)));
    kinds
        .map(|(kind, group)| GroupRow { kind, group, before: failed_of(&group.base), now: failed_of(&group.current) })
        .collect()
}

/// `0.5` as `50.0%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A signed difference in percentage points.
pub fn pts(x: f64) -> String {
    format!("{:+.1} pts", x * 100.0)
}

/// Text safe inside HTML or XML elements and attributes; control characters XML forbids dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// Pass rates as a line of block characters, low to high.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values.iter().map(|v| BARS[((v.clamp(0.0, 1.0) * 7.0).round()) as usize]).collect()
}

/// A plain text table; columns in `right` are right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - width(cell);
            if i > 0 {
                out.push_str("  ");
            }
            if right.contains(&i) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let t = table(&["A", "N"], &[vec!["long".into(), "5".into()], vec!["x".into(), "123".into()]], &[1]);
        assert_eq!(t, "A       N\nlong    5\nx     123\n");
    }

    #[test]
    fn table_aligns_wide_characters_by_display_width() {
        let rows = [vec!["天気".into(), "1".into()], vec!["café́".into(), "2".into()], vec!["ab".into(), "3".into()]];
        let t = table(&["name", "n"], &rows, &[]);
        // Each 天/気 takes two columns, the combining accent none: the second column lines up.
        assert_eq!(t, "name  n\n天気  1\ncafé́  2\nab    3\n");
    }

    #[test]
    fn colour_by_choice_tty_no_color_and_clicolor_force() {
        use ColorChoice::*;
        assert!(color_for(Auto, true, false, false));
        assert!(!color_for(Auto, false, false, false));
        assert!(!color_for(Auto, true, true, false));
        assert!(color_for(Auto, false, false, true), "CLICOLOR_FORCE colours a pipe");
        assert!(!color_for(Auto, false, true, true), "NO_COLOR wins over CLICOLOR_FORCE");
        assert!(color_for(Always, false, true, false));
        assert!(!color_for(Never, true, false, true));
    }

    #[test]
    fn sparkline_spans_empty_to_full() {
        assert_eq!(sparkline(&[0.0, 0.5, 1.0]), "▁▅█");
    }
}
