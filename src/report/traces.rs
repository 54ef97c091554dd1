//! Trace views for the terminal: the `traces list` table and the `traces show` span tree.

use std::collections::HashMap;

use crate::store::{PruneStats, Totals, TraceSummary};
use crate::trace::items::{self, function_calls};
use crate::trace::{Span, SpanData, Trace};

use super::table;
use crate::text::truncate;

/// The `traces list` table, with a cost column and a footer of totals.
pub fn list(rows: &[TraceSummary], costs: &[Option<f64>], totals: &Totals) -> String {
    if rows.is_empty() {
        return "no traces match: import some with `evals traces import FILE`, or loosen the filters\n".into();
    }
    let mut header =
        vec!["ID", "TIME (UTC)", "WORKFLOW", "AGENTS", "MODEL", "TURNS", "TOKENS", "COST", "LATENCY", "STATUS"];
    // The group (conversation) column only when some trace has one.
    let grouped = rows.iter().any(|t| t.group_id.is_some());
    if grouped {
        header.push("GROUP");
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .zip(costs)
        .map(|(t, cost)| {
            let mut row = vec![
                t.id.clone(),
                t.started_at.map(|s| s.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "-".into()),
                truncate(t.workflow.as_deref().unwrap_or("-"), 24),
                truncate(&t.agents.join(", "), 32),
                truncate(&t.models.join(", "), 20),
                t.turns.to_string(),
                (t.input_tokens + t.output_tokens).to_string(),
                cost.map(dollars).unwrap_or_else(|| "-".into()),
                t.duration_ms().map(seconds).unwrap_or_else(|| "-".into()),
                t.status().to_string(),
            ];
            if grouped {
                row.push(truncate(t.group_id.as_deref().unwrap_or("-"), 32));
            }
            row
        })
        .collect();
    let mut out = table(&header, &body, &[5, 6, 7, 8]);
    out.push_str(&footer(totals));
    out
}

/// `12 traces · 3,456 tokens (3,000 in / 456 out) · $0.0123 · latency p50 1.20 s, p95 3.40 s`
pub fn footer(t: &Totals) -> String {
    let mut line = format!(
        "{} traces · {} tokens ({} in / {} out) · {}",
        t.traces,
        t.input_tokens + t.output_tokens,
        t.input_tokens,
        t.output_tokens,
        dollars(t.cost_usd)
    );
    if t.unpriced > 0 {
        line.push_str(&format!(" (+{} traces on models without a price)", t.unpriced));
    }
    if let (Some(p50), Some(p95)) = (t.latency_p50_ms, t.latency_p95_ms) {
        line.push_str(&format!(" · latency p50 {}, p95 {}", seconds(p50), seconds(p95)));
    }
    line.push('\n');
    line
}

/// Dollars with cents, or four decimals below a cent.
pub fn dollars(usd: f64) -> String {
    if usd > 0.0 && usd < 0.01 { format!("${usd:.4}") } else { format!("${usd:.2}") }
}

fn seconds(ms: i64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// What `traces prune` did.
pub fn pruned(stats: &PruneStats, before: &str) -> String {
    let mb = |b: u64| b as f64 / 1_048_576.0;
    format!(
        "pruned {} traces ({} spans) that started before {before}; store {:.1} MB → {:.1} MB\n",
        stats.traces,
        stats.spans,
        mb(stats.bytes_before),
        mb(stats.bytes_after)
    )
}

fn secs(span: &Span) -> String {
    span.duration_ms().map(|ms| format!("  {:.2} s", ms / 1000.0)).unwrap_or_default()
}

/// One line (or a few) per span, as a tree under the trace.
pub fn tree(trace: &Trace, summary: &TraceSummary, spans: &[Span]) -> String {
    let mut out = format!(
        "{}  {}  {}{}  {}\n",
        trace.id,
        trace.workflow.as_deref().unwrap_or("-"),
        summary.started_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "-".into()),
        summary.duration_ms().map(|ms| format!("  {:.2} s", ms as f64 / 1000.0)).unwrap_or_default(),
        summary.status(),
    );
    if summary.turns > 0 && summary.content_turns == 0 {
        out.push_str("(no model content captured: only ids and usage; see README, Capture)\n");
    }
    let ids: std::collections::HashSet<&str> = spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<Option<&str>, Vec<&Span>> = HashMap::new();
    for s in spans {
        // Spans whose parent never arrived hang under the trace rather than vanish.
        let parent = s.parent_id.as_deref().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(s);
    }
    fn walk(out: &mut String, children: &HashMap<Option<&str>, Vec<&Span>>, parent: Option<&str>, prefix: &str) {
        let Some(list) = children.get(&parent) else { return };
        for (i, span) in list.iter().enumerate() {
            let last = i + 1 == list.len();
            let (branch, cont) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
            let child_prefix = format!("{prefix}{cont}");
            let has_children = children.contains_key(&Some(span.id.as_str()));
            let detail_prefix = format!("{child_prefix}{}", if has_children { "│    " } else { "     " });
            out.push_str(&format!("{prefix}{branch}{}\n", headline(span)));
            for line in details(span) {
                out.push_str(&format!("{detail_prefix}{line}\n"));
            }
            walk(out, children, Some(&span.id), &child_prefix);
        }
    }
    walk(&mut out, &children, None, "");
    out
}

fn headline(span: &Span) -> String {
    let time = secs(span);
    let mut line = match &span.data {
        SpanData::Agent { name, tools, handoffs, .. } => {
            let mut extra = Vec::new();
            if !tools.is_empty() {
                extra.push(format!("tools: {}", tools.join(", ")));
            }
            if !handoffs.is_empty() {
                extra.push(format!("handoffs: {}", handoffs.join(", ")));
            }
            let extra = if extra.is_empty() { String::new() } else { format!(" ({})", extra.join("; ")) };
            format!("agent {name}{extra}{time}")
        }
        SpanData::Model(m) => {
            let tokens = m
                .usage
                .map(|u| format!("  {} in / {} out tokens", u.input_tokens, u.output_tokens))
                .unwrap_or_default();
            format!("model {}{tokens}{time}", m.model.as_deref().unwrap_or("?"))
        }
        SpanData::Tool { name, arguments, .. } => {
            format!("tool {name}({}){time}", truncate(arguments.as_deref().unwrap_or(""), 80))
        }
        SpanData::Handoff { from, to } => {
            format!("handoff {} → {}{time}", from.as_deref().unwrap_or("?"), to.as_deref().unwrap_or("?"))
        }
        SpanData::Guardrail { name, triggered } => {
            format!("guardrail {name}{}{time}", if *triggered { " TRIGGERED" } else { "" })
        }
        SpanData::Custom { name, data } => match (name.as_str(), data.get("turn"), data.get("agent_name")) {
            ("turn", Some(n), agent) => {
                format!(
                    "turn {n}{}{time}",
                    agent.and_then(|a| a.as_str()).map(|a| format!(" ({a})")).unwrap_or_default()
                )
            }
            ("task", ..) => format!("task {}{time}", data.get("name").and_then(|n| n.as_str()).unwrap_or_default()),
            _ => format!("{name}{time}"),
        },
    };
    if let Some(e) = &span.error {
        line.push_str(&format!("  ✗ error: {}", e.message));
    }
    line
}

fn details(span: &Span) -> Vec<String> {
    match &span.data {
        SpanData::Model(m) => {
            let mut lines = Vec::new();
            // One call, every HTTP attempt the proxy saw: `attempt 1  HTTP 429 rate_limit_exceeded  0.31 s  …`.
            if m.attempts.len() > 1 || m.attempts.iter().any(|a| !a.ok()) {
                for (n, a) in m.attempts.iter().enumerate() {
                    let what =
                        a.code.as_deref().or(a.error_type.as_deref()).map(|w| format!(" {w}")).unwrap_or_default();
                    let message = a.message.as_deref().map(|m| format!("  {}", truncate(m, 100))).unwrap_or_default();
                    lines.push(format!(
                        "attempt {}  HTTP {}{what}  {}{message}",
                        n + 1,
                        a.status,
                        seconds(a.latency_ms as i64)
                    ));
                }
            }
            if let Some(input) = &m.input
                && let Some(last) = input.last()
            {
                let who = match (items::role(last), last.get("type").and_then(|t| t.as_str())) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(t)) => t.to_string(),
                    _ => "input".into(),
                };
                lines.push(format!("← {who}: {}", truncate(&items::item_text(last), 160)));
            }
            match &m.output {
                Some(output) => {
                    let text = items::output_text(output);
                    if !text.is_empty() {
                        lines.extend(text.lines().take(12).map(|l| format!("→ {}", truncate(l, 160))));
                    }
                    for c in function_calls(output) {
                        lines.push(format!("→ call {}({})", c.name, truncate(&c.arguments, 120)));
                    }
                }
                None => {
                    lines.push(format!("(no content; response id {})", m.response_id.as_deref().unwrap_or("unknown")))
                }
            }
            lines
        }
        SpanData::Tool { output: Some(o), .. } => {
            o.lines().take(6).map(|l| format!("→ {}", truncate(l, 160))).collect()
        }
        _ => vec![],
    }
}
