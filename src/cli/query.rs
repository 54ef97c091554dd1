//! Command-line selection of traces, shared by every command that picks traces, and the time
//! expressions it takes (`2h`, `7d`, `2026-11-01`).

use chrono::{DateTime, NaiveDate, Utc};

use crate::store::{TraceFilter, TraceStatus};
use crate::text::parse_duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TraceQuery {
    /// Traces that started within this long ago (`30m`, `2h`, `7d`, `2w`), or since a date or time.
    #[arg(long, value_parser = parse_when)]
    pub since: Option<DateTime<Utc>>,
    /// Traces that started before this long ago, or before a date or time.
    #[arg(long, value_parser = parse_when)]
    pub until: Option<DateTime<Utc>>,
    #[arg(long)]
    pub workflow: Option<String>,
    /// Traces in which this agent ran.
    #[arg(long)]
    pub agent: Option<String>,
    /// Traces that called this model.
    #[arg(long)]
    pub model: Option<String>,
    /// Traces of this group: the conversation key (Agents SDK `group_id`, OTLP `session.id`).
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
    #[arg(long, value_enum)]
    pub status: Option<TraceStatus>,
    /// Traces whose model input or output contains all these words (full-text, any case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Traces whose metadata has this entry; repeat to require several.
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub meta: Vec<(String, String)>,
    /// At most this many traces, newest first.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl TraceQuery {
    pub fn filter(&self) -> TraceFilter {
        TraceFilter {
            since: self.since,
            until: self.until,
            workflow: self.workflow.clone(),
            agent: self.agent.clone(),
            model: self.model.clone(),
            group: self.group.clone(),
            status: self.status,
            search: self.search.clone(),
            meta: self.meta.clone(),
            limit: self.limit,
        }
    }
}

/// A metadata condition, `key=value`.
pub fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE (e.g. --meta customer=acme)")),
    }
}

/// A point in time: a duration ago, a date (UTC midnight), or an RFC 3339 time.
pub fn parse_when(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = parse_duration(s) {
        return Ok(Utc::now() - d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!("{s:?} is not a time: use a duration ago (2h, 7d), a date (2026-11-01) or RFC 3339"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_conditions() {
        assert_eq!(parse_meta("tier=gold=1").unwrap(), ("tier".into(), "gold=1".into()));
        assert!(parse_meta("=x").is_err());
        assert!(parse_meta("tier").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn points_in_time() {
        let ago = parse_when("1h").unwrap();
        assert!((Utc::now() - ago - chrono::Duration::hours(1)).num_seconds().abs() < 5);
        assert_eq!(parse_when("2026-11-01").unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(parse_when("2026-11-01T10:00:00+02:00").unwrap().to_rfc3339(), "2026-11-01T08:00:00+00:00");
        assert!(parse_when("last tuesday").is_err());
    }
}
