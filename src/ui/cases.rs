//! The datasets on disk: `GET /cases`, `/cases/{id}`, `/taxonomy`, and the writes `promote`,
//! `review` and `label` make, through the same library calls. Every write to an existing case
//! names the version (etag) of the file it was shown; a file changed since is refused (409).

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::Params;
use super::{ApiError, App, blocking};
use crate::dataset::promote::{self, Options, Scope};
use crate::dataset::review::{self, LabelEdit};
use crate::dataset::taxonomy::Taxonomy;
use crate::dataset::{self, Case, CaseFile, Expected, Verdict};

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// A body, or 400 saying what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| ApiError::Invalid(e.body_text()))
}

/// The dataset a case file is in: the name of its folder.
fn dataset_of(path: &FsPath) -> String {
    path.parent().and_then(FsPath::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `GET /cases/{id}`'s document for a case as read from `path`.
fn document(path: &FsPath, case: &Case, etag: &str) -> Value {
    json!({
        "case": case,
        "dataset": dataset_of(path),
        "path": path.display().to_string(),
        "etag": etag,
        "findings": review::in_context(case),
    })
}

fn read(path: &FsPath) -> Result<Value, ApiError> {
    let (case, etag) = Case::load_versioned(path)?;
    Ok(document(path, &case, &etag))
}

pub async fn list(State(app): State<Arc<App>>, q: Q) -> Result<Json<Value>, ApiError> {
    let p = Params::new(q, &["dataset", "status", "failure", "q"])?;
    let only = p.string("dataset")?;
    let status = p.choice("status", &["clean", "pending", "approved", "redacted", "rejected"])?;
    let failure = p.string("failure")?;
    let words = p.string("q")?.map(|w| w.to_lowercase());
    let root = app.repo.datasets.clone();
    let taxonomy = app.repo.taxonomy.clone();
    let cases = blocking(move || {
        if let Some(d) = &only {
            dataset::check_name("dataset name", d).map_err(|e| ApiError::bad("dataset", e.to_string()))?;
            if !root.join(d).is_dir() {
                return Err(ApiError::NotFound(format!("no dataset {d:?} under {}", root.display())));
            }
        }
        let taxonomy = Taxonomy::load(&taxonomy)?;
        let mut rows = Vec::new();
        for dir in dataset::dataset_dirs(&root, only.as_deref())? {
            for cf in dataset::load_dir(&dir)? {
                if !selected(&cf.case, status, failure.as_deref(), words.as_deref(), &taxonomy) {
                    continue;
                }
                let (_, etag) = Case::load_versioned(&cf.path)?;
                rows.push(row(&cf, &etag));
            }
        }
        Ok(rows)
    })
    .await?;
    Ok(Json(json!({ "cases": cases })))
}

fn selected(case: &Case, status: Option<&str>, failure: Option<&str>, words: Option<&str>, t: &Taxonomy) -> bool {
    let status_ok = match status {
        None => true,
        // Redacted: the scanner replaced something, whatever the review said since.
        Some("redacted") => !case.privacy.findings.is_empty(),
        Some(s) => case.privacy.status.as_str() == s,
    };
    let failure_ok = failure.is_none_or(|f| case.label.failure.as_deref().is_some_and(|c| t.is_within(c, f)));
    let words_ok = words.is_none_or(|w| {
        let hay = format!(
            "{} {} {}",
            case.id,
            case.label.note.as_deref().unwrap_or_default(),
            case.input.preview(dataset::PREVIEW_CHARS)
        )
        .to_lowercase();
        w.split_whitespace().all(|word| hay.contains(word))
    });
    status_ok && failure_ok && words_ok
}

fn row(cf: &CaseFile, etag: &str) -> Value {
    let c = &cf.case;
    json!({
        "id": c.id,
        "dataset": cf.dataset(),
        "path": cf.path.display().to_string(),
        "verdict": c.label.verdict,
        "failure": c.label.failure,
        "note": c.label.note,
        "needs_expectation": c.label.needs_expectation,
        "tags": c.tags,
        "privacy_status": c.privacy.status,
        "findings": c.privacy.findings.len(),
        "trace_id": c.source.trace_id,
        "etag": etag,
    })
}

/// The file of the case `id` names (a unique id prefix), in the dataset `?dataset=` when given.
fn locate(root: &FsPath, only: Option<&str>, id: &str) -> Result<PathBuf, ApiError> {
    if let Some(d) = only {
        dataset::check_name("dataset name", d).map_err(|e| ApiError::bad("dataset", e.to_string()))?;
    }
    Ok(dataset::find_case_path(root, only, id)?)
}

pub async fn show(State(app): State<Arc<App>>, Path(id): Path<String>, q: Q) -> Result<Json<Value>, ApiError> {
    let p = Params::new(q, &["dataset"])?;
    let only = p.string("dataset")?;
    let root = app.repo.datasets.clone();
    Ok(Json(blocking(move || read(&locate(&root, only.as_deref(), &id)?)).await?))
}

pub async fn taxonomy(State(app): State<Arc<App>>, q: Q) -> Result<Json<Value>, ApiError> {
    Params::new(q, &[])?;
    let path = app.repo.taxonomy.clone();
    let t = blocking(move || Ok(Taxonomy::load(&path)?)).await?;
    Ok(Json(json!({"version": t.version, "file": t.file.display().to_string(), "categories": t.categories})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    dataset: String,
    verdict: Option<Verdict>,
    failure: Option<String>,
    note: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    expected: Expected,
    /// One model turn (from 1) or the model call of one span, as `--turn` and `--span`.
    turn: Option<usize>,
    span: Option<String>,
    #[serde(default)]
    strict: bool,
}

pub async fn promote(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    q: Q,
    b: Result<Json<PromoteBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Params::new(q, &[])?;
    let b = body(b)?;
    let scope = match (b.turn, b.span) {
        (Some(0), _) => return Err(ApiError::Invalid("turn counts from 1".into())),
        (Some(_), Some(_)) => return Err(ApiError::Invalid("give turn or span, not both".into())),
        (Some(n), None) => Scope::Turn(n),
        (None, Some(s)) => Scope::Span(s),
        (None, None) => Scope::Run,
    };
    let opts = Options {
        dataset: b.dataset,
        verdict: b.verdict,
        failure: b.failure,
        note: b.note,
        tags: b.tags,
        scope,
        expected: b.expected,
        dry_run: false,
        strict: b.strict,
    };
    let (root, taxonomy) = (app.repo.datasets.clone(), app.repo.taxonomy.clone());
    let _writing = app.writes.lock().await;
    let (_, p) = app
        .db(move |s| {
            let taxonomy = Taxonomy::load(&taxonomy)?;
            Ok(promote::promote_stored(s, &root, &id, &taxonomy, &opts)?)
        })
        .await?;
    let path = p.path.clone();
    let case = blocking(move || read(&path)).await?;
    let near: Vec<Value> =
        p.near.iter().map(|n| json!({"id": n.id, "dataset": n.dataset, "similarity": n.similarity})).collect();
    let doc = json!({
        "case": case,
        // The most similar case already there (an exact duplicate is refused with 409).
        "duplicate_of": p.near.first().map(|n| n.id.clone()),
        "near": near,
        "warnings": p.warnings,
    });
    Ok((StatusCode::CREATED, Json(doc)))
}

/// The version a write was shown: the `etag` in the body, else the `If-Match` header.
fn version(body: Option<String>, headers: &HeaderMap) -> Result<String, ApiError> {
    body.or_else(|| {
        headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(|v| v.trim().trim_matches('"').to_string())
    })
    .filter(|e| !e.is_empty())
    .ok_or_else(|| ApiError::Invalid("give the case's etag (from GET /cases/{id}) in the body or in If-Match".into()))
}

/// Read the case, refuse the write when its file is no longer the version the client saw,
/// apply `edit` and save; the answer is what `edit` returns. One write at a time.
async fn write<F>(app: &App, id: String, seen: String, edit: F) -> Result<Value, ApiError>
where
    F: FnOnce(CaseFile) -> Result<Value, ApiError> + Send + 'static,
{
    let root = app.repo.datasets.clone();
    let _writing = app.writes.lock().await;
    blocking(move || {
        let path = locate(&root, None, &id)?;
        let (case, etag) = Case::load_versioned(&path)?;
        if etag != seen {
            return Err(ApiError::Conflict(format!(
                "{} changed on disk since it was read (etag {seen}, now {etag}); reload it and try again",
                path.display()
            )));
        }
        edit(CaseFile { path, case })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    etag: Option<String>,
    reviewer: Option<String>,
}

pub async fn approve(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Result<Json<ApproveBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let seen = version(b.etag, &headers)?;
    let reviewer = match b.reviewer.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) {
        Some(r) => r,
        None => review::default_reviewer().ok_or_else(|| {
            ApiError::Invalid("who is reviewing? give reviewer, or set `git config user.name`".into())
        })?,
    };
    let doc = write(&app, id, seen, move |mut cf| {
        review::approve(&mut cf.case, &reviewer, chrono::Utc::now());
        review::save(&cf)?;
        read(&cf.path)
    })
    .await?;
    Ok(Json(doc))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    etag: Option<String>,
}

pub async fn reject(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Result<Json<RejectBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let seen = version(body(b)?.etag, &headers)?;
    let doc = write(&app, id, seen, move |cf| {
        review::reject(&cf)?;
        Ok(json!({"rejected": cf.case.id, "path": cf.path.display().to_string()}))
    })
    .await?;
    Ok(Json(doc))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    etag: Option<String>,
    verdict: Option<Verdict>,
    /// A taxonomy id or alias; "" removes the failure.
    failure: Option<String>,
    /// "" removes the note.
    note: Option<String>,
    tags: Option<Vec<String>>,
}

pub async fn label(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Result<Json<LabelBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let seen = version(b.etag, &headers)?;
    let edit =
        LabelEdit { verdict: b.verdict, failure: b.failure, note: b.note, tags: b.tags, expected: Expected::default() };
    if edit.is_empty() {
        return Err(ApiError::Invalid("nothing to change: give verdict, failure, note or tags".into()));
    }
    let taxonomy = app.repo.taxonomy.clone();
    let doc = write(&app, id, seen, move |mut cf| {
        let taxonomy = Taxonomy::load(&taxonomy)?;
        review::relabel(&mut cf.case, &taxonomy, &edit)?;
        review::save(&cf)?;
        read(&cf.path)
    })
    .await?;
    Ok(Json(doc))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedBody {
    etag: Option<String>,
    expected: Expected,
}

pub async fn expected(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Result<Json<ExpectedBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let seen = version(b.etag, &headers)?;
    let doc = write(&app, id, seen, move |mut cf| {
        review::set_expected(&mut cf.case, b.expected);
        review::save(&cf)?;
        read(&cf.path)
    })
    .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_the_body_or_if_match() {
        let mut h = HeaderMap::new();
        assert!(version(None, &h).is_err());
        h.insert(header::IF_MATCH, "\"abc\"".parse().unwrap());
        assert_eq!(version(None, &h).unwrap(), "abc");
        assert_eq!(version(Some("def".into()), &h).unwrap(), "def");
    }
}
