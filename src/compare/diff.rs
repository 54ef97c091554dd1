//! Diffs of two outputs as data: unified line hunks, word-level inline changes, tool-call
//! sequences and structural JSON changes, all bounded by one deadline.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, TextDiff, capture_diff_slices_deadline};

use crate::record::Output;

/// Longest the diffs of one case may take; past it they are approximate (coarser), never stalled.
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(200);

/// JSON changes kept per case; a rewrite of a huge document is summarized, not listed in full.
const MAX_JSON_CHANGES: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// One line of a line diff, one word run of a word diff, or one call of a tool-call diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffLine {
    pub op: Op,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equal,
    Delete,
    Insert,
}

impl From<ChangeTag> for Op {
    fn from(t: ChangeTag) -> Op {
        match t {
            ChangeTag::Equal => Op::Equal,
            ChangeTag::Delete => Op::Delete,
            ChangeTag::Insert => Op::Insert,
        }
    }
}

/// A change at one path of two JSON documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonChange {
    /// `$.a.b[2]`
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

/// What differs between two outputs of one case, beyond the line diff.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputDiff {
    /// The whole text as word runs, for an inline view.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<DiffLine>,
    /// The sequences of tool calls, one `name(arguments)` per entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<DiffLine>,
    /// Both outputs were JSON: what changed, path by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json: Vec<JsonChange>,
    /// The deadline or a size cap cut the diff short; it is coarser than it could be.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// The unified line diff (three lines of context) and the other diffs of two outputs, or `None`
/// when text and tool calls are the same.
pub fn outputs(base: &Output, current: &Output) -> Option<(Vec<Hunk>, OutputDiff)> {
    let calls =
        |o: &Output| -> Vec<String> { o.tool_calls.iter().map(|c| format!("{}({})", c.name, c.arguments)).collect() };
    let (bc, cc) = (calls(base), calls(current));
    if base.text == current.text && bc == cc {
        return None;
    }
    let deadline = Instant::now() + DIFF_TIMEOUT;
    let mut d = OutputDiff::default();
    let mut lines = Vec::new();
    if base.text != current.text {
        lines = line_diff(&base.text, &current.text, deadline);
        d.words = word_diff(&base.text, &current.text, deadline);
        d.json = json_diff(&base.text, &current.text, deadline, &mut d.truncated);
    }
    if bc != cc {
        d.tool_calls = sequence_diff(&bc, &cc, deadline);
    }
    d.truncated |= Instant::now() > deadline;
    Some((lines, d))
}

/// Unified line diff as data, with three lines of context.
pub fn line_diff(old: &str, new: &str, deadline: Instant) -> Vec<Hunk> {
    let diff = TextDiff::configure().deadline(deadline).diff_lines(old, new);
    diff.grouped_ops(3)
        .iter()
        .map(|group| {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            let header = format!(
                "@@ -{},{} +{},{} @@",
                old_range.start + 1,
                old_range.len(),
                new_range.start + 1,
                new_range.len()
            );
            let lines = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|ch| DiffLine { op: ch.tag().into(), text: ch.value().trim_end_matches('\n').to_string() })
                .collect();
            Hunk { header, lines }
        })
        .collect()
}

/// Word-level diff of the whole text; neighbouring words with the same op are merged into runs.
pub fn word_diff(old: &str, new: &str, deadline: Instant) -> Vec<DiffLine> {
    let diff = TextDiff::configure().deadline(deadline).diff_words(old, new);
    let mut out: Vec<DiffLine> = Vec::new();
    for ch in diff.iter_all_changes() {
        let op: Op = ch.tag().into();
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(ch.value()),
            _ => out.push(DiffLine { op, text: ch.value().to_string() }),
        }
    }
    out
}

/// Diff of two sequences (tool calls), element by element.
pub fn sequence_diff(old: &[String], new: &[String], deadline: Instant) -> Vec<DiffLine> {
    capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(deadline))
        .iter()
        .flat_map(|op| op.iter_changes(old, new))
        .map(|c| DiffLine { op: c.tag().into(), text: c.value() })
        .collect()
}

/// Structural diff when both texts are JSON objects or arrays; empty otherwise.
pub fn json_diff(old: &str, new: &str, deadline: Instant, truncated: &mut bool) -> Vec<JsonChange> {
    let parse = |s: &str| {
        let t = s.trim_start();
        if t.starts_with('{') || t.starts_with('[') { serde_json::from_str::<serde_json::Value>(s).ok() } else { None }
    };
    let (Some(a), Some(b)) = (parse(old), parse(new)) else { return Vec::new() };
    let mut out = Vec::new();
    walk("$".to_string(), Some(&a), Some(&b), deadline, &mut out, truncated);
    out
}

fn walk(
    path: String,
    a: Option<&serde_json::Value>,
    b: Option<&serde_json::Value>,
    deadline: Instant,
    out: &mut Vec<JsonChange>,
    truncated: &mut bool,
) {
    use serde_json::Value;
    if a == b {
        return;
    }
    if out.len() >= MAX_JSON_CHANGES || Instant::now() > deadline {
        *truncated = true;
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if k.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    format!("{path}.{k}")
                } else {
                    format!("{path}[{}]", serde_json::Value::String(k.clone()))
                };
                walk(p, x.get(k), y.get(k), deadline, out, truncated);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                walk(format!("{path}[{i}]"), x.get(i), y.get(i), deadline, out, truncated);
            }
        }
        _ => out.push(JsonChange { path, base: a.cloned(), current: b.cloned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ToolCall;

    fn later() -> Instant {
        Instant::now() + DIFF_TIMEOUT
    }

    #[test]
    fn line_diff_marks_changed_lines() {
        let hunks = line_diff("one\ntwo\nthree", "one\n2\nthree", later());
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].header, "@@ -1,3 +1,3 @@");
        let ops: Vec<_> = hunks[0].lines.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(ops, vec![(Op::Equal, "one"), (Op::Delete, "two"), (Op::Insert, "2"), (Op::Equal, "three")]);
    }

    #[test]
    fn word_diff_isolates_the_changed_word() {
        let w = word_diff("It is sunny in Paris", "It is rainy in Paris", later());
        let ops: Vec<_> = w.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(
            ops,
            vec![(Op::Equal, "It is "), (Op::Delete, "sunny"), (Op::Insert, "rainy"), (Op::Equal, " in Paris")]
        );
    }

    #[test]
    fn tool_call_sequences_are_diffed_call_by_call() {
        let call = |n: &str, a: &str| ToolCall { name: n.into(), arguments: a.into(), output: None };
        let base = Output {
            text: "x".into(),
            tool_calls: vec![call("search", "{}"), call("get_weather", r#"{"city":"Paris"}"#)],
            ..Output::default()
        };
        let cur = Output {
            text: "x".into(),
            tool_calls: vec![call("search", "{}"), call("get_weather", r#"{"city":"Rome"}"#)],
            ..Output::default()
        };
        let (lines, d) = outputs(&base, &cur).unwrap();
        assert!(lines.is_empty() && d.words.is_empty());
        let ops: Vec<_> = d.tool_calls.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(
            ops,
            vec![
                (Op::Equal, "search({})"),
                (Op::Delete, r#"get_weather({"city":"Paris"})"#),
                (Op::Insert, r#"get_weather({"city":"Rome"})"#)
            ]
        );
        assert_eq!(outputs(&base, &base), None);
    }

    #[test]
    fn json_outputs_get_a_structural_diff() {
        let mut t = false;
        let c = json_diff(
            r#"{"a": 1, "b": [1, 2], "same": true}"#,
            r#"{"a": 2, "b": [1], "c": null, "same": true}"#,
            later(),
            &mut t,
        );
        let paths: Vec<_> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["$.a", "$.b[1]", "$.c"]);
        assert_eq!(c[1].current, None);
        assert_eq!(c[2].base, None);
        assert!(!t);
        assert!(json_diff("hello", "{}", later(), &mut t).is_empty());
    }

    #[test]
    fn a_passed_deadline_cuts_diffs_short_instead_of_stalling() {
        let old: String = (0..20_000).map(|i| format!("line {}\n", i * 7 % 1_003)).collect();
        let new: String = (0..20_000).map(|i| format!("line {}\n", i * 11 % 997)).collect();
        let start = Instant::now();
        let mut t = false;
        let hunks = line_diff(&old, &new, Instant::now());
        let _ = json_diff("[1,2,3]", "[3,2,1]", Instant::now() - Duration::from_millis(1), &mut t);
        assert!(t, "a passed deadline marks the JSON diff truncated");
        assert!(!hunks.is_empty());
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
