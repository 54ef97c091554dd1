//! The run record: what one replay of a suite produced, as stored and as a JSON file.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{ResultRow, RunOwner, Store, StoreError};
use crate::suite::gate::Gate;
use crate::trace::Usage;

/// Version of the run JSON format; readers refuse newer files.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum RunFileError {
    #[error("cannot read run file {path}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write run file {path}")]
    Write { path: String, source: std::io::Error },
    #[error("{path} is not a run file")]
    Parse { path: String, source: serde_json::Error },
    #[error("{path} has run schema version {found}; this evals reads up to {SCHEMA_VERSION}: upgrade evals")]
    TooNew { path: String, found: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub schema_version: u32,
    pub id: String,
    pub suite: SuiteInfo,
    /// Absent from blessed baselines, which keep no volatile fields.
    #[serde(default)]
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub git: Option<GitInfo>,
    pub target: TargetInfo,
    pub dataset_hash: String,
    /// How the run was started, so `--resume` replays the same selection.
    #[serde(default)]
    pub options: RunOptions,
    #[serde(default)]
    pub gate: Gate,
    #[serde(default)]
    pub summary: Summary,
    #[serde(default)]
    pub results: Vec<CaseResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    #[serde(default = "one_sample")]
    pub repeat: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    #[serde(default)]
    pub no_cache: bool,
    /// Hash of every case in the suite's datasets before filter and shard: shards that share it
    /// ran on the same cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets_hash: Option<String>,
    /// A merge made with `--allow-partial`: the shards (`K/N`) it lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_shards: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            repeat: 1,
            filter: Vec::new(),
            shard: None,
            set: Vec::new(),
            no_cache: false,
            datasets_hash: None,
            missing_shards: Vec::new(),
        }
    }
}

impl RunOptions {
    /// `merged 2 of 3 shards: 1/3 missing`, for a partial merge.
    pub fn partial(&self) -> Option<String> {
        let first = self.missing_shards.first()?;
        let total: usize = first.split_once('/').and_then(|(_, n)| n.parse().ok()).unwrap_or(0);
        Some(format!(
            "merged {} of {total} shards: {} missing",
            total.saturating_sub(self.missing_shards.len()),
            self.missing_shards.join(", ")
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteInfo {
    pub name: String,
    pub path: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: String,
    #[serde(default)]
    pub branch: Option<String>,
}

/// The target as resolved for this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub model: String,
    /// Hash over the rendered instructions of every case, in case order.
    pub instructions_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The case could not be graded (API error, unrecorded tool call, ...): never a failure.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case_id: String,
    #[serde(default)]
    pub repeat: u32,
    pub status: Status,
    pub output: Output,
    #[serde(default)]
    pub turns: u32,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub grades: Vec<Grade>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The case's labelled failure category, for breakdowns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Why the case errored: `rate_limit`, `quota`, `timeout`, `connection`, `server`,
    /// `request`, `decode`, `tool`, `max_turns` or `budget`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Every model answer of this result came from the response cache.
    #[serde(default)]
    pub cached: bool,
    #[serde(default)]
    pub model_calls: u32,
    #[serde(default)]
    pub cache_hits: u32,
    /// Requests the scheduler had to send again (rate limits, server errors, timeouts).
    #[serde(default)]
    pub retries: u32,
    /// The case file, as the run found it: the reports link to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_file: Option<String>,
    /// The trace the case was cut from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// What the agent was asked, for the reports: a bounded preview of the case's input
    /// (`Input::preview`), so a large run stays small; the case file has all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

impl CaseResult {
    /// Calls the agent made that no recording answers (`unmatched_call` events) that its error
    /// does not already say: every report shows them next to the grader reasons.
    pub fn unmatched_calls(&self) -> impl Iterator<Item = &str> {
        self.output
            .events
            .iter()
            .filter(|e| e.kind == "unmatched_call" && self.error.as_deref() != Some(e.message.as_str()))
            .map(|e| e.message.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub text: String,
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// The agent that gave the final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// What replay noticed on the way (a tool call with no recording, ...), for graders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
}

/// Something that happened during a replay that graders may judge: `unmatched_tool_call`,
/// `matched_by_order`, `forbidden_tool_call`, `mock_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub tool: String,
    pub arguments: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// One grader's verdict on one case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    pub grader: String,
    /// In [0, 1].
    pub score: f64,
    pub pass: bool,
    pub reason: String,
    /// The grader's weight in the case's score.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub weight: f64,
    /// The case fails when this grader fails, whatever the score.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The grader itself failed (a judge call, a command that crashed): the case is an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
    /// What an LLM judge cost, apart from the target's cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// How often one grader passed over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraderStat {
    pub grader: String,
    pub passed: usize,
    pub failed: usize,
    #[serde(default)]
    pub errors: usize,
    /// Passed over (passed + failed).
    pub pass_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    /// Passed over graded (passed + failed); errors are not failures.
    pub pass_rate: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Known only when the price of the model is (see `pricing`).
    #[serde(default)]
    pub cost_usd: Option<f64>,
    pub latency_p50_ms: u64,
    pub latency_p95_ms: u64,
    /// What LLM judges cost, apart from `cost_usd` (the target's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_cost_usd: Option<f64>,
    /// Pass rate per grader, in suite order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub graders: Vec<GraderStat>,
    #[serde(default)]
    pub model_calls: u64,
    #[serde(default)]
    pub cache_hits: u64,
    /// Cache hits over model calls.
    #[serde(default)]
    pub cache_hit_ratio: f64,
    #[serde(default)]
    pub retries: u64,
    /// Errors by cause.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors_by_cause: BTreeMap<String, usize>,
    /// Samples per case (`--repeat`).
    #[serde(default = "one_sample")]
    pub repeat: u32,
    /// Cases whose samples disagree (some pass, some fail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<String>,
}

fn one_sample() -> u32 {
    1
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            cases: 0,
            passed: 0,
            failed: 0,
            errored: 0,
            pass_rate: 0.0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: None,
            latency_p50_ms: 0,
            latency_p95_ms: 0,
            judge_cost_usd: None,
            graders: Vec::new(),
            model_calls: 0,
            cache_hits: 0,
            cache_hit_ratio: 0.0,
            retries: 0,
            errors_by_cause: BTreeMap::new(),
            repeat: 1,
            flaky: Vec::new(),
        }
    }
}

/// The samples of one case, when a run repeats cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseStats {
    pub case_id: String,
    pub samples: u32,
    pub passed: u32,
    pub failed: u32,
    pub errored: u32,
}

impl CaseStats {
    fn new(case_id: &str) -> CaseStats {
        CaseStats { case_id: case_id.to_string(), samples: 0, passed: 0, failed: 0, errored: 0 }
    }

    fn count(&mut self, status: Status) {
        self.samples += 1;
        match status {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Error => self.errored += 1,
        }
    }

    /// Mixed graded outcomes: the same input both passed and failed.
    pub fn flaky(&self) -> bool {
        self.passed > 0 && self.failed > 0
    }
}

/// Per-case pass counts over the repeats, in case id order.
pub fn case_stats(results: &[CaseResult]) -> Vec<CaseStats> {
    let mut by_case: BTreeMap<&str, CaseStats> = BTreeMap::new();
    for r in results {
        by_case.entry(&r.case_id).or_insert_with(|| CaseStats::new(&r.case_id)).count(r.status);
    }
    by_case.into_values().collect()
}

impl Summary {
    pub fn of(results: &[CaseResult]) -> Summary {
        // A tally takes the samples of a case together: order by case, keeping repeat order.
        let mut sorted: Vec<&CaseResult> = results.iter().collect();
        sorted.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        let mut tally = Tally::default();
        for r in sorted {
            tally.add(r);
        }
        tally.summary()
    }

    pub fn graded(&self) -> usize {
        self.passed + self.failed
    }
}

/// A run's summary built one result at a time, in any order: a run counts its results as they
/// are stored, and nothing reads them back for it. The summary is the same whatever the order:
/// costs are summed exactly, flaky cases and graders are listed as the store orders results.
#[derive(Default)]
pub struct Tally {
    summary: Summary,
    latencies: Vec<u64>,
    cost_usd: Option<ExactSum>,
    judge_cost_usd: Option<ExactSum>,
    /// Each grader's first result in the store's order (case id, repeat), and its place there.
    first_seen: Vec<(String, u32, usize)>,
    /// Samples each case has: its counts close once that many came (0: at the summary), so a
    /// large run holds only the cases still being repeated.
    samples: u32,
    open: HashMap<String, CaseStats>,
}

impl Tally {
    /// A tally of a run that replays each case `samples` times.
    pub fn of_samples(samples: u32) -> Tally {
        Tally { samples, ..Tally::default() }
    }

    pub fn add(&mut self, r: &CaseResult) {
        let s = &mut self.summary;
        s.cases += 1;
        match r.status {
            Status::Pass => s.passed += 1,
            Status::Fail => s.failed += 1,
            Status::Error => {
                s.errored += 1;
                *s.errors_by_cause.entry(r.cause.clone().unwrap_or_else(|| "other".into())).or_insert(0) += 1;
            }
        }
        if r.status != Status::Error {
            self.latencies.push(r.latency_ms);
        }
        s.input_tokens += r.usage.input_tokens;
        s.output_tokens += r.usage.output_tokens;
        s.model_calls += u64::from(r.model_calls);
        s.cache_hits += u64::from(r.cache_hits);
        s.retries += u64::from(r.retries);
        add_cost(&mut self.cost_usd, r.cost_usd);
        for (place, g) in r.grades.iter().enumerate() {
            add_cost(&mut self.judge_cost_usd, g.cost_usd);
            let i = match s.graders.iter().position(|x| x.grader == g.grader) {
                Some(i) => i,
                None => {
                    s.graders.push(GraderStat { grader: g.grader.clone(), ..GraderStat::default() });
                    self.first_seen.push((r.case_id.clone(), r.repeat, place));
                    s.graders.len() - 1
                }
            };
            let seen = &mut self.first_seen[i];
            if (r.case_id.as_str(), r.repeat, place) < (seen.0.as_str(), seen.1, seen.2) {
                *seen = (r.case_id.clone(), r.repeat, place);
            }
            let stat = &mut s.graders[i];
            match (g.error, g.pass) {
                (true, _) => stat.errors += 1,
                (false, true) => stat.passed += 1,
                (false, false) => stat.failed += 1,
            }
        }
        let case = self.open.entry(r.case_id.clone()).or_insert_with(|| CaseStats::new(&r.case_id));
        case.count(r.status);
        if self.samples > 0 && case.samples >= self.samples {
            let case = self.open.remove(&r.case_id).expect("counted just now");
            self.close_case(case);
        }
    }

    fn close_case(&mut self, c: CaseStats) {
        self.summary.repeat = self.summary.repeat.max(c.samples);
        if c.flaky() {
            self.summary.flaky.push(c.case_id);
        }
    }

    pub fn summary(mut self) -> Summary {
        for (_, c) in std::mem::take(&mut self.open) {
            self.close_case(c);
        }
        self.latencies.sort_unstable();
        let mut s = self.summary;
        s.flaky.sort_unstable();
        let mut graders: Vec<_> = self.first_seen.into_iter().zip(std::mem::take(&mut s.graders)).collect();
        graders.sort_by(|(a, _), (b, _)| a.cmp(b));
        s.graders = graders.into_iter().map(|(_, g)| g).collect();
        s.pass_rate = if s.graded() == 0 { 0.0 } else { s.passed as f64 / s.graded() as f64 };
        s.cost_usd = self.cost_usd.map(|c| c.value());
        s.judge_cost_usd = self.judge_cost_usd.map(|c| c.value());
        s.latency_p50_ms = percentile(&self.latencies, 0.50);
        s.latency_p95_ms = percentile(&self.latencies, 0.95);
        s.cache_hit_ratio = if s.model_calls == 0 { 0.0 } else { s.cache_hits as f64 / s.model_calls as f64 };
        for g in &mut s.graders {
            let graded = g.passed + g.failed;
            g.pass_rate = if graded == 0 { 0.0 } else { g.passed as f64 / graded as f64 };
        }
        s
    }
}

/// A sum of costs that stays unknown until one is known.
fn add_cost(sum: &mut Option<ExactSum>, cost: Option<f64>) {
    if let Some(c) = cost {
        sum.get_or_insert_with(ExactSum::default).add(c);
    }
}

/// A sum of floats kept exact (as non-overlapping partial sums) and rounded once when read, so
/// that it does not depend on the order the terms came in: results finish in any order.
#[derive(Debug, Default, Clone)]
struct ExactSum {
    /// Increasing in magnitude, none overlapping the next.
    partials: Vec<f64>,
}

impl ExactSum {
    fn add(&mut self, mut x: f64) {
        let mut kept = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    /// The exact sum rounded to the nearest float, ties to even.
    fn value(&self) -> f64 {
        let mut rest = self.partials.iter().rev();
        let Some(&top) = rest.next() else { return 0.0 };
        let (mut hi, mut lo) = (top, 0.0);
        let mut below = rest.clone();
        for &y in rest {
            below.next();
            let x = hi;
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // A remainder of exactly half a unit rounds by what lies below it.
        if let Some(&next) = below.next()
            && ((lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0))
        {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Run {
    /// The run without its results, which are many and which the store keeps one row each.
    pub fn header(&self) -> Run {
        Run {
            schema_version: self.schema_version,
            id: self.id.clone(),
            suite: self.suite.clone(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            git: self.git.clone(),
            target: self.target.clone(),
            dataset_hash: self.dataset_hash.clone(),
            options: self.options.clone(),
            gate: self.gate.clone(),
            summary: self.summary.clone(),
            results: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Run, RunFileError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RunFileError::Read { path: p.clone(), source })?;
        let run: Run = serde_json::from_str(&text).map_err(|source| RunFileError::Parse { path: p.clone(), source })?;
        if run.schema_version > SCHEMA_VERSION {
            return Err(RunFileError::TooNew { path: p, found: run.schema_version });
        }
        Ok(run)
    }

    /// The run file's text: pretty JSON ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a run always serializes");
        text.push('\n');
        text
    }

    pub fn save(&self, path: &Path) -> Result<(), RunFileError> {
        let texts = self.results.iter().map(|r| Ok(serde_json::to_string(r).expect("a result always serializes")));
        self.save_with(texts, path)
    }

    /// Write the run file from this run's header and summary and a stream of its results as
    /// compact JSON texts (say, [`StoredRuns::result_texts`]), each indented as it is copied: a
    /// 100,000-case run file is never in memory, and stored results are not decoded to be
    /// encoded again (that was the largest part of the time a large run spent after its last case). The
    /// file is the same as [`Run::to_json`] writes for the run with those results.
    pub fn save_with<T: AsRef<str>>(
        &self,
        results: impl Iterator<Item = Result<T, StoreError>>,
        path: &Path,
    ) -> Result<(), RunFileError> {
        let err = |source| RunFileError::Write { path: path.display().to_string(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let serde_json::Value::Object(mut header) = serde_json::to_value(self.header()).expect("a run serializes")
        else {
            unreachable!("a run serializes as an object")
        };
        header.shift_remove("results");
        let mut head = serde_json::to_vec_pretty(&header).expect("a run serializes");
        // `{ ... \n}`: the results go in before the closing brace, as the last field (a run
        // always has other fields, so a comma comes first).
        head.truncate(head.len() - 2);
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
        let written = (|| -> std::io::Result<()> {
            file.write_all(&head)?;
            file.write_all(b",\n  \"results\": [")?;
            let (mut any, mut indented) = (false, Vec::new());
            for text in results {
                let text = text.map_err(std::io::Error::other)?;
                indented.clear();
                indented.extend_from_slice(if any { b",\n    " } else { b"\n    " });
                indent_json(text.as_ref().as_bytes(), 2, &mut indented).map_err(|()| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "a stored result is not JSON")
                })?;
                file.write_all(&indented)?;
                any = true;
            }
            file.write_all(if any { b"\n  ]\n}\n" } else { b"]\n}\n" })?;
            file.flush()
        })();
        written.map_err(err)
    }

    /// Results in a stable order: case id, then repeat.
    pub fn sort_results(&mut self) {
        self.results.sort_by(|a, b| (&a.case_id, a.repeat).cmp(&(&b.case_id, b.repeat)));
    }
}

/// Append compact JSON `json` to `out` laid out as serde_json's pretty printer lays out a value
/// at `depth` (two spaces a level, `": "` after keys, empty containers as `{}` and `[]`), so a
/// stored result is copied into the run file as it is. `Err` when its brackets or quotes do not
/// balance.
fn indent_json(json: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<(), ()> {
    fn newline(out: &mut Vec<u8>, level: usize) {
        out.push(b'\n');
        out.resize(out.len() + 2 * level, b' ');
    }
    let skip_space = |mut i: usize| {
        while json.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    // The closing bracket of each container that is open.
    let (mut open, mut i) = (Vec::new(), 0);
    while i < json.len() {
        let b = json[i];
        i += 1;
        match b {
            b'"' => {
                let start = i - 1;
                loop {
                    match json.get(i) {
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                        None => return Err(()),
                    }
                }
                i += 1;
                out.extend_from_slice(json.get(start..i).ok_or(())?);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                let next = skip_space(i);
                out.push(b);
                if json.get(next) == Some(&close) {
                    out.push(close);
                    i = next + 1;
                } else {
                    open.push(close);
                    newline(out, depth + open.len());
                }
            }
            b'}' | b']' => {
                if open.pop() != Some(b) {
                    return Err(());
                }
                newline(out, depth + open.len());
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(out, depth + open.len());
            }
            b':' => out.extend_from_slice(b": "),
            b if b.is_ascii_whitespace() => {}
            b => out.push(b),
        }
    }
    if open.is_empty() { Ok(()) } else { Err(()) }
}

/// Runs shown in a pass-rate trend.
pub const TREND_RUNS: usize = 20;

/// One run's point on a suite's pass-rate trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub pass_rate: f64,
    pub graded: usize,
}

impl From<&Run> for TrendPoint {
    fn from(r: &Run) -> TrendPoint {
        TrendPoint {
            run_id: r.id.clone(),
            started_at: r.started_at,
            pass_rate: r.summary.pass_rate,
            graded: r.summary.graded(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge: give at least one run file")]
    Empty,
    #[error(
        "run {other} is of suite {other_suite} ({other_hash}), not {suite} ({hash}): only shards of one suite merge"
    )]
    OtherSuite { other: String, other_suite: String, other_hash: String, suite: String, hash: String },
    #[error("case {case_id} (repeat {repeat}) is in both {first} and {second}: shards must not overlap")]
    Duplicate { case_id: String, repeat: u32, first: String, second: String },
    #[error("run {other} ran on other cases than {first} (its datasets differ): only shards of one dataset merge")]
    OtherDataset { other: String, first: String },
    #[error(
        "run {other} was filtered otherwise than {first} ({other_filter:?}, not {filter:?}): only shards of one selection merge"
    )]
    OtherFilter { other: String, first: String, other_filter: Vec<String>, filter: Vec<String> },
    #[error("run {other} is shard {shard}, not of the {count} shards of {first}")]
    OtherShards { other: String, shard: String, count: u64, first: String },
    #[error("{0}; --allow-partial merges them anyway")]
    Missing(String),
}

/// Combine the shards of one suite into one run: every result once, the summary recomputed.
/// Shards of other datasets or selections are refused, and so is a set with shards missing
/// unless `allow_partial`, when the merged run names them.
pub fn merge(runs: Vec<Run>, now: DateTime<Utc>, allow_partial: bool) -> Result<Run, MergeError> {
    let first = runs.first().ok_or(MergeError::Empty)?.clone();
    let mut seen: BTreeMap<(String, u32), String> = BTreeMap::new();
    let mut results = Vec::new();
    let mut dataset = Sha256::new();
    for run in &runs {
        if run.suite.hash != first.suite.hash {
            return Err(MergeError::OtherSuite {
                other: run.id.clone(),
                other_suite: run.suite.name.clone(),
                other_hash: run.suite.hash.clone(),
                suite: first.suite.name.clone(),
                hash: first.suite.hash.clone(),
            });
        }
        if let (Some(a), Some(b)) = (&first.options.datasets_hash, &run.options.datasets_hash)
            && a != b
        {
            return Err(MergeError::OtherDataset { other: run.id.clone(), first: first.id.clone() });
        }
        if run.options.filter != first.options.filter {
            return Err(MergeError::OtherFilter {
                other: run.id.clone(),
                first: first.id.clone(),
                other_filter: run.options.filter.clone(),
                filter: first.options.filter.clone(),
            });
        }
        for r in &run.results {
            if let Some(prev) = seen.insert((r.case_id.clone(), r.repeat), run.id.clone()) {
                return Err(MergeError::Duplicate {
                    case_id: r.case_id.clone(),
                    repeat: r.repeat,
                    first: prev,
                    second: run.id.clone(),
                });
            }
            results.push(r.clone());
        }
        dataset.update(run.dataset_hash.as_bytes());
    }
    // Checked once the shards are known to be of one suite, dataset and selection, and disjoint.
    let missing = missing_shards(&runs)?;
    if !missing.is_empty() && !allow_partial {
        let options = RunOptions { missing_shards: missing, ..RunOptions::default() };
        return Err(MergeError::Missing(options.partial().expect("shards are missing")));
    }
    let mut merged = Run {
        id: new_id(now),
        started_at: runs.iter().map(|r| r.started_at).min().unwrap_or(now),
        finished_at: runs.iter().map(|r| r.finished_at).collect::<Option<Vec<_>>>().and_then(|f| f.into_iter().max()),
        dataset_hash: format!("sha256:{}", hex::encode(dataset.finalize())),
        options: RunOptions { shard: None, missing_shards: missing, ..first.options.clone() },
        summary: Summary::of(&results),
        results,
        ..first
    };
    merged.sort_results();
    Ok(merged)
}

/// The shards (`K/N`) absent from runs made with `--shard`, or why they are not one set.
fn missing_shards(runs: &[Run]) -> Result<Vec<String>, MergeError> {
    let mut count = None;
    let mut present = std::collections::BTreeSet::new();
    for run in runs {
        let Some(spec) = &run.options.shard else { continue };
        let Some((k, n)) =
            spec.split_once('/').and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        else {
            continue;
        };
        match count {
            Some(c) if c != n => {
                return Err(MergeError::OtherShards {
                    other: run.id.clone(),
                    shard: spec.clone(),
                    count: c,
                    first: runs[0].id.clone(),
                });
            }
            _ => count = Some(n),
        }
        present.insert(k);
    }
    let Some(n) = count else { return Ok(Vec::new()) };
    Ok((1..=n).filter(|k| !present.contains(k)).map(|k| format!("{k}/{n}")).collect())
}

/// A new run id: sortable by time, unique enough for one machine.
pub fn new_id(now: DateTime<Utc>) -> String {
    format!("run_{}_{:04x}", now.format("%Y%m%dT%H%M%S"), fastrand::u16(..))
}

#[derive(Debug, thiserror::Error)]
pub enum FindRunError {
    #[error("run file {0} does not exist")]
    NoFile(String),
    #[error(transparent)]
    RunFile(#[from] RunFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A run named by a file path, or else by a stored run id (prefix).
pub fn find_run(store: &Path, name: &str) -> Result<Run, FindRunError> {
    let path = Path::new(name);
    if path.is_file() {
        return Ok(Run::load(path)?);
    }
    if name.ends_with(".json") {
        return Err(FindRunError::NoFile(name.to_string()));
    }
    let s = Store::open_existing(store)?;
    let id = s.resolve_run(name)?;
    Ok(s.load_run(&id)?)
}

/// The run record's home in the store: each run a header row, each result a row of its own.
pub trait StoredRuns {
    /// A new run, owned by `owner` from the start.
    fn create_run(&mut self, run: &Run, owner: &RunOwner) -> Result<(), StoreError>;
    fn save_results(&mut self, run_id: &str, results: &[CaseResult]) -> Result<(), StoreError>;
    fn finish_run(&mut self, run: &Run) -> Result<(), StoreError>;
    /// Run headers (no results), newest first; of one suite when given.
    fn list_runs(&self, suite: Option<&str>, limit: usize) -> Result<Vec<Run>, StoreError>;
    /// The pass-rate trend of a suite: its finished runs up to `until`, oldest first.
    fn trend(&self, suite: &str, until: DateTime<Utc>, limit: usize) -> Result<Vec<TrendPoint>, StoreError>;
    fn load_run(&self, id: &str) -> Result<Run, StoreError>;
    /// A run's header and summary, without its results.
    fn run_head(&self, id: &str) -> Result<Run, StoreError>;
    /// A run's results, by case id then repeat, read as they are consumed.
    fn results(&self, id: &str) -> StoredResults<'_>;
    /// [`StoredRuns::results`] as their stored JSON texts, not decoded.
    fn result_texts(&self, id: &str) -> StoredTexts<'_>;
    /// Up to `limit` run headers after `after` (newest first); of one suite when given.
    fn runs_after(&self, suite: Option<&str>, after: Option<&Run>, limit: usize) -> Result<Vec<Run>, StoreError>;
    /// Up to `limit` results of a run after (case id, repeat) `after`, with this status and
    /// labelled failure when given.
    fn results_where(
        &self,
        id: &str,
        after: Option<(&str, u32)>,
        status: Option<Status>,
        failure: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CaseResult>, StoreError>;
}

fn header_json(run: &Run) -> String {
    serde_json::to_string(&run.header()).expect("a run always serializes")
}

fn parse_header(id: &str, header: &str) -> Result<Run, StoreError> {
    serde_json::from_str(header).map_err(|e| StoreError::Corrupt(format!("run {id}: {e}")))
}

fn parse_headers(rows: Vec<(String, String)>) -> Result<Vec<Run>, StoreError> {
    rows.iter().map(|(id, header)| parse_header(id, header)).collect()
}

impl StoredRuns for Store {
    fn create_run(&mut self, run: &Run, owner: &RunOwner) -> Result<(), StoreError> {
        self.insert_run(&run.id, &run.suite.name, run.started_at, &header_json(run), owner)
    }

    fn save_results(&mut self, run_id: &str, results: &[CaseResult]) -> Result<(), StoreError> {
        self.put_results(
            run_id,
            results.iter().map(|r| ResultRow {
                case_id: &r.case_id,
                repeat: r.repeat,
                status: r.status.as_str(),
                data: serde_json::to_string(r).expect("a result always serializes"),
            }),
        )
    }

    fn finish_run(&mut self, run: &Run) -> Result<(), StoreError> {
        self.update_run(&run.id, run.finished_at, &header_json(run))
    }

    fn list_runs(&self, suite: Option<&str>, limit: usize) -> Result<Vec<Run>, StoreError> {
        parse_headers(self.run_headers(suite, limit)?)
    }

    fn trend(&self, suite: &str, until: DateTime<Utc>, limit: usize) -> Result<Vec<TrendPoint>, StoreError> {
        let runs = parse_headers(self.finished_run_headers(suite, until, limit)?)?;
        Ok(runs.iter().rev().map(TrendPoint::from).collect())
    }

    fn load_run(&self, id: &str) -> Result<Run, StoreError> {
        let mut run = self.run_head(id)?;
        run.results = self.results(id).collect::<Result<_, _>>()?;
        Ok(run)
    }

    fn run_head(&self, id: &str) -> Result<Run, StoreError> {
        parse_header(id, &self.run_header(id)?)
    }

    fn results(&self, id: &str) -> StoredResults<'_> {
        StoredResults(self.result_texts(id))
    }

    fn result_texts(&self, id: &str) -> StoredTexts<'_> {
        StoredTexts { store: self, run_id: id.to_string(), page: Vec::new().into_iter(), last: None, done: false }
    }

    fn runs_after(&self, suite: Option<&str>, after: Option<&Run>, limit: usize) -> Result<Vec<Run>, StoreError> {
        parse_headers(self.run_headers_after(suite, after.map(|r| (r.started_at, r.id.as_str())), limit)?)
    }

    fn results_where(
        &self,
        id: &str,
        after: Option<(&str, u32)>,
        status: Option<Status>,
        failure: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CaseResult>, StoreError> {
        let rows = self.results_after(id, after, status.map(Status::as_str), failure, limit)?;
        rows.into_iter()
            .map(|(case, repeat, data)| {
                serde_json::from_str(&data)
                    .map_err(|e| StoreError::Corrupt(format!("result {case} #{repeat} in run {id}: {e}")))
            })
            .collect()
    }
}

/// A stored run's results as the JSON texts they are stored as, by case id then repeat, read
/// from the store a page at a time.
pub struct StoredTexts<'a> {
    store: &'a Store,
    run_id: String,
    page: std::vec::IntoIter<(String, u32, String)>,
    /// The case id and repeat of the last text returned.
    last: Option<(String, u32)>,
    done: bool,
}

impl StoredTexts<'_> {
    /// Enough rows per query that paging costs nothing next to decoding them.
    const PAGE: usize = 512;
}

impl Iterator for StoredTexts<'_> {
    type Item = Result<String, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (case, repeat, data) = match self.page.next() {
            Some(row) => row,
            None if self.done => return None,
            None => {
                let after = self.last.as_ref().map(|(c, r)| (c.as_str(), *r));
                match self.store.results_after(&self.run_id, after, None, None, Self::PAGE) {
                    Ok(rows) => {
                        self.done = rows.len() < Self::PAGE;
                        self.page = rows.into_iter();
                        self.page.next()?
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
        };
        self.last = Some((case, repeat));
        Some(Ok(data))
    }
}

/// A stored run's results, by case id then repeat, decoded as they are read.
pub struct StoredResults<'a>(StoredTexts<'a>);

impl Iterator for StoredResults<'_> {
    type Item = Result<CaseResult, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let data = match self.0.next()? {
            Ok(data) => data,
            Err(e) => return Some(Err(e)),
        };
        let (case, repeat) = self.0.last.as_ref().expect("a text was read");
        Some(
            serde_json::from_str(&data)
                .map_err(|e| StoreError::Corrupt(format!("result {case} #{repeat} in run {}: {e}", self.0.run_id))),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compare::tests::run;

    /// A result with 10 + 5 tokens costing $0.50, for tests here and in `compare`.
    pub(crate) fn result(id: &str, status: Status, latency: u64) -> CaseResult {
        CaseResult {
            case_id: id.into(),
            repeat: 0,
            status,
            output: Output::default(),
            turns: 1,
            usage: Usage { input_tokens: 10, output_tokens: 5, ..Usage::default() },
            cost_usd: Some(0.5),
            latency_ms: latency,
            grades: vec![],
            error: None,
            failure: None,
            tags: vec![],
            cause: None,
            cached: false,
            model_calls: 1,
            cache_hits: 0,
            retries: 0,
            case_file: None,
            trace_id: None,
            input: None,
        }
    }

    #[test]
    fn an_exact_sum_is_the_rounded_true_sum_in_any_order() {
        let sum = |xs: &[f64]| {
            let mut s = ExactSum::default();
            xs.iter().for_each(|&x| s.add(x));
            s.value()
        };
        // Ten 0.1s add up to 0.9999999999999999 one by one; their exact sum rounds to 1.
        assert_eq!(sum(&[0.1; 10]), 1.0);
        assert_eq!(sum(&[1e16, 1.0, -1e16]), 1.0);
        assert_eq!(sum(&[]), 0.0);
        let mut xs: Vec<f64> = (1..200).map(|i| 1.0 / f64::from(i) * if i % 3 == 0 { -1e-3 } else { 7.0 }).collect();
        let first = sum(&xs);
        for k in 0..20 {
            xs.rotate_left(k + 1);
            xs.swap(k, 198 - k);
            assert_eq!(sum(&xs).to_bits(), first.to_bits());
        }
    }

    #[test]
    fn a_tally_in_any_order_matches_the_store_order() {
        // Three repeats per case; some cases flaky; a grader some results lack; costs that a
        // sum in arrival order would round differently.
        let mut results = Vec::new();
        for i in 0..60 {
            for repeat in 0..3 {
                let status = if i % 7 == 0 && repeat == 1 { Status::Fail } else { Status::Pass };
                let mut r = result(&format!("case-{i:02}"), status, u64::from(repeat) * 10 + i);
                r.repeat = repeat;
                r.cost_usd = Some(0.1 * f64::from(repeat + 1) + 1e-3 * i as f64);
                let grade = |name: &str| Grade {
                    grader: name.into(),
                    score: 1.0,
                    pass: true,
                    reason: String::new(),
                    weight: 1.0,
                    required: false,
                    error: false,
                    cost_usd: Some(0.01),
                };
                r.grades = if i < 5 { vec![grade("late")] } else { vec![grade("early"), grade("late")] };
                results.push(r);
            }
        }
        let mut in_order = Tally::default();
        results.iter().for_each(|r| in_order.add(r));
        let in_order = in_order.summary();
        let mut shuffled = results.clone();
        fastrand::Rng::with_seed(7).shuffle(&mut shuffled);
        let mut arriving = Tally::of_samples(3);
        shuffled.iter().for_each(|r| arriving.add(r));
        let arriving = arriving.summary();
        assert_eq!(arriving, in_order);
        assert_eq!(arriving.flaky.len(), 9);
        assert_eq!(arriving.repeat, 3);
        let graders: Vec<&str> = arriving.graders.iter().map(|g| g.grader.as_str()).collect();
        assert_eq!(graders, ["late", "early"], "in the order of the store's first result");
    }

    #[test]
    fn errors_are_not_failures() {
        let s =
            Summary::of(&[result("a", Status::Pass, 10), result("b", Status::Fail, 20), result("c", Status::Error, 0)]);
        assert_eq!((s.passed, s.failed, s.errored), (1, 1, 1));
        assert_eq!(s.pass_rate, 0.5);
        assert_eq!(s.input_tokens, 30);
        assert_eq!((s.latency_p50_ms, s.latency_p95_ms), (10, 20));
    }

    #[test]
    fn pass_rate_per_grader_and_judge_cost() {
        let grade = |name: &str, pass: bool, error: bool, cost: Option<f64>| Grade {
            grader: name.into(),
            score: f64::from(u8::from(pass)),
            pass,
            reason: String::new(),
            weight: 1.0,
            required: false,
            error,
            cost_usd: cost,
        };
        let mut a = result("a", Status::Pass, 10);
        a.grades = vec![grade("x", true, false, None), grade("judge", true, false, Some(0.25))];
        let mut b = result("b", Status::Fail, 10);
        b.grades = vec![grade("x", false, false, None), grade("judge", false, true, Some(0.5))];
        let s = Summary::of(&[a, b]);
        assert_eq!(s.graders.len(), 2);
        assert_eq!((s.graders[0].grader.as_str(), s.graders[0].passed, s.graders[0].failed), ("x", 1, 1));
        assert_eq!(s.graders[0].pass_rate, 0.5);
        assert_eq!((s.graders[1].passed, s.graders[1].errors, s.graders[1].pass_rate), (1, 1, 1.0));
        assert_eq!(s.judge_cost_usd, Some(0.75));
    }

    #[test]
    fn repeats_count_passes_per_case_and_find_flaky_ones() {
        let mut b2 = result("b", Status::Fail, 1);
        b2.repeat = 1;
        let mut a2 = result("a", Status::Pass, 1);
        a2.repeat = 1;
        let mut c = result("c", Status::Error, 1);
        c.cause = Some("timeout".into());
        let rs = [result("a", Status::Pass, 1), a2, result("b", Status::Pass, 1), b2, c];
        let stats = case_stats(&rs);
        assert_eq!((stats[1].case_id.as_str(), stats[1].passed, stats[1].failed), ("b", 1, 1));
        let s = Summary::of(&rs);
        assert_eq!(s.flaky, vec!["b".to_string()]);
        assert_eq!(s.repeat, 2);
        assert_eq!(s.errors_by_cause.get("timeout"), Some(&1));
    }

    #[test]
    fn cache_hit_ratio_is_hits_over_calls() {
        let mut a = result("a", Status::Pass, 1);
        a.model_calls = 3;
        a.cache_hits = 3;
        let s = Summary::of(&[a, result("b", Status::Pass, 1)]);
        assert_eq!((s.model_calls, s.cache_hits), (4, 3));
        assert_eq!(s.cache_hit_ratio, 0.75);
    }

    #[test]
    fn old_run_files_still_read() {
        let old = r#"{"case_id":"a","status":"pass","output":{"text":"x"}}"#;
        let r: CaseResult = serde_json::from_str(old).unwrap();
        assert!(!r.cached && r.cause.is_none() && r.retries == 0);
        assert!(r.case_file.is_none() && r.trace_id.is_none() && r.input.is_none());
        let s: Summary = serde_json::from_str(
            r#"{"cases":1,"passed":1,"failed":0,"errored":0,"pass_rate":1.0,"input_tokens":1,"output_tokens":1,"latency_p50_ms":1,"latency_p95_ms":1}"#,
        )
        .unwrap();
        assert_eq!(s.repeat, 1);
    }

    #[test]
    fn merge_combines_shards_and_refuses_overlaps_and_other_suites() {
        let shard = |id: &str, cases: &[&str]| Run {
            id: id.into(),
            results: cases.iter().map(|c| result(c, Status::Pass, 1)).collect(),
            ..crate::compare::tests::run(id, &[])
        };
        let m = merge(vec![shard("r1", &["b", "c"]), shard("r2", &["a"])], Utc::now(), false).unwrap();
        assert_eq!(m.results.iter().map(|r| r.case_id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!((m.summary.cases, m.summary.passed), (3, 3));
        let dup = merge(vec![shard("r1", &["a"]), shard("r2", &["a"])], Utc::now(), false).unwrap_err();
        assert!(matches!(dup, MergeError::Duplicate { .. }), "{dup}");
        let mut other = shard("r3", &["d"]);
        other.suite.hash = "other".into();
        assert!(matches!(
            merge(vec![shard("r1", &["a"]), other], Utc::now(), false),
            Err(MergeError::OtherSuite { .. })
        ));
        assert_eq!(merge(vec![], Utc::now(), false), Err(MergeError::Empty));
    }

    #[test]
    fn merge_names_missing_shards_and_refuses_other_datasets_and_selections() {
        let shard = |id: &str, spec: &str, case: &str| {
            let mut r = Run { results: vec![result(case, Status::Pass, 1)], ..crate::compare::tests::run(id, &[]) };
            r.options.shard = Some(spec.into());
            r.options.datasets_hash = Some("all".into());
            r
        };
        let two = || vec![shard("r1", "1/3", "a"), shard("r3", "3/3", "c")];
        let err = merge(two(), Utc::now(), false).unwrap_err();
        assert_eq!(err.to_string(), "merged 2 of 3 shards: 2/3 missing; --allow-partial merges them anyway");
        let partial = merge(two(), Utc::now(), true).unwrap();
        assert_eq!(partial.options.missing_shards, vec!["2/3".to_string()]);
        assert_eq!(partial.options.partial().as_deref(), Some("merged 2 of 3 shards: 2/3 missing"));
        let all = merge(vec![shard("r1", "1/2", "a"), shard("r2", "2/2", "b")], Utc::now(), false).unwrap();
        assert_eq!(all.options.partial(), None);

        let mut other = shard("r2", "2/2", "b");
        other.options.datasets_hash = Some("more".into());
        let err = merge(vec![shard("r1", "1/2", "a"), other], Utc::now(), false).unwrap_err();
        assert!(matches!(err, MergeError::OtherDataset { .. }), "{err}");
        let mut other = shard("r2", "2/2", "b");
        other.options.filter = vec!["tag:x".into()];
        assert!(matches!(
            merge(vec![shard("r1", "1/2", "a"), other], Utc::now(), false),
            Err(MergeError::OtherFilter { .. })
        ));
        let err = merge(vec![shard("r1", "1/2", "a"), shard("r2", "2/3", "b")], Utc::now(), true).unwrap_err();
        assert!(matches!(err, MergeError::OtherShards { .. }), "{err}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.95), 95);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn newer_run_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        let run = Run {
            schema_version: SCHEMA_VERSION + 1,
            id: "run_x".into(),
            suite: SuiteInfo { name: "s".into(), path: "s.yaml".into(), hash: "h".into() },
            started_at: Utc::now(),
            finished_at: None,
            git: None,
            target: TargetInfo { model: "m".into(), instructions_hash: "i".into() },
            dataset_hash: "d".into(),
            options: RunOptions::default(),
            gate: Gate::default(),
            summary: Summary::default(),
            results: vec![result("a", Status::Pass, 1)],
        };
        run.save(&p).unwrap();
        assert!(matches!(Run::load(&p).unwrap_err(), RunFileError::TooNew { .. }));
    }

    fn owner() -> RunOwner {
        RunOwner { pid: 1, host: "test-host".into(), heartbeat: chrono::Utc::now() }
    }

    #[test]
    fn results_are_stored_in_batches_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let mut r = run("run_1", &[("b", Status::Pass, "x"), ("a", Status::Fail, "y")]);
        s.create_run(&r.header(), &owner()).unwrap();
        s.save_results(&r.id, &r.results[..1]).unwrap();
        s.save_results(&r.id, &r.results[1..]).unwrap();
        // Saving again replaces, never duplicates.
        s.save_results(&r.id, &r.results[..1]).unwrap();
        r.finished_at = Some(chrono::Utc::now());
        r.summary = Summary::of(&r.results);
        s.finish_run(&r).unwrap();
        let loaded = s.load_run(&s.resolve_run("run_").unwrap()).unwrap();
        r.sort_results();
        assert_eq!(loaded, r);
    }

    #[test]
    fn a_stored_run_streams_back_page_by_page_into_the_same_summary_and_run_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        // Three pages and a bit; two samples a case, one case in seven flaky, one in eleven errored.
        let mut results = Vec::new();
        for i in 0..(StoredTexts::PAGE * 3 / 2 + 7) {
            for repeat in 0..2 {
                let status = match (i % 7, i % 11, repeat) {
                    (_, 0, _) => Status::Error,
                    (0, _, 1) => Status::Fail,
                    _ => Status::Pass,
                };
                let mut r = result(&format!("case-{i}"), status, (i % 50) as u64);
                r.repeat = repeat;
                results.push(r);
            }
        }
        let mut whole = crate::compare::tests::run_of("run_1", results);
        s.create_run(&whole.header(), &owner()).unwrap();
        s.save_results(&whole.id, &whole.results).unwrap();
        let streamed: Vec<CaseResult> = s.results(&whole.id).collect::<Result<_, _>>().unwrap();
        assert_eq!(streamed, whole.results, "every result, once, by case id then repeat");
        let mut tally = Tally::default();
        for r in s.results(&whole.id) {
            tally.add(&r.unwrap());
        }
        let summary = tally.summary();
        assert_eq!(summary, Summary::of(&whole.results));
        assert_eq!((summary.repeat, summary.flaky.len()), (2, 100), "flaky cases found across page ends");
        whole.summary = summary;
        let (a, b) = (dir.path().join("whole.json"), dir.path().join("streamed.json"));
        whole.save(&a).unwrap();
        whole.header().save_with(s.result_texts(&whole.id), &b).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), whole.to_json());
    }

    /// The run file copies stored results by re-indenting their compact text: it must lay out
    /// any value exactly as serde_json's pretty printer does, at any depth.
    #[test]
    fn compact_json_is_indented_as_the_pretty_printer_writes_it() {
        let values = [
            serde_json::json!({"a": {}, "b": [], "c": [[], {}, [1, [2, {"d": null}]]], "e": {"f": {"g": true}}}),
            serde_json::json!(["quote \" and \\ backslash, {comma}: [colon]", "\u{1F600} é \n\t\u{0007}", ""]),
            serde_json::json!({"n": [-0.5, 1e300, 12345678901234567890u64, -7, 2.5e-8], "s": "}{][,:\""}),
            serde_json::json!("bare string"),
            serde_json::json!(42),
            serde_json::json!([]),
            serde_json::to_value(result("case-1", Status::Fail, 7)).unwrap(),
        ];
        for depth in [0, 1, 2, 5] {
            for v in &values {
                let compact = serde_json::to_string(v).unwrap();
                let mut out = Vec::new();
                indent_json(compact.as_bytes(), depth, &mut out).unwrap();
                // The pretty printer's text of `v` as the first item of an array `depth` levels
                // down: `[`, a line break and the level's indent before it, a comma after it.
                let mut nested = v.clone();
                for _ in 0..depth {
                    nested = serde_json::json!([nested, 0]);
                }
                let pretty = serde_json::to_string_pretty(&nested).unwrap();
                let text = String::from_utf8(out).unwrap();
                if depth == 0 {
                    assert_eq!(text, pretty);
                } else {
                    let expected = format!("[\n{}{text},\n", "  ".repeat(depth));
                    assert!(pretty.contains(&expected), "depth {depth}: {text:?} is not in {pretty:?}");
                }
                assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), *v);
            }
        }
        for broken in ["{\"a\": [1, 2}", "[\"open", "{\"a\": 1}}", "[1"] {
            assert!(indent_json(broken.as_bytes(), 2, &mut Vec::new()).is_err(), "{broken}");
        }
    }

    #[test]
    fn lists_trends_and_finds_the_latest_run_of_a_branch() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let t0 = chrono::Utc::now() - chrono::Duration::hours(3);
        for (i, (branch, status)) in
            [("main", Status::Pass), ("feature", Status::Fail), ("main", Status::Fail)].iter().enumerate()
        {
            let mut r = run(&format!("run_{i}"), &[("a", *status, "x")]);
            r.started_at = t0 + chrono::Duration::hours(i as i64);
            r.finished_at = Some(r.started_at);
            r.git = Some(GitInfo { commit: format!("c{i}"), branch: Some(branch.to_string()) });
            s.create_run(&r, &owner()).unwrap();
            s.finish_run(&r).unwrap();
        }
        let all = s.list_runs(None, 10).unwrap();
        assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["run_2", "run_1", "run_0"]);
        assert!(s.list_runs(Some("other"), 10).unwrap().is_empty());
        let t = s.trend("s", t0 + chrono::Duration::hours(1), 10).unwrap();
        assert_eq!(
            t.iter().map(|p| (p.run_id.as_str(), p.pass_rate)).collect::<Vec<_>>(),
            vec![("run_0", 1.0), ("run_1", 0.0)]
        );
        assert_eq!(s.latest_run_on_branch("s", "main").unwrap().as_deref(), Some("run_2"));
        assert_eq!(s.latest_run_on_branch("s", "feature").unwrap().as_deref(), Some("run_1"));
        assert_eq!(s.latest_run_on_branch("s", "nope").unwrap(), None);
    }
}
