//! Replay: one sample of one planned case through the agent loop, tool calls answered from
//! the case's recordings; what the agent did comes back as a transcript, never a verdict.

pub mod agent;
pub mod cache;
pub mod tools;

pub use agent::{LoopError, Transcript};

use crate::provider::client::Client;
use crate::suite::CasePlan;
use cache::Cache;

/// What every case of a run is replayed with.
pub struct Replayer {
    pub client: Client,
    /// The response cache; `None` with `--no-cache`.
    pub cache: Option<Cache>,
}

/// What one sample of a case did; on error, what it did before the error.
#[derive(Debug)]
pub struct Replayed {
    pub transcript: Transcript,
    pub error: Option<LoopError>,
}

impl Replayed {
    /// Every model answer came from the response cache.
    pub fn cached(&self) -> bool {
        self.transcript.model_calls > 0 && self.transcript.cache_hits == self.transcript.model_calls
    }
}

/// Replay one sample (`repeat`) of one case.
pub async fn replay(r: &Replayer, plan: &CasePlan, repeat: u32) -> Replayed {
    let model = agent::Model { client: &r.client, cache: r.cache.as_ref(), repeat };
    match agent::play(&model, plan).await {
        Ok(transcript) => Replayed { transcript, error: None },
        Err((e, transcript)) => Replayed { transcript, error: Some(e) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{
        Agent, Case, CaseSource, Expected, Input, Label, Privacy, PrivacyStatus, Recorded, RecordedOutput, ToolOutput,
    };
    use crate::mock::{Script, server::Server};
    use crate::suite::AgentPlan;
    use crate::trace::items;
    use crate::yaml::Source;
    use serde_json::{Map, json};
    use std::time::Duration;

    fn plan(user: &str, tool_outputs: Vec<ToolOutput>, agents: Vec<Agent>) -> CasePlan {
        let case = Case {
            id: "c".into(),
            source: CaseSource { trace_id: "t".into(), ..CaseSource::default() },
            input: Input {
                agent: Some("Triage".into()),
                instructions: None,
                items: vec![json!({"role": "user", "content": user})],
                params: Map::new(),
            },
            tools: vec![],
            agents: agents.clone(),
            handoffs: vec![],
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
            policies: crate::suite::policy::Policies::default(),
            agents: agents
                .iter()
                .map(|a| AgentPlan {
                    name: a.name.clone(),
                    instructions: a.instructions.clone(),
                    tools: vec![],
                    model: None,
                    params: Map::new(),
                })
                .collect(),
            entry_agent: case.input.agent.clone(),
            handoffs: crate::suite::recorded_handoffs(&case),
            case,
        }
    }

    fn replayer(client: Client) -> Replayer {
        Replayer { client, cache: None }
    }

    async fn mock(script: Script) -> (Server, Client) {
        let server = Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = Client::new(&server.base_url(), None, Duration::from_secs(5)).unwrap();
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
        let t = agent::play(&agent::Model { client: &client, cache: None, repeat: 0 }, &p).await.unwrap();
        assert_eq!(t.output.text, "TOOL RESULT: Sunny");
        assert_eq!(t.turns, 2);
        assert_eq!(t.output.tool_calls[0].output.as_deref(), Some("Sunny"));
        assert!(t.usage.input_tokens > 0);
    }

    #[tokio::test]
    async fn cases_replay_through_chat_completions_when_asked() {
        let (_s, client) = mock(Script::builtin()).await;
        let client = client.with_api(crate::trace::ModelApi::ChatCompletions);
        let p = plan(
            "call_tool get_weather city=Paris",
            vec![ToolOutput {
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
                output: "Sunny".into(),
            }],
            vec![],
        );
        // The mock names its chat answers `chatcmpl-…`: this one came from /chat/completions.
        let first = client
            .create(&json!({"model": "m", "input": "call_tool get_weather city=Paris", "tools": p.tools}))
            .await
            .unwrap();
        assert!(first["id"].as_str().unwrap().starts_with("chatcmpl-"), "{first}");
        let t = agent::play(&agent::Model { client: &client, cache: None, repeat: 0 }, &p).await.unwrap();
        assert_eq!((t.output.text.as_str(), t.turns), ("TOOL RESULT: Sunny", 2));
        assert!(t.usage.input_tokens > 0 && t.usage.output_tokens > 0);
    }

    #[tokio::test]
    async fn unrecorded_calls_are_errors_for_the_case() {
        let (_s, client) = mock(Script::builtin()).await;
        let r = replay(&replayer(client), &plan("call_tool get_weather city=Rome", vec![], vec![]), 0).await;
        let e = r.error.unwrap().to_string();
        assert!(e.contains("unmatched call get_weather({\"city\":\"Rome\"}): no recording has these arguments"), "{e}");
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
        let t = agent::play(
            &agent::Model { client: &client, cache: None, repeat: 0 },
            &plan("transfer please", vec![], vec![expert]),
        )
        .await
        .unwrap();
        assert_eq!(t.output.text, "expert speaking");
        assert_eq!(t.output.agent.as_deref(), Some("Weather expert"));
        assert_eq!(t.output.tool_calls[0].output.as_deref(), Some("{\"assistant\":\"Weather expert\"}"));
    }

    #[tokio::test]
    async fn recorded_handoffs_switch_by_their_tool_name_from_their_agent_only() {
        let script = Script::parse(&Source::new(
            "m.yaml",
            "rules:\n  - when: {instructions: billing, tool_output: '.'}\n    text: billing speaking\n  \
             - when: {user: escalate}\n    call: {name: escalate_billing}\n",
        ))
        .unwrap();
        let (_s, client) = mock(script).await;
        let billing = Agent { name: "Billing".into(), instructions: Some("You do billing.".into()), tools: vec![] };
        let model = agent::Model { client: &client, cache: None, repeat: 0 };
        let mut p = plan("escalate please", vec![], vec![billing]);
        assert!(agent::play(&model, &p).await.is_err(), "no SDK default name is escalate_billing");
        let handoff = |from: &str| crate::dataset::Handoff {
            from: Some(from.into()),
            tool: "escalate_billing".into(),
            to: "Billing".into(),
        };
        p.handoffs = vec![handoff("Triage")];
        let t = agent::play(&model, &p).await.unwrap();
        assert_eq!((t.output.text.as_str(), t.output.agent.as_deref()), ("billing speaking", Some("Billing")));
        // Offered by another agent, the same call is a plain (unrecorded) tool call.
        p.handoffs = vec![handoff("Someone else")];
        let (e, _) = agent::play(&model, &p).await.unwrap_err();
        assert!(e.to_string().contains("escalate_billing"), "{e}");
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
        let (e, t) = agent::play(&agent::Model { client: &client, cache: None, repeat: 0 }, &p).await.unwrap_err();
        assert_eq!(e, agent::LoopError::MaxTurns(3));
        assert_eq!(t.turns, 3);
    }

    #[tokio::test]
    async fn api_errors_become_case_errors() {
        let client = Client::new("http://127.0.0.1:9", None, Duration::from_secs(2)).unwrap().with_retry(
            crate::provider::retry::RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(10),
            },
        );
        let r = replay(&replayer(client), &plan("hi", vec![], vec![]), 0).await;
        assert!(r.error.is_some());
        assert_eq!((r.error.as_ref().map(LoopError::cause), r.transcript.retries), (Some("connection"), 2));
        assert!(r.error.unwrap().to_string().starts_with("model call failed"));
    }

    fn fast(client: Client) -> Client {
        client.with_retry(crate::provider::retry::RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
    }

    /// Serve the built-in answers with these faults; return the outcome of one request.
    async fn faulty(
        faults: &str,
        timeout_ms: u64,
    ) -> (Server, Result<crate::provider::client::Reply, (crate::provider::client::ApiError, u32)>) {
        let script = Script::parse(&Source::new(
            "m.yaml",
            format!("faults:\n{faults}default:\n  text: '{{{{ user | upper }}}}'\n"),
        ))
        .unwrap();
        let server = Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let client = fast(Client::new(&server.base_url(), None, Duration::from_millis(timeout_ms)).unwrap());
        let r = client.send(&json!({"model": "m", "input": "hi"})).await;
        (server, r)
    }

    #[tokio::test]
    async fn transient_faults_are_retried_until_the_answer_comes() {
        for fault in [
            "  - {first: 2, status: 429, retry_after_ms: 20}\n",
            "  - {first: 2, status: 429, retry_after: 0.02}\n",
            "  - {first: 2, status: 429}\n",
            "  - {first: 2, status: 500}\n",
            "  - {first: 2, status: 503}\n",
            "  - {first: 2, status: 408}\n",
            "  - {first: 2, malformed: true}\n",
            "  - {first: 2, drop: true}\n",
            "  - {first: 2, slow_ms: 2000}\n",
        ] {
            let (server, r) = faulty(fault, 300).await;
            let reply = r.unwrap_or_else(|e| panic!("{fault}: {e:?}"));
            assert_eq!(reply.attempts, 3, "{fault}");
            assert_eq!(server.requests(), 3, "{fault}");
            assert_eq!(server.faults(), 2, "{fault}");
            assert_eq!(items::output_text(reply.body["output"].as_array().unwrap()), "HI");
        }
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        for (fault, cause) in [
            ("  - {status: 400}\n", "request"),
            ("  - {status: 401}\n", "request"),
            ("  - {status: 403}\n", "request"),
            ("  - {status: 429, code: insufficient_quota}\n", "quota"),
        ] {
            let (server, r) = faulty(fault, 1000).await;
            let (e, attempts) = r.unwrap_err();
            assert_eq!((e.cause(), attempts, server.requests()), (cause, 1, 1), "{fault}");
        }
    }

    #[tokio::test]
    async fn lasting_faults_end_as_errors_with_their_cause_after_the_retries() {
        for (fault, cause) in [
            ("  - {status: 500}\n", "server"),
            ("  - {status: 429}\n", "rate_limit"),
            ("  - {slow_ms: 2000}\n", "timeout"),
            ("  - {drop: true}\n", "connection"),
            ("  - {malformed: true}\n", "decode"),
        ] {
            let (server, r) = faulty(fault, 200).await;
            let (e, attempts) = r.unwrap_err();
            assert_eq!((e.cause(), attempts, server.requests()), (cause, 4, 4), "{fault}: {e}");
        }
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_cap_ends_the_request_saying_so() {
        let t = std::time::Instant::now();
        let (server, r) = faulty("  - {status: 429, headers: {retry-after: '3600'}}\n", 1000).await;
        let (e, attempts) = r.unwrap_err();
        assert_eq!((e.cause(), attempts, server.requests()), ("rate_limit", 1, 1));
        assert!(e.to_string().contains("retry after 3600s, longer than the 600s evals waits"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_retry_after_http_date_is_waited_for() {
        let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc2822().replace("+0000", "GMT");
        let t = std::time::Instant::now();
        let (server, r) =
            faulty(&format!("  - {{first: 1, status: 503, headers: {{retry-after: '{at}'}}}}\n"), 1000).await;
        assert_eq!(r.unwrap().attempts, 2);
        assert_eq!(server.faults(), 1);
        // The date has whole seconds: the wait is between one and two of them, not a backoff.
        assert!(t.elapsed() >= Duration::from_millis(900), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn spent_rate_limits_hold_back_the_retry_until_reset() {
        let t = std::time::Instant::now();
        let (_s, r) = faulty(
            "  - {first: 1, status: 429, headers: {x-ratelimit-remaining-requests: '0', x-ratelimit-reset-requests: 300ms}}\n",
            1000,
        )
        .await;
        assert_eq!(r.unwrap().attempts, 2);
        assert!(t.elapsed() >= Duration::from_millis(290), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn cached_answers_skip_the_model_and_repeats_are_sampled_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (handle, _thread) =
            crate::store::Handle::spawn(crate::store::Store::open(&dir.path().join("e.db")).unwrap());
        let (server, client) = mock(Script::builtin()).await;
        let mut r = replayer(client);
        r.cache = Some(Cache::new(handle, None));
        let p = plan("hello", vec![], vec![]);
        let first = replay(&r, &p, 0).await;
        assert!(!first.cached());
        let again = replay(&r, &p, 0).await;
        assert!(again.cached() && again.transcript.cache_hits == 1);
        assert_eq!(again.transcript.output, first.transcript.output);
        assert_eq!(server.requests(), 1);
        let other = replay(&r, &p, 1).await;
        assert!(!other.cached(), "another repeat is another sample");
        assert_eq!(server.requests(), 2);
    }
}
