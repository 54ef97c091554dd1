//! Browsing traces: a page at a time behind a keyset cursor, and totals and time buckets over
//! every trace a filter selects, computed by SQL aggregates so a large selection is never
//! loaded row by row.

use std::collections::BTreeMap;

use rusqlite::types::Value as V;
use serde::Serialize;

use super::traces::{TraceCursor, TraceFilter, TraceSummary};
use super::{Result, Store, Totals, from_micros};
use crate::provider::pricing::PriceTable;
use crate::trace::Usage;

/// One page of traces, newest first, with each row's cost when every model's price is known.
#[derive(Debug, Clone)]
pub struct TracePage {
    pub rows: Vec<TraceSummary>,
    pub costs: Vec<Option<f64>>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TraceCursor>,
}

/// One time bucket of `traces stats`: traces that started in `[start, start + bucket)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub start: chrono::DateTime<chrono::Utc>,
    pub traces: u64,
    /// Model calls.
    pub calls: u64,
    /// Traces with an error.
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Over the bucket's traces whose models all have a price.
    pub cost_usd: f64,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

/// Token use per model (and per group key) of the model calls of the selected traces.
type UsageRows = Vec<(i64, String, Usage)>;

/// p50 and p95 latency (ms) per group key.
type Percentiles = BTreeMap<i64, (Option<i64>, Option<i64>)>;

impl Store {
    /// The page of `filter.limit` traces after `filter.after`.
    pub fn trace_page(&self, filter: &TraceFilter, prices: &PriceTable) -> Result<TracePage> {
        let limit = filter.limit.unwrap_or(usize::MAX - 1);
        let mut rows = self.list_keyed(&TraceFilter { limit: Some(limit + 1), ..filter.clone() })?;
        let next = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            rows.last().map(|(_, c)| c.clone())
        });
        let rows: Vec<TraceSummary> = rows.into_iter().map(|(r, _)| r).collect();
        let costs = rows.iter().map(|r| self.trace_cost(&r.id, prices)).collect::<Result<_>>()?;
        Ok(TracePage { rows, costs, next: next.flatten() })
    }

    /// A trace's cost; `None` when a model it called has no price.
    pub fn trace_cost(&self, id: &str, prices: &PriceTable) -> Result<Option<f64>> {
        Ok(prices.total(&self.model_usage(id)?))
    }

    /// Totals over every trace the filter selects (its limit and cursor aside).
    pub fn trace_totals(&self, filter: &TraceFilter, prices: &PriceTable) -> Result<Totals> {
        let f = TraceFilter { limit: None, after: None, ..filter.clone() };
        let (clause, params) = f.sql(self.broad_aggregate(&f)?);
        let (traces, input_tokens, output_tokens): (i64, i64, i64) = self.conn.query_row(
            &format!("SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0) FROM traces WHERE {clause}"),
            rusqlite::params_from_iter(&params),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let (p50, p95) = self.latency(&clause, &params)?;
        let (costs, unpriced) = self.costs(&clause, &params, None, prices)?;
        Ok(Totals {
            traces: traces as usize,
            input_tokens: input_tokens.max(0) as u64,
            output_tokens: output_tokens.max(0) as u64,
            cost_usd: costs.get(&0).copied().unwrap_or(0.0),
            unpriced,
            latency_p50_ms: p50,
            latency_p95_ms: p95,
        })
    }

    /// The selected traces in buckets of `seconds` by start time, oldest first.
    pub fn trace_buckets(&self, filter: &TraceFilter, seconds: i64, prices: &PriceTable) -> Result<Vec<Bucket>> {
        let f = TraceFilter { limit: None, after: None, ..filter.clone() };
        let (clause, params) = f.sql(self.broad_aggregate(&f)?);
        let width = seconds.max(1) * 1_000_000;
        let key = format!("(coalesce(started_at, imported_at) / {width}) * {width}");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {key} AS b, count(*), sum(turns), sum(errors > 0), sum(input_tokens), sum(output_tokens)
             FROM traces WHERE {clause} GROUP BY b ORDER BY b"
        ))?;
        let n = |r: &rusqlite::Row, i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        let rows = stmt.query_map(rusqlite::params_from_iter(&params), |r| {
            Ok((r.get::<_, i64>(0)?, n(r, 1)?, n(r, 2)?, n(r, 3)?, n(r, 4)?, n(r, 5)?))
        })?;
        let mut buckets = Vec::new();
        for row in rows {
            let (b, traces, calls, errors, input_tokens, output_tokens) = row?;
            buckets.push((b, traces, calls, errors, input_tokens, output_tokens));
        }
        let latency = self.latency_percentiles(&clause, &params, &key)?;
        let (costs, _) = self.costs(&clause, &params, Some(key.as_str()), prices)?;
        Ok(buckets
            .into_iter()
            .map(|(b, traces, calls, errors, input_tokens, output_tokens)| {
                let (p50, p95) = latency.get(&b).copied().unwrap_or_default();
                Bucket {
                    start: from_micros(b),
                    traces,
                    calls,
                    errors,
                    input_tokens,
                    output_tokens,
                    cost_usd: costs.get(&b).copied().unwrap_or(0.0),
                    latency_p50_ms: p50,
                    latency_p95_ms: p95,
                }
            })
            .collect())
    }

    /// Whether an aggregate over a search walks the traces of its time range (true) or starts
    /// from the search's matches: from the matches unless they are a large part of that range
    /// (counted on the time index). Unlike a page, an aggregate reads every match, so the time
    /// order alone is of no help.
    fn broad_aggregate(&self, f: &TraceFilter) -> Result<bool> {
        let Some(q) = f.fts() else { return Ok(false) };
        let matches: i64 =
            self.conn.query_row("SELECT count(*) FROM trace_text WHERE trace_text MATCH ?1", [q], |r| r.get(0))?;
        let range = TraceFilter { since: f.since, until: f.until, ..TraceFilter::default() };
        let (clause, params) = range.sql(false);
        let in_range: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM traces WHERE {clause}"),
            rusqlite::params_from_iter(&params),
            |r| r.get(0),
        )?;
        Ok(matches * 4 > in_range)
    }

    /// Nearest-rank p50 and p95 of the selected traces' latency (ms): two sorted reads of one
    /// value each, which SQLite answers without a window over every row.
    fn latency(&self, clause: &str, params: &[V]) -> Result<(Option<i64>, Option<i64>)> {
        let durations = format!(
            "SELECT (ended_at - started_at) / 1000 AS d FROM traces
             WHERE {clause} AND started_at IS NOT NULL AND ended_at IS NOT NULL"
        );
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM ({durations})"),
            rusqlite::params_from_iter(params),
            |r| r.get(0),
        )?;
        let at = |p: i64| -> Result<Option<i64>> {
            if n == 0 {
                return Ok(None);
            }
            let rank = (p * n + 99) / 100;
            let sql = format!("{durations} ORDER BY d LIMIT 1 OFFSET {}", rank - 1);
            Ok(Some(self.conn.query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))?))
        };
        Ok((at(50)?, at(95)?))
    }

    /// Nearest-rank p50 and p95 of trace latency (ms) per value of `group` (an SQL expression
    /// over `traces`), ranked by a window function in SQLite.
    fn latency_percentiles(&self, clause: &str, params: &[V], group: &str) -> Result<Percentiles> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT g, max(CASE WHEN rn = (50 * n + 99) / 100 THEN d END), max(CASE WHEN rn = (95 * n + 99) / 100 THEN d END)
             FROM (SELECT g, d, row_number() OVER (PARTITION BY g ORDER BY d) AS rn, count(*) OVER (PARTITION BY g) AS n
                   FROM (SELECT {group} AS g, (ended_at - started_at) / 1000 AS d FROM traces
                         WHERE {clause} AND started_at IS NOT NULL AND ended_at IS NOT NULL))
             GROUP BY g"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Cost per value of `group` (one group, 0, without it) over the selected traces whose models
    /// all have a price, and how many traces were left out for calling a model without one.
    fn costs(
        &self,
        clause: &str,
        params: &[V],
        group: Option<&str>,
        prices: &PriceTable,
    ) -> Result<(BTreeMap<i64, f64>, usize)> {
        let all = self.usage_by(clause, params, group, None)?;
        let unknown: Vec<String> = {
            let mut models: Vec<String> =
                all.iter().filter(|(_, m, _)| prices.price(m).is_none()).map(|(_, m, _)| m.clone()).collect();
            models.sort();
            models.dedup();
            models
        };
        let (rows, unpriced) = if unknown.is_empty() {
            (all, 0)
        } else {
            let mut p = params.to_vec();
            let first = p.len() + 1;
            p.extend(unknown.iter().map(|m| V::Text(m.clone())));
            let list = (first..first + unknown.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
            let unpriced_traces = format!(
                "SELECT trace_id FROM trace_models WHERE model IN ({list})
                 AND trace_id IN (SELECT id FROM traces WHERE {clause})"
            );
            let count: i64 = self.conn.query_row(
                &format!("SELECT count(DISTINCT trace_id) FROM ({unpriced_traces})"),
                rusqlite::params_from_iter(&p),
                |r| r.get(0),
            )?;
            (self.usage_by(clause, &p, group, Some(&unpriced_traces))?, count as usize)
        };
        let mut out = BTreeMap::new();
        for (g, model, usage) in rows {
            if let Some(c) = prices.cost(&model, &usage) {
                *out.entry(g).or_insert(0.0) += c;
            }
        }
        Ok((out, unpriced))
    }

    /// Model-call usage per (group, model) of the selected traces (one group, 0, without
    /// `group`), leaving out the traces `exclude` (a subquery of trace ids) selects.
    fn usage_by(&self, clause: &str, params: &[V], group: Option<&str>, exclude: Option<&str>) -> Result<UsageRows> {
        let sql = match group {
            // One group: the selected ids probe the table's key, with no join to carry a key along.
            None => format!(
                "SELECT 0, model, sum(input_tokens), sum(output_tokens), sum(cached_input_tokens) FROM trace_models
                 WHERE trace_id IN (SELECT id FROM traces WHERE {clause}) {} GROUP BY 2",
                exclude.map(|q| format!("AND trace_id NOT IN ({q})")).unwrap_or_default()
            ),
            Some(group) => format!(
                "SELECT g, m.model, sum(m.input_tokens), sum(m.output_tokens), sum(m.cached_input_tokens)
                 FROM (SELECT id, {group} AS g FROM traces WHERE {clause}) AS t
                 JOIN trace_models AS m ON m.trace_id = t.id {}
                 GROUP BY 1, 2",
                exclude.map(|q| format!("WHERE t.id NOT IN ({q})")).unwrap_or_default()
            ),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let n = |r: &rusqlite::Row, i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                Usage {
                    input_tokens: n(r, 2)?,
                    output_tokens: n(r, 3)?,
                    cached_input_tokens: n(r, 4)?,
                    reasoning_tokens: 0,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
