//! Graders end to end: a suite using every family of grader, run against the mock model (which
//! also plays the judge), with weights, `required`, a threshold, the judge cache and cost; and
//! misconfigurations refused with `file:line:col` before any request.

mod common;
use common::*;

use serde_json::Value;

/// The demo cases, the first one carrying its own `expected` block.
fn project() -> Project {
    let p = Project::new();
    for entry in std::fs::read_dir(repo().join("datasets/demo")).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap().to_string_lossy().starts_with("call-tool-get-weather") {
            text.push_str(
                "expected:\n  contains: [paris]\n  tools_required: [get_weather]\n  tools_forbidden: [book]\n",
            );
        }
        p.write(&format!("datasets/demo/{}", path.file_name().unwrap().to_string_lossy()), &text);
    }
    // Judge rules first (they match only the graders' instructions), then the demo's rules.
    let demo = std::fs::read_to_string(repo().join("evals/mock.yaml")).unwrap();
    let judge_rules = r#"rules:
  - name: judge sees a tool result
    when: {instructions: 'You are a grader. Grade', user: '(?s)TOOL RESULT'}
    text: '{"reason": "The answer reports the tool result.", "score": 0.9}'
  - name: judge sees no tool result
    when: {instructions: 'You are a grader. Grade'}
    text: '{"reason": "The answer does not use any tool.", "score": 0.1}'
  - name: labeller
    when: {instructions: 'You are a grader. Label', user: '(?s)TOOL RESULT'}
    text: '{"reason": "A tool answered.", "label": "tool"}'
  - name: labeller, chat
    when: {instructions: 'You are a grader. Label'}
    text: '{"reason": "Plain chat.", "label": "chat"}'
"#;
    p.write("evals/mock.yaml", &demo.replacen("rules:\n", judge_rules, 1));
    p.write(
        "evals/check_turns.py",
        "import json, sys\nd = json.load(sys.stdin)\nok = d['turns'] <= 1\nprint(json.dumps({'score': 1 if ok else 0, 'pass': ok, 'reason': f\"{d['turns']} turn(s) for {d['item']['id'][:9]}\"}))\n",
    );
    p
}

const SUITE: &str = r#"name: graders
target: {model: fake-model, max_turns: 6}
provider: {mock: mock.yaml}
cases: [../datasets/demo]
threshold: 0.7
graders:
  - {name: no traceback, type: not_contains, value: Traceback, required: true}
  - {name: weather call, type: tool_called, tool: get_weather, arguments: {city: Paris}, weight: 2}
  - {name: no booking, type: tool_not_called, tool: book}
  - {name: short, type: turns, max: 2}
  - {name: budget, type: tokens, max: 1000}
  - {name: own expectations, type: expected}
  - {name: echo, type: similarity, metric: rouge_l, threshold: 0.9}
  - {name: no refusal, type: not_refusal}
  - type: string_check
    name: tool result
    input: "{{ sample.output_text }}"
    reference: "TOOL RESULT"
    operation: like
  - type: text_similarity
    name: cosine to recorded
    input: "{{ sample.output_text }}"
    reference: "{{ item.recorded_output }}"
    evaluation_metric: cosine
    pass_threshold: 0.99
  - type: judge
    name: helpful
    model: gpt-4.1-mini
    rubric: "Did the agent answer {{ item.input }} from its tools?"
  - type: score_model
    name: scored
    model: gpt-4.1-mini
    input:
      - {role: system, content: "Score 1 if the answer uses a tool."}
      - {role: user, content: "Answer: {{ sample.output_text }}"}
    range: [0, 1]
    pass_threshold: 0.5
  - type: label_model
    name: labelled
    model: gpt-4.1-mini
    input:
      - {role: user, content: "Label this answer: {{ sample.output_text }}"}
    labels: [tool, chat]
    passing_labels: [tool]
  - type: python
    name: shouting
    source: "def grade(sample, item):\n    return 1.0 if sample['output_text'].isupper() else 0.0\n"
  - {name: one turn, type: command, command: [python3, check_turns.py]}
  - type: multi
    name: tool or handoff
    graders:
      weather: {type: tool_called, tool: get_weather}
      handoff: {type: handoff_to, agent: Weather expert}
    calculate_output: max(weather, handoff)
gate: {min_pass_rate: 0.0}
"#;

fn grades_of(run: &Value, case_prefix: &str) -> Vec<(String, bool)> {
    let r = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"].as_str().unwrap().starts_with(case_prefix))
        .unwrap();
    r["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["grader"].as_str().unwrap().to_string(), g["pass"].as_bool().unwrap()))
        .collect()
}

fn result<'a>(run: &'a Value, case_prefix: &str) -> &'a Value {
    run["results"].as_array().unwrap().iter().find(|r| r["case_id"].as_str().unwrap().starts_with(case_prefix)).unwrap()
}

#[test]
fn every_family_of_grader_in_one_run() {
    let p = project();
    p.write("evals/graders.yaml", SUITE);
    let stdout = p.ok(&["run", "evals/graders.yaml", "--out", "runs/a.json"]);
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/a.json")).unwrap()).unwrap();

    let pass = |case: &str, grader: &str| grades_of(&run, case).into_iter().find(|(g, _)| g == grader).unwrap().1;
    // The weather case: a tool call with the right arguments, its expectations met, judged well.
    for g in [
        "weather call",
        "own expectations",
        "tool result",
        "cosine to recorded",
        "helpful",
        "scored",
        "labelled",
        "tool or handoff",
        "no refusal",
    ] {
        assert!(pass("call-tool-get-weather", g), "{g} should pass on the weather case:\n{stdout}");
    }
    for g in ["shouting", "one turn"] {
        assert!(!pass("call-tool-get-weather", g), "{g} should fail on the weather case");
    }
    // The greeting: no tool, one turn, all capitals; the judges see no tool result.
    for g in ["shouting", "one turn", "own expectations"] {
        assert!(pass("hello-from", g), "{g} should pass on the greeting");
    }
    for g in ["weather call", "helpful", "scored", "labelled", "tool or handoff", "tool result"] {
        assert!(!pass("hello-from", g), "{g} should fail on the greeting");
    }
    // The handoff case passes the multi grader through its handoff part.
    assert!(pass("call-tool-transfer", "tool or handoff"));

    // The judge's explanation is the reason; its cost is its own.
    let weather = result(&run, "call-tool-get-weather");
    let helpful = weather["grades"].as_array().unwrap().iter().find(|g| g["grader"] == "helpful").unwrap();
    assert!(helpful["reason"].as_str().unwrap().starts_with("The answer reports the tool result."), "{helpful}");
    assert!(helpful["cost_usd"].as_f64().unwrap() > 0.0);
    let judge_cost = run["summary"]["judge_cost_usd"].as_f64().unwrap();
    assert!(judge_cost > 0.0);
    assert!(
        run["summary"]["cost_usd"].is_null(),
        "the target (fake-model) is not priced; judges do not count as its cost"
    );

    // Weights and threshold: the weather case scores high and passes; the greeting, failing the
    // heavy tool checks and the judges, scores 10.2/17 = 0.6 < 0.7.
    assert_eq!(weather["status"], "pass");
    assert_eq!(result(&run, "hello-from")["status"], "fail");

    // Pass rate per grader in the summary and in the report.
    let stats = run["summary"]["graders"].as_array().unwrap();
    assert_eq!(stats.len(), 16);
    let helpful_stat = stats.iter().find(|s| s["grader"] == "helpful").unwrap();
    assert_eq!((helpful_stat["passed"].as_u64(), helpful_stat["failed"].as_u64()), (Some(2), Some(1)));
    assert!(stdout.lines().any(|l| l.starts_with("graders: ") && l.contains("helpful 66.7% (2/3)")), "{stdout}");
    assert!(stdout.contains("judge cost $"), "{stdout}");

    // A second run asks the judges nothing new: every answer comes from the cache, at no cost.
    p.ok(&["run", "evals/graders.yaml", "--out", "runs/b.json"]);
    let again: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/b.json")).unwrap()).unwrap();
    assert_eq!(again["summary"]["judge_cost_usd"].as_f64(), Some(0.0));
    assert_eq!(grades_of(&again, "call-tool-get-weather"), grades_of(&run, "call-tool-get-weather"));
    // --no-cache asks the judges again too.
    p.ok(&["run", "evals/graders.yaml", "--out", "runs/c.json", "--no-cache"]);
    let fresh: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/c.json")).unwrap()).unwrap();
    assert!(fresh["summary"]["judge_cost_usd"].as_f64().unwrap() > 0.0, "{}", fresh["summary"]);

    // Judges are priced like the target: the suite's `pricing:` overrides the built-in table.
    let priced = project();
    priced.write(
        "evals/graders.yaml",
        &SUITE.replace("threshold: 0.7\n", "threshold: 0.7\npricing: {gpt-4.1-mini: {input: 4.0, output: 16.0}}\n"),
    );
    priced.ok(&["run", "evals/graders.yaml", "--out", "runs/a.json"]);
    let tenfold: Value = serde_json::from_str(&std::fs::read_to_string(priced.path("runs/a.json")).unwrap()).unwrap();
    let cost = tenfold["summary"]["judge_cost_usd"].as_f64().unwrap();
    assert!((cost - 10.0 * judge_cost).abs() < 1e-9, "{cost} is not ten times {judge_cost}");
}

/// A provider that speaks only Chat Completions judges through it too: every call of the run,
/// target and judges, goes to `/chat/completions`, and the judges grade as through Responses.
#[test]
fn judges_follow_the_providers_api_flavour() {
    use evals::mock::{Script, server::Server};
    let p = project();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let script = Script::load(&p.path("evals/mock.yaml")).unwrap();
    let server = rt.block_on(Server::start(script, "127.0.0.1:0".parse().unwrap())).unwrap();
    // The graders up to the judges, without the cosine one (embeddings are an API of their own).
    let cosine = "  - type: text_similarity\n    name: cosine to recorded\n    input: \"{{ sample.output_text }}\"\n    \
                  reference: \"{{ item.recorded_output }}\"\n    evaluation_metric: cosine\n    pass_threshold: 0.99\n";
    assert!(SUITE.contains(cosine));
    let judges = SUITE.split("  - type: python").next().unwrap().replace(cosine, "").replace(
        "provider: {mock: mock.yaml}",
        &format!("provider: {{base_url: '{}', api: chat_completions, max_retries: 0}}", server.base_url()),
    );
    p.write("evals/chat.yaml", &format!("{judges}gate: {{min_pass_rate: 0.0}}\n"));
    let out = p.evals_env(&["run", "evals/chat.yaml", "--out", "runs/chat.json"], &[("OPENAI_API_KEY", "sk-test")]);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/chat.json")).unwrap()).unwrap();
    let judged = |case: &str| -> Vec<(String, bool)> {
        grades_of(&run, case)
            .into_iter()
            .filter(|(g, _)| ["helpful", "scored", "labelled"].contains(&g.as_str()))
            .collect()
    };
    let all = |pass: bool| ["helpful", "scored", "labelled"].map(|g| (g.to_string(), pass)).to_vec();
    assert_eq!(judged("call-tool-get-weather"), all(true));
    assert_eq!(judged("hello-from"), all(false));
    assert!(server.requests() > 9, "3 judges on 3 cases and the target's calls: {}", server.requests());
    assert_eq!(server.chat_requests(), server.requests(), "nothing went to /responses");
}

#[test]
fn a_required_grader_fails_the_case_whatever_the_score() {
    let p = project();
    p.write(
        "evals/s.yaml",
        "target: {model: fake-model}\nprovider: {mock: mock.yaml}\ncases: [../datasets/demo]\nthreshold: 0.1\ngraders:\n\
         - {type: contains, value: HELLO, required: true}\n- {type: not_contains, value: xyz, weight: 10}\n",
    );
    p.evals(&["run", "evals/s.yaml", "--out", "r.json"]);
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("r.json")).unwrap()).unwrap();
    assert_eq!(result(&run, "hello-from")["status"], "pass");
    assert_eq!(result(&run, "call-tool-get-weather")["status"], "fail");
}

#[test]
fn a_crashing_command_is_a_grader_error_not_a_failure() {
    let p = project();
    p.write(
        "evals/s.yaml",
        "target: {model: fake-model}\nprovider: {mock: mock.yaml}\ncases: [../datasets/demo]\ngraders:\n\
         - {name: crash, type: command, command: 'echo it broke >&2; exit 7'}\n",
    );
    let out = p.evals(&["run", "evals/s.yaml", "--out", "r.json"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("3 errors")
            && stdout.contains("graders: crash – (0/0, 3 errors)")
            && stdout.contains("\n    grader crash: sh -c")
            && stdout.contains("it broke"),
        "{stdout}"
    );
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("r.json")).unwrap()).unwrap();
    assert_eq!(run["summary"]["failed"], 0);
    assert_eq!(run["summary"]["graders"][0]["errors"], 3);
}

#[test]
fn misconfigured_graders_are_refused_before_any_request() {
    let p = project();
    let bad = [
        (
            "{type: tool_caled, tool: x}",
            "evals/s.yaml:5:12: graders[0].type: unknown grader type \"tool_caled\"",
            "did you mean \"tool_called\"",
        ),
        (
            "{type: regex, patern: x}",
            "evals/s.yaml:5:27: graders[0].patern: unknown field `patern`",
            "did you mean \"pattern\"",
        ),
        ("{type: regex, pattern: '(x'}", "evals/s.yaml:5:28: graders[0].pattern: bad regex", ""),
        (
            "{type: json_schema, schema: {type: objekt}}",
            "evals/s.yaml:5:33: graders[0].schema: invalid JSON schema",
            "",
        ),
        (
            "{type: string_check, name: s, input: '{{ sampel.output_text }}', reference: x, operation: eq}",
            "evals/s.yaml:5:42: graders[0].input: template uses undefined variable `sampel`",
            "did you mean \"sample\"",
        ),
        (
            "{type: string_check, name: s, input: '{{ sample.output_text }}', reference: '{{ item.reference_answer }}', operation: eq}",
            "evals/s.yaml:5:81: graders[0].reference: for case call-tool-get-weather-city-paris-a258354f: template fails",
            "undefined",
        ),
        (
            "{type: multi, graders: {a: {type: is_json}}, calculate_output: 'b * 2'}",
            "evals/s.yaml:5:68: graders[0].calculate_output: `b` is not one of the graders (a)",
            "",
        ),
    ];
    for (grader, want, hint) in bad {
        p.write(
            "evals/s.yaml",
            &format!("target: {{model: fake-model}}\nprovider: {{mock: mock.yaml}}\ncases: [../datasets/demo]\ngraders:\n  - {grader}\n"),
        );
        let out = p.evals(&["run", "evals/s.yaml"]);
        let stderr = text(&out.stderr);
        assert_eq!(code(&out), 2, "{grader}: {stderr}");
        assert!(stderr.contains(want) && stderr.contains(hint), "{grader}:\n{stderr}\nwanted: {want}");
    }
}

/// A case for the OpenAI examples: `item` keys come from the trace metadata, the recorded tool
/// output answers the replayed call.
fn docs_case(id: &str, user: &str, metadata: &str, tool_outputs: &str) -> String {
    format!(
        "id: {id}\nsource: {{trace_id: t-{id}, metadata: {metadata}}}\ninput: {{items: [{{role: user, content: '{user}'}}]}}\n\
tools: [{{type: function, name: get_acceptors, parameters: {{type: object, properties: {{smiles: {{type: string}}}}}}}}]\n\
recorded: {{tool_outputs: {tool_outputs}, output: {{text: x}}}}\nprivacy: {{status: clean}}\ncontent_hash: h\n"
    )
}

/// The mock answers like the model in OpenAI's examples: a `get_acceptors` call, or a contact
/// card as JSON.
const DOCS_MOCK: &str = r#"rules:
  - name: answer a tool result
    when: {tool_output: '(?s).*'}
    text: 'Found: {{ tool_output }}'
  - name: acceptors
    when: {user: 'acceptors of (?P<smiles>\S+)'}
    call: {name: get_acceptors, arguments: '{"smiles": "{{ smiles }}"}'}
  - name: a contact card
    when: {user: 'card for (?P<name>.+) at (?P<email>\S+)'}
    text: '{"name": "{{ name }}", "email": "{{ email }}"}'
default:
  text: no idea
"#;

fn docs_suite(dir: &str, grader: &str) -> String {
    let grader = grader.replace('\n', "\n    ");
    format!(
        "target: {{model: fake-model, max_turns: 4}}\nprovider: {{mock: mock.yaml}}\ncases: [../datasets/{dir}]\ngraders:\n  - {grader}\n"
    )
}

/// Pasted verbatim from https://developers.openai.com/api/docs/guides/graders: the tool-call
/// grader ("Details on grading tool calls") and the multigrader over `output_json` ("Combined
/// graders"). Before, the suite refused to load (`output_json.name` undefined at load) or the
/// grader could not read `output_tools[0].function`.
#[test]
fn openai_guide_graders_run_unchanged() {
    let p = Project::new();
    p.write("evals/mock.yaml", DOCS_MOCK);
    let acceptors = "[{name: get_acceptors, arguments: '{\"smiles\": \"CCO\"}', output: '2 acceptors'}, {name: get_acceptors, arguments: '{\"smiles\": \"CCC\"}', output: '0 acceptors'}]";
    p.write("datasets/tools/right.yaml", &docs_case("right", "acceptors of CCO", "{smiles: CCO}", acceptors));
    p.write("datasets/tools/wrong.yaml", &docs_case("wrong", "acceptors of CCC", "{smiles: CCO}", acceptors));
    p.write(
        "evals/tools.yaml",
        &docs_suite(
            "tools",
            r#"{
  "type": "multi",
  "graders": {
    "function_name": {
      "name": "function_name",
      "type": "string_check",
      "input": "get_acceptors",
      "reference": "{{sample.output_tools[0].function.name}}",
      "operation": "eq"
    },
    "arguments": {
      "name": "arguments",
      "type": "string_check",
      "input": "{\"smiles\": \"{{item.smiles}}\"}",
      "reference": "{{sample.output_tools[0].function.arguments}}",
      "operation": "eq"
    }
  },
  "calculate_output": "0.5 * function_name + 0.5 * arguments"
}"#,
        ),
    );
    p.ok(&["run", "evals/tools.yaml", "--out", "runs/tools.json"]);
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/tools.json")).unwrap()).unwrap();
    let score = |case: &str| result(&run, case)["grades"][0]["score"].as_f64().unwrap();
    assert_eq!((score("right"), score("wrong")), (1.0, 0.5), "{run:#}");

    let card = "[]";
    let john = "{name: John Doe, email: john.doe@gmail.com}";
    p.write("datasets/cards/exact.yaml", &docs_case("exact", "card for John Doe at john.doe@gmail.com", john, card));
    p.write(
        "datasets/cards/misspelt.yaml",
        &docs_case("misspelt", "card for Jon Doe at john.doe@gmail.com", john, card),
    );
    p.write("datasets/cards/bad-email.yaml", &docs_case("bad-email", "card for John Doe at jd@gmail.com", john, card));
    p.write(
        "evals/cards.yaml",
        &docs_suite("cards", include_str!("fixtures/graders/openai-guide-multi.json").trim_end()),
    );
    p.ok(&["run", "evals/cards.yaml", "--out", "runs/cards.json"]);
    let run: Value = serde_json::from_str(&std::fs::read_to_string(p.path("runs/cards.json")).unwrap()).unwrap();
    let score = |case: &str| result(&run, case)["grades"][0]["score"].as_f64().unwrap();
    // The guide: a wrong email scores at most 0.5, a right one at least 0.5.
    assert_eq!(score("exact"), 1.0, "{run:#}");
    assert!((score("misspelt") - (2.0 * 7.0 / 15.0 + 1.0) / 2.0).abs() < 1e-9, "{run:#}");
    assert_eq!(score("bad-email"), 0.5, "{run:#}");

    // A misspelt sample key is still refused before any request.
    p.write(
        "evals/cards.yaml",
        &std::fs::read_to_string(p.path("evals/cards.yaml")).unwrap().replace("output_json.email", "output_jsn.email"),
    );
    let out = p.evals(&["run", "evals/cards.yaml"]);
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stderr.contains("graders[0].graders.email.input: for case") && stderr.contains("undefined"), "{stderr}");
}
