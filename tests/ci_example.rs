//! The GitHub Actions example (examples/github-actions/evals.yml) works as written: actionlint
//! (with shellcheck on its scripts) finds nothing, the store is saved even when the gate fails,
//! and its run script, executed by bash against the real binary, gates a suite with an API key
//! and, without one (a fork's pull request), checks the suite and exits 0 with a notice.
//! `scripts/setup-actionlint.sh` installs actionlint and shellcheck.

mod common;
use common::*;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workflow_path() -> PathBuf {
    repo().join("examples/github-actions/evals.yml")
}

fn actionlint(file: &Path) -> Output {
    let bin = repo().join(".venv/actionlint/bin/actionlint");
    assert!(
        Command::new("shellcheck").arg("--version").output().is_ok_and(|o| o.status.success()),
        "shellcheck runs (scripts/setup-actionlint.sh installs it): without it actionlint skips the scripts"
    );
    Command::new(&bin)
        .args(["-no-color", "-shellcheck", "shellcheck"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{} runs (scripts/setup-actionlint.sh installs it): {e}", bin.display()))
}

fn workflow() -> Value {
    let text = std::fs::read_to_string(workflow_path()).unwrap();
    evals::yaml::to_json(&evals::yaml::parse_any(&text).expect("the workflow is YAML")).unwrap()
}

fn steps(w: &Value) -> &Vec<Value> {
    w["jobs"]["evals"]["steps"].as_array().expect("one job with steps")
}

fn step<'a>(w: &'a Value, name: &str) -> &'a Value {
    steps(w).iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("a step named {name:?}"))
}

#[test]
fn actionlint_finds_nothing_in_the_example_and_flags_what_the_old_one_had() {
    let out = actionlint(&workflow_path());
    assert!(out.status.success(), "actionlint:\n{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout), "");

    // The linter is live: the old example's Node 20 actions and unquoted exit are found.
    let old = std::fs::read_to_string(workflow_path())
        .unwrap()
        .replace("actions/checkout@v5", "actions/checkout@v4")
        .replace(r#"run: exit "${STATUS:-1}""#, "run: exit ${{ steps.run.outputs.status }}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.yml");
    std::fs::write(&file, old).unwrap();
    let found = text(&actionlint(&file).stdout);
    assert!(found.contains(r#"runtime "node20" is deprecated"#) && found.contains("actions/checkout@v4"), "{found}");
    assert!(found.contains("SC2242"), "{found}");
}

#[test]
fn the_binary_is_cached_and_the_store_is_saved_and_reports_uploaded_even_when_the_gate_fails() {
    let w = workflow();
    let names: Vec<&str> = steps(&w).iter().filter_map(|s| s["name"].as_str()).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap_or_else(|| panic!("step {n:?} in {names:?}"));

    let binary = step(&w, "Restore the evals binary");
    assert!(binary["uses"].as_str().unwrap().starts_with("actions/cache@"));
    assert_eq!(binary["with"]["path"], "~/.cargo/bin/evals");
    assert!(binary["with"]["key"].as_str().unwrap().contains("env.EVALS_VERSION"), "keyed by the version");
    let install = step(&w, "Install evals");
    assert_eq!(install["if"], "steps.binary.outputs.cache-hit != 'true'", "built only when not cached");

    let restore = step(&w, "Restore the store");
    let save = step(&w, "Save the store");
    assert!(restore["uses"].as_str().unwrap().starts_with("actions/cache/restore@"));
    assert!(save["uses"].as_str().unwrap().starts_with("actions/cache/save@"));
    assert_eq!(save["if"], "always()", "a failed gate keeps its runs and response cache");
    assert_eq!(restore["with"]["path"], save["with"]["path"]);
    assert_eq!(restore["with"]["key"], save["with"]["key"]);
    assert_eq!(step(&w, "Upload the reports")["if"], "always()");
    // The gate comes last, so everything before it runs whatever the verdict.
    assert!(at("Run the suite and gate") < at("Save the store") && at("Save the store") < at("Gate"));
    assert_eq!(at("Gate"), names.len() - 1);
    let comment = step(&w, "Comment the report on the pull request");
    let when = comment["if"].as_str().unwrap();
    assert!(when.contains("head.repo.full_name == github.repository") && when.contains("hashFiles('evals-report.md')"));
}

/// Run a step's script as GitHub does (`bash -e`), in `dir`, with the built `evals` first on
/// the PATH; returns the output and what the step wrote to `$GITHUB_OUTPUT`.
fn run_step(script: &str, dir: &Path, env: &[(&str, &str)]) -> (Output, String) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_evals")).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let output_file = dir.join("github-output");
    std::fs::write(&output_file, "").unwrap();
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &output_file)
        .env("EVALS_STORE", dir.join(".evals/evals.db"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("OPENAI_BASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out, std::fs::read_to_string(output_file).unwrap())
}

#[test]
fn the_run_step_gates_with_a_key_and_on_a_fork_checks_and_exits_0_with_a_notice() {
    let p = Project::new();
    p.with_demo_cases();
    p.suite("demo", "");
    let w = workflow();
    let script = step(&w, "Run the suite and gate")["run"].as_str().unwrap().to_string();
    let suite = ("EVALS_SUITE", "evals/demo.yaml");

    // A fork: no key. The suite is checked, replay is skipped with a notice, the job goes on.
    let (out, outputs) =
        run_step(&script, p.dir.path(), &[suite, ("OPENAI_API_KEY", ""), ("GITHUB_EVENT_NAME", "pull_request")]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        text(&out.stdout).contains("::notice title=evals::replay skipped: OPENAI_API_KEY"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(outputs, "status=0\n");
    assert!(!p.path("evals-report.md").exists(), "no report, so no comment is posted");

    // With the key: the suite runs (on its mock) and every report is written; the verdict is
    // the step's output, for the last step to exit with.
    let key = ("OPENAI_API_KEY", "sk-test");
    let (out, outputs) = run_step(&script, p.dir.path(), &[suite, key, ("GITHUB_EVENT_NAME", "pull_request")]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(outputs, "status=0\n", "{}", text(&out.stdout));
    for f in ["evals-report.md", "evals-report.html", "evals-junit.xml", "evals-report.json"] {
        assert!(p.path(f).is_file(), "{f} written");
    }

    // A prompt that fails the gate: the step still succeeds (so the store is saved) and hands
    // exit code 1 to the gate step.
    p.suite("demo", " Always answer in French.");
    let (out, outputs) = run_step(&script, p.dir.path(), &[suite, key, ("GITHUB_EVENT_NAME", "schedule")]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(outputs, "status=1\n", "{}", text(&out.stdout));
    let gate = step(&w, "Gate")["run"].as_str().unwrap().to_string();
    let (out, _) = run_step(&gate, p.dir.path(), &[("STATUS", "1")]);
    assert_eq!(code(&out), 1);

    // A broken suite fails the fork's check too: skipping replay is not skipping the checks.
    p.write("evals/demo.yaml", "name: demo\ntarget: {model: m}\ncases: [../datasets/none]\nbogus: 1\n");
    let (out, _) = run_step(&script, p.dir.path(), &[suite, ("OPENAI_API_KEY", "")]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
}
