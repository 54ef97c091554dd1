//! Traces and spans in the store: idempotent ingest, per-trace summaries, lookups.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, StoreError, from_micros, micros};
use crate::trace::{Batch, Span, SpanData, Trace, Usage, items};

/// What an ingest added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    pub new_traces: usize,
    pub new_spans: usize,
    /// Spans already stored that the batch completed (a start record followed by its end).
    pub updated_spans: usize,
}

/// Which traces to list (or promote in bulk). Empty selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFilter {
    /// Traces that started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Traces that started before this time.
    pub until: Option<DateTime<Utc>>,
    pub workflow: Option<String>,
    /// Traces in which this agent ran.
    pub agent: Option<String>,
    /// Traces that called this model.
    pub model: Option<String>,
    /// Traces with a model call to this provider (`openai`, `azure.ai.openai`, a host).
    pub provider: Option<String>,
    /// Traces of this group (the SDK's `group_id`, OTLP `session.id` or `gen_ai.conversation.id`).
    pub group: Option<String>,
    pub status: Option<TraceStatus>,
    /// Words that must all occur in the model input or output (full-text, case-insensitive).
    pub search: Option<String>,
    /// Trace metadata entries that must be present with these values.
    pub meta: Vec<(String, String)>,
    pub limit: Option<usize>,
    /// Only traces listed after this one (the next page).
    pub after: Option<TraceCursor>,
}

/// A trace's place in the newest-first order: its start (else import) time in microseconds,
/// then its id. A page ends at the cursor of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceCursor {
    pub at: i64,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceStatus {
    Ok,
    Error,
}

impl TraceFilter {
    /// The full-text query of `--search`, when it has words.
    pub(super) fn fts(&self) -> Option<String> {
        self.search.as_deref().map(fts_query).filter(|q| !q.is_empty())
    }

    /// The WHERE clause (without the keyword) and its parameters. `broad`: the search matches
    /// many traces, so the clause keeps SQLite from driving the query from the search index.
    pub(super) fn sql(&self, broad: bool) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value as V;
        let mut clauses = vec!["1 = 1".to_string()];
        let mut params: Vec<V> = Vec::new();
        // Each `?` of a clause takes the next of its values.
        let mut push = |clause: &str, values: Vec<V>| {
            let mut out = String::new();
            for (i, part) in clause.split('?').enumerate() {
                if i > 0 {
                    params.push(values[i - 1].clone());
                    out.push_str(&format!("?{}", params.len()));
                }
                out.push_str(part);
            }
            clauses.push(out);
        };
        if let Some(t) = self.since {
            push("coalesce(started_at, imported_at) >= ?", vec![V::Integer(micros(t))]);
        }
        if let Some(t) = self.until {
            push("coalesce(started_at, imported_at) < ?", vec![V::Integer(micros(t))]);
        }
        if let Some(w) = &self.workflow {
            push("workflow = ?", vec![V::Text(w.clone())]);
        }
        // Names are stored joined by U+001F; match whole names only.
        if let Some(a) = &self.agent {
            push(
                "(char(31) || agents || char(31)) LIKE ('%' || char(31) || ? || char(31) || '%')",
                vec![V::Text(a.clone())],
            );
        }
        if let Some(m) = &self.model {
            push(
                "(char(31) || models || char(31)) LIKE ('%' || char(31) || ? || char(31) || '%')",
                vec![V::Text(m.clone())],
            );
        }
        if let Some(p) = &self.provider {
            push(
                "EXISTS (SELECT 1 FROM spans WHERE spans.trace_id = traces.id AND spans.kind = 'model' \
                 AND json_extract(spans.data, '$.provider') = ?)",
                vec![V::Text(p.clone())],
            );
        }
        if let Some(g) = &self.group {
            push("group_id = ?", vec![V::Text(g.clone())]);
        }
        match self.status {
            Some(TraceStatus::Ok) => push("errors = 0", vec![]),
            Some(TraceStatus::Error) => push("errors > 0", vec![]),
            None => {}
        }
        if let Some(q) = self.fts() {
            // `+` hides the column from the planner, which then walks the time index and probes
            // the matches instead of fetching and sorting every one of them.
            let column = if broad { "+search_rowid" } else { "search_rowid" };
            push(&format!("{column} IN (SELECT rowid FROM trace_text WHERE trace_text MATCH ?)"), vec![V::Text(q)]);
        }
        if let Some(c) = &self.after {
            push(
                "(coalesce(started_at, imported_at) < ? OR (coalesce(started_at, imported_at) = ? AND id > ?))",
                vec![V::Integer(c.at), V::Integer(c.at), V::Text(c.id.clone())],
            );
        }
        for (key, value) in &self.meta {
            push(
                "CAST(json_extract(metadata, ?) AS TEXT) = ?",
                vec![V::Text(format!("$.\"{key}\"")), V::Text(value.clone())],
            );
        }
        (clauses.join(" AND "), params)
    }
}

/// Each word of a search as an FTS5 string, so punctuation is matched, not parsed: every word
/// must occur (AND), in any order.
fn fts_query(text: &str) -> String {
    text.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

/// One row of `evals traces list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    pub id: String,
    pub workflow: Option<String>,
    pub group_id: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub agents: Vec<String>,
    pub models: Vec<String>,
    pub turns: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub errors: u64,
    /// Model turns whose input and output were captured (promotion needs them).
    pub content_turns: u64,
    pub spans: u64,
}

impl TraceSummary {
    pub fn status(&self) -> &'static str {
        if self.errors > 0 { "error" } else { "ok" }
    }

    pub fn duration_ms(&self) -> Option<i64> {
        Some((self.ended_at? - self.started_at?).num_milliseconds())
    }
}

fn split(s: String) -> Vec<String> {
    s.split('\u{1f}').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

impl Store {
    /// Write a batch in one transaction. Records already stored are merged, never duplicated,
    /// so re-sent exports and re-imported files add nothing.
    pub fn ingest(&mut self, batch: &Batch) -> Result<IngestStats> {
        let tx = self.write()?;
        let stats = Self::ingest_in(&tx, batch)?;
        tx.commit()?;
        Ok(stats)
    }

    /// The body of [`Store::ingest`], inside a transaction the caller commits (so capture can join
    /// proxy recordings in the same transaction).
    pub(super) fn ingest_in(tx: &rusqlite::Transaction, batch: &Batch) -> Result<IngestStats> {
        let now = micros(Utc::now());
        let mut stats = IngestStats::default();
        let mut touched = BTreeSet::new();
        // Traces whose searchable text may have changed (see `carries_text`).
        let mut text_touched = HashSet::new();
        // Traces with a model call added or changed: their usage per model is recounted.
        let mut models_touched = HashSet::new();
        {
            let mut insert_trace = tx.prepare_cached(
                "INSERT OR IGNORE INTO traces (id, workflow, group_id, metadata, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut update_trace = tx.prepare_cached(
                "UPDATE traces SET workflow = coalesce(?2, workflow), group_id = coalesce(?3, group_id),
                 metadata = coalesce(?4, metadata) WHERE id = ?1",
            )?;
            let mut new_ids = HashSet::new();
            for t in &batch.traces {
                let metadata = t.metadata.as_ref().map(|m| serde_json::Value::Object(m.clone()).to_string());
                if insert_trace.execute(params![t.id, t.workflow, t.group_id, metadata, now])? == 1 {
                    new_ids.insert(t.id.as_str());
                } else {
                    update_trace.execute(params![t.id, t.workflow, t.group_id, metadata])?;
                }
                touched.insert(t.id.clone());
            }
            let mut insert_span = tx.prepare_cached(
                "INSERT OR IGNORE INTO spans (trace_id, id, parent_id, kind, name, started_at, ended_at, model,
                 response_id, input_tokens, output_tokens, content, error, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            let mut existing = tx.prepare_cached(
                "SELECT parent_id, started_at, ended_at, error, data FROM spans WHERE trace_id = ?1 AND id = ?2",
            )?;
            let mut replace_span = tx.prepare_cached(
                "UPDATE spans SET parent_id = ?3, kind = ?4, name = ?5, started_at = ?6, ended_at = ?7, model = ?8,
                 response_id = ?9, input_tokens = ?10, output_tokens = ?11, content = ?12, error = ?13, data = ?14
                 WHERE trace_id = ?1 AND id = ?2",
            )?;
            for span in &batch.spans {
                // A trace this batch already wrote or ensured needs no second insert attempt.
                if !touched.contains(&span.trace_id) {
                    if insert_trace.execute(params![
                        span.trace_id,
                        None::<String>,
                        None::<String>,
                        None::<String>,
                        now
                    ])? == 1
                    {
                        new_ids.insert(span.trace_id.as_str());
                    }
                    touched.insert(span.trace_id.clone());
                }
                let row = SpanRow::of(span)?;
                if insert_span.execute(&row.params()[..])? == 1 {
                    stats.new_spans += 1;
                    if span.model_call().is_some() {
                        models_touched.insert(span.trace_id.as_str());
                    }
                    if carries_text(span) {
                        text_touched.insert(span.trace_id.as_str());
                    }
                    continue;
                }
                let stored = existing.query_row(params![span.trace_id, span.id], read_span_parts)?;
                let mut merged = span_from_parts(&span.trace_id, &span.id, stored)?;
                let before = merged.clone();
                merged.merge(span);
                if merged != before {
                    let row = SpanRow::of(&merged)?;
                    replace_span.execute(&row.params()[..])?;
                    stats.updated_spans += 1;
                    if merged.model_call().is_some() || before.model_call().is_some() {
                        models_touched.insert(span.trace_id.as_str());
                    }
                    if carries_text(&merged) || carries_text(&before) {
                        text_touched.insert(span.trace_id.as_str());
                    }
                }
            }
            stats.new_traces = new_ids.len();
        }
        for id in &touched {
            refresh_summary(tx, id)?;
            if models_touched.contains(id.as_str()) {
                refresh_models(tx, id)?;
            }
            if text_touched.contains(id.as_str()) {
                refresh_search(tx, id)?;
            }
        }
        Ok(stats)
    }

    pub fn resolve_trace(&self, prefix: &str) -> Result<String> {
        self.resolve("traces", "trace", prefix)
    }

    pub fn trace_summary(&self, id: &str) -> Result<TraceSummary> {
        self.conn
            .query_row(&format!("SELECT {SUMMARY_COLUMNS} FROM traces WHERE id = ?1"), [id], read_summary)
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "trace", prefix: id.to_string() })
    }

    /// Trace summaries matching the filter, newest first.
    pub fn list_traces(&self, filter: &TraceFilter) -> Result<Vec<TraceSummary>> {
        Ok(self.list_keyed(filter)?.into_iter().map(|(row, _)| row).collect())
    }

    /// Whether the filter's search matches so many traces that the time index should drive.
    pub(super) fn broad_search(&self, filter: &TraceFilter) -> Result<bool> {
        Ok(match filter.fts() {
            Some(q) => {
                let matches: i64 =
                    self.conn
                        .query_row("SELECT count(*) FROM trace_text WHERE trace_text MATCH ?1", [q], |r| r.get(0))?;
                time_drives(matches as usize)
            }
            None => false,
        })
    }

    /// Summaries with each row's cursor, newest first.
    pub(super) fn list_keyed(&self, filter: &TraceFilter) -> Result<Vec<(TraceSummary, TraceCursor)>> {
        self.list_with(filter, self.broad_search(filter)?)
    }

    /// Summaries with cursors, newest first, of the traces the filter (its search aside) selects
    /// whose search rowid `matches` accepts: a broad search's page, checked against its matches
    /// read once, while the time index drives.
    pub(super) fn list_matching(
        &self,
        filter: &TraceFilter,
        matches: &dyn Fn(i64) -> bool,
    ) -> Result<Vec<(TraceSummary, TraceCursor)>> {
        let (clause, params) = TraceFilter { search: None, ..filter.clone() }.sql(false);
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SUMMARY_COLUMNS}, coalesce(started_at, imported_at), search_rowid FROM traces WHERE {clause}
             ORDER BY coalesce(started_at, imported_at) DESC, id"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while out.len() < filter.limit.unwrap_or(usize::MAX)
            && let Some(r) = rows.next()?
        {
            if r.get::<_, Option<i64>>(14)?.is_some_and(matches) {
                let row = read_summary(r)?;
                let cursor = TraceCursor { at: r.get(13)?, id: row.id.clone() };
                out.push((row, cursor));
            }
        }
        Ok(out)
    }

    pub(super) fn list_with(&self, filter: &TraceFilter, broad: bool) -> Result<Vec<(TraceSummary, TraceCursor)>> {
        let (clause, mut params) = filter.sql(broad);
        params.push(rusqlite::types::Value::Integer(filter.limit.map_or(-1, |l| l as i64)));
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SUMMARY_COLUMNS}, coalesce(started_at, imported_at) FROM traces WHERE {clause}
             ORDER BY coalesce(started_at, imported_at) DESC, id LIMIT ?{}",
            params.len()
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
            let row = read_summary(r)?;
            let cursor = TraceCursor { at: r.get(13)?, id: row.id.clone() };
            Ok((row, cursor))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The model call that answered with this response id, when it was captured with content.
    pub fn call_by_response_id(&self, response_id: &str) -> Result<Option<crate::trace::ModelCall>> {
        let data: Option<String> = self
            .conn
            .query_row("SELECT data FROM spans WHERE response_id = ?1 AND content = 1 LIMIT 1", [response_id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(data.and_then(|d| match serde_json::from_str(&d) {
            Ok(crate::trace::SpanData::Model(call)) => Some(*call),
            _ => None,
        }))
    }

    /// The model calls of a conversation (the `conversation` setting) that started before
    /// `before`, in order.
    pub fn conversation_calls(
        &self,
        conversation: &str,
        before: Option<DateTime<Utc>>,
    ) -> Result<Vec<crate::trace::ModelCall>> {
        let mut stmt = self.conn.prepare(
            "SELECT data FROM spans WHERE kind = 'model' AND content = 1
             AND coalesce(json_extract(data, '$.params.conversation.id'), json_extract(data, '$.params.conversation')) = ?1
             AND started_at < ?2 ORDER BY started_at",
        )?;
        let before = before.map_or(i64::MAX, micros);
        let rows = stmt.query_map(rusqlite::params![conversation, before], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for d in rows {
            if let Ok(crate::trace::SpanData::Model(call)) = serde_json::from_str(&d?) {
                out.push(*call);
            }
        }
        Ok(out)
    }

    /// A trace and its spans in start order.
    pub fn load_trace(&self, id: &str) -> Result<(Trace, Vec<Span>)> {
        let trace = self
            .conn
            .query_row("SELECT id, workflow, group_id, metadata FROM traces WHERE id = ?1", [id], |r| {
                let metadata: Option<String> = r.get(3)?;
                Ok(Trace {
                    id: r.get(0)?,
                    workflow: r.get(1)?,
                    group_id: r.get(2)?,
                    metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
                })
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "trace", prefix: id.to_string() })?;
        let mut stmt = self.conn.prepare(
            "SELECT id, parent_id, started_at, ended_at, error, data FROM spans WHERE trace_id = ?1
             ORDER BY started_at IS NULL, started_at, id",
        )?;
        let parts = stmt.query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        })?;
        let mut spans = Vec::new();
        for p in parts {
            let (span_id, parts) = p?;
            spans.push(span_from_parts(id, &span_id, parts)?);
        }
        Ok((trace, spans))
    }
}

/// Matches past which a search is listed by walking the time index (measured on a million spans:
/// a word in 1 trace of 8 lists in 7 ms that way against 60 ms from the search side, while a
/// word in one trace is faster from the search side).
const BROAD_SEARCH: usize = 2_000;

/// Whether a search of this many matches lists faster walking the time index than from them.
pub(super) fn time_drives(matches: usize) -> bool {
    matches > BROAD_SEARCH
}

pub(super) const SUMMARY_COLUMNS: &str = "id, workflow, started_at, ended_at, agents, models, turns, input_tokens, output_tokens, \
     errors, content_turns, span_count, group_id";

fn read_summary(r: &rusqlite::Row) -> rusqlite::Result<TraceSummary> {
    Ok(TraceSummary {
        id: r.get(0)?,
        workflow: r.get(1)?,
        started_at: r.get::<_, Option<i64>>(2)?.map(from_micros),
        ended_at: r.get::<_, Option<i64>>(3)?.map(from_micros),
        agents: split(r.get(4)?),
        models: split(r.get(5)?),
        turns: count(r, 6)?,
        input_tokens: count(r, 7)?,
        output_tokens: count(r, 8)?,
        errors: count(r, 9)?,
        content_turns: count(r, 10)?,
        spans: count(r, 11)?,
        group_id: r.get(12)?,
    })
}

fn count(r: &rusqlite::Row, i: usize) -> rusqlite::Result<u64> {
    r.get::<_, i64>(i).map(|v| v.max(0) as u64)
}

type SpanParts = (Option<String>, Option<i64>, Option<i64>, Option<String>, String);

pub(super) fn read_span_parts(r: &rusqlite::Row) -> rusqlite::Result<SpanParts> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub(super) fn span_from_parts(
    trace_id: &str,
    id: &str,
    (parent_id, started, ended, error, data): SpanParts,
) -> Result<Span> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("span {id}: {e}"));
    Ok(Span {
        trace_id: trace_id.to_string(),
        id: id.to_string(),
        parent_id,
        started_at: started.map(from_micros),
        ended_at: ended.map(from_micros),
        error: error.map(|e| serde_json::from_str(&e)).transpose().map_err(corrupt)?,
        data: serde_json::from_str(&data).map_err(corrupt)?,
    })
}

/// The columns of a span row, derived from the span.
struct SpanRow<'a> {
    span: &'a Span,
    kind: &'static str,
    name: Option<&'a str>,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    model: Option<String>,
    response_id: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    content: bool,
    error: Option<String>,
    data: String,
}

impl<'a> SpanRow<'a> {
    fn of(span: &'a Span) -> Result<SpanRow<'a>> {
        let enc = |e: serde_json::Error| StoreError::Corrupt(format!("span {}: {e}", span.id));
        let call = span.model_call();
        Ok(SpanRow {
            span,
            kind: span.data.kind(),
            name: span.data.name(),
            started_at: span.started_at.map(micros),
            ended_at: span.ended_at.map(micros),
            model: call.and_then(|c| c.model.clone()),
            response_id: call.and_then(|c| c.response_id.clone()),
            input_tokens: call.and_then(|c| c.usage).map(|u| u.input_tokens as i64),
            output_tokens: call.and_then(|c| c.usage).map(|u| u.output_tokens as i64),
            content: call.is_some_and(|c| c.has_content()),
            error: span.error.as_ref().map(serde_json::to_string).transpose().map_err(enc)?,
            data: serde_json::to_string(&span.data).map_err(enc)?,
        })
    }

    fn params(&self) -> [&dyn rusqlite::ToSql; 14] {
        let s = self.span;
        [
            &s.trace_id,
            &s.id,
            &s.parent_id,
            &self.kind,
            &self.name,
            &self.started_at,
            &self.ended_at,
            &self.model,
            &self.response_id,
            &self.input_tokens,
            &self.output_tokens,
            &self.content,
            &self.error,
            &self.data,
        ]
    }
}

/// Recompute a trace's list columns from its spans.
fn refresh_summary(tx: &rusqlite::Transaction, id: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE traces SET
            started_at = (SELECT min(started_at) FROM spans WHERE trace_id = ?1),
            ended_at = (SELECT max(ended_at) FROM spans WHERE trace_id = ?1),
            agents = coalesce((SELECT group_concat(name, char(31)) FROM
                (SELECT name FROM spans WHERE trace_id = ?1 AND kind = 'agent' GROUP BY name ORDER BY min(started_at))), ''),
            models = coalesce((SELECT group_concat(model, char(31)) FROM
                (SELECT model FROM spans WHERE trace_id = ?1 AND model IS NOT NULL GROUP BY model ORDER BY min(started_at))), ''),
            turns = (SELECT count(*) FROM spans WHERE trace_id = ?1 AND kind = 'model'),
            input_tokens = (SELECT coalesce(sum(input_tokens), 0) FROM spans WHERE trace_id = ?1),
            output_tokens = (SELECT coalesce(sum(output_tokens), 0) FROM spans WHERE trace_id = ?1),
            errors = (SELECT count(*) FROM spans WHERE trace_id = ?1 AND error IS NOT NULL),
            content_turns = (SELECT count(*) FROM spans WHERE trace_id = ?1 AND content = 1),
            span_count = (SELECT count(*) FROM spans WHERE trace_id = ?1)
         WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(())
}

/// Recount a trace's token use per model from its model spans.
fn refresh_models(tx: &rusqlite::Transaction, id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM trace_models WHERE trace_id = ?1")?.execute([id])?;
    tx.prepare_cached(
        "INSERT INTO trace_models (trace_id, model, calls, input_tokens, output_tokens, cached_input_tokens)
         SELECT trace_id, coalesce(model, ''), count(*), sum(coalesce(input_tokens, 0)), sum(coalesce(output_tokens, 0)),
                sum(coalesce(json_extract(data, '$.usage.cached_input_tokens'), 0))
         FROM spans WHERE trace_id = ?1 AND kind = 'model' GROUP BY 1, 2",
    )?
    .execute([id])?;
    tx.prepare_cached(&format!("UPDATE traces SET usage = {USAGE_OF_ROW} WHERE id = ?1"))?.execute([id])?;
    Ok(())
}

/// The `usage` column of a `traces` row, from its `trace_models` rows (see migration 0006).
const USAGE_OF_ROW: &str = "coalesce((SELECT group_concat(model || char(31) || input_tokens || char(31) || output_tokens \
     || char(31) || cached_input_tokens, char(30)) FROM trace_models WHERE trace_id = traces.id), '')";

/// Fill the `usage` column of every stored trace (the backfill of migration 0006).
pub(super) fn copy_all_usage(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    tx.execute(&format!("UPDATE traces SET usage = {USAGE_OF_ROW}"), [])?;
    Ok(())
}

/// The searchable text of a trace: instructions, input and output items of its model calls,
/// each distinct text once (every turn repeats the conversation so far).
fn search_text(tx: &rusqlite::Transaction, id: &str) -> rusqlite::Result<String> {
    let mut stmt = tx.prepare_cached("SELECT data FROM spans WHERE trace_id = ?1 AND kind = 'model'")?;
    let mut seen = HashSet::new();
    let mut text = String::new();
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let data: String = row.get(0)?;
        // A record that does not parse has no text to offer; loading it reports the damage.
        let Ok(SpanData::Model(call)) = serde_json::from_str::<SpanData>(&data) else { continue };
        let items = call.input.iter().flatten().chain(call.output.iter().flatten()).map(items::item_text);
        for t in call.instructions.iter().cloned().chain(items) {
            if !t.trim().is_empty() && seen.insert(t.clone()) {
                text.push_str(&t);
                text.push('\n');
            }
        }
    }
    Ok(text)
}

/// Whether a span adds to its trace's searchable text: a model call with instructions, input or
/// output. The exporter's response spans carry none, so storing them leaves the index as it is.
fn carries_text(span: &Span) -> bool {
    span.model_call().is_some_and(|c| c.instructions.is_some() || c.input.is_some() || c.output.is_some())
}

/// Replace a trace's row in the full-text index.
fn refresh_search(tx: &rusqlite::Transaction, id: &str) -> rusqlite::Result<()> {
    let old: Option<i64> =
        tx.prepare_cached("SELECT search_rowid FROM traces WHERE id = ?1")?.query_row([id], |r| r.get(0))?;
    if let Some(rowid) = old {
        tx.prepare_cached("DELETE FROM trace_text WHERE rowid = ?1")?.execute([rowid])?;
    }
    let text = search_text(tx, id)?;
    let rowid = if text.is_empty() {
        None
    } else {
        tx.prepare_cached("INSERT INTO trace_text (text) VALUES (?1)")?.execute([&text])?;
        Some(tx.last_insert_rowid())
    };
    tx.prepare_cached("UPDATE traces SET search_rowid = ?2 WHERE id = ?1")?.execute(params![id, rowid])?;
    Ok(())
}

/// Index every stored trace (the backfill of the migration that added search).
pub(super) fn index_all_for_search(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    let ids: Vec<String> =
        tx.prepare("SELECT id FROM traces")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for id in ids {
        refresh_search(tx, &id)?;
    }
    Ok(())
}

/// What `prune` removed and the store's size on disk (database and WAL) around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneStats {
    pub traces: usize,
    pub spans: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Token, cost and latency totals over listed traces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub traces: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Sum over the traces whose models all have a price.
    pub cost_usd: f64,
    /// Traces left out of `cost_usd` because a model's price is unknown.
    pub unpriced: usize,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

impl Totals {
    /// Totals over `rows`, with `costs[i]` the cost of `rows[i]` when known.
    pub fn of(rows: &[TraceSummary], costs: &[Option<f64>]) -> Totals {
        let mut latencies: Vec<i64> = rows.iter().filter_map(TraceSummary::duration_ms).collect();
        latencies.sort_unstable();
        // Nearest-rank percentile.
        let pct = |p: f64| -> Option<i64> {
            let n = latencies.len();
            (n > 0).then(|| latencies[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
        };
        Totals {
            traces: rows.len(),
            input_tokens: rows.iter().map(|r| r.input_tokens).sum(),
            output_tokens: rows.iter().map(|r| r.output_tokens).sum(),
            cost_usd: costs.iter().flatten().fold(0.0, |a, b| a + b),
            unpriced: costs.iter().zip(rows).filter(|(c, r)| c.is_none() && r.turns > 0).count(),
            latency_p50_ms: pct(0.50),
            latency_p95_ms: pct(0.95),
        }
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

impl Store {
    /// Token usage of a trace's model calls, per model (calls without a model are left out).
    pub fn model_usage(&self, trace_id: &str) -> Result<Vec<(String, Usage)>> {
        // A call whose model is unknown (an exporter-only capture) is kept under "", which no
        // price matches, so its trace's cost reads as unknown rather than free.
        let mut stmt = self.conn.prepare_cached(
            "SELECT model, input_tokens, output_tokens, cached_input_tokens FROM trace_models WHERE trace_id = ?1",
        )?;
        let rows = stmt.query_map([trace_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Usage {
                    input_tokens: count(r, 1)?,
                    output_tokens: count(r, 2)?,
                    cached_input_tokens: count(r, 3)?,
                    reasoning_tokens: 0,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delete traces that started before `before`, with their spans and search rows, and give
    /// the freed pages back to the file system.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<PruneStats> {
        let wal = self
            .path
            .with_file_name(format!("{}-wal", self.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        let size = |s: &Store| file_size(&s.path) + file_size(&wal);
        let bytes_before = size(self);
        let cutoff = micros(before);
        let tx = self.write()?;
        let old = "SELECT id FROM traces WHERE coalesce(started_at, imported_at) < ?1";
        tx.execute(
            &format!("DELETE FROM trace_text WHERE rowid IN (SELECT search_rowid FROM traces WHERE id IN ({old}))"),
            [cutoff],
        )?;
        tx.execute(&format!("DELETE FROM trace_models WHERE trace_id IN ({old})"), [cutoff])?;
        let spans = tx.execute(&format!("DELETE FROM spans WHERE trace_id IN ({old})"), [cutoff])?;
        let traces = tx.execute("DELETE FROM traces WHERE coalesce(started_at, imported_at) < ?1", [cutoff])?;
        tx.commit()?;
        if traces > 0 {
            self.conn.execute("INSERT INTO trace_text (trace_text) VALUES ('optimize')", [])?;
            self.conn.execute_batch("VACUUM")?;
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(PruneStats { traces, spans, bytes_before, bytes_after: size(self) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::import::{Format, read_file};
    use std::path::Path;

    fn fixture(name: &str) -> Batch {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents-sdk").join(name);
        read_file(&p, Format::Auto).unwrap().batch
    }

    fn has_span(store: &Store, trace: &str, kind: &str) -> bool {
        let n: i64 = store
            .conn
            .query_row("SELECT count(*) FROM spans WHERE trace_id = ?1 AND kind = ?2", [trace, kind], |r| r.get(0))
            .unwrap();
        n > 0
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("e.db")).unwrap();
        (dir, s)
    }

    /// Writers in several processes (here: connections on threads) whose transactions read
    /// before they write all wait for the lock instead of failing with "database is locked".
    #[test]
    fn concurrent_writers_that_read_first_wait_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evals.db");
        Store::open(&path).unwrap();
        let batch = fixture("agents_processor_full.jsonl");
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (path, batch) = (path.clone(), batch.clone());
                std::thread::spawn(move || {
                    let mut s = Store::open(&path).unwrap();
                    for i in 0..40 {
                        let mut b = batch.clone();
                        for t in &mut b.traces {
                            t.id = format!("{}_{w}_{i}", t.id);
                        }
                        for sp in &mut b.spans {
                            sp.trace_id = format!("{}_{w}_{i}", sp.trace_id);
                        }
                        s.capture(b, Vec::new())?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .collect();
        for w in writers {
            if let Err(e) = w.join().unwrap() {
                panic!("a writer failed: {e}");
            }
        }
        let s = Store::open(&path).unwrap();
        let traces: i64 = s.conn.query_row("SELECT count(*) FROM traces", [], |r| r.get(0)).unwrap();
        assert_eq!(traces as usize, 4 * 40 * batch.traces.len());
    }

    #[test]
    fn reingest_adds_nothing() {
        let (_d, mut s) = store();
        let batch = fixture("agents_processor_full.jsonl");
        let first = s.ingest(&batch).unwrap();
        assert_eq!((first.new_traces, first.new_spans), (3, 19));
        let again = s.ingest(&batch).unwrap();
        assert_eq!(again, IngestStats::default());
        assert_eq!(s.list_traces(&TraceFilter::default()).unwrap().len(), 3);
    }

    #[test]
    fn summaries_reflect_spans() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let t = s.trace_summary("trace_6a4a39cf054a4507af79b8b2b2cfbe80").unwrap();
        assert_eq!(t.agents, vec!["Triage", "Weather expert"]);
        assert_eq!(t.models, vec!["fake-model"]);
        assert_eq!((t.turns, t.content_turns, t.input_tokens, t.output_tokens), (2, 2, 23, 6));
        assert_eq!(t.workflow.as_deref(), Some("Agent workflow"));
        assert_eq!(t.status(), "ok");
        assert!(t.started_at.is_some() && t.duration_ms().unwrap() >= 0);
        assert!(has_span(&s, &t.id, "handoff"));
    }

    #[test]
    fn start_and_end_records_merge_into_one_span() {
        let (_d, mut s) = store();
        let stats = s.ingest(&fixture("agents_processor.jsonl")).unwrap();
        // Each span arrives twice (start and end); it is stored once and completed.
        assert!(stats.updated_spans > 0);
        let (_, spans) = s
            .load_trace(&s.list_traces(&TraceFilter { limit: Some(1), ..TraceFilter::default() }).unwrap()[0].id)
            .unwrap();
        assert!(spans.iter().all(|sp| sp.ended_at.is_some()));
    }

    #[test]
    fn spans_before_their_trace_record_are_kept() {
        let (_d, mut s) = store();
        let mut batch = fixture("agents_processor_full.jsonl");
        let traces = std::mem::take(&mut batch.traces);
        s.ingest(&batch).unwrap();
        let stats = s.ingest(&Batch { traces, spans: vec![] }).unwrap();
        assert_eq!(stats.new_traces, 0);
        assert!(
            s.list_traces(&TraceFilter::default())
                .unwrap()
                .iter()
                .all(|t| t.workflow.as_deref() == Some("Agent workflow"))
        );
    }

    #[test]
    fn filters_select_by_agent_model_workflow_status_and_time() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let ids = |f: TraceFilter| -> Vec<String> { s.list_traces(&f).unwrap().into_iter().map(|t| t.id).collect() };
        assert_eq!(ids(TraceFilter::default()).len(), 3);
        assert_eq!(
            ids(TraceFilter { agent: Some("Weather expert".into()), ..TraceFilter::default() }),
            vec!["trace_6a4a39cf054a4507af79b8b2b2cfbe80"]
        );
        // Whole names only: "Weather" is not an agent.
        assert!(ids(TraceFilter { agent: Some("Weather".into()), ..TraceFilter::default() }).is_empty());
        assert_eq!(ids(TraceFilter { model: Some("fake-model".into()), ..TraceFilter::default() }).len(), 3);
        assert_eq!(ids(TraceFilter { workflow: Some("Agent workflow".into()), ..TraceFilter::default() }).len(), 3);
        assert_eq!(ids(TraceFilter { status: Some(TraceStatus::Error), ..TraceFilter::default() }).len(), 0);
        assert_eq!(ids(TraceFilter { limit: Some(2), ..TraceFilter::default() }).len(), 2);
        let start = s.trace_summary("trace_6a4a39cf054a4507af79b8b2b2cfbe80").unwrap().started_at.unwrap();
        let since = ids(TraceFilter { since: Some(start), ..TraceFilter::default() });
        let until = ids(TraceFilter { until: Some(start), ..TraceFilter::default() });
        assert_eq!(since.len() + until.len(), 3);
        assert!(since.contains(&"trace_6a4a39cf054a4507af79b8b2b2cfbe80".to_string()));
    }

    fn search(s: &Store, text: &str) -> Vec<String> {
        let f = TraceFilter { search: Some(text.into()), ..TraceFilter::default() };
        s.list_traces(&f).unwrap().into_iter().map(|t| t.id).collect()
    }

    #[test]
    fn search_finds_words_of_model_input_and_output() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        // Input of the tool run, in another case; output of the handoff run.
        assert_eq!(search(&s, "GET_WEATHER city=paris"), vec!["trace_1a366e093c0d4ae0809e2fa3fbb773d5"]);
        assert_eq!(search(&s, "sunny paris").len(), 1);
        assert_eq!(search(&s, "{\"assistant\":").len(), 1, "quotes and punctuation are matched, not parsed");
        assert!(search(&s, "sunny nowhere").is_empty(), "every word must occur");
        assert_eq!(search(&s, "   ").len(), 3, "an empty search selects everything");
    }

    #[test]
    fn search_follows_merges_and_exporter_only_traces_have_no_text() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_ingest.jsonl")).unwrap();
        assert!(search(&s, "sunny").is_empty());
        // The same runs with content arrive later and are merged in (same ids).
        let full = fixture("agents_processor_full.jsonl");
        let stats = s.ingest(&full).unwrap();
        assert!(stats.updated_spans > 0 || stats.new_spans > 0);
        assert_eq!(search(&s, "sunny").len(), 1);
        // Re-ingesting leaves one index row per trace, not two.
        s.ingest(&full).unwrap();
        let rows: i64 = s.conn.query_row("SELECT count(*) FROM trace_text", [], |r| r.get(0)).unwrap();
        let traces: i64 =
            s.conn.query_row("SELECT count(*) FROM traces WHERE search_rowid IS NOT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, traces);
    }

    #[test]
    fn text_less_model_spans_leave_the_search_row_alone() {
        let (_d, mut s) = store();
        let full = fixture("agents_processor_full.jsonl");
        s.ingest(&full).unwrap();
        let trace = search(&s, "sunny paris")[0].clone();
        let turns = s.trace_summary(&trace).unwrap().turns;
        let rowid = |s: &Store| -> Option<i64> {
            s.conn.query_row("SELECT search_rowid FROM traces WHERE id = ?1", [&trace], |r| r.get(0)).unwrap()
        };
        let before = rowid(&s);
        assert!(before.is_some());
        // A response span as the exporter sends it: usage, no content.
        let mut span = full.spans.iter().find(|sp| sp.trace_id == trace && sp.model_call().is_some()).unwrap().clone();
        span.id = "span_textless".into();
        if let SpanData::Model(call) = &mut span.data {
            (call.instructions, call.input, call.output) = (None, None, None);
        }
        let stats = s.ingest(&Batch { traces: vec![], spans: vec![span] }).unwrap();
        assert_eq!(stats.new_spans, 1);
        assert_eq!(rowid(&s), before, "the index row is not rebuilt");
        assert_eq!(search(&s, "sunny paris"), vec![trace.clone()]);
        assert_eq!(s.trace_summary(&trace).unwrap().turns, turns + 1, "the summary still counts the span");
    }

    #[test]
    fn meta_filters_on_metadata_entries() {
        let (_d, mut s) = store();
        let mut meta = serde_json::Map::new();
        meta.insert("customer".into(), "acme".into());
        meta.insert("tier".into(), 2.into());
        let traces =
            vec![Trace { id: "t1".into(), workflow: None, group_id: None, metadata: Some(meta) }, Trace::bare("t2")];
        s.ingest(&Batch { traces, spans: vec![] }).unwrap();
        let ids = |meta: Vec<(&str, &str)>| -> Vec<String> {
            let meta = meta.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            s.list_traces(&TraceFilter { meta, ..TraceFilter::default() }).unwrap().into_iter().map(|t| t.id).collect()
        };
        assert_eq!(ids(vec![("customer", "acme")]), vec!["t1"]);
        assert_eq!(ids(vec![("customer", "acme"), ("tier", "2")]), vec!["t1"]);
        assert!(ids(vec![("customer", "acme"), ("tier", "3")]).is_empty());
        assert!(ids(vec![("customer", "globex")]).is_empty());
    }

    #[test]
    fn prune_deletes_old_traces_spans_and_search_rows() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let starts: Vec<_> =
            s.list_traces(&TraceFilter::default()).unwrap().into_iter().map(|t| t.started_at.unwrap()).collect();
        let newest = *starts.iter().max().unwrap();
        let stats = s.prune(newest).unwrap();
        assert_eq!(stats.traces, 2);
        assert!(stats.spans > 0 && stats.bytes_before > 0 && stats.bytes_after > 0);
        assert_eq!(s.list_traces(&TraceFilter::default()).unwrap().len(), 1);
        let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(DISTINCT trace_id) FROM spans"), 1);
        assert_eq!(count("SELECT count(*) FROM trace_text"), 1);
        assert_eq!(s.prune(newest).unwrap().traces, 0);
    }

    #[test]
    fn migration_indexes_traces_stored_before_search_existed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.db");
        let price = crate::provider::pricing::Price { input: 2.0, cached_input: None, output: 8.0 };
        let prices =
            crate::provider::pricing::PriceTable::default().with_overrides(&[("fake-model".to_string(), price)].into());
        let before = {
            let mut s = Store::open(&path).unwrap();
            s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
            let totals = s.trace_totals(&TraceFilter::default(), &prices).unwrap();
            // Back to the schema of version 2, as an older evals left it.
            s.conn
                .execute_batch("DROP TABLE trace_text; DROP INDEX traces_by_search; DROP INDEX traces_by_time; ALTER TABLE traces DROP COLUMN search_rowid; \
                 ALTER TABLE runs DROP COLUMN owner_pid; ALTER TABLE runs DROP COLUMN owner_host; \
                 ALTER TABLE runs DROP COLUMN heartbeat_at; DROP TABLE trace_models; ALTER TABLE traces DROP COLUMN usage; \
                 PRAGMA user_version = 2;")
                .unwrap();
            totals
        };
        let s = Store::open(&path).unwrap();
        assert_eq!(search(&s, "sunny").len(), 1);
        // The usage per model is counted from the spans already there.
        let usage = s.model_usage("trace_6a4a39cf054a4507af79b8b2b2cfbe80").unwrap();
        assert_eq!((usage[0].1.input_tokens, usage[0].1.output_tokens), (23, 6));
        // And so is each trace's own copy of it, which the totals read.
        assert!(before.cost_usd > 0.0);
        assert_eq!(s.trace_totals(&TraceFilter::default(), &prices).unwrap(), before);
    }

    #[test]
    fn usage_per_model_prices_a_trace() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let usage = s.model_usage("trace_6a4a39cf054a4507af79b8b2b2cfbe80").unwrap();
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].0, "fake-model");
        assert_eq!((usage[0].1.input_tokens, usage[0].1.output_tokens), (23, 6));
    }

    #[test]
    fn totals_sum_tokens_and_cost_and_take_latency_percentiles() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let rows = s.list_traces(&TraceFilter::default()).unwrap();
        let t = Totals::of(&rows, &[Some(0.5), Some(0.25), None]);
        assert_eq!(t.traces, 3);
        assert_eq!(t.input_tokens, rows.iter().map(|r| r.input_tokens).sum::<u64>());
        assert_eq!((t.cost_usd, t.unpriced), (0.75, 1));
        let mut d: Vec<i64> = rows.iter().filter_map(TraceSummary::duration_ms).collect();
        d.sort();
        assert_eq!((t.latency_p50_ms, t.latency_p95_ms), (Some(d[1]), Some(d[2])));
    }

    #[test]
    fn both_search_plans_list_the_same_traces() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        for word in ["weather", "Paris", "nothing-like-this"] {
            let f = TraceFilter { search: Some(word.into()), ..Default::default() };
            let ids = |broad| s.list_with(&f, broad).unwrap().into_iter().map(|(t, _)| t.id).collect::<Vec<_>>();
            assert_eq!(ids(true), ids(false), "{word}");
        }
        let f = TraceFilter { search: Some("weather".into()), ..Default::default() };
        assert!(!s.list_with(&f, true).unwrap().is_empty());
    }

    #[test]
    fn prefixes_resolve_or_explain() {
        let (_d, mut s) = store();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        assert_eq!(s.resolve_trace("trace_6a4").unwrap(), "trace_6a4a39cf054a4507af79b8b2b2cfbe80");
        assert!(matches!(s.resolve_trace("trace_").unwrap_err(), StoreError::Ambiguous { .. }));
        let err = s.resolve_trace("trace_zzz").unwrap_err();
        assert_eq!(err.to_string(), "no trace matches \"trace_zzz\"");
    }

    /// The SQL aggregates say what the rows they stand for add up to: totals, costs (a model
    /// without a price leaves its traces out), percentiles, buckets; pages cover every row once.
    #[test]
    fn totals_buckets_and_pages_agree_with_the_rows() {
        use crate::provider::pricing::{Price, PriceTable};
        let (_d, mut s) = store();
        let mut batch = fixture("agents_processor_full.jsonl");
        batch.extend(fixture("agents_processor.jsonl"));
        // One trace called a second, unpriced model; another went to Azure.
        let mut seen = HashSet::new();
        for span in &mut batch.spans {
            if let SpanData::Model(m) = &mut span.data {
                if span.trace_id.starts_with("trace_1a36") && seen.insert(span.trace_id.clone()) {
                    m.model = Some("mystery-model".into());
                }
                if span.trace_id.starts_with("trace_6a4a") {
                    m.provider = Some("azure.ai.openai".into());
                }
            }
        }
        s.ingest(&batch).unwrap();
        let price = Price { input: 2.0, cached_input: None, output: 8.0 };
        let prices = PriceTable::default().with_overrides(&[("fake-model".to_string(), price)].into());
        for filter in [
            TraceFilter::default(),
            // Most traces: a page checks rows against the matches, read once.
            TraceFilter { search: Some("weather".into()), ..TraceFilter::default() },
            // One match in six: the aggregates start from the search index.
            TraceFilter { search: Some("paris".into()), ..TraceFilter::default() },
            TraceFilter { agent: Some("Triage".into()), ..TraceFilter::default() },
        ] {
            let rows = s.list_traces(&filter).unwrap();
            if filter.search.as_deref() == Some("weather") {
                let matches = s.search_matches(&filter).unwrap().unwrap();
                assert!(matches.dense.is_some(), "{} of 6 traces", rows.len());
            }
            let costs: Vec<_> = rows.iter().map(|r| s.trace_cost(&r.id, &prices).unwrap()).collect();
            let want = Totals::of(&rows, &costs);
            let got = s.trace_totals(&filter, &prices).unwrap();
            assert!((got.cost_usd - want.cost_usd).abs() < 1e-12, "{got:?} vs {want:?}");
            assert_eq!(Totals { cost_usd: want.cost_usd, ..got }, want);
            let buckets = s.trace_buckets(&filter, 60, &prices).unwrap();
            assert_eq!(buckets.iter().map(|b| b.traces as usize).sum::<usize>(), rows.len());
            assert_eq!(buckets.iter().map(|b| b.calls).sum::<u64>(), rows.iter().map(|r| r.turns).sum::<u64>());
            let bucket_cost: f64 = buckets.iter().map(|b| b.cost_usd).sum();
            assert!((bucket_cost - want.cost_usd).abs() < 1e-12);
            // Pages of two, each after the last one's cursor.
            let (mut paged, mut after) = (Vec::new(), None);
            loop {
                let (page, totals) =
                    s.trace_listing(&TraceFilter { limit: Some(2), after, ..filter.clone() }, &prices).unwrap();
                assert_eq!(totals, got, "every page carries the totals of the whole selection");
                paged.extend(page.rows.iter().map(|r| r.id.clone()));
                assert_eq!(
                    page.costs,
                    page.rows.iter().map(|r| s.trace_cost(&r.id, &prices).unwrap()).collect::<Vec<_>>()
                );
                match page.next {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            assert_eq!(paged, rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
        }
        let all = s.trace_totals(&TraceFilter::default(), &prices).unwrap();
        let mystery = s.resolve_trace("trace_1a36").unwrap();
        assert_eq!(s.trace_cost(&mystery, &prices).unwrap(), None, "one model without a price: no cost");
        let rows = s.list_traces(&TraceFilter::default()).unwrap();
        let unknown = rows.iter().filter(|r| s.trace_cost(&r.id, &prices).unwrap().is_none()).count();
        assert_eq!((all.traces, all.unpriced), (6, unknown), "{all:?}");
        assert!(all.cost_usd > 0.0);
        let azure = TraceFilter { provider: Some("azure.ai.openai".into()), ..TraceFilter::default() };
        let ids: Vec<String> = s.list_traces(&azure).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["trace_6a4a39cf054a4507af79b8b2b2cfbe80"]);
    }

    /// What `trace_models` holds is what the model spans add up to, through inserts, merges of
    /// start and end records, re-sent batches and prunes.
    #[test]
    fn usage_per_model_follows_the_spans() {
        type Row = (String, String, i64, i64, i64, i64);
        let rows = |s: &Store, sql: &str| -> Vec<Row> {
            s.conn
                .prepare(sql)
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let kept = "SELECT trace_id, model, calls, input_tokens, output_tokens, cached_input_tokens FROM trace_models ORDER BY 1, 2";
        let recount = "SELECT trace_id, coalesce(model, ''), count(*), sum(coalesce(input_tokens, 0)),
             sum(coalesce(output_tokens, 0)), sum(coalesce(json_extract(data, '$.usage.cached_input_tokens'), 0))
             FROM spans WHERE kind = 'model' GROUP BY 1, 2 ORDER BY 1, 2";
        let (_d, mut s) = store();
        // The processor JSONL sends each span twice (started, then ended): the second merges.
        let stats = s.ingest(&fixture("agents_processor.jsonl")).unwrap();
        assert!(stats.updated_spans > 0 || stats.new_spans > 0);
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        s.ingest(&fixture("agents_processor_full.jsonl")).unwrap();
        let now = rows(&s, kept);
        assert_eq!(now.len(), 6, "{now:?}");
        assert_eq!(now, rows(&s, recount));
        s.prune(Utc::now() + chrono::Duration::days(1)).unwrap();
        assert!(rows(&s, kept).is_empty());
    }
}
