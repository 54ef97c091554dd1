//! Every request body a replay sends is one the real API accepts: the mock checks each against
//! the `CreateResponse` schema of OpenAI's published OpenAPI document and refuses the others
//! with 400, so here the demo cases (a tool call, a handoff, a streamed run) are replayed through
//! the binary with judges, several agents and structured output, and not one body is refused.

mod common;

use common::*;
use evals::mock::{Script, server::Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_the_replay_sends_fails_the_api_schema() {
    let script = Script::load(&repo().join("evals/mock.yaml")).unwrap();
    let server = Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let p = Project::new();
    p.with_demo_cases();
    let provider = format!("provider: {{base_url: '{}', api_key_env: EVALS_TEST_KEY}}", server.base_url());
    p.write(
        "evals/recorded.yaml",
        &format!(
            "name: recorded\ntarget: {{max_turns: 6}}\n{provider}\ncases: [../datasets/demo]\n\
             graders:\n  - {{type: similarity, threshold: 0.9}}\n  \
             - {{type: judge, model: gpt-4.1-mini, rubric: 'Did the agent answer {{{{ item.input }}}}?'}}\n\
             gate: {{min_pass_rate: 0.0}}\n"
        ),
    );
    p.write(
        "evals/agents.yaml",
        &format!(
            r#"name: agents
target:
  model: fake-model
  max_turns: 6
  params: {{temperature: 0, text: {{format: {{type: json_schema, name: answer, schema: {{type: object}}}}}}}}
  agents:
    - name: Triage
      instructions: 'Answer, call get_weather, or hand off to the expert.'
      tools: [{{type: function, name: get_weather, parameters: {{type: object, properties: {{city: {{type: string}}}}}}}}]
      handoffs: [Weather expert]
    - name: Weather expert
      instructions: 'You are a weather expert.'
      model: fake-model-mini
{provider}
cases: [../datasets/demo]
graders:
  - {{type: contains, value: a}}
  - type: score_model
    model: gpt-4.1-mini
    input: [{{role: user, content: "Score: {{{{ sample.output_text }}}}"}}]
    range: [0, 1]
gate: {{min_pass_rate: 0.0}}
"#
        ),
    );
    for suite in ["evals/recorded.yaml", "evals/agents.yaml"] {
        let out = p.evals_env(&["run", suite, "-q"], &[("EVALS_TEST_KEY", "sk-test")]);
        assert!(matches!(code(&out), 0 | 1), "{suite}: {}{}", text(&out.stdout), text(&out.stderr));
    }
    // Three cases, two suites, tool turns and graders' calls: well over a dozen bodies.
    assert!(server.requests() >= 12, "{} requests", server.requests());
    assert_eq!(server.invalid_requests(), 0, "bodies the API schema refuses");
}
