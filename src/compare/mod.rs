//! Comparing a run with its baseline and history: the comparison model every report renders.
//! Pairs results by case id and repeat, classifies each pair, and computes deltas, breakdowns
//! and statistics, among them the drop test the gate decides by.

pub mod diff;
pub mod gate;
pub mod stats;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use diff::{DiffLine, Hunk, JsonChange, Op, OutputDiff};
use stats::{DropTest, Interval, McNemar, PassK, Stratum};

use crate::record::{CaseResult, GitInfo, Run, Status, Summary};
use crate::store::{CaseCounts, HistoryQuery, Store, StoreError};
use crate::text::natural_cmp;

/// How a case moved between the baseline and the current run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Regressed,
    Errored,
    /// Its repeats disagree (some pass, some fail) in either run: a verdict would be noise.
    Flaky,
    Fixed,
    StillFailing,
    New,
    Removed,
    StillPassing,
}

impl Class {
    /// Every class, worst first: the order reports list them in.
    pub const ALL: [Class; 8] = [
        Class::Regressed,
        Class::Errored,
        Class::Flaky,
        Class::Fixed,
        Class::StillFailing,
        Class::New,
        Class::Removed,
        Class::StillPassing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Regressed => "regressed",
            Class::Errored => "errored",
            Class::Flaky => "flaky",
            Class::Fixed => "fixed",
            Class::StillFailing => "still failing",
            Class::New => "new",
            Class::Removed => "removed",
            Class::StillPassing => "still passing",
        }
    }

    /// The name in JSON, CSS classes and URLs.
    pub fn slug(self) -> &'static str {
        match self {
            Class::StillFailing => "still_failing",
            Class::StillPassing => "still_passing",
            c => c.as_str(),
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
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    pub stats: SideStats,
}

/// What the summary does not say: uncertainty, scores, graders, consistency over repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideStats {
    /// 95% Wilson interval of the pass rate.
    pub pass_rate_ci: Interval,
    /// Mean grader score over graded results.
    pub mean_score: Option<f64>,
    /// Per grader (by name): passed and graded.
    pub graders: BTreeMap<String, Rate>,
    /// Most repeats of any case.
    pub repeats: u32,
    /// pass^k for k = 1 .. repeats (only k = 1 without repeats).
    pub pass_hat_k: Vec<PassK>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub passed: usize,
    pub total: usize,
}

impl Rate {
    pub fn rate(self) -> Option<f64> {
        (self.total > 0).then(|| self.passed as f64 / self.total as f64)
    }
}

/// Current minus baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deltas {
    pub pass_rate: f64,
    pub mean_score: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: Option<f64>,
    pub latency_p50_ms: i64,
    pub latency_p95_ms: i64,
}

/// Pass and fail counts of one group (failure category or tag) in both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: String,
    pub base: Verdicts,
    pub current: Verdicts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    pub passed: usize,
    pub failed: usize,
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
    /// Unified line diff of the final output, when it changed.
    pub diff: Option<Vec<Hunk>>,
    /// Word, tool-call and JSON diffs, when the output changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<OutputDiff>,
    /// The case's labelled failure category and tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Mean grader score on each side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_score: Option<f64>,
    /// With repeats: this case's passes over graded trials in the current run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<Rate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub base: Side,
    pub current: Side,
    pub cases: Vec<CaseChange>,
    pub counts: BTreeMap<Class, usize>,
    pub deltas: Deltas,
    /// Failure categories (the cases' labels) and tags, with verdicts on both sides.
    pub by_failure: Vec<Group>,
    pub by_tag: Vec<Group>,
    /// Failure categories that fail now and did not fail in the baseline.
    pub new_failure_modes: Vec<String>,
    /// The paired test on the (case, repeat) pairs both runs graded.
    pub mcnemar: McNemar,
    /// Each case's passes over graded samples on both sides, in case order.
    #[serde(default)]
    pub case_rates: Vec<CaseRates>,
    /// What the drop test compared the current run with.
    #[serde(default)]
    pub reference: Reference,
    /// The one-sided test of a drop, over every sample of every shared case.
    #[serde(default)]
    pub drop_test: DropTest,
}

/// One case's passes over graded samples in the baseline and in the current run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRates {
    pub case_id: String,
    pub base: Rate,
    pub current: Rate,
}

impl CaseRates {
    /// Its pass fractions (`3/3 → 0/3`), when it has more than one sample a side.
    pub fn fractions(&self) -> Option<String> {
        (self.base.total > 1 || self.current.total > 1).then(|| {
            format!("{}/{} → {}/{}", self.base.passed, self.base.total, self.current.passed, self.current.total)
        })
    }

    /// The case by name, with its pass fractions when it has them (`wobbly 3/3 → 0/3`).
    pub fn label(&self) -> String {
        match self.fractions() {
            Some(f) => format!("{} {f}", self.case_id),
            None => self.case_id.clone(),
        }
    }

    /// Its pass fraction fell.
    pub fn dropped(&self) -> bool {
        self.base.total > 0
            && self.current.total > 0
            && self.current.passed * self.base.total < self.base.passed * self.current.total
    }
}

/// The reference side of the drop test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reference {
    #[default]
    Baseline,
    /// The earlier runs of the suite on the same dataset: each case's pass rate over them.
    History { runs: usize },
}

/// Earlier runs of a suite on one dataset: each case's passes over graded samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub runs: usize,
    pub cases: HashMap<String, Rate>,
}

impl History {
    /// From the store's rows: (case id, passes, graded samples) over `runs` runs.
    pub fn from_rows(runs: usize, rows: CaseCounts) -> History {
        let cases = rows
            .into_iter()
            .map(|(id, passed, total)| (id, Rate { passed: passed as usize, total: total as usize }))
            .collect();
        History { runs, cases }
    }

    /// Cases by estimated flakiness, most flaky first: 4·p·(1 − p) for a pass rate p over the
    /// runs, 1 for a coin flip and 0 for a case that always or never passes.
    pub fn by_flakiness(&self) -> Vec<Flakiness> {
        let mut v: Vec<Flakiness> = self
            .cases
            .iter()
            .filter_map(|(id, r)| {
                let p = r.rate()?;
                Some(Flakiness { case_id: id.clone(), rate: *r, flakiness: 4.0 * p * (1.0 - p) })
            })
            .collect();
        v.sort_by(|a, b| b.flakiness.total_cmp(&a.flakiness).then_with(|| a.case_id.cmp(&b.case_id)));
        v
    }
}

/// One case's estimated flakiness over the earlier runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flakiness {
    pub case_id: String,
    pub rate: Rate,
    pub flakiness: f64,
}

/// Earlier runs the gate estimates each case's pass rate from: recent enough to describe the
/// agent as it is, enough to tell a stable case from a flaky one.
pub const HISTORY_RUNS: usize = 20;

impl History {
    /// The earlier runs of the current run's suite on its dataset, from the store: the newest
    /// [`HISTORY_RUNS`] finished before it started, on the baseline's git branch when it names one.
    pub fn load(store: &Store, base: &Run, current: &Run) -> Result<History, StoreError> {
        let q = HistoryQuery {
            suite: &current.suite.name,
            dataset_hash: &current.dataset_hash,
            branch: base.git.as_ref().and_then(|g| g.branch.as_deref()),
            before: current.started_at,
            exclude: &current.id,
            limit: HISTORY_RUNS,
        };
        let (runs, rows) = store.case_history(&q)?;
        Ok(History::from_rows(runs, rows))
    }
}

/// Compare with the baseline and with the suite's earlier runs in the store at `store` (none
/// when there is no store file yet).
pub fn compare_in(store: &std::path::Path, base: &Run, current: &Run) -> Result<Comparison, StoreError> {
    let history =
        if store.is_file() { History::load(&Store::open_existing(store)?, base, current)? } else { History::default() };
    Ok(compare_with(base, current, &history))
}

/// The fewest earlier runs the drop test takes as its reference instead of the baseline alone.
pub const MIN_HISTORY_RUNS: usize = 2;

impl Comparison {
    pub fn count(&self, class: Class) -> usize {
        self.counts.get(&class).copied().unwrap_or(0)
    }

    pub fn of_class(&self, class: Class) -> impl Iterator<Item = &CaseChange> {
        self.cases.iter().filter(move |c| c.class == class)
    }

    /// The cases of a class for a report, each once however many repeats it has: the sample
    /// that shows most (the first that does not pass now, else the first with a diff, else the
    /// first), with its pass fractions on both sides when the current run repeats.
    pub fn listed(&self, class: Class) -> Vec<(&CaseChange, Option<&CaseRates>)> {
        let mut out: Vec<(&CaseChange, Option<&CaseRates>)> = Vec::new();
        let shows = |c: &CaseChange| (c.current != Some(Status::Pass), c.diff.is_some());
        // Samples of a case are adjacent: cases are in (id, repeat) order.
        for c in self.of_class(class) {
            match out.last_mut() {
                Some((first, _)) if first.case_id == c.case_id => {
                    if shows(c) > shows(first) {
                        *first = c;
                    }
                }
                _ => {
                    let rates = c.trials.and_then(|_| {
                        let i = self.case_rates.binary_search_by(|r| r.case_id.as_str().cmp(&c.case_id)).ok()?;
                        Some(&self.case_rates[i])
                    });
                    out.push((c, rates));
                }
            }
        }
        out
    }
}

fn mean_score(r: &CaseResult) -> Option<f64> {
    (!r.grades.is_empty()).then(|| r.grades.iter().map(|g| g.score).sum::<f64>() / r.grades.len() as f64)
}

fn graded(r: &CaseResult) -> bool {
    r.status != Status::Error
}

/// Passes and graded trials per case id, in id order so that sums over them (pass^k) come out
/// the same to the last digit every time.
fn trials(run: &Run) -> BTreeMap<&str, Rate> {
    let mut by: BTreeMap<&str, Rate> = BTreeMap::new();
    for r in run.results.iter().filter(|r| graded(r)) {
        let t = by.entry(r.case_id.as_str()).or_default();
        t.total += 1;
        t.passed += usize::from(r.status == Status::Pass);
    }
    by
}

fn side(run: &Run, trials: &BTreeMap<&str, Rate>) -> Side {
    let graded_results: Vec<&CaseResult> = run.results.iter().filter(|r| graded(r)).collect();
    let scores: Vec<f64> = graded_results.iter().filter_map(|r| mean_score(r)).collect();
    let mut graders: BTreeMap<String, Rate> = BTreeMap::new();
    for r in &graded_results {
        for g in &r.grades {
            let rate = graders.entry(g.grader.clone()).or_default();
            rate.total += 1;
            rate.passed += usize::from(g.pass);
        }
    }
    let per_case: Vec<(u32, u32)> = trials.values().map(|t| (t.passed as u32, t.total as u32)).collect();
    let s = &run.summary;
    Side {
        run_id: run.id.clone(),
        suite: run.suite.name.clone(),
        summary: s.clone(),
        started_at: Some(run.started_at),
        git: run.git.clone(),
        stats: SideStats {
            pass_rate_ci: stats::wilson(s.passed, s.graded()),
            mean_score: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
            graders,
            repeats: run.results.iter().map(|r| r.repeat + 1).max().unwrap_or(0),
            pass_hat_k: stats::pass_hat_k(&per_case),
        },
    }
}

fn groups<'a>(
    base: &'a Run,
    current: &'a Run,
    keys: impl Fn(&'a CaseResult) -> Vec<&'a str>,
) -> BTreeMap<&'a str, Group> {
    let mut out: BTreeMap<&str, Group> = BTreeMap::new();
    for (is_base, run) in [(true, base), (false, current)] {
        for r in run.results.iter().filter(|r| graded(r)) {
            for k in keys(r) {
                let g = out.entry(k).or_insert_with(|| Group {
                    key: k.to_string(),
                    base: Verdicts::default(),
                    current: Verdicts::default(),
                });
                let v = if is_base { &mut g.base } else { &mut g.current };
                if r.status == Status::Pass {
                    v.passed += 1;
                } else {
                    v.failed += 1;
                }
            }
        }
    }
    out
}

/// Pair the runs' results by case id and repeat, classify each pair, and measure the change.
pub fn compare(base: &Run, current: &Run) -> Comparison {
    compare_with(base, current, &History::default())
}

/// As [`compare`], with the suite's earlier runs: with at least [`MIN_HISTORY_RUNS`] of them,
/// each case's pass rate over them is the reference the drop test weighs the current run against.
pub fn compare_with(base: &Run, current: &Run, history: &History) -> Comparison {
    let key = |r: &'_ CaseResult| (r.case_id.clone(), r.repeat);
    let base_by: HashMap<_, _> = base.results.iter().map(|r| (key(r), r)).collect();
    let cur_by: HashMap<_, _> = current.results.iter().map(|r| (key(r), r)).collect();
    let mut keys: Vec<_> = base_by.keys().chain(cur_by.keys()).cloned().collect();
    // Natural order (`case-2` before `case-10`): every report lists cases in this order.
    keys.sort_by(|a, b| natural_cmp(&a.0, &b.0).then(a.1.cmp(&b.1)));
    keys.dedup();
    let (base_trials, cur_trials) = (trials(base), trials(current));
    let mixed = |t: &BTreeMap<&str, Rate>, id: &str| t.get(id).is_some_and(|t| t.passed > 0 && t.passed < t.total);
    let repeated = current.results.iter().any(|r| r.repeat > 0);

    let mut cases = Vec::with_capacity(keys.len());
    let mut counts = BTreeMap::new();
    let (mut shared, mut pass_to_fail, mut fail_to_pass) = (0, 0, 0);
    for k in keys {
        let (b, c) = (base_by.get(&k).copied(), cur_by.get(&k).copied());
        let (bs, cs) = (b.map(|r| r.status), c.map(|r| r.status));
        let mut class = Class::of(bs, cs);
        if matches!(class, Class::Regressed | Class::Fixed | Class::StillFailing | Class::StillPassing)
            && (mixed(&base_trials, &k.0) || mixed(&cur_trials, &k.0))
        {
            class = Class::Flaky;
        }
        match (bs, cs) {
            (Some(Status::Pass), Some(Status::Fail)) => pass_to_fail += 1,
            (Some(Status::Fail), Some(Status::Pass)) => fail_to_pass += 1,
            _ => {}
        }
        if matches!(bs, Some(Status::Pass | Status::Fail)) && matches!(cs, Some(Status::Pass | Status::Fail)) {
            shared += 1;
        }
        *counts.entry(class).or_insert(0) += 1;
        let reasons = c
            .map(|r| {
                let mut v: Vec<String> =
                    r.grades.iter().filter(|g| !g.pass).map(|g| format!("{}: {}", g.grader, g.reason)).collect();
                v.extend(r.error.clone());
                v.extend(r.unmatched_calls().map(String::from));
                v
            })
            .unwrap_or_default();
        let (lines, changes) = match (b, c) {
            (Some(b), Some(c)) => diff::outputs(&b.output, &c.output).unzip(),
            _ => (None, None),
        };
        let either = c.or(b).expect("a key comes from one of the runs");
        cases.push(CaseChange {
            trials: if repeated { cur_trials.get(k.0.as_str()).copied() } else { None },
            case_id: k.0,
            repeat: k.1,
            class,
            base: bs,
            current: cs,
            reasons,
            diff: lines.filter(|l| !l.is_empty()),
            changes,
            failure: either.failure.clone(),
            tags: either.tags.clone(),
            base_score: b.and_then(mean_score),
            current_score: c.and_then(mean_score),
        });
    }

    let by_failure = groups(base, current, |r| r.failure.as_deref().into_iter().collect());
    let by_tag = groups(base, current, |r| r.tags.iter().map(String::as_str).collect());
    let new_failure_modes =
        by_failure.values().filter(|g| g.current.failed > 0 && g.base.failed == 0).map(|g| g.key.clone()).collect();
    let mut ids: Vec<&str> = base_trials.keys().chain(cur_trials.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let rate = |t: &BTreeMap<&str, Rate>, id: &str| t.get(id).copied().unwrap_or_default();
    let case_rates: Vec<CaseRates> = ids
        .iter()
        .map(|id| CaseRates { case_id: id.to_string(), base: rate(&base_trials, id), current: rate(&cur_trials, id) })
        .collect();
    let use_history = history.runs >= MIN_HISTORY_RUNS;
    let strata: Vec<Stratum> = case_rates
        .iter()
        .map(|c| {
            let r = if use_history { history.cases.get(&c.case_id).copied().unwrap_or_default() } else { c.base };
            Stratum {
                ref_passed: r.passed as u32,
                ref_total: r.total as u32,
                cur_passed: c.current.passed as u32,
                cur_total: c.current.total as u32,
            }
        })
        .collect();
    let (bside, cside) = (side(base, &base_trials), side(current, &cur_trials));
    let (bsum, csum) = (&base.summary, &current.summary);
    let deltas = Deltas {
        pass_rate: csum.pass_rate - bsum.pass_rate,
        mean_score: cside.stats.mean_score.zip(bside.stats.mean_score).map(|(c, b)| c - b),
        input_tokens: csum.input_tokens as i64 - bsum.input_tokens as i64,
        output_tokens: csum.output_tokens as i64 - bsum.output_tokens as i64,
        cost_usd: csum.cost_usd.zip(bsum.cost_usd).map(|(c, b)| c - b),
        latency_p50_ms: csum.latency_p50_ms as i64 - bsum.latency_p50_ms as i64,
        latency_p95_ms: csum.latency_p95_ms as i64 - bsum.latency_p95_ms as i64,
    };
    Comparison {
        base: bside,
        current: cside,
        deltas,
        cases,
        counts,
        by_failure: by_failure.into_values().collect(),
        by_tag: by_tag.into_values().collect(),
        new_failure_modes,
        mcnemar: stats::mcnemar(shared, pass_to_fail, fail_to_pass),
        drop_test: stats::drop_test(&strata),
        reference: if use_history { Reference::History { runs: history.runs } } else { Reference::Baseline },
        case_rates,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::{Grade, SuiteInfo, TargetInfo};
    use crate::suite::gate::Gate;
    use crate::trace::Usage;

    pub(crate) fn result(case: &str, repeat: u32, status: Status, text: &str) -> CaseResult {
        let mut r = crate::record::tests::result(case, status, 1);
        r.repeat = repeat;
        r.output.text = text.to_string();
        r.usage = Usage::default();
        r.cost_usd = None;
        r
    }

    pub(crate) fn run_of(id: &str, mut results: Vec<CaseResult>) -> Run {
        results.sort_by(|a, b| (&a.case_id, a.repeat).cmp(&(&b.case_id, b.repeat)));
        Run {
            schema_version: 1,
            id: id.into(),
            suite: SuiteInfo { name: "s".into(), path: "s.yaml".into(), hash: "h".into() },
            started_at: chrono::Utc::now(),
            finished_at: None,
            git: None,
            target: TargetInfo { model: "m".into(), instructions_hash: "i".into() },
            dataset_hash: "d".into(),
            options: crate::record::RunOptions::default(),
            gate: Gate::default(),
            summary: Summary::of(&results),
            results,
        }
    }

    pub(crate) fn run(id: &str, results: &[(&str, Status, &str)]) -> Run {
        run_of(id, results.iter().map(|(case, status, text)| result(case, 0, *status, text)).collect())
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
        // Shared graded pairs: a, b, c, d (e errored now, gone and new unpaired).
        assert_eq!((cmp.mcnemar.shared, cmp.mcnemar.pass_to_fail, cmp.mcnemar.fail_to_pass), (4, 1, 1));
    }

    #[test]
    fn repeats_pair_by_repeat_and_disagreeing_repeats_are_flaky() {
        let base = run_of(
            "b",
            vec![
                result("steady", 0, Status::Pass, "x"),
                result("steady", 1, Status::Pass, "x"),
                result("wobbly", 0, Status::Pass, "x"),
                result("wobbly", 1, Status::Pass, "x"),
            ],
        );
        let cur = run_of(
            "c",
            vec![
                result("steady", 0, Status::Fail, "y"),
                result("steady", 1, Status::Fail, "y"),
                result("wobbly", 0, Status::Pass, "x"),
                result("wobbly", 1, Status::Fail, "y"),
            ],
        );
        let cmp = compare(&base, &cur);
        assert_eq!(cmp.cases.len(), 4);
        assert_eq!(cmp.count(Class::Regressed), 2, "both repeats of `steady`");
        assert_eq!(cmp.count(Class::Flaky), 2);
        let w = cmp.cases.iter().find(|c| c.case_id == "wobbly" && c.repeat == 1).unwrap();
        assert_eq!(w.trials, Some(Rate { passed: 1, total: 2 }));
        assert_eq!(cmp.current.stats.repeats, 2);
        // pass^2: steady 0, wobbly 0 → 0; pass^1 = 1/4.
        let k: Vec<f64> = cmp.current.stats.pass_hat_k.iter().map(|p| p.value).collect();
        assert_eq!(k, vec![0.25, 0.0]);
    }

    #[test]
    fn pass_hat_k_comes_out_the_same_to_the_last_digit_every_time() {
        // Per-case chances 1, 1/3, 1, 1: their float sum depends on the order they are added in.
        let pattern = [("a", [true; 3]), ("b", [true, false, false]), ("c", [true; 3]), ("d", [true; 3])];
        let results = pattern.iter().flat_map(|(case, passes)| {
            passes
                .iter()
                .enumerate()
                .map(|(i, p)| result(case, i as u32, if *p { Status::Pass } else { Status::Fail }, "x"))
        });
        let r = run_of("r", results.collect());
        let bits = |c: &Comparison| c.current.stats.pass_hat_k.iter().map(|p| p.value.to_bits()).collect::<Vec<_>>();
        let first = bits(&compare(&r, &r));
        for _ in 0..50 {
            assert_eq!(bits(&compare(&r, &r)), first);
        }
    }

    #[test]
    fn deltas_graders_breakdowns_and_new_failure_modes() {
        let mk = |case: &str, status, failure: Option<&str>, tag: &str, score: f64, tokens: u64| {
            let mut r = result(case, 0, status, "x");
            r.failure = failure.map(String::from);
            r.tags = vec![tag.to_string()];
            r.usage = Usage { input_tokens: tokens, output_tokens: 1, ..Usage::default() };
            r.cost_usd = Some(0.01);
            r.grades = vec![Grade {
                grader: "sim".into(),
                score,
                pass: status == Status::Pass,
                reason: "r".into(),
                ..Grade::default()
            }];
            r
        };
        let base = run_of(
            "b",
            vec![
                mk("a", Status::Pass, Some("wrong_tool"), "tools", 1.0, 10),
                mk("b", Status::Fail, Some("refusal"), "chat", 0.2, 10),
            ],
        );
        let cur = run_of(
            "c",
            vec![
                mk("a", Status::Fail, Some("wrong_tool"), "tools", 0.5, 30),
                mk("b", Status::Fail, Some("refusal"), "chat", 0.2, 10),
            ],
        );
        let cmp = compare(&base, &cur);
        assert_eq!(cmp.deltas.pass_rate, -0.5);
        assert!((cmp.deltas.mean_score.unwrap() - -0.25).abs() < 1e-9);
        assert_eq!(cmp.deltas.input_tokens, 20);
        assert_eq!(cmp.deltas.cost_usd, Some(0.0));
        assert_eq!(cmp.base.stats.graders["sim"], Rate { passed: 1, total: 2 });
        assert_eq!(cmp.current.stats.graders["sim"], Rate { passed: 0, total: 2 });
        let wt = cmp.by_failure.iter().find(|g| g.key == "wrong_tool").unwrap();
        assert_eq!((wt.base.failed, wt.current.failed), (0, 1));
        assert_eq!(cmp.new_failure_modes, vec!["wrong_tool".to_string()], "refusal failed before too");
        assert_eq!(cmp.by_tag.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(), vec!["chat", "tools"]);
        let a = &cmp.cases[0];
        assert_eq!((a.base_score, a.current_score), (Some(1.0), Some(0.5)));
        assert_eq!(a.failure.as_deref(), Some("wrong_tool"));
    }

    #[test]
    fn flakiness_ranks_coin_flips_first() {
        let h = History::from_rows(
            4,
            vec![("steady".into(), 4, 4), ("coin".into(), 2, 4), ("mostly".into(), 3, 4), ("never".into(), 0, 0)],
        );
        let v = h.by_flakiness();
        let order: Vec<(&str, f64)> = v.iter().map(|f| (f.case_id.as_str(), f.flakiness)).collect();
        assert_eq!(order, vec![("coin", 1.0), ("mostly", 0.75), ("steady", 0.0)]);
    }
}
