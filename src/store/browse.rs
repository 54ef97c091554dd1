//! Browsing traces: a page at a time behind a keyset cursor, and totals and time buckets over
//! every trace a filter selects, added up in one streamed read of the selected traces' rows.

use std::collections::BTreeMap;

use serde::Serialize;

use super::traces::{TraceCursor, TraceFilter, TraceSummary, time_drives};
use super::{Result, Store, StoreError, Totals, from_micros};
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

impl Store {
    /// The page of `filter.limit` traces after `filter.after`, and the totals over every trace
    /// the filter selects. A broad search's matches are read once for both.
    pub fn trace_listing(&self, filter: &TraceFilter, prices: &PriceTable) -> Result<(TracePage, Totals)> {
        let matches = self.search_matches(filter)?;
        let dense = matches.as_ref().and_then(|m| m.dense.as_ref());
        Ok((self.page(filter, prices, matches.as_ref())?, self.totals(filter, prices, dense)?))
    }

    fn page(&self, filter: &TraceFilter, prices: &PriceTable, matches: Option<&Matches>) -> Result<TracePage> {
        let limit = filter.limit.unwrap_or(usize::MAX - 1);
        let paged = TraceFilter { limit: Some(limit + 1), ..filter.clone() };
        let mut rows = match matches {
            Some(Matches { dense: Some(set), .. }) => self.list_matching(&paged, &|rowid| set.contains(rowid))?,
            Some(m) => self.list_with(&paged, time_drives(m.count))?,
            None => self.list_with(&paged, false)?,
        };
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
        self.totals(filter, prices, self.search_matches(filter)?.and_then(|m| m.dense).as_ref())
    }

    fn totals(&self, filter: &TraceFilter, prices: &PriceTable, matches: Option<&RowidSet>) -> Result<Totals> {
        let mut groups = self.tally(filter, None, prices, matches)?;
        let mut all = groups.remove(&0).unwrap_or_default();
        let (p50, p95) = all.percentiles();
        Ok(Totals {
            traces: all.traces as usize,
            input_tokens: all.input_tokens,
            output_tokens: all.output_tokens,
            cost_usd: all.cost_usd,
            unpriced: all.unpriced,
            latency_p50_ms: p50,
            latency_p95_ms: p95,
        })
    }

    /// The selected traces in buckets of `seconds` by start time, oldest first.
    pub fn trace_buckets(&self, filter: &TraceFilter, seconds: i64, prices: &PriceTable) -> Result<Vec<Bucket>> {
        let width = seconds.max(1) * 1_000_000;
        let dense = self.search_matches(filter)?.and_then(|m| m.dense);
        let groups = self.tally(filter, Some(width), prices, dense.as_ref())?;
        Ok(groups
            .into_iter()
            .map(|(b, mut t)| {
                let (p50, p95) = t.percentiles();
                Bucket {
                    start: from_micros(b),
                    traces: t.traces,
                    calls: t.calls,
                    errors: t.errors,
                    input_tokens: t.input_tokens,
                    output_tokens: t.output_tokens,
                    cost_usd: t.cost_usd,
                    latency_p50_ms: p50,
                    latency_p95_ms: p95,
                }
            })
            .collect())
    }

    /// What the selected traces add up to, per bucket of `width` microseconds of start (else
    /// import) time, or in one group, 0. One streamed read of the traces' own rows: sums, every
    /// latency (for exact percentiles) and the token use per model a cost needs.
    fn tally(
        &self,
        filter: &TraceFilter,
        width: Option<i64>,
        prices: &PriceTable,
        matches: Option<&RowidSet>,
    ) -> Result<BTreeMap<i64, Tally>> {
        let f = TraceFilter { limit: None, after: None, ..filter.clone() };
        let (clause, params) = match matches {
            // The search is checked row by row against its matches instead.
            Some(_) => TraceFilter { search: None, ..f }.sql(false),
            None => f.sql(false),
        };
        // Constants for the columns this pass does not need: every column read costs, per row.
        let buckets = if width.is_some() { "coalesce(started_at, imported_at), turns, errors" } else { "0, 0, 0" };
        let rowid = if matches.is_some() { "search_rowid" } else { "NULL" };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {buckets}, ended_at - started_at, input_tokens, output_tokens, usage, {rowid} FROM traces WHERE {clause}"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(&params))?;
        let mut groups: BTreeMap<i64, Tally> = BTreeMap::new();
        let mut models = Models::default();
        // One trace's usage records, as (model index, usage); kept to spare an allocation per row.
        let mut records = Vec::new();
        let n = |r: &rusqlite::Row, i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        while let Some(r) = rows.next()? {
            if let Some(set) = matches {
                let Some(rowid) = r.get::<_, Option<i64>>(7)? else { continue };
                if !set.contains(rowid) {
                    continue;
                }
            }
            let key = match width {
                Some(w) => (r.get::<_, i64>(0)? / w) * w,
                None => 0,
            };
            let t = groups.entry(key).or_default();
            t.traces += 1;
            t.calls += n(r, 1)?;
            t.errors += u64::from(n(r, 2)? > 0);
            if let Some(us) = r.get::<_, Option<i64>>(3)? {
                t.latencies.push(us / 1000);
            }
            t.input_tokens += n(r, 4)?;
            t.output_tokens += n(r, 5)?;
            let usage = r.get_ref(6)?.as_bytes().map_err(|_| StoreError::Corrupt("trace usage is not text".into()))?;
            models.parse(usage, prices, &mut records)?;
            if records.iter().all(|(m, _)| models.priced[*m]) {
                for (m, u) in &records {
                    if t.usage.len() <= *m {
                        t.usage.resize(m + 1, Usage::default());
                    }
                    t.usage[*m].add(u);
                }
            } else {
                t.unpriced += 1;
            }
        }
        for t in groups.values_mut() {
            t.cost_usd = models.cost(&t.usage, prices);
        }
        Ok(groups)
    }

    /// What the filter's search matches (`None` without one), read from the search index once:
    /// how many, and, when they are over a quarter of the traces of its time range, their set,
    /// against which a page and an aggregate check the traces of that range instead of SQLite
    /// building a temporary index of them.
    pub(super) fn search_matches(&self, f: &TraceFilter) -> Result<Option<Matches>> {
        let Some(q) = f.fts() else { return Ok(None) };
        let mut stmt = self.conn.prepare_cached("SELECT rowid FROM trace_text WHERE trace_text MATCH ?1")?;
        let rowids: Vec<i64> = stmt.query_map([q], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let range = TraceFilter { since: f.since, until: f.until, ..TraceFilter::default() };
        let (clause, params) = range.sql(false);
        let in_range: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM traces WHERE {clause}"),
            rusqlite::params_from_iter(&params),
            |r| r.get(0),
        )?;
        let dense = (rowids.len() as i64 * 4 > in_range).then(|| RowidSet::of(&rowids));
        Ok(Some(Matches { count: rowids.len(), dense }))
    }
}

/// A search's matches: how many, and their set when they are a large part of their time range.
pub(super) struct Matches {
    count: usize,
    pub(super) dense: Option<RowidSet>,
}

/// A set of search index rowids (small, dense integers), one bit each.
pub(super) struct RowidSet(Vec<u64>);

impl RowidSet {
    fn of(rowids: &[i64]) -> RowidSet {
        let max = rowids.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut bits = vec![0u64; max / 64 + 1];
        for &r in rowids.iter().filter(|r| **r >= 0) {
            bits[r as usize / 64] |= 1 << (r % 64);
        }
        RowidSet(bits)
    }

    fn contains(&self, rowid: i64) -> bool {
        rowid >= 0 && self.0.get(rowid as usize / 64).is_some_and(|w| w & (1 << (rowid % 64)) != 0)
    }
}

/// The separators of the `usage` column: between records, and between a record's fields.
const RS: u8 = 0x1e;
const US: u8 = 0x1f;

/// The sums of one group of selected traces.
#[derive(Debug, Default)]
struct Tally {
    traces: u64,
    calls: u64,
    errors: u64,
    input_tokens: u64,
    output_tokens: u64,
    /// Latency (ms) of each trace with a start and an end.
    latencies: Vec<i64>,
    /// Token use per model (by its index in the pass's [`Models`]) over the traces whose models
    /// all have a price, and what it costs.
    usage: Vec<Usage>,
    cost_usd: f64,
    /// Traces that called a model without a price.
    unpriced: usize,
}

impl Tally {
    /// Nearest-rank p50 and p95 latency.
    fn percentiles(&mut self) -> (Option<i64>, Option<i64>) {
        let n = self.latencies.len();
        let mut at = |p: usize| (n > 0).then(|| *self.latencies.select_nth_unstable((p * n).div_ceil(100) - 1).1);
        (at(50), at(95))
    }
}

/// The models one pass has met, each with whether it has a price: few models, many traces.
#[derive(Debug, Default)]
struct Models {
    names: Vec<String>,
    priced: Vec<bool>,
}

impl Models {
    /// A trace's `usage` column into `out` as (model index, usage). Read as bytes: this runs
    /// for every selected trace.
    fn parse(&mut self, column: &[u8], prices: &PriceTable, out: &mut Vec<(usize, Usage)>) -> Result<()> {
        out.clear();
        for record in column.split(|b| *b == RS).filter(|r| !r.is_empty()) {
            let corrupt = || StoreError::Corrupt(format!("trace usage record {:?}", String::from_utf8_lossy(record)));
            let mut fields = record.split(|b| *b == US);
            let name = fields.next().unwrap_or_default();
            let mut next = || -> Result<u64> {
                let f = fields.next().filter(|f| !f.is_empty()).ok_or_else(corrupt)?;
                f.iter()
                    .try_fold(0u64, |v, b| match b {
                        b'0'..=b'9' => v.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))),
                        _ => None,
                    })
                    .ok_or_else(corrupt)
            };
            let usage = Usage {
                input_tokens: next()?,
                output_tokens: next()?,
                cached_input_tokens: next()?,
                reasoning_tokens: 0,
            };
            let index = match self.names.iter().position(|n| n.as_bytes() == name) {
                Some(i) => i,
                None => {
                    let name = std::str::from_utf8(name).map_err(|_| corrupt())?.to_string();
                    self.priced.push(prices.price(&name).is_some());
                    self.names.push(name);
                    self.names.len() - 1
                }
            };
            out.push((index, usage));
        }
        Ok(())
    }

    /// The cost of token use per model index, priced once per model, in the models' name
    /// order so that every request adds it up alike.
    fn cost(&self, usage: &[Usage], prices: &PriceTable) -> f64 {
        let mut by_name: Vec<(&str, &Usage)> = self.names.iter().map(String::as_str).zip(usage).collect();
        by_name.sort_by_key(|(name, _)| *name);
        by_name.iter().filter_map(|(m, u)| prices.cost(m, u)).fold(0.0, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::pricing::Price;
    use crate::store::TraceStatus;
    use crate::trace::import::{Format, parse_text};
    use serde_json::json;

    /// Processor JSONL of `n` traces, one a minute: one to three model calls each on four models
    /// (`mystery` has no price) or none, cached tokens, errors, widely spread latencies, and
    /// every seventh trace never ended; each in an agent span. Every trace says "alpha"; every ninth also "rare".
    fn jsonl(n: usize) -> String {
        let start = chrono::Utc::now() - chrono::Duration::days(2);
        let time = |t: chrono::DateTime<chrono::Utc>| serde_json::Value::String(t.to_rfc3339());
        let mut seed: u64 = 42;
        let mut next = move |below: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        let mut out = String::new();
        let mut line = |v: serde_json::Value| {
            out.push_str(&v.to_string());
            out.push('\n');
        };
        for i in 0..n {
            let id = format!("trace_{i:04}");
            line(json!({"object": "trace", "id": id, "workflow_name": "w", "group_id": null, "metadata": null}));
            let base = start + chrono::Duration::minutes(i as i64);
            let ended = i % 7 != 3;
            let mut at = 0;
            for call in 0..next(4) {
                let model = ["gpt-a", "gpt-b", "mystery", "gpt-a"][next(4) as usize];
                let took = 1 + next(if i % 5 == 0 { 60_000 } else { 2_000 }) as i64;
                let words = if i % 9 == 0 { "alpha rare" } else { "alpha" };
                line(json!({
                    "object": "trace.span", "id": format!("span_{i}_{call}"), "trace_id": id, "parent_id": null,
                    "started_at": time(base + chrono::Duration::milliseconds(at)),
                    "ended_at": if ended { time(base + chrono::Duration::milliseconds(at + took)) } else { json!(null) },
                    "error": if i % 4 == 1 && call == 0 { json!({"message": "boom", "data": null}) } else { json!(null) },
                    "span_data": {"type": "response", "response_id": format!("resp_{i}_{call}"),
                        "input": [{"role": "user", "content": format!("{words} question {i}")}],
                        "response": {"id": format!("resp_{i}_{call}"), "model": model,
                            "output": [{"type": "message", "role": "assistant",
                                        "content": [{"type": "output_text", "text": "an answer"}]}],
                            "usage": {"input_tokens": 10 + next(500), "output_tokens": next(200),
                                      "input_tokens_details": {"cached_tokens": next(10)}}}},
                }));
                at += took;
            }
            // The agent span around the calls gives a trace without any a start time too.
            line(json!({
                "object": "trace.span", "id": format!("span_{i}_agent"), "trace_id": id, "parent_id": null,
                "started_at": time(base),
                "ended_at": if ended { time(base + chrono::Duration::milliseconds(at + 1)) } else { json!(null) },
                "error": null, "span_data": {"type": "agent", "name": "Triage"},
            }));
        }
        out
    }

    fn prices() -> PriceTable {
        let price = |input, output| Price { input, cached_input: Some(input / 10.0), output };
        PriceTable::default()
            .with_overrides(&[("gpt-a".to_string(), price(2.0, 8.0)), ("gpt-b".to_string(), price(0.4, 1.6))].into())
    }

    /// Totals as the rows a list returns add them up, each row priced on its own.
    fn from_rows(s: &Store, rows: &[TraceSummary], prices: &PriceTable) -> Totals {
        let costs: Vec<_> = rows.iter().map(|r| s.trace_cost(&r.id, prices).unwrap()).collect();
        Totals::of(rows, &costs)
    }

    fn assert_same(got: Totals, want: Totals, what: &str) {
        assert!((got.cost_usd - want.cost_usd).abs() < 1e-9, "{what}: {got:?} vs {want:?}");
        assert_eq!(Totals { cost_usd: want.cost_usd, ..got }, want, "{what}");
    }

    /// The totals and buckets of one streamed pass equal what the listed rows add up to, for
    /// broad and narrow searches, other filters and no filter, percentiles and costs included.
    #[test]
    fn totals_and_buckets_equal_the_listed_rows_added_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let parsed = parse_text(&jsonl(400), Format::Auto);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        s.ingest(&parsed.batch).unwrap();
        let prices = prices();
        let since = chrono::Utc::now() - chrono::Duration::hours(40);
        let search = |q: &str| Some(q.to_string());
        let filters = [
            TraceFilter::default(),
            TraceFilter { search: search("alpha"), ..TraceFilter::default() },
            TraceFilter { search: search("rare"), ..TraceFilter::default() },
            TraceFilter { search: search("alpha"), since: Some(since), ..TraceFilter::default() },
            TraceFilter { model: Some("gpt-b".into()), ..TraceFilter::default() },
            TraceFilter { status: Some(TraceStatus::Error), ..TraceFilter::default() },
            TraceFilter { search: search("nothing-like-this"), ..TraceFilter::default() },
        ];
        for filter in filters {
            let rows = s.list_traces(&filter).unwrap();
            let want = from_rows(&s, &rows, &prices);
            assert_same(s.trace_totals(&filter, &prices).unwrap(), want, &format!("{filter:?}"));
            if filter == TraceFilter::default() {
                // The selection exercises what the totals must get right.
                assert_eq!(rows.len(), 400);
                assert!(want.unpriced > 0 && want.cost_usd > 0.0);
                assert!(rows.iter().any(|r| r.turns == 0) && rows.iter().any(|r| r.ended_at.is_none()));
                assert!(want.latency_p95_ms > want.latency_p50_ms, "{want:?}");
            }
            // Each hour's bucket adds up its own rows.
            let buckets = s.trace_buckets(&filter, 3600, &prices).unwrap();
            let hour = |r: &TraceSummary| r.started_at.map(|t| t.timestamp() / 3600 * 3600);
            let mut hours: Vec<i64> = rows.iter().filter_map(hour).collect();
            hours.dedup();
            hours.reverse();
            assert_eq!(buckets.iter().map(|b| b.start.timestamp()).collect::<Vec<_>>(), hours);
            for b in buckets {
                let in_bucket: Vec<TraceSummary> =
                    rows.iter().filter(|r| hour(r) == Some(b.start.timestamp())).cloned().collect();
                let want = from_rows(&s, &in_bucket, &prices);
                let got = Totals {
                    traces: b.traces as usize,
                    input_tokens: b.input_tokens,
                    output_tokens: b.output_tokens,
                    cost_usd: b.cost_usd,
                    unpriced: want.unpriced,
                    latency_p50_ms: b.latency_p50_ms,
                    latency_p95_ms: b.latency_p95_ms,
                };
                assert_same(got, want, &format!("{filter:?} at {}", b.start));
                assert_eq!(b.calls, in_bucket.iter().map(|r| r.turns).sum::<u64>());
                assert_eq!(b.errors as usize, in_bucket.iter().filter(|r| r.errors > 0).count());
            }
        }
    }
}
