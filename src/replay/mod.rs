//! Replay: running every planned case through the agent loop with bounded concurrency,
//! grading each, and handing each result on as soon as it is done.

pub mod agent;
pub mod client;

use std::sync::Arc;

use futures_util::StreamExt;

use crate::grade::Graders;
use crate::pricing::PriceTable;
use crate::run::{CaseResult, Status};
use crate::suite::CasePlan;
use client::Client;

/// What every case of a run is replayed and graded with.
pub struct Replayer {
    pub client: Client,
    pub graders: Graders,
    pub prices: PriceTable,
}

/// Replay and grade one case.
pub async fn run_case(r: &Replayer, plan: &CasePlan) -> CaseResult {
    let (transcript, error) = match agent::play(&r.client, plan).await {
        Ok(t) => (t, None),
        Err((e, t)) => (t, Some(e.to_string())),
    };
    let mut result = CaseResult {
        case_id: plan.case.id.clone(),
        repeat: 0,
        status: if error.is_some() { Status::Error } else { Status::Pass },
        cost_usd: r.prices.cost(&plan.model, &transcript.usage),
        output: transcript.output,
        turns: transcript.turns,
        usage: transcript.usage,
        latency_ms: transcript.latency_ms,
        grades: Vec::new(),
        error,
        failure: plan.case.label.failure.clone(),
        tags: plan.case.tags.clone(),
    };
    if result.error.is_none() {
        r.graders.grade(&plan.case, &mut result).await;
    }
    result
}

/// Replay every case, at most `concurrency` at a time; `on_result` sees each result as it
/// finishes (to commit it), and the results come back in completion order.
pub async fn run_all<F, Fut>(
    replayer: Arc<Replayer>,
    plans: Vec<CasePlan>,
    concurrency: usize,
    mut on_result: F,
) -> Vec<CaseResult>
where
    F: FnMut(CaseResult) -> Fut,
    Fut: std::future::Future<Output = CaseResult>,
{
    let mut stream = futures_util::stream::iter(plans)
        .map(|plan| {
            let replayer = replayer.clone();
            async move { run_case(&replayer, &plan).await }
        })
        .buffer_unordered(concurrency.max(1));
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        results.push(on_result(r).await);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{
        Agent, Case, CaseSource, Expected, Input, Label, Privacy, PrivacyStatus, Recorded, RecordedOutput, ToolOutput,
    };
    use crate::mock::{Script, server::Server};
    use crate::suite::AgentPlan;
    use crate::yaml::Source;
    use serde_json::{Map, json};
    use std::time::Duration;

    fn plan(user: &str, tool_outputs: Vec<ToolOutput>, agents: Vec<Agent>) -> CasePlan {
        let case = Case {
            id: "c".into(),
            source: CaseSource {
                trace_id: "t".into(),
                span_id: None,
                workflow: None,
                model: None,
                captured_at: None,
                metadata: None,
            },
            input: Input {
                agent: Some("Triage".into()),
                instructions: None,
                items: vec![json!({"role": "user", "content": user})],
                params: Map::new(),
            },
            tools: vec![],
            agents: agents.clone(),
            recorded: Recorded { tool_outputs, output: RecordedOutput::default() },
            label: Label::default(),
            expected: Expected::default(),
            privacy: Privacy { status: PrivacyStatus::Clean, findings: vec![], reviewer: None, reviewed_at: None },
            tags: vec![],
            content_hash: "h".into(),
        };
        CasePlan {
            model: "m".into(),
            instructions: Some("Triage.".into()),
            tools: vec![json!({"type": "function", "name": "get_weather"})],
            params: Map::new(),
            max_turns: 3,
            agents: agents
                .iter()
                .map(|a| AgentPlan { name: a.name.clone(), instructions: a.instructions.clone(), tools: vec![] })
                .collect(),
            entry_agent: case.input.agent.clone(),
            case,
        }
    }

    fn replayer(client: Client) -> Replayer {
        Replayer { client, graders: Graders::default(), prices: PriceTable::default() }
    }

    async fn mock(script: Script) -> (Server, Client) {
        let server = Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = Client::new(&server.base_url(), None, Duration::from_secs(5));
        (server, client)
    }

    #[tokio::test]
    async fn tool_calls_are_answered_from_recordings() {
        let (_s, client) = mock(Script::builtin()).await;
        let p = plan(
            "call_tool get_weather city=Paris",
            vec![ToolOutput {
                name: "get_weather".into(),
                arguments: "{\"city\": \"Paris\"}".into(),
                output: "Sunny".into(),
            }],
            vec![],
        );
        let t = agent::play(&client, &p).await.unwrap();
        assert_eq!(t.output.text, "TOOL RESULT: Sunny");
        assert_eq!(t.turns, 2);
        assert_eq!(t.output.tool_calls[0].output.as_deref(), Some("Sunny"));
        assert!(t.usage.input_tokens > 0);
    }

    #[tokio::test]
    async fn unrecorded_calls_are_errors_for_the_case() {
        let (_s, client) = mock(Script::builtin()).await;
        let r = run_case(&replayer(client), &plan("call_tool get_weather city=Rome", vec![], vec![])).await;
        assert_eq!(r.status, Status::Error);
        assert!(r.error.unwrap().contains("get_weather({\"city\":\"Rome\"}) has no recorded output"));
    }

    #[tokio::test]
    async fn handoffs_switch_the_active_agent() {
        let script = Script::parse(&Source::new(
            "m.yaml",
            r#"
rules:
  - when: {instructions: expert, tool_output: '.'}
    text: 'expert speaking'
  - when: {user: transfer}
    call: {name: transfer_to_weather_expert}
"#,
        ))
        .unwrap();
        let (_s, client) = mock(script).await;
        let expert =
            Agent { name: "Weather expert".into(), instructions: Some("You are an expert.".into()), tools: vec![] };
        let t = agent::play(&client, &plan("transfer please", vec![], vec![expert])).await.unwrap();
        assert_eq!(t.output.text, "expert speaking");
        assert_eq!(t.output.agent.as_deref(), Some("Weather expert"));
        assert_eq!(t.output.tool_calls[0].output.as_deref(), Some("{\"assistant\":\"Weather expert\"}"));
    }

    #[tokio::test]
    async fn max_turns_stops_a_looping_model() {
        let script =
            Script::parse(&Source::new("m.yaml", "default:\n  call: {name: get_weather, arguments: '{}'}\n")).unwrap();
        let (_s, client) = mock(script).await;
        let p = plan(
            "hi",
            vec![ToolOutput { name: "get_weather".into(), arguments: "{}".into(), output: "x".into() }],
            vec![],
        );
        let (e, t) = agent::play(&client, &p).await.unwrap_err();
        assert_eq!(e, agent::LoopError::MaxTurns(3));
        assert_eq!(t.turns, 3);
    }

    #[tokio::test]
    async fn api_errors_become_case_errors() {
        let client = Client::new("http://127.0.0.1:9", None, Duration::from_secs(2));
        let r = run_case(&replayer(client), &plan("hi", vec![], vec![])).await;
        assert_eq!(r.status, Status::Error);
        assert!(r.error.unwrap().starts_with("model call failed"));
    }
}
