//! End to end through the binary: import, look, promote, run against the mock, diff, gate.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::json;

#[test]
fn import_is_idempotent_and_list_shows_every_trace() {
    let p = Project::new();
    let f = fixture("agents_processor_full.jsonl");
    let first = p.ok(&["traces", "import", f.to_str().unwrap()]);
    assert!(first.contains("3 new traces, 19 new spans"), "{first}");
    let again = p.ok(&["traces", "import", f.to_str().unwrap()]);
    assert!(again.contains("0 new traces, 0 new spans"), "{again}");
    // Exporter bodies are detected too.
    p.ok(&["traces", "import", fixture("agents_ingest.jsonl").to_str().unwrap()]);
    let list: serde_json::Value = serde_json::from_str(&p.ok(&["traces", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 6);
    let table = p.ok(&["traces", "list"]);
    for col in ["ID", "WORKFLOW", "AGENTS", "MODEL", "TURNS", "TOKENS", "STATUS"] {
        assert!(table.contains(col), "{table}");
    }
    assert!(table.contains("Triage, Weather expert"), "{table}");
}

#[test]
fn show_prints_the_span_tree() {
    let p = Project::new();
    p.ok(&["traces", "import", fixture("agents_processor_full.jsonl").to_str().unwrap()]);
    let tool = p.ok(&["traces", "show", "trace_1a36"]);
    for want in [
        "agent Triage",
        "model fake-model",
        "call get_weather",
        "tool get_weather",
        "Sunny and 21C in Paris",
        "TOOL RESULT",
    ] {
        assert!(tool.contains(want), "missing {want:?} in\n{tool}");
    }
    let handoff = p.ok(&["traces", "show", "trace_6a4a"]);
    assert!(handoff.contains("handoff Triage → Weather expert"), "{handoff}");
    let out = p.evals(&["traces", "show", "trace_"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("ambiguous"));
    let out = p.evals(&["traces", "show", "trace_nope"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("no trace matches \"trace_nope\""));
}

#[test]
fn promote_writes_a_case_and_refuses_duplicates_and_contentless_traces() {
    let p = Project::new();
    let files = p.with_demo_cases();
    assert_eq!(files.len(), 3);
    let case = evals::yaml::parse_any(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    for key in ["id", "source", "input", "tools", "recorded", "label", "privacy", "content_hash"] {
        assert!(case.get(key).is_some(), "case lacks {key}");
    }
    let dup = p.evals(&["promote", "trace_1a36", "--dataset", "other"]);
    assert_eq!(code(&dup), 2);
    assert!(text(&dup.stderr).contains("is already case call-tool-get-weather-city-paris-"), "{}", text(&dup.stderr));

    p.ok(&["traces", "import", fixture("agents_ingest.jsonl").to_str().unwrap()]);
    let list: serde_json::Value = serde_json::from_str(&p.ok(&["traces", "list", "--json"])).unwrap();
    let bare =
        list.as_array().unwrap().iter().find(|t| t["content_turns"] == 0).unwrap()["id"].as_str().unwrap().to_string();
    let out = p.evals(&["promote", &bare]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(err.contains("has no model content") && err.contains("hint:"), "{err}");

    let out = p.evals(&["promote", "trace_6a4a", "--failure", "wrong_handof"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("did you mean \"wrong_handoff\""));
}

#[test]
fn promote_redacts_personal_data_and_marks_it_pending() {
    let p = Project::new();
    let trace = r#"{"object": "trace", "id": "trace_pii", "workflow_name": "support"}
{"object": "trace.span", "id": "span_1", "trace_id": "trace_pii", "parent_id": null, "started_at": "2026-11-01T10:00:00+00:00", "ended_at": "2026-11-01T10:00:01+00:00", "span_data": {"type": "response", "response_id": "resp_1", "input": [{"role": "user", "content": "I am jane@example.com, call +1 415 555 2671, card 4242 4242 4242 4242, key sk-proj-abcdefghijklmnopqrstuvwxyz0123"}], "response": {"id": "resp_1", "model": "gpt-4.1", "instructions": "Help.", "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Noted, jane@example.com."}]}], "usage": {"input_tokens": 20, "output_tokens": 4}}}, "error": null}
"#;
    let f = p.write("pii.jsonl", trace);
    p.ok(&["traces", "import", f.to_str().unwrap()]);
    let out = p.ok(&["promote", "trace_pii", "--dataset", "support"]);
    assert!(out.contains("privacy: pending review"), "{out}");
    let file = std::fs::read_dir(p.path("datasets/support")).unwrap().next().unwrap().unwrap().path();
    let yaml = std::fs::read_to_string(file).unwrap();
    for secret in ["jane@example.com", "415 555", "4242", "sk-proj-"] {
        assert!(!yaml.contains(secret), "{secret} leaked:\n{yaml}");
    }
    for placeholder in ["<EMAIL_1>", "<PHONE_1>", "<CARD_1>", "<API_KEY_1>", "status: pending", "kind: email"] {
        assert!(yaml.contains(placeholder), "{placeholder} missing:\n{yaml}");
    }
    // The same address is the same placeholder in the output.
    assert!(yaml.contains("Noted, <EMAIL_1>."), "{yaml}");
}

#[test]
fn run_diff_and_gate_catch_a_prompt_regression() {
    let p = Project::new();
    p.with_demo_cases();
    let good = p.suite("demo", "");
    let out = p.evals(&["run", good.to_str().unwrap(), "--out", "runs/base.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("3 passed, 0 failed, 0 errors"), "{stdout}");
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("runs/base.json")).unwrap()).unwrap();
    assert_eq!(base["results"].as_array().unwrap().len(), 3);
    assert_eq!(base["summary"]["pass_rate"], 1.0);
    assert!(base["results"][0]["usage"]["input_tokens"].as_u64().unwrap() > 0);

    // Same prompt, same answers: the gate passes against the baseline.
    let same = p.evals(&["run", good.to_str().unwrap(), "--baseline", "runs/base.json"]);
    assert_eq!(code(&same), 0, "{}", text(&same.stdout));
    assert!(text(&same.stdout).contains("(baseline): still passing 3\n"), "{}", text(&same.stdout));

    // A prompt change that makes the model answer in French.
    let bad = p.suite("french", " Always answer in French.");
    let out = p.evals(&["run", bad.to_str().unwrap(), "--baseline", "runs/base.json", "--out", "runs/french.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(stdout.contains("regressed 2"), "{stdout}");
    assert!(
        stdout.contains("-TOOL RESULT: Sunny and 21C in Paris")
            && stdout.contains("+RÉSULTAT : Sunny and 21C in Paris"),
        "{stdout}"
    );
    assert!(stdout.contains("gate failed:"), "{stdout}");

    // `evals diff` by file and by stored run id agrees.
    let out = p.evals(&["diff", "runs/base.json", "runs/french.json"]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stdout).contains("regressed: hello-from-a-streamed-run-"));
    let ids: Vec<String> = ["runs/base.json", "runs/french.json"]
        .iter()
        .map(|f| {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.path(f)).unwrap()).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(code(&p.evals(&["diff", &ids[0], &ids[1]])), 1);
    // The other way round the French run is the baseline: the English answers are fixes.
    let out = p.evals(&["diff", &ids[1], &ids[0]]);
    assert_eq!(code(&out), 0, "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("fixed 2"));
}

#[test]
fn handoff_and_tool_cases_replay_like_production() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    p.ok(&["run", suite.to_str().unwrap(), "--out", "run.json"]);
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.path("run.json")).unwrap()).unwrap();
    let by_id = |prefix: &str| {
        run["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_id"].as_str().unwrap().starts_with(prefix))
            .unwrap()
            .clone()
    };
    let tool = by_id("call-tool-get-weather");
    assert_eq!(tool["output"]["text"], "TOOL RESULT: Sunny and 21C in Paris");
    assert_eq!(tool["output"]["tool_calls"][0]["output"], "Sunny and 21C in Paris");
    let handoff = by_id("call-tool-transfer");
    assert_eq!(handoff["output"]["agent"], "Weather expert");
}

#[test]
fn bad_input_is_one_clear_line_with_exit_2() {
    let p = Project::new();
    p.with_demo_cases();
    let cases = [
        ("name: x\ncases: [../datasets/demo]\ngraders:\n  - {type: contains, value: x\n", "x.yaml:"),
        (
            "cases: [../datasets/demo]\ngraders:\n  - {type: llm_magic}\n",
            "x.yaml:3:12: graders[0].type: unknown grader type \"llm_magic\"",
        ),
        ("cases: [../datasets/nope]\ngraders: [{type: contains, value: x}]\n", "x.yaml:1:9: cases[0]: dataset folder"),
        (
            "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\ngate: {min_pass: 1}\n",
            "x.yaml:3:8: gate.min_pass: unknown field `min_pass`",
        ),
        (
            "target: {model: m, instructions: 'Hi {{ who }}'}\nprovider: {mock: builtin}\ncases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n",
            "undefined",
        ),
    ];
    for (suite, want) in cases {
        let f = p.write("evals/x.yaml", suite);
        let out = p.evals(&["run", f.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(code(&out), 2, "{suite}\n{err}");
        assert!(err.contains(want), "wanted {want:?} in {err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    }
    // No key and no mock: refused before any request.
    let f = p.write("evals/live.yaml", "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n");
    let out = p.evals(&["run", f.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("OPENAI_API_KEY is not set"));
    // An empty dataset selects nothing: exit 4.
    std::fs::create_dir_all(p.path("datasets/empty")).unwrap();
    let f = p.write(
        "evals/empty.yaml",
        "provider: {mock: builtin}\ncases: [../datasets/empty]\ngraders: [{type: contains, value: x}]\n",
    );
    assert_eq!(code(&p.evals(&["run", f.to_str().unwrap()])), 4);
}

#[test]
fn a_store_from_a_newer_version_is_refused_with_exit_3() {
    let p = Project::new();
    p.ok(&["traces", "import", fixture("agents_processor_full.jsonl").to_str().unwrap()]);
    let db = p.path(".evals/evals.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let out = p.evals(&["traces", "list"]);
    assert_eq!(code(&out), 3);
    assert!(text(&out.stderr).contains("newer"), "{}", text(&out.stderr));
}

#[test]
fn store_location_follows_flag_and_environment() {
    let p = Project::new();
    let f = fixture("agents_processor_full.jsonl");
    let custom = p.path("elsewhere/x.db");
    let out = Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(["--store", custom.to_str().unwrap(), "traces", "import", f.to_str().unwrap()])
        .current_dir(p.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(custom.exists());
    // Without flag or variable: .evals/evals.db under the current directory.
    let out = Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(["traces", "import", f.to_str().unwrap()])
        .current_dir(p.dir.path())
        .env_remove("EVALS_STORE")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(Path::new(&p.path(".evals/evals.db")).exists());
}

#[test]
fn read_commands_given_a_missing_store_exit_3_and_create_nothing() {
    let p = Project::new();
    p.with_demo_cases();
    let run = p.path("runs/a.json");
    let suite = p.suite("demo", "");
    p.ok(&["run", suite.to_str().unwrap(), "--out", run.to_str().unwrap(), "-q"]);
    let run = run.to_str().unwrap();
    let typo = p.path("tpyo/evals.db");
    let readers: &[&[&str]] = &[
        &["traces", "list"],
        &["traces", "show", "trace_1a36"],
        &["traces", "prune", "--older-than", "30d"],
        &["runs", "list"],
        &["runs", "show", "run_2026"],
        &["diff", run, "run_2026"],
        &["baseline", "bless", "run_2026"],
        &["run", "--resume"],
    ];
    for args in readers {
        let out = p.evals_env(args, &[("EVALS_STORE", typo.to_str().unwrap())]);
        assert_eq!(code(&out), 3, "evals {args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("no store at {} (EVALS_STORE)", typo.display())), "{args:?}: {stderr}");
        assert!(!p.path("tpyo").exists(), "evals {args:?} created the store's folder");
    }
    // Run files need no store at all.
    let out = p.evals_env(&["runs", "show", run], &[("EVALS_STORE", typo.to_str().unwrap())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!p.path("tpyo").exists());
}

#[test]
fn every_command_documents_an_example() {
    let p = Project::new();
    // Walk the command tree as `--help` lists it, so a new command cannot skip its example.
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = p.ok(&args);
        assert!(out.contains("Example"), "{args:?} has no example:\n{out}");
        seen += 1;
        for name in subcommands(&out) {
            let mut child = path.clone();
            child.push(name);
            pending.push(child);
        }
    }
    assert!(seen > 25, "only {seen} commands found");
}

/// The names in the `Commands:` section of a help text, without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A name stands two spaces in; wrapped descriptions stand further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// Durations out of range are located load errors in `check` and `run` (they panicked before).
#[test]
fn timeouts_out_of_range_are_located_errors_not_panics() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let yaml = std::fs::read_to_string(&suite).unwrap();
    let big = p.write("evals/big.yaml", &yaml.replace("provider: {", "provider: {timeout_s: 1e20, "));
    let big = big.to_str().unwrap();
    // `check` lists it among its problems (exit 1); `run` stops on it (exit 2).
    let out = p.evals(&["check", big]);
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("big.yaml:5:23: provider.timeout_s: at most 86400 seconds"),
        "{}",
        text(&out.stdout)
    );
    let out = p.evals(&["run", big, "-q"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("big.yaml:5:23: provider.timeout_s: at most 86400 seconds"),
        "{}",
        text(&out.stderr)
    );
    let out = p.evals(&["run", suite.to_str().unwrap(), "-q", "--set", "provider.timeout_s=1e300"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("(with overrides):"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("provider.timeout_s: at most 86400 seconds"), "{}", text(&out.stderr));
    let grader = p.write(
        "evals/grader.yaml",
        &yaml.replace("type: similarity, threshold: 0.9}", "type: command, command: 'true', timeout_s: 1e20}"),
    );
    let out = p.evals(&["run", grader.to_str().unwrap(), "-q"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("graders[0].timeout_s: at most 86400 seconds"), "{}", text(&out.stderr));
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let p = Project::new();
    p.with_demo_cases();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evals"))
        .args(["traces", "list", "--limit", "500", "--jsonl"])
        .current_dir(p.dir.path())
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before anything is written: every write meets a closed pipe (EPIPE).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

#[test]
fn a_dash_writes_the_run_file_or_a_report_to_stdout() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let out = p.evals(&["run", suite.to_str().unwrap(), "--out", "-", "--quiet"]);
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the run file alone");
    assert_eq!(run["results"].as_array().unwrap().len(), 3);
    assert!(text(&out.stderr).contains("gate "), "the human report moves to stderr: {}", text(&out.stderr));
    assert!(!p.path("-").exists());
    let out = p.evals(&["run", suite.to_str().unwrap(), "--report", "json:-", "--quiet"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report alone");
    assert_eq!(report["schema"], "evals.report");
    let out = p.evals(&["baseline", "bless", run["id"].as_str().unwrap(), "--out", "-"]);
    let blessed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(blessed["results"].as_array().unwrap().len(), 3);
    assert!(!p.path("-").exists());
}

#[test]
fn errors_print_their_causes_on_lines_of_their_own() {
    let p = Project::new();
    p.with_demo_cases();
    std::fs::write(p.path("runs.json"), "{ not json").unwrap();
    let out = p.evals(&["diff", "runs.json", "runs.json"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), 2, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("error: runs.json is not a run file") && !lines[0].contains("line 1"), "{err}");
    assert!(lines.iter().any(|l| l.starts_with("  caused by: ") && l.contains("line 1")), "{err}");
    // An interrupted-run hint names the command that finishes it; a missing run names the list.
    let out = p.evals(&["runs", "show", "run_nope"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("hint: `evals runs list` shows the stored runs"), "{}", text(&out.stderr));
}

/// The SDK's `group_id` is listed, filtered on and kept in the case; the JSON rows carry the
/// status, the first user text and the final output.
#[test]
fn groups_are_listed_filtered_and_kept_in_the_case() {
    let p = Project::new();
    let capture = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap().replace(
        r#""id": "trace_1a366e093c0d4ae0809e2fa3fbb773d5", "workflow_name": "Agent workflow", "group_id": null"#,
        r#""id": "trace_1a366e093c0d4ae0809e2fa3fbb773d5", "workflow_name": "Agent workflow", "group_id": "conv_42""#,
    );
    assert!(capture.contains("conv_42"));
    let file = p.write("grouped.jsonl", &capture);
    p.ok(&["traces", "import", file.to_str().unwrap()]);
    let table = p.ok(&["traces", "list"]);
    assert!(table.lines().next().unwrap().ends_with("GROUP"), "{table}");
    assert!(table.contains("conv_42"), "{table}");
    let rows: serde_json::Value =
        serde_json::from_str(&p.ok(&["traces", "list", "--group", "conv_42", "--json"])).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((&row["group_id"], &row["status"]), (&json!("conv_42"), &json!("ok")));
    assert_eq!(row["first_user_text"], json!("call_tool get_weather city=Paris"));
    assert_eq!(row["final_output"], json!("TOOL RESULT: Sunny and 21C in Paris"));
    let shown: serde_json::Value = serde_json::from_str(&p.ok(&["traces", "show", "trace_1a36", "--json"])).unwrap();
    assert_eq!((&shown["status"], &shown["trace"]["group_id"]), (&json!("ok"), &json!("conv_42")));
    assert!(shown["spans"].as_array().is_some_and(|s| !s.is_empty()));
    p.ok(&["promote", "trace_1a36", "--dataset", "d"]);
    let case = std::fs::read_dir(p.path("datasets/d")).unwrap().next().unwrap().unwrap().path();
    assert!(std::fs::read_to_string(case).unwrap().contains("group_id: conv_42"));
}
