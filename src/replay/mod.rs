//! Replay: running every planned case through the agent loop with bounded concurrency,
//! grading each, and handing each result on as soon as it is done.

pub mod agent;
pub mod cache;
pub mod client;
pub mod scheduler;
pub mod tools;

use std::sync::{Arc, Mutex};

use crate::grade::Graders;
use crate::pricing::PriceTable;
use crate::run::{CaseResult, Output, Status};
use crate::suite::CasePlan;
use crate::trace::Usage;
use cache::Cache;
use client::Client;

/// What every case of a run is replayed and graded with.
pub struct Replayer {
    pub client: Client,
    pub graders: Graders,
    pub prices: PriceTable,
    /// The response cache; `None` with `--no-cache`.
    pub cache: Option<Cache>,
    pub budget: Budget,
}

/// Spending limits: once reached, no new case starts (those in flight finish).
#[derive(Debug, Default)]
pub struct Budget {
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    spent: Mutex<(f64, u64)>,
}

impl Budget {
    pub fn new(max_cost_usd: Option<f64>, max_tokens: Option<u64>) -> Budget {
        Budget { max_cost_usd, max_tokens, spent: Mutex::new((0.0, 0)) }
    }

    /// Count spending toward the limits: this run's cases, and a resumed run's finished ones.
    pub fn add(&self, cost: Option<f64>, usage: &Usage) {
        let mut s = self.spent.lock().expect("budget lock");
        s.0 += cost.unwrap_or(0.0);
        s.1 += usage.total();
    }

    /// The limit reached, if any, said in words.
    pub fn exhausted(&self) -> Option<String> {
        let (cost, tokens) = *self.spent.lock().expect("budget lock");
        if let Some(max) = self.max_cost_usd.filter(|m| cost >= *m) {
            return Some(format!("budget reached: ${cost:.4} spent of gate.max_cost_usd ${max}"));
        }
        if let Some(max) = self.max_tokens.filter(|m| tokens >= *m) {
            return Some(format!("budget reached: {tokens} tokens used of gate.max_tokens {max}"));
        }
        None
    }
}

/// Replay and grade one sample (`repeat`) of one case.
pub async fn run_case(r: &Replayer, plan: &CasePlan, repeat: u32) -> CaseResult {
    if let Some(why) = r.budget.exhausted() {
        return CaseResult {
            case_id: plan.case.id.clone(),
            repeat,
            status: Status::Error,
            output: Output::default(),
            turns: 0,
            usage: Usage::default(),
            cost_usd: None,
            latency_ms: 0,
            grades: Vec::new(),
            error: Some(why),
            failure: plan.case.label.failure.clone(),
            tags: plan.case.tags.clone(),
            cause: Some("budget".into()),
            cached: false,
            model_calls: 0,
            cache_hits: 0,
            retries: 0,
        };
    }
    let model = agent::Model { client: &r.client, cache: r.cache.as_ref(), repeat };
    let (transcript, error) = match agent::play(&model, plan).await {
        Ok(t) => (t, None),
        Err((e, t)) => (t, Some(e)),
    };
    let cost_usd = r.prices.cost(&plan.model, &transcript.usage);
    // A case answered wholly from the cache costs nothing now, so it does not eat the budget.
    if transcript.cache_hits < transcript.model_calls {
        r.budget.add(cost_usd, &transcript.usage);
    }
    let mut result = CaseResult {
        case_id: plan.case.id.clone(),
        repeat,
        status: if error.is_some() { Status::Error } else { Status::Pass },
        cost_usd,
        output: transcript.output,
        turns: transcript.turns,
        usage: transcript.usage,
        latency_ms: transcript.latency_ms,
        grades: Vec::new(),
        cause: error.as_ref().map(|e| e.cause().to_string()),
        error: error.map(|e| e.to_string()),
        failure: plan.case.label.failure.clone(),
        tags: plan.case.tags.clone(),
        cached: transcript.model_calls > 0 && transcript.cache_hits == transcript.model_calls,
        model_calls: transcript.model_calls,
        cache_hits: transcript.cache_hits,
        retries: transcript.retries,
    };
    if result.error.is_none() {
        r.graders.grade(&plan.case, &mut result).await;
    }
    result
}

/// One sample of one case to replay.
pub type Job = (Arc<CasePlan>, u32);

/// Replay every job, at most `concurrency` at a time, spread over the runtime's threads;
/// `on_result` sees each result as it finishes (to commit it; it must not block, or it holds
/// back the next result), and the results come back in completion order.
pub async fn run_all<F>(
    replayer: Arc<Replayer>,
    jobs: Vec<Job>,
    concurrency: usize,
    mut on_result: F,
) -> Vec<CaseResult>
where
    F: FnMut(&CaseResult),
{
    // One long-lived task per slot takes the next job itself as soon as its case is done, so a
    // freed slot's next request leaves at once instead of after a round trip through this task.
    let total = jobs.len();
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut slots = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, total.max(1)) {
        let (queue, replayer, tx) = (queue.clone(), replayer.clone(), tx.clone());
        slots.spawn(async move {
            loop {
                let next = queue.lock().expect("job queue lock").next();
                let Some((plan, repeat)) = next else { break };
                if tx.send(run_case(&replayer, &plan, repeat).await).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut results = Vec::with_capacity(total);
    while let Some(r) = rx.recv().await {
        on_result(&r);
        results.push(r);
    }
    // A panicking case is a bug; let it surface rather than lose the result silently.
    while let Some(done) = slots.join_next().await {
        done.expect("a replay task panicked");
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
            policies: tools::Policies::default(),
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
            case,
        }
    }

    fn replayer(client: Client) -> Replayer {
        Replayer {
            client,
            graders: Graders::default(),
            prices: PriceTable::default(),
            cache: None,
            budget: Budget::default(),
        }
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
    async fn unrecorded_calls_are_errors_for_the_case() {
        let (_s, client) = mock(Script::builtin()).await;
        let r = run_case(&replayer(client), &plan("call_tool get_weather city=Rome", vec![], vec![]), 0).await;
        assert_eq!(r.status, Status::Error);
        let e = r.error.unwrap();
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
            scheduler::RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(10),
            },
        );
        let r = run_case(&replayer(client), &plan("hi", vec![], vec![]), 0).await;
        assert_eq!(r.status, Status::Error);
        assert_eq!((r.cause.as_deref(), r.retries), (Some("connection"), 2));
        assert!(r.error.unwrap().starts_with("model call failed"));
    }

    fn fast(client: Client) -> Client {
        client.with_retry(scheduler::RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
    }

    /// Serve the built-in answers with these faults; return the outcome of one request.
    async fn faulty(faults: &str, timeout_ms: u64) -> (Server, Result<client::Reply, (client::ApiError, u32)>) {
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
        let first = run_case(&r, &p, 0).await;
        assert!(!first.cached);
        let again = run_case(&r, &p, 0).await;
        assert!(again.cached && again.cache_hits == 1);
        assert_eq!(again.output, first.output);
        assert_eq!(server.requests(), 1);
        let other = run_case(&r, &p, 1).await;
        assert!(!other.cached, "another repeat is another sample");
        assert_eq!(server.requests(), 2);
    }

    #[tokio::test]
    async fn a_spent_budget_stops_new_cases() {
        let (server, client) = mock(Script::builtin()).await;
        let mut r = replayer(client);
        r.budget = Budget::new(None, Some(1));
        let p = plan("hello", vec![], vec![]);
        assert_eq!(run_case(&r, &p, 0).await.status, Status::Pass);
        let stopped = run_case(&r, &p, 1).await;
        assert_eq!((stopped.status, stopped.cause.as_deref()), (Status::Error, Some("budget")));
        assert!(stopped.error.unwrap().contains("gate.max_tokens 1"));
        assert_eq!(server.requests(), 1);
    }
}
