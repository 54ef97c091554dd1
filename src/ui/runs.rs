//! `GET /runs`, `/runs/{id}`, `/runs/{id}/compare/{base}` and `/suites/{name}/trend`: stored
//! runs a page at a time, a run's results, and the comparison and gate decision the reports
//! render, with each case's input and both outputs for a side-by-side diff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::params::{Params, encode};
use super::{ApiError, App, blocking};
use crate::compare::gate::{self, Decision};
use crate::compare::{Class, Comparison, History, compare_with};
use crate::dataset::Case;
use crate::record::{CaseResult, Output, Run, Status, StoredRuns, TREND_RUNS};
use crate::trace::items::last_user_text;

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// A run as the lists show it: its header and summary.
fn head(run: &Run) -> Value {
    json!({
        "id": run.id,
        "suite": run.suite.name,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "git": run.git,
        "target": run.target,
        "summary": run.summary,
    })
}

pub async fn list(State(app): State<Arc<App>>, q: Q) -> Result<Json<Value>, ApiError> {
    let p = Params::new(q, &["suite", "limit", "cursor"])?;
    let suite = p.string("suite")?;
    let limit = p.limit(50, 500)?;
    let after = match p.cursor("r")?.as_deref() {
        None => None,
        Some([id]) => Some(id.clone()),
        Some(_) => return Err(ApiError::BadCursor { parameter: "cursor" }),
    };
    let mut runs = app
        .db(move |s| {
            let after = match after {
                // A cursor names the last run of the page before; one deleted since is a bad cursor.
                Some(id) => Some(s.run_head(&id).map_err(|_| ApiError::BadCursor { parameter: "cursor" })?),
                None => None,
            };
            Ok(s.runs_after(suite.as_deref(), after.as_ref(), limit + 1)?)
        })
        .await?;
    let next = (runs.len() > limit).then(|| {
        runs.truncate(limit);
        encode("r", &[&runs[limit - 1].id])
    });
    Ok(Json(json!({"runs": runs.iter().map(head).collect::<Vec<_>>(), "next_cursor": next})))
}

/// A run's gate decision on its own, once it finished.
fn decision(run: &Run) -> Option<Decision> {
    run.finished_at.map(|_| gate::decide(&run.gate, run, None))
}

/// What the case was asked: its recorded instructions and last user message, from the case file
/// when it is still there, else the preview the run kept.
fn input_text(case_file: Option<&str>, preview: Option<&str>) -> Option<String> {
    let from_file = case_file.and_then(|f| Case::load(std::path::Path::new(f)).ok()).map(|c| {
        let question = last_user_text(&c.input.items).unwrap_or_default();
        match c.input.instructions {
            Some(i) if !i.is_empty() => format!("{i}\n\n{question}"),
            _ => question,
        }
    });
    from_file.or_else(|| preview.map(str::to_string))
}

pub async fn show(State(app): State<Arc<App>>, Path(id): Path<String>, q: Q) -> Result<Json<Value>, ApiError> {
    let p = Params::new(q, &["status", "failure", "limit", "cursor"])?;
    let status = p.choice("status", &["pass", "fail", "error"])?.map(|s| match s {
        "pass" => Status::Pass,
        "fail" => Status::Fail,
        _ => Status::Error,
    });
    let failure = p.string("failure")?;
    let limit = p.limit(200, 1000)?;
    let after = match p.cursor("c")?.as_deref() {
        None => None,
        Some([repeat, case]) => {
            Some((case.clone(), repeat.parse::<u32>().map_err(|_| ApiError::BadCursor { parameter: "cursor" })?))
        }
        Some(_) => return Err(ApiError::BadCursor { parameter: "cursor" }),
    };
    let (run, mut results) = app
        .db(move |s| {
            let id = s.resolve_run(&id)?;
            let run = s.run_head(&id)?;
            let after = after.as_ref().map(|(c, r)| (c.as_str(), *r));
            let results = s.results_where(&id, after, status, failure.as_deref(), limit + 1)?;
            Ok((run, results))
        })
        .await?;
    let next = (results.len() > limit).then(|| {
        results.truncate(limit);
        let last = &results[limit - 1];
        encode("c", &[&last.repeat.to_string(), &last.case_id])
    });
    let cases = blocking(move || {
        Ok(results
            .into_iter()
            .map(|r| {
                let input = input_text(r.case_file.as_deref(), r.input.as_deref());
                let mut v = serde_json::to_value(&r).expect("results serialize");
                v["input"] = input.into();
                v
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(json!({"run": head(&run), "decision": decision(&run), "cases": cases, "next_cursor": next})))
}

/// A comparison as computed once: runs that finished do not change, so it is kept for the
/// next page.
pub struct Compared {
    run: Value,
    base: Value,
    /// The comparison without its per-case list.
    comparison: Value,
    cases: Vec<crate::compare::CaseChange>,
    decision: Decision,
    /// Both runs' outputs by (case, repeat).
    outputs: HashMap<(String, u32), (Option<Output>, Option<Output>)>,
}

/// The last few comparisons asked for.
#[derive(Default)]
pub struct Cache(Mutex<Vec<(RunPair, Arc<Compared>)>>);

/// (run id, baseline id).
type RunPair = (String, String);

/// Comparisons kept: a reviewer pages through one or two at a time.
const CACHED: usize = 4;

impl Cache {
    fn get(&self, key: &RunPair) -> Option<Arc<Compared>> {
        self.0.lock().expect("cache lock").iter().find(|(k, _)| k == key).map(|(_, c)| c.clone())
    }

    fn put(&self, key: RunPair, c: Arc<Compared>) {
        let mut list = self.0.lock().expect("cache lock");
        list.retain(|(k, _)| *k != key);
        list.insert(0, (key, c));
        list.truncate(CACHED);
    }
}

fn compared(base: Run, current: Run, history: &History) -> Compared {
    let cmp = compare_with(&base, &current, history);
    let decision = gate::decide(&current.gate, &current, Some(&cmp));
    let mut outputs: HashMap<(String, u32), (Option<Output>, Option<Output>)> = HashMap::new();
    let key = |r: &CaseResult| (r.case_id.clone(), r.repeat);
    for r in &base.results {
        outputs.entry(key(r)).or_default().0 = Some(r.output.clone());
    }
    for r in &current.results {
        outputs.entry(key(r)).or_default().1 = Some(r.output.clone());
    }
    let Comparison { cases, .. } = &cmp;
    let cases = cases.clone();
    let comparison = serde_json::to_value(Comparison { cases: Vec::new(), ..cmp }).expect("comparisons serialize");
    Compared { run: head(&current), base: head(&base), comparison, cases, decision, outputs }
}

/// `class=` names: the report's class slugs, and the short names the web app uses.
fn class(name: &str) -> Option<Class> {
    Some(match name {
        "failing" => Class::StillFailing,
        "error" => Class::Errored,
        "passing" => Class::StillPassing,
        other => *Class::ALL.iter().find(|c| c.slug() == other)?,
    })
}

pub async fn compare(
    State(app): State<Arc<App>>,
    Path((id, base)): Path<(String, String)>,
    q: Q,
) -> Result<Json<Value>, ApiError> {
    let p = Params::new(q, &["class", "failure", "limit", "cursor"])?;
    let class = match p.one("class")? {
        None => None,
        Some(c) => Some(class(c).ok_or_else(|| {
            ApiError::bad(
                "class",
                format!("{c:?} is not regressed, fixed, failing, error, flaky, passing, new or removed"),
            )
        })?),
    };
    let failure = p.string("failure")?;
    let limit = p.limit(200, 1000)?;
    let from = match p.cursor("o")?.as_deref() {
        None => 0,
        Some([n]) => n.parse::<usize>().map_err(|_| ApiError::BadCursor { parameter: "cursor" })?,
        Some(_) => return Err(ApiError::BadCursor { parameter: "cursor" }),
    };
    let cache = app.clone();
    let found = app
        .db(move |s| {
            let (id, base) = (s.resolve_run(&id)?, s.resolve_run(&base)?);
            let key = (id.clone(), base.clone());
            if let Some(c) = cache.comparisons.get(&key) {
                return Ok(c);
            }
            let (current, base) = (s.load_run(&id)?, s.load_run(&base)?);
            let history = History::load(s, &base, &current)?;
            let finished = current.finished_at.is_some() && base.finished_at.is_some();
            let c = Arc::new(compared(base, current, &history));
            if finished {
                cache.comparisons.put(key, c.clone());
            }
            Ok(c)
        })
        .await?;
    let shown = found.clone();
    let (cases, next) = blocking(move || {
        let selected: Vec<&crate::compare::CaseChange> = shown
            .cases
            .iter()
            .filter(|c| class.is_none_or(|k| c.class == k))
            .filter(|c| failure.as_deref().is_none_or(|f| c.failure.as_deref() == Some(f)))
            .collect();
        let end = (from + limit).min(selected.len());
        let page = selected.get(from.min(end)..end).unwrap_or_default();
        let cases: Vec<Value> = page
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c).expect("changes serialize");
                let (base_output, current_output) =
                    shown.outputs.get(&(c.case_id.clone(), c.repeat)).cloned().unwrap_or_default();
                v["input"] = input_text(c.case_file.as_deref(), c.input.as_deref()).into();
                v["base_output"] = serde_json::to_value(base_output).expect("outputs serialize");
                v["current_output"] = serde_json::to_value(current_output).expect("outputs serialize");
                v
            })
            .collect();
        Ok((cases, (end < selected.len()).then(|| encode("o", &[&end.to_string()]))))
    })
    .await?;
    let mut comparison = found.comparison.clone();
    comparison["cases"] = cases.into();
    Ok(Json(json!({
        "run": found.run,
        "base": found.base,
        "comparison": comparison,
        "decision": found.decision,
        "next_cursor": next,
    })))
}

pub async fn trend(State(app): State<Arc<App>>, Path(name): Path<String>, q: Q) -> Result<Json<Value>, ApiError> {
    Params::new(q, &[])?;
    let suite = name.clone();
    let points = app
        .db(move |s| {
            if s.list_runs(Some(&suite), 1)?.is_empty() {
                return Err(ApiError::NotFound(format!("no stored run of suite {suite:?}")));
            }
            Ok(s.trend(&suite, chrono::Utc::now() + chrono::Duration::seconds(1), TREND_RUNS)?)
        })
        .await?;
    Ok(Json(json!({"suite": name, "points": points})))
}
