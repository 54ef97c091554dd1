//! `GET /traces`, `/traces/stats` and `/traces/{id}`: the `traces list` filters, a page at a
//! time with totals over the whole selection, the chart's time buckets, and one trace whole.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::params::{Params, TRACE_FILTERS, encode};
use super::{ApiError, App};
use crate::store::{TraceCursor, TraceSummary};
use crate::trace::Facts;
use crate::trace::timeline::timeline;

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// A row of the list: the summary, its status, duration and cost.
fn row(r: &TraceSummary, cost: Option<f64>) -> Value {
    let mut v = serde_json::to_value(r).expect("summaries serialize");
    v["status"] = r.status().into();
    v["duration_ms"] = r.duration_ms().into();
    v["cost_usd"] = cost.into();
    v
}

pub async fn list(State(app): State<Arc<App>>, q: Q) -> Result<Json<Value>, ApiError> {
    let allowed: Vec<&str> = TRACE_FILTERS.iter().copied().chain(["limit", "cursor"]).collect();
    let p = Params::new(q, &allowed)?;
    let mut filter = p.trace_filter()?;
    filter.limit = Some(p.limit(50, 500)?);
    filter.after = match p.cursor("t")?.as_deref() {
        None => None,
        Some([at, id]) => Some(TraceCursor {
            at: at.parse().map_err(|_| ApiError::BadCursor { parameter: "cursor" })?,
            id: id.clone(),
        }),
        Some(_) => return Err(ApiError::BadCursor { parameter: "cursor" }),
    };
    let prices = app.repo.prices.clone();
    let (page, totals) = app.db(move |s| Ok(s.trace_listing(&filter, &prices)?)).await?;
    let traces: Vec<Value> = page.rows.iter().zip(&page.costs).map(|(r, c)| row(r, *c)).collect();
    let next = page.next.map(|c| encode("t", &[&c.at.to_string(), &c.id]));
    Ok(Json(json!({"traces": traces, "next_cursor": next, "totals": totals})))
}

/// Bucket widths `bucket=` names, in seconds.
const BUCKETS: &[(&str, i64)] = &[("5m", 300), ("1h", 3600), ("1d", 86_400)];

/// Most buckets `auto` draws.
const AUTO_BUCKETS: i64 = 200;

pub async fn stats(State(app): State<Arc<App>>, q: Q) -> Result<Json<Value>, ApiError> {
    let allowed: Vec<&str> = TRACE_FILTERS.iter().copied().chain(["bucket"]).collect();
    let p = Params::new(q, &allowed)?;
    let filter = p.trace_filter()?;
    let bucket = p.choice("bucket", &["auto", "5m", "1h", "1d"])?;
    let chosen = BUCKETS.iter().find(|(n, _)| Some(*n) == bucket).map(|(_, s)| *s);
    let prices = app.repo.prices.clone();
    let (seconds, buckets) = app
        .db(move |s| {
            let seconds = match chosen {
                Some(s) => s,
                // The narrowest width that draws the selection's time range in few enough buckets.
                None => {
                    let whole = s.trace_buckets(&filter, 86_400, &prices)?;
                    let range = match (whole.first(), whole.last()) {
                        (Some(a), Some(b)) => (b.start - a.start).num_seconds() + 86_400,
                        _ => 0,
                    };
                    let fits = BUCKETS.iter().find(|(_, w)| range / w <= AUTO_BUCKETS);
                    let seconds = fits.map_or(86_400, |(_, w)| *w);
                    if seconds == 86_400 {
                        return Ok((seconds, whole));
                    }
                    seconds
                }
            };
            Ok((seconds, s.trace_buckets(&filter, seconds, &prices)?))
        })
        .await?;
    Ok(Json(json!({"bucket_seconds": seconds, "buckets": buckets})))
}

pub async fn show(State(app): State<Arc<App>>, Path(id): Path<String>, q: Q) -> Result<Json<Value>, ApiError> {
    Params::new(q, &[])?;
    let prices = app.repo.prices.clone();
    let (trace, spans, summary, cost) = app
        .db(move |s| {
            let id = s.resolve_trace(&id)?;
            let (trace, spans) = s.load_trace(&id)?;
            let summary = s.trace_summary(&id)?;
            let cost = s.trace_cost(&id, &prices)?;
            Ok((trace, spans, summary, cost))
        })
        .await?;
    let mut head = row(&summary, cost);
    if let (Some(h), Value::Object(t)) = (head.as_object_mut(), serde_json::to_value(&trace).expect("traces serialize"))
    {
        // The trace's metadata beside its summary.
        h.insert("metadata".into(), t.get("metadata").cloned().unwrap_or(Value::Null));
    }
    let facts = Facts::of(&trace, &spans);
    Ok(Json(json!({
        "trace": head,
        "facts": facts,
        "timeline": timeline(&spans),
        "spans": spans,
    })))
}
