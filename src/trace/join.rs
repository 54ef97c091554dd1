//! The join of a proxy recording to the exported span of the same model call when the span
//! carries no response id (the Agents SDK with `trace_include_sensitive_data=False`, Chat
//! Completions models): by model, usage, time and, when known, the agent's tools.

use chrono::Duration;

use super::{ModelCall, Span};

/// How far the app's clock and the proxy's may disagree.
pub fn clock_slack() -> Duration {
    Duration::seconds(2)
}

/// Whether `recorded` (a proxy recording) can be the call `exported` (a model span without a
/// response id) stands for, and if so how far apart their starts are in milliseconds: the
/// nearest candidate is the call. The rule:
///
/// * usage: the same input and output token counts (the exporter keeps usage when it drops
///   content), and not zero;
/// * model: the span's model, when it names one, is the recording's or a snapshot of it;
/// * time: the recording lies within the span's start and end, give or take the clock slack (the
///   span opens before the HTTP call and closes after it);
/// * agent: every tool name in `agent_tools` (the agent span's `tools`, when it has arrived) is
///   among the tools the recorded request offered.
pub fn distance_ms(exported: &Span, recorded: &Span, agent_tools: &[String]) -> Option<i64> {
    let (e, r) = (exported.model_call()?, recorded.model_call()?);
    if e.response_id.is_some() || e.has_content() || !r.has_content() {
        return None;
    }
    let (eu, ru) = (e.usage?, r.usage?);
    if eu.total() == 0 || (eu.input_tokens, eu.output_tokens) != (ru.input_tokens, ru.output_tokens) {
        return None;
    }
    if let (Some(em), Some(rm)) = (e.model.as_deref(), r.model.as_deref())
        && !(same_model(em, rm) || same_model(rm, em))
    {
        return None;
    }
    let (es, ee, rs, re) = (exported.started_at?, exported.ended_at?, recorded.started_at?, recorded.ended_at?);
    if rs < es - clock_slack() || re > ee + clock_slack() {
        return None;
    }
    if !agent_tools.iter().all(|t| offers(r, t)) {
        return None;
    }
    Some((rs - es).num_milliseconds().abs())
}

/// `b` is `a` or a dated snapshot of it (`gpt-4.1-2025-04-14`), not another model (`gpt-4.1-mini`).
fn same_model(a: &str, b: &str) -> bool {
    b.strip_prefix(a).is_some_and(|rest| {
        rest.is_empty() || rest.strip_prefix('-').is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn offers(call: &ModelCall, tool: &str) -> bool {
    call.tools.iter().any(|t| t.get("name").and_then(|n| n.as_str()) == Some(tool))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{ModelApi, SpanData, Usage, parse_time};
    use serde_json::{Map, json};

    fn span(at: (&str, &str), call: ModelCall) -> Span {
        Span {
            trace_id: "t".into(),
            id: "s".into(),
            parent_id: None,
            started_at: parse_time(at.0),
            ended_at: parse_time(at.1),
            data: SpanData::Model(Box::new(call)),
            error: None,
        }
    }

    fn call(model: Option<&str>, tokens: (u64, u64), content: bool) -> ModelCall {
        ModelCall {
            api: ModelApi::Responses,
            response_id: None,
            model: model.map(str::to_string),
            instructions: None,
            input: content.then(|| vec![json!({"role": "user", "content": "hi"})]),
            output: content.then(Vec::new),
            tools: vec![json!({"type": "function", "name": "get_weather"})],
            params: Map::new(),
            usage: Some(Usage { input_tokens: tokens.0, output_tokens: tokens.1, ..Usage::default() }),
            attempts: vec![],
            provider: None,
            capture: None,
        }
    }

    #[test]
    fn a_recording_joins_the_span_it_fits_by_usage_model_time_and_agent() {
        let exported = span(("2026-12-01T10:00:00Z", "2026-12-01T10:00:03Z"), call(None, (12, 3), false));
        let inside = ("2026-12-01T10:00:00.5Z", "2026-12-01T10:00:02.5Z");
        let recorded = span(inside, call(Some("gpt-4.1"), (12, 3), true));
        assert_eq!(distance_ms(&exported, &recorded, &[]), Some(500));
        assert_eq!(distance_ms(&exported, &recorded, &["get_weather".into()]), Some(500));
        assert_eq!(distance_ms(&exported, &recorded, &["book_flight".into()]), None, "another agent's call");
        let other_usage = span(inside, call(Some("gpt-4.1"), (12, 4), true));
        assert_eq!(distance_ms(&exported, &other_usage, &[]), None);
        let later = span(("2026-12-01T10:00:09Z", "2026-12-01T10:00:10Z"), call(None, (12, 3), true));
        assert_eq!(distance_ms(&exported, &later, &[]), None, "outside the span's time");
        let named = span(("2026-12-01T10:00:00Z", "2026-12-01T10:00:03Z"), call(Some("gpt-4.1-mini"), (12, 3), false));
        assert_eq!(distance_ms(&named, &recorded, &[]), None, "another model");
        let snapshot = span(inside, call(Some("gpt-4.1-mini-2025-04-14"), (12, 3), true));
        assert!(distance_ms(&named, &snapshot, &[]).is_some());
    }
}
