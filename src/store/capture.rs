//! Live capture writes: exported records and proxy recordings in one transaction, each recorded
//! model call joined to the exported `response` span with the same response id, whichever came first.

use std::collections::{BTreeSet, HashMap};

use rusqlite::OptionalExtension;

use super::traces::{IngestStats, span_from_parts};
use super::{Result, Store, StoreError, micros};
use crate::trace::openai_log::ONE_CALL_PREFIX;
use crate::trace::{Batch, ModelApi, ModelCall, Span, SpanData, Trace, join};

fn is_one_call(trace_id: &str) -> bool {
    trace_id.starts_with(ONE_CALL_PREFIX)
}

impl Store {
    /// Write `batch` and the proxy's `recordings` (model spans in their one-call traces) in one
    /// transaction. A recording whose response id an exported span already has is written into
    /// that span; an exported span whose response id a one-call trace holds takes its content and
    /// the one-call trace is deleted. Re-sent records add nothing.
    pub fn capture(&mut self, batch: Batch, recordings: Vec<(Trace, Span)>) -> Result<IngestStats> {
        let tx = self.write()?;
        let mut merged = batch;
        join_chat_by_content(&tx, &mut merged.spans, &recordings)?;
        let mut claimed = BTreeSet::new();
        {
            let mut one_call = tx.prepare_cached(&format!(
                "SELECT trace_id, data FROM spans WHERE response_id = ?1 AND trace_id GLOB '{ONE_CALL_PREFIX}*'"
            ))?;
            let mut unidentified = tx.prepare_cached(&format!(
                "SELECT trace_id, id, parent_id, started_at, ended_at, error, data FROM spans
                 WHERE trace_id GLOB '{ONE_CALL_PREFIX}*' AND content = 1 AND input_tokens = ?1 AND output_tokens = ?2
                 AND started_at BETWEEN ?3 AND ?4"
            ))?;
            let agent_tools = agent_tools(&merged.spans);
            for span in &mut merged.spans {
                if is_one_call(&span.trace_id) {
                    continue;
                }
                // Without a response id (sensitive data off), the recording that fits the span.
                if let (Some(call), Some(start), Some(end)) = (span.model_call(), span.started_at, span.ended_at)
                    && call.response_id.is_none()
                    && !call.has_content()
                    && let Some(usage) = call.usage
                {
                    let slack = join::clock_slack();
                    let window = (micros(start - slack), micros(end + slack));
                    let tools = agent_tools.get(span.id.as_str()).cloned().unwrap_or_default();
                    let mut best: Option<(i64, Span)> = None;
                    let rows = unidentified.query_map(
                        rusqlite::params![usage.input_tokens as i64, usage.output_tokens as i64, window.0, window.1],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
                            ))
                        },
                    )?;
                    for row in rows {
                        let (trace_id, id, parts) = row?;
                        if claimed.contains(&trace_id) {
                            continue;
                        }
                        let recorded = span_from_parts(&trace_id, &id, parts)?;
                        if let Some(d) = join::distance_ms(span, &recorded, &tools)
                            && best.as_ref().is_none_or(|(b, _)| d < *b)
                        {
                            best = Some((d, recorded));
                        }
                    }
                    if let Some((_, recorded)) = best {
                        if let (SpanData::Model(call), SpanData::Model(rec)) = (&mut span.data, &recorded.data) {
                            call.merge(rec);
                        }
                        claimed.insert(recorded.trace_id);
                    }
                    continue;
                }
                if let SpanData::Model(call) = &mut span.data
                    && let Some(rid) = call.response_id.clone()
                {
                    let found: Option<(String, String)> =
                        one_call.query_row([&rid], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                    if let Some((trace_id, data)) = found {
                        let data: SpanData = serde_json::from_str(&data)
                            .map_err(|e| StoreError::Corrupt(format!("span of {trace_id}: {e}")))?;
                        if let SpanData::Model(recorded) = data {
                            call.merge(&recorded);
                        }
                        claimed.insert(trace_id);
                    }
                }
            }
            // Exported spans of this batch by response id, for recordings that arrive with them.
            let in_batch: HashMap<String, (String, String)> = if recordings.is_empty() {
                HashMap::new()
            } else {
                merged
                    .spans
                    .iter()
                    .filter_map(|s| Some((s.model_call()?.response_id.clone()?, (s.trace_id.clone(), s.id.clone()))))
                    .collect()
            };
            let mut exported = tx.prepare_cached(&format!(
                "SELECT trace_id, id FROM spans WHERE response_id = ?1 AND NOT trace_id GLOB '{ONE_CALL_PREFIX}*' LIMIT 1"
            ))?;
            for (trace, mut span) in recordings {
                let rid = span.model_call().and_then(|c| c.response_id.as_deref());
                let target: Option<(String, String)> = match rid {
                    Some(rid) => match in_batch.get(rid) {
                        Some(ids) => Some(ids.clone()),
                        None => exported.query_row([rid], |r| Ok((r.get(0)?, r.get(1)?))).optional()?,
                    },
                    None => None,
                };
                match target {
                    Some((trace_id, span_id)) => {
                        // Into the exported span: its ids, tree place and times win; the
                        // recording fills the content. Failed attempts of the call stored
                        // before it succeeded were its own trace until now.
                        if is_one_call(&trace.id) {
                            claimed.insert(trace.id.clone());
                        }
                        span.trace_id = trace_id;
                        span.id = span_id;
                        span.parent_id = None;
                        merged.spans.push(span);
                    }
                    None => {
                        merged.traces.push(trace);
                        merged.spans.push(span);
                    }
                }
            }
        }
        let stats = Self::ingest_in(&tx, &merged)?;
        for trace_id in &claimed {
            tx.execute(
                "DELETE FROM trace_text WHERE rowid IN (SELECT search_rowid FROM traces WHERE id = ?1)",
                [trace_id],
            )?;
            tx.execute("DELETE FROM trace_models WHERE trace_id = ?1", [trace_id])?;
            tx.execute("DELETE FROM spans WHERE trace_id = ?1", [trace_id])?;
            tx.execute("DELETE FROM traces WHERE id = ?1", [trace_id])?;
        }
        tx.commit()?;
        Ok(stats)
    }
}

/// The tools each agent span of a batch lists, by span id: a model span's parent is its agent
/// (or the SDK's turn span under it, which names the agent).
fn agent_tools(spans: &[Span]) -> HashMap<String, Vec<String>> {
    let agents: HashMap<&str, &Span> = spans.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut out = HashMap::new();
    for s in spans {
        let mut cur = Some(s);
        // The agent is at most two levels up (agent → turn → model).
        for _ in 0..3 {
            let Some(span) = cur else { break };
            if let SpanData::Agent { tools, .. } = &span.data {
                out.insert(s.id.clone(), tools.clone());
                break;
            }
            cur = span.parent_id.as_deref().and_then(|p| agents.get(p).copied());
        }
    }
    out
}

/// How far apart the app's and the proxy's clocks may put the same chat call.
const CHAT_JOIN_SLACK_S: i64 = 60;

/// Chat Completions answers carry an id, but the Python SDK's `generation` spans do not keep it.
/// An exported chat call with content and no id takes the id of the recording (of this batch or
/// a one-call trace in the store) whose instructions, messages and answer are the same and whose
/// call started within the span's time (give or take [`CHAT_JOIN_SLACK_S`]); the join by id then
/// merges the two. A recording is taken once, by the first span that matches.
fn join_chat_by_content(tx: &rusqlite::Transaction, spans: &mut [Span], recordings: &[(Trace, Span)]) -> Result<()> {
    let key =
        |c: &ModelCall| serde_json::to_string(&(&c.instructions, &c.input, &c.output)).expect("JSON values serialize");
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut stored = tx.prepare_cached(&format!(
        "SELECT data FROM spans WHERE trace_id GLOB '{ONE_CALL_PREFIX}*' AND kind = 'model' AND started_at BETWEEN ?1 AND ?2"
    ))?;
    for span in spans.iter_mut() {
        let (Some(start), Some(end)) = (span.started_at, span.ended_at) else { continue };
        let SpanData::Model(call) = &mut span.data else { continue };
        if call.api != ModelApi::ChatCompletions || call.response_id.is_some() || !call.has_content() {
            continue;
        }
        let want = key(call);
        let slack = chrono::Duration::seconds(CHAT_JOIN_SLACK_S);
        let (from, to) = (start - slack, end + slack);
        let in_window = |c: &ModelCall, at: Option<chrono::DateTime<chrono::Utc>>| {
            c.api == ModelApi::ChatCompletions && at.is_some_and(|t| t >= from && t <= to) && key(c) == want
        };
        let mut found = recordings.iter().find_map(|(_, r)| {
            let c = r.model_call()?;
            let id = c.response_id.clone()?;
            (in_window(c, r.started_at) && !taken.contains(&id)).then_some(id)
        });
        if found.is_none() {
            let rows = stored.query_map([from.timestamp_micros(), to.timestamp_micros()], |r| r.get::<_, String>(0))?;
            for data in rows {
                if let Ok(SpanData::Model(c)) = serde_json::from_str::<SpanData>(&data?)
                    && let Some(id) = c.response_id.clone()
                    && c.api == ModelApi::ChatCompletions
                    && key(&c) == want
                    && !taken.contains(&id)
                {
                    found = Some(id);
                    break;
                }
            }
        }
        if let Some(id) = found {
            taken.insert(id.clone());
            call.response_id = Some(id);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TraceFilter;
    use crate::trace::agents_sdk::{call_from_response, parse_export_body};
    use crate::trace::openai_log::one_call_trace_id;
    use serde_json::{Value, json};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("e.db")).unwrap();
        (dir, s)
    }

    /// The first exporter body of the fixture, and a recording of its first model call.
    fn exported_and_recorded() -> (Batch, (Trace, Span)) {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/agents-sdk/agents_ingest.jsonl"
        ))
        .unwrap();
        let body: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let batch = parse_export_body(&body).unwrap();
        let rid = batch.spans.iter().find_map(|s| s.model_call()?.response_id.clone()).unwrap();
        let response = json!({"id": rid, "model": "fake-model", "instructions": "Be brief.",
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "SUNNY"}]}],
            "usage": {"input_tokens": 3, "output_tokens": 1}});
        let call = call_from_response(&response, Some(&json!("weather?")));
        let trace_id = one_call_trace_id(&rid);
        let span = Span {
            trace_id: trace_id.clone(),
            id: format!("span_{rid}"),
            parent_id: None,
            started_at: None,
            ended_at: None,
            data: SpanData::Model(Box::new(call)),
            error: None,
        };
        (batch, (Trace::bare(trace_id), span))
    }

    fn ids(s: &Store) -> Vec<String> {
        s.list_traces(&TraceFilter::default()).unwrap().into_iter().map(|t| t.id).collect()
    }

    fn content_turns(s: &Store) -> u64 {
        s.list_traces(&TraceFilter::default()).unwrap().iter().map(|t| t.content_turns).sum()
    }

    /// Sensitive data off: the exporter's model spans have usage and times but no response id;
    /// each recording (made first, as the proxy commits before the client has its answer) joins
    /// the span it fits, and the run is one trace with content.
    #[test]
    fn without_response_ids_recordings_join_by_usage_and_time() {
        let (_d, mut s) = store();
        let (mut batch, _) = exported_and_recorded();
        let mut recordings = vec![];
        for span in &mut batch.spans {
            let (Some(start), Some(end)) = (span.started_at, span.ended_at) else { continue };
            let SpanData::Model(call) = &mut span.data else { continue };
            call.response_id = None;
            let usage = call.usage.expect("the exporter keeps usage");
            // The agent span lists its tools; the recorded request offered them.
            let response = json!({"id": format!("resp_{}", recordings.len()), "model": "fake-model", "output": [],
                "tools": [{"type": "function", "name": "get_weather"}],
                "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}});
            let key = format!("r{}", recordings.len());
            let mut b = crate::trace::openai_log::one_call_trace(
                call_from_response(&response, Some(&json!("weather?"))),
                Some(start + chrono::Duration::milliseconds(1)),
                Some(end),
                None,
                &key,
            );
            recordings.push((b.traces.remove(0), b.spans.remove(0)));
        }
        assert!(!recordings.is_empty());
        let n = recordings.len() as u64;
        s.capture(Batch::default(), recordings).unwrap();
        assert_eq!(ids(&s).len() as u64, n);
        s.capture(batch, vec![]).unwrap();
        assert!(ids(&s).iter().all(|t| !is_one_call(t)), "the one-call traces joined the runs: {:?}", ids(&s));
        assert_eq!(ids(&s).len(), 3);
        assert_eq!(content_turns(&s), n);
    }

    #[test]
    fn recording_after_export_fills_the_exported_span() {
        let (_d, mut s) = store();
        let (batch, rec) = exported_and_recorded();
        s.capture(batch, vec![]).unwrap();
        let before = ids(&s);
        s.capture(Batch::default(), vec![rec]).unwrap();
        assert_eq!(ids(&s), before, "no one-call trace when the exported span is there");
        assert_eq!(content_turns(&s), 1);
    }

    #[test]
    fn export_after_recording_claims_the_one_call_trace() {
        let (_d, mut s) = store();
        let (batch, rec) = exported_and_recorded();
        let one_call = rec.0.id.clone();
        s.capture(Batch::default(), vec![rec]).unwrap();
        assert_eq!(ids(&s), vec![one_call.clone()]);
        s.capture(batch, vec![]).unwrap();
        assert!(!ids(&s).contains(&one_call), "the one-call trace is merged away");
        let rows: i64 = s.conn.query_row("SELECT count(*) FROM trace_text", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "only the exported trace is searchable");
        assert_eq!(content_turns(&s), 1);
        let trace = s.list_traces(&TraceFilter::default()).unwrap().into_iter().find(|t| t.content_turns == 1).unwrap();
        let (_, spans) = s.load_trace(&trace.id).unwrap();
        let call = spans.iter().find_map(Span::model_call).unwrap();
        assert_eq!(call.instructions.as_deref(), Some("Be brief."));
        // Exported usage wins over the recording's.
        assert_ne!(call.usage.unwrap().input_tokens, 3);
    }

    #[test]
    fn export_and_recording_in_one_batch_join() {
        let (_d, mut s) = store();
        let (batch, rec) = exported_and_recorded();
        s.capture(batch, vec![rec]).unwrap();
        assert!(ids(&s).iter().all(|id| !is_one_call(id)));
        assert_eq!(content_turns(&s), 1);
    }

    #[test]
    fn unclaimed_recording_is_a_one_call_trace() {
        let (_d, mut s) = store();
        let (_, rec) = exported_and_recorded();
        let stats = s.capture(Batch::default(), vec![rec]).unwrap();
        assert_eq!((stats.new_traces, stats.new_spans), (1, 1));
        assert_eq!(content_turns(&s), 1);
    }

    /// The Python SDK's first chat `generation` span (no response id), and the proxy's recording
    /// of the same call made from its messages and answer, with `id` and started at `at`.
    fn python_chat_call(id: &str, at_offset_s: i64) -> (Batch, (Trace, Span)) {
        use crate::trace::agents_sdk::parse_processor_line;
        use crate::trace::openai_log::{call_from_chat, one_call_trace};
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/agents-sdk/agents_processor_chat.jsonl"
        ))
        .unwrap();
        let line: Value = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["data"]["span_data"]["type"] == "generation" && l["data"]["ended_at"].is_string())
            .unwrap();
        let batch = parse_processor_line(&line).unwrap();
        let d = &line["data"]["span_data"];
        let request = json!({"model": d["model"], "messages": d["input"]});
        let response = json!({"id": id, "object": "chat.completion", "model": d["model"],
            "choices": [{"index": 0, "message": d["output"][0], "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1}});
        let at = batch.spans[0].started_at.unwrap() + chrono::Duration::seconds(at_offset_s);
        let mut one = one_call_trace(call_from_chat(&request, &response), Some(at), Some(at), None, "");
        (Batch { traces: vec![], spans: batch.spans }, (one.traces.remove(0), one.spans.remove(0)))
    }

    #[test]
    fn a_chat_span_without_id_joins_the_recording_with_its_content_and_time() {
        // Recorded first (as the proxy commits before the client has the answer), exported later.
        let (_d, mut s) = store();
        let (batch, rec) = python_chat_call("chatcmpl-py1", 0);
        let trace_id = batch.spans[0].trace_id.clone();
        let exported_usage = batch.spans[0].model_call().unwrap().usage;
        s.capture(Batch::default(), vec![rec]).unwrap();
        s.capture(batch, vec![]).unwrap();
        assert_eq!(ids(&s), vec![trace_id.clone()], "the one-call trace is merged into the run");
        let (_, spans) = s.load_trace(&trace_id).unwrap();
        let call = spans[0].model_call().unwrap();
        assert_eq!(call.response_id.as_deref(), Some("chatcmpl-py1"));
        assert_eq!(call.usage, exported_usage, "the span's usage, not the two added up");
        assert_eq!(spans.iter().filter(|s| s.model_call().is_some()).count(), 1);

        // Both in one batch; and a recording of other content, or from too far away, is not joined.
        for (offset, joins) in [(0, true), (CHAT_JOIN_SLACK_S + 5, false)] {
            let (_d, mut s) = store();
            let (batch, rec) = python_chat_call("chatcmpl-py2", offset);
            s.capture(batch, vec![rec]).unwrap();
            assert_eq!(ids(&s).len(), if joins { 1 } else { 2 }, "offset {offset}s");
        }
        let (_d, mut s) = store();
        let (batch, (t, mut rec)) = python_chat_call("chatcmpl-py3", 0);
        if let SpanData::Model(c) = &mut rec.data {
            c.output = Some(vec![json!({"type": "message", "role": "assistant", "content": "something else"})]);
        }
        s.capture(batch, vec![(t, rec)]).unwrap();
        assert_eq!(ids(&s).len(), 2, "other content stays apart");
    }
}
