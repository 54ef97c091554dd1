//! The gate through the binary against the mock: errors count, history sharpens the drop test,
//! `runs flaky`, and the gate simulation at a small scale with fixed seeds.

mod common;
use common::*;

#[path = "../scripts/sim/gate.rs"]
mod sim;

/// The demo cases and a suite over them whose mock answers with `script` (YAML).
fn project_with_script(script: &str, gate: &str) -> (Project, String) {
    let p = Project::new();
    p.with_demo_cases();
    let mock = p.write("evals/mock.yaml", script);
    let suite = p.write(
        "evals/demo.yaml",
        &format!(
            "name: demo\ntarget:\n  model: fake-model\n  instructions: 'Answer, call get_weather, or hand off to the expert.'\n\
             provider: {{mock: '{}', max_retries: 0}}\ncases: [../datasets/demo]\ngraders:\n  - {{name: same answer, type: similarity, threshold: 0.9}}\n\
             gate: {gate}\n",
            mock.display()
        ),
    );
    (p, suite.display().to_string())
}

/// The verdict: the report's first line.
fn verdict(out: &std::process::Output) -> String {
    text(&out.stdout).lines().next().unwrap_or("").to_string()
}

const FAULTY: &str = "faults:\n  - {when: {user: 'Paris|transfer'}, status: 400, code: invalid_request}\n";

#[test]
fn errors_fail_the_gate_by_default_naming_causes_and_counts() {
    let mock = std::fs::read_to_string(repo().join("evals/mock.yaml")).unwrap();
    let (p, suite) = project_with_script(&format!("{mock}{FAULTY}"), "{}");
    let out = p.evals(&["run", &suite, "--quiet"]);
    assert_eq!(code(&out), 1, "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(verdict(&out), "gate failed: 2 errors (max 0): request 2");

    // An allowance in the suite lets them through, and says so.
    let (p, suite) = project_with_script(&format!("{mock}{FAULTY}"), "{max_errors: 2}");
    let out = p.evals(&["run", &suite, "--quiet"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stdout));
    assert_eq!(verdict(&out), "gate passed: 1 of 3 cases graded; 2 errors (max 2): request 2");
    // 2 of 3 is more than 50%.
    let (p, suite) = project_with_script(&format!("{mock}{FAULTY}"), "{max_errors: 50%}");
    let out = p.evals(&["run", &suite, "--quiet"]);
    assert_eq!((code(&out), verdict(&out)), (1, "gate failed: 2 errors (max 50%): request 2".to_string()));

    // Nothing graded fails, whatever the allowance.
    let all = format!("{mock}faults:\n  - {{status: 400, code: invalid_request}}\n");
    let (p, suite) = project_with_script(&all, "{max_errors: 100%}");
    let out = p.evals(&["run", &suite, "--quiet"]);
    assert_eq!((code(&out), verdict(&out)), (1, "gate failed: 0 of 3 cases graded".to_string()));

    // A garbled allowance is a config error with its place.
    let (p, suite) = project_with_script(&mock, "{max_errors: lots}");
    let out = p.evals(&["run", &suite, "--quiet"]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(err.contains("demo.yaml:") && err.contains("gate.max_errors: max_errors \"lots\" is neither"), "{err}");
}

/// A mock whose answer to the streamed-run case is wrong under instructions that say `Variant B`.
fn variant_b_is_wrong() -> String {
    let mock = std::fs::read_to_string(repo().join("evals/mock.yaml")).unwrap();
    let head = "rules:\n  - name: wrong under variant B\n    when: {user: streamed, instructions: Variant B}\n    \
                text: 'something else entirely, nothing like it'\n";
    mock.replacen("rules:\n", head, 1)
}

#[test]
fn earlier_runs_in_the_store_are_the_reference_and_runs_flaky_ranks_cases() {
    let (p, suite) = project_with_script(&variant_b_is_wrong(), "{}");
    let mut ids = Vec::new();
    // Four runs of one suite on one dataset; the streamed case passes in every other one.
    for i in 0..4 {
        let variant = format!(
            "target.instructions=Answer, call get_weather, or hand off.{}",
            if i % 2 == 1 { " Variant B" } else { "" }
        );
        let out = p.evals(&["run", &suite, "--quiet", "--repeat", "2", "--set", &variant]);
        assert!(matches!(code(&out), 0 | 1), "{}", text(&out.stderr));
        let runs = p.ok(&["runs", "list", "--suite", "demo", "--limit", "1"]);
        ids.push(runs.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string());
    }
    // A changed prompt (same suite, same dataset) that breaks the weather case: the reference is
    // the four earlier runs, and the steady case that flipped is listed with its fractions.
    let out = p.evals(&[
        "run",
        &suite,
        "--quiet",
        "--repeat",
        "2",
        "--baseline",
        &ids[0],
        "--set",
        "target.instructions=Always answer in French.",
    ]);
    let line = verdict(&out);
    assert!(line.contains("stratified exact test vs 4 earlier runs, one-sided p = "), "{line}");
    assert!(
        line.contains("call-tool-get-weather-city-paris-a258354f 2/2 → 0/2"),
        "the case that fell is named: {line}"
    );

    let flaky = p.ok(&["runs", "flaky", "demo"]);
    let lines: Vec<&str> = flaky.lines().collect();
    assert!(lines[0].ends_with("cases flaky over the last 5 runs of demo"), "{flaky}");
    assert!(lines[1].starts_with("CASE"), "{flaky}");
    assert!(
        lines[2].starts_with("hello-from-a-streamed-run-2536d962           4/10      40.0%       0.96"),
        "the coin-flip case first: {flaky}"
    );
    assert!(lines[3].starts_with("call-tool-get-weather-city-paris-a258354f    8/10      80.0%       0.64"), "{flaky}");
    assert!(flaky.contains("always passed or always failed"), "{flaky}");
    assert!(p.ok(&["runs", "flaky", "nope"]).contains("no finished runs of suite nope"));
}

#[test]
fn the_simulation_at_a_small_scale_meets_the_targets_with_fixed_seeds() {
    let evals = std::path::PathBuf::from(env!("CARGO_BIN_EXE_evals"));
    let dir = tempfile::tempdir().unwrap();
    // The first five trials of each scenario of the README's figures (`scripts/sim-gate.sh 200
    // 1`), each replayed against the noisy mock: at most one false alarm, at most one missed drop.
    for (i, s) in sim::scenarios(200).iter().enumerate() {
        let o = sim::simulate(&evals, dir.path(), s, 5, sim::first_seed(1, i));
        if s.drop_points > 0.0 {
            assert!(o.failed >= 4, "{}", sim::row(s, &o));
        } else {
            assert!(o.failed <= 1, "{}", sim::row(s, &o));
        }
        assert_eq!((o.agreed, o.other), (5, 0), "{}", sim::row(s, &o));
        assert!(sim::row(s, &o).starts_with(&format!("| {} |", s.name)));
    }
    // The model the figures rest on: a mixture of steady and flaky cases, and a drop of
    // exactly the points asked for.
    let mut rng = fastrand::Rng::with_seed(7);
    let p = sim::draw_probabilities(&mut rng, 10_000);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!((mean(&p) - mean(&sim::dropped(&p, 10.0)) - 0.10).abs() < 1e-9);
    let (lo, hi) = sim::wilson_pct(0, 100);
    assert!(lo < 1e-9 && (hi - 3.7).abs() < 0.05, "{lo} {hi}");
}

#[test]
fn a_labelled_failure_is_graded_against_what_is_right_never_the_recorded_wrong_answer() {
    let p = Project::new();
    p.ok(&["traces", "import", fixture("agents_processor_full.jsonl").to_str().unwrap()]);
    for id in ["trace_1a36", "trace_6a4a", "trace_07ac"] {
        let out = p.ok(&["promote", id, "--dataset", "demo", "--verdict", "fail"]);
        assert!(out.contains("needs an expectation: the recorded output is labelled wrong"), "{out}");
    }
    let suite = p.suite("demo", "");
    let mut files: Vec<_> = std::fs::read_dir(p.path("datasets/demo")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let yaml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(yaml.contains("needs_expectation: true"), "{yaml}");

    // `check` reports every one, at its place.
    let out = p.evals(&["check", "datasets"]);
    let report = text(&out.stdout) + &text(&out.stderr);
    assert_ne!(code(&out), 0, "{report}");
    assert_eq!(report.matches("label.verdict: needs_expectation: labelled fail").count(), 3, "{report}");

    // `run` counts each as an error with that cause: nothing is graded by the wrong answer.
    let out = p.evals(&["run", suite.to_str().unwrap(), "--quiet"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        verdict(&out),
        "gate failed: 0 of 3 cases graded; 3 errors (max 0): needs_expectation 3; pass rate 0.0% (min 100.0%)"
    );

    // An expectation for each: the replay that reproduces the production answer now fails.
    for f in &files {
        let case = evals::dataset::Case::load(f).unwrap();
        let wrong = case.recorded.output.text.clone();
        let out = p.ok(&["label", &case.id, "--expect-not-contains", &wrong]);
        assert!(!out.contains("needs an expectation"), "{out}");
        let saved = evals::dataset::Case::load(f).unwrap();
        assert_eq!(saved.expected.not_contains, vec![wrong]);
        assert!(!saved.label.needs_expectation);
    }
    assert_eq!(code(&p.evals(&["check", "datasets"])), 0);
    let out = p.evals(&["run", suite.to_str().unwrap(), "--quiet"]);
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(
        stdout.contains(
            "the recorded output is labelled wrong, graded by the expectation: 0/1 expectations met: contains"
        ),
        "{stdout}"
    );
    assert!(verdict(&out).contains("pass rate 33.3% (min 100.0%)"), "{stdout}");
    // `label` with nothing to change says what it takes.
    let out = p.evals(&["label", "trace"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn the_suite_says_how_long_cached_answers_count() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let with_cache = |setting: &str| {
        let text = std::fs::read_to_string(&suite).unwrap();
        let base = text.split("cache:").next().unwrap().trim_end().to_string();
        p.write("evals/demo.yaml", &format!("{base}\n{setting}\n"));
    };
    let hits = |out: &str| -> u64 {
        p.ok(&["run", suite.to_str().unwrap(), "--quiet", "--out", out]);
        let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.path(out)).unwrap()).unwrap();
        run["summary"]["cache_hits"].as_u64().unwrap()
    };
    with_cache("cache: on");
    hits("a.json");
    assert!(hits("b.json") > 0, "an unchanged suite is answered from the cache");
    with_cache("cache: off");
    assert_eq!(hits("c.json"), 0);
    with_cache("cache: {ttl: 1s}");
    hits("d.json");
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(hits("e.json"), 0, "answers older than the ttl are asked again");
    with_cache("cache: {ttl: 7d}");
    assert!(hits("f.json") > 0);
    with_cache("cache: {ttl: soon}");
    let out = p.evals(&["run", suite.to_str().unwrap(), "--quiet"]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("cache.ttl: ttl \"soon\" is not a duration like 12h or 7d"),
        "{}",
        text(&out.stderr)
    );
}
