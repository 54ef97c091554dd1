//! Comparing a run with its baseline: pairing cases, classifying each change, and text diffs.

pub mod gate;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use crate::run::{CaseResult, Run, Status, Summary};

/// How a case moved between the baseline and the current run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Regressed,
    Errored,
    Fixed,
    StillFailing,
    New,
    Removed,
    StillPassing,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Regressed => "regressed",
            Class::Errored => "errored",
            Class::Fixed => "fixed",
            Class::StillFailing => "still failing",
            Class::New => "new",
            Class::Removed => "removed",
            Class::StillPassing => "still passing",
        }
    }

    fn of(base: Option<Status>, current: Option<Status>) -> Class {
        match (base, current) {
            (None, _) => Class::New,
            (_, None) => Class::Removed,
            (_, Some(Status::Error)) => Class::Errored,
            (Some(Status::Pass), Some(Status::Fail)) => Class::Regressed,
            (Some(Status::Pass), Some(Status::Pass)) => Class::StillPassing,
            (Some(_), Some(Status::Pass)) => Class::Fixed,
            // A baseline error gave no verdict, so a failure now is not shown as a regression.
            (Some(_), Some(Status::Fail)) => Class::StillFailing,
        }
    }
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub run_id: String,
    pub suite: String,
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseChange {
    pub case_id: String,
    pub repeat: u32,
    pub class: Class,
    pub base: Option<Status>,
    pub current: Option<Status>,
    /// Why the current result failed or errored, grader by grader.
    pub reasons: Vec<String>,
    /// Line diff of the final output, when it changed.
    pub diff: Option<Vec<Hunk>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`
    pub header: String,
    pub lines: Vec<DiffLine>,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub base: Side,
    pub current: Side,
    pub cases: Vec<CaseChange>,
    pub counts: BTreeMap<Class, usize>,
    pub pass_rate_delta: f64,
}

impl Comparison {
    pub fn count(&self, class: Class) -> usize {
        self.counts.get(&class).copied().unwrap_or(0)
    }

    pub fn of_class(&self, class: Class) -> impl Iterator<Item = &CaseChange> {
        self.cases.iter().filter(move |c| c.class == class)
    }
}

/// Longest a single output diff may take; past it the diff is approximate, never stalled.
const DIFF_TIMEOUT: Duration = Duration::from_millis(200);

/// Pair the runs' results by case id and repeat and classify each pair.
pub fn compare(base: &Run, current: &Run) -> Comparison {
    let key = |r: &CaseResult| (r.case_id.clone(), r.repeat);
    let base_by: HashMap<_, _> = base.results.iter().map(|r| (key(r), r)).collect();
    let cur_by: HashMap<_, _> = current.results.iter().map(|r| (key(r), r)).collect();
    let mut keys: Vec<_> = base_by.keys().chain(cur_by.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let mut cases = Vec::with_capacity(keys.len());
    let mut counts = BTreeMap::new();
    for k in keys {
        let (b, c) = (base_by.get(&k), cur_by.get(&k));
        let class = Class::of(b.map(|r| r.status), c.map(|r| r.status));
        *counts.entry(class).or_insert(0) += 1;
        let reasons = c
            .map(|r| {
                let mut v: Vec<String> =
                    r.grades.iter().filter(|g| !g.pass).map(|g| format!("{}: {}", g.grader, g.reason)).collect();
                v.extend(r.error.clone());
                v
            })
            .unwrap_or_default();
        let diff = match (b, c) {
            (Some(b), Some(c)) if b.output.text != c.output.text => Some(line_diff(&b.output.text, &c.output.text)),
            _ => None,
        };
        cases.push(CaseChange {
            case_id: k.0,
            repeat: k.1,
            class,
            base: b.map(|r| r.status),
            current: c.map(|r| r.status),
            reasons,
            diff,
        });
    }
    Comparison {
        base: Side { run_id: base.id.clone(), suite: base.suite.name.clone(), summary: base.summary.clone() },
        current: Side {
            run_id: current.id.clone(),
            suite: current.suite.name.clone(),
            summary: current.summary.clone(),
        },
        pass_rate_delta: current.summary.pass_rate - base.summary.pass_rate,
        cases,
        counts,
    }
}

/// Unified line diff as data, with three lines of context.
pub fn line_diff(old: &str, new: &str) -> Vec<Hunk> {
    let diff = TextDiff::configure().timeout(DIFF_TIMEOUT).diff_lines(old, new);
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
                .map(|ch| DiffLine {
                    op: match ch.tag() {
                        ChangeTag::Equal => Op::Equal,
                        ChangeTag::Delete => Op::Delete,
                        ChangeTag::Insert => Op::Insert,
                    },
                    text: ch.value().trim_end_matches('\n').to_string(),
                })
                .collect();
            Hunk { header, lines }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compare::gate::Gate;
    use crate::run::{Output, SuiteInfo, TargetInfo};
    use crate::trace::Usage;

    pub(crate) fn run(id: &str, results: &[(&str, Status, &str)]) -> Run {
        let results: Vec<CaseResult> = results
            .iter()
            .map(|(case, status, text)| CaseResult {
                case_id: case.to_string(),
                repeat: 0,
                status: *status,
                output: Output { text: text.to_string(), ..Output::default() },
                turns: 1,
                usage: Usage::default(),
                cost_usd: None,
                latency_ms: 1,
                grades: vec![],
                error: None,
                failure: None,
                tags: vec![],
                cause: None,
                cached: false,
                model_calls: 1,
                cache_hits: 0,
                retries: 0,
            })
            .collect();
        Run {
            schema_version: 1,
            id: id.into(),
            suite: SuiteInfo { name: "s".into(), path: "s.yaml".into(), hash: "h".into() },
            started_at: chrono::Utc::now(),
            finished_at: None,
            git: None,
            target: TargetInfo { model: "m".into(), instructions_hash: "i".into() },
            dataset_hash: "d".into(),
            options: crate::run::RunOptions::default(),
            gate: Gate::default(),
            summary: Summary::of(&results),
            results,
        }
    }

    #[test]
    fn classifies_every_transition() {
        let base = run(
            "b",
            &[
                ("a", Status::Pass, "x"),
                ("b", Status::Fail, "x"),
                ("c", Status::Fail, "x"),
                ("d", Status::Pass, "x"),
                ("gone", Status::Pass, "x"),
                ("e", Status::Pass, "x"),
            ],
        );
        let cur = run(
            "c",
            &[
                ("a", Status::Fail, "y"),
                ("b", Status::Pass, "x"),
                ("c", Status::Fail, "x"),
                ("d", Status::Pass, "x"),
                ("new", Status::Pass, "x"),
                ("e", Status::Error, ""),
            ],
        );
        let cmp = compare(&base, &cur);
        let class = |id: &str| cmp.cases.iter().find(|c| c.case_id == id).unwrap().class;
        assert_eq!(class("a"), Class::Regressed);
        assert_eq!(class("b"), Class::Fixed);
        assert_eq!(class("c"), Class::StillFailing);
        assert_eq!(class("d"), Class::StillPassing);
        assert_eq!(class("gone"), Class::Removed);
        assert_eq!(class("new"), Class::New);
        assert_eq!(class("e"), Class::Errored);
        assert_eq!(cmp.count(Class::Regressed), 1);
        assert!(cmp.cases.iter().find(|c| c.case_id == "a").unwrap().diff.is_some());
        assert!(cmp.cases.iter().find(|c| c.case_id == "d").unwrap().diff.is_none());
    }

    #[test]
    fn line_diff_marks_changed_lines() {
        let hunks = line_diff("one\ntwo\nthree", "one\n2\nthree");
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].header, "@@ -1,3 +1,3 @@");
        let ops: Vec<_> = hunks[0].lines.iter().map(|l| (l.op, l.text.as_str())).collect();
        assert_eq!(ops, vec![(Op::Equal, "one"), (Op::Delete, "two"), (Op::Insert, "2"), (Op::Equal, "three")]);
    }
}
