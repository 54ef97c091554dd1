//! Command-line selection of traces, shared by every command that picks traces.

use chrono::{DateTime, Utc};

use crate::store::{TraceFilter, TraceStatus};
use crate::text::{parse_meta, parse_when};

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
    /// Traces with a model call to this provider (`openai`, `azure.ai.openai`, or the API's host).
    #[arg(long)]
    pub provider: Option<String>,
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
            provider: self.provider.clone(),
            group: self.group.clone(),
            status: self.status,
            search: self.search.clone(),
            meta: self.meta.clone(),
            limit: self.limit,
            after: None,
        }
    }
}
