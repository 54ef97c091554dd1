//! Replay at scale through the binary: faults and retries, the response cache, repeats,
//! budgets, resume after kill -9, filters, shards and merge, overrides and progress.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use evals::mock::{Script, server::Server};
use evals::record::{Run, Status, StoredRuns};
use evals::yaml::Source;
use serde_json::Value;

/// `n` cases whose user message is `ask <i>`; the recorded answer is the mock's echo in capitals.
fn cases(p: &Project, n: usize, tags: impl Fn(usize) -> Vec<&'static str>) {
    for i in 0..n {
        let tags = tags(i);
        p.write(
            &format!("datasets/d/case-{i:03}.yaml"),
            &format!(
                "id: case-{i:03}\nsource: {{trace_id: t{i}}}\ninput:\n  items: [{{role: user, content: 'ask {i}'}}]\n\
                 recorded: {{output: {{text: 'ASK {i}'}}}}\nprivacy: {{status: clean}}\ntags: [{}]\ncontent_hash: h{i}\n",
                tags.join(", ")
            ),
        );
    }
}

/// A suite over `datasets/d`: `provider` is the YAML of the provider mapping's keys.
fn suite(p: &Project, provider: &str, extra: &str) -> PathBuf {
    p.write(
        "evals/s.yaml",
        &format!(
            "name: s\ntarget: {{model: fake-model}}\nprovider: {{{provider}}}\ncases: [../datasets/d]\n\
             graders:\n  - {{type: similarity, threshold: 0.99}}\n{extra}"
        ),
    )
}

fn mock_script(p: &Project, text: &str) -> String {
    p.write("evals/mock.yaml", text).display().to_string()
}

/// Run the binary with an API key for suites that talk to a test server.
fn evals(p: &Project, args: &[&str]) -> Output {
    command(p, args).output().unwrap()
}

fn command(p: &Project, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evals"));
    c.args(args)
        .current_dir(p.dir.path())
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .env("EVALS_TEST_KEY", "sk-test")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL");
    c
}

fn run_file(p: &Project, name: &str) -> Run {
    Run::load(&p.path(name)).unwrap()
}

/// Each (case, repeat) once, and every error with its cause.
fn assert_complete(run: &Run, cases: usize, repeat: u32) {
    let keys: HashSet<(String, u32)> = run.results.iter().map(|r| (r.case_id.clone(), r.repeat)).collect();
    assert_eq!(keys.len(), run.results.len(), "a result is duplicated");
    assert_eq!(run.results.len(), cases * repeat as usize);
    for r in &run.results {
        if r.status == Status::Error {
            assert!(r.cause.is_some() && r.error.is_some(), "error without cause: {r:?}");
        }
    }
}

async fn server(script: &str) -> Server {
    let script = Script::parse(&Source::new("mock.yaml", script)).unwrap();
    Server::start(script, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

const ECHO: &str = "default:\n  text: '{{ user | upper }}'\n";

#[test]
fn every_fault_ends_graded_or_as_a_clear_error_with_retries_and_no_duplicates() {
    let p = Project::new();
    cases(&p, 40, |_| vec![]);
    let mock = mock_script(
        &p,
        &format!(
            "faults:\n  - {{when: {{user: 'ask 7$'}}, status: 400}}\n  - {{rate: 0.06, status: 429, retry_after_ms: 10}}\n  - {{rate: 0.06, status: 429}}\n\
             - {{rate: 0.06, status: 500}}\n  - {{rate: 0.06, malformed: true}}\n  - {{rate: 0.06, drop: true}}\n\
             - {{rate: 0.03, slow_ms: 3000}}\n{ECHO}"
        )
        .replace("\n- ", "\n  - "),
    );
    suite(&p, &format!("mock: '{mock}', concurrency: 8, timeout_s: 0.5, max_retries: 8, backoff_ms: 5"), "");
    let out = p.evals(&["run", "evals/s.yaml", "--out", "r.json", "-q"]);
    let run = run_file(&p, "r.json");
    assert_complete(&run, 40, 1);
    assert!(run.summary.retries > 0, "faults at this rate must cause retries");
    // The one case the API refuses (400) is an error, never retried, never a failure.
    let bad = run.results.iter().find(|r| r.case_id == "case-007").unwrap();
    assert_eq!((bad.status, bad.cause.as_deref(), bad.retries), (Status::Error, Some("request"), 0));
    assert_eq!(run.summary.failed, 0, "{}", text(&out.stdout));
    assert_eq!(run.summary.passed + run.summary.errored, 40);
    assert!(run.summary.passed >= 38, "transient faults were retried away: {}", text(&out.stdout));
    assert!(text(&out.stdout).contains("errors by cause: request 1"), "{}", text(&out.stdout));
}

/// A base URL from the environment that is not a URL stops the run before any case, with the
/// variable named, instead of failing every case as a connection error.
#[test]
fn a_bad_base_url_from_the_environment_is_refused_up_front() {
    let p = Project::new();
    cases(&p, 2, |_| vec![]);
    suite(&p, "api_key_env: EVALS_TEST_KEY", "");
    let out = command(&p, &["run", "evals/s.yaml", "-q"]).env("OPENAI_BASE_URL", "localhost:9/v1").output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("\"localhost:9/v1\" is not an http(s) URL") && err.contains("OPENAI_BASE_URL"), "{err}");
    let st = evals::store::Store::open(&p.path(".evals/evals.db")).unwrap();
    assert_eq!(st.list_runs(None, 10).unwrap().len(), 0, "no run was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_answers_a_rerun_without_the_model_and_no_cache_bypasses_it() {
    let s = server(ECHO).await;
    let p = Project::new();
    cases(&p, 5, |_| vec![]);
    suite(&p, &format!("base_url: '{}', api_key_env: EVALS_TEST_KEY", s.base_url()), "");
    let first = evals(&p, &["run", "evals/s.yaml", "--out", "a.json", "-q"]);
    assert_eq!(code(&first), 0, "{}{}", text(&first.stdout), text(&first.stderr));
    assert_eq!(s.requests(), 5);
    let a = run_file(&p, "a.json");
    assert!(a.results.iter().all(|r| !r.cached) && a.summary.cache_hit_ratio == 0.0);

    let second = evals(&p, &["run", "evals/s.yaml", "--out", "b.json", "-q", "--verbose"]);
    assert_eq!(code(&second), 0);
    assert_eq!(s.requests(), 5, "the rerun asked the model nothing");
    let b = run_file(&p, "b.json");
    assert!(b.results.iter().all(|r| r.cached));
    assert_eq!(b.summary.cache_hit_ratio, 1.0);
    assert!(text(&second.stdout).contains("cache hits 5 (100.0%)"), "{}", text(&second.stdout));
    let outputs = |r: &Run| r.results.iter().map(|x| x.output.text.clone()).collect::<Vec<_>>();
    assert_eq!(outputs(&a), outputs(&b));

    // Whatever shapes the answer is in the key: another model is a miss.
    evals(&p, &["run", "evals/s.yaml", "--set", "target.model=other-model", "-q"]);
    assert_eq!(s.requests(), 10);
    evals(&p, &["run", "evals/s.yaml", "--no-cache", "--out", "c.json", "-q"]);
    assert_eq!(s.requests(), 15);
    assert!(run_file(&p, "c.json").results.iter().all(|r| !r.cached));
}

/// A 200 the model cannot be graded on (`status: failed` or `incomplete`) ends the case as an
/// error with that cause, fails the gate naming it, and is never cached: a rerun asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_responses_are_errors_that_fail_the_gate_and_are_never_cached() {
    let s = server(&format!(
        "faults:\n  - {{when: {{user: 'ask 1$'}}, response_status: failed}}\n  \
         - {{when: {{user: 'ask 2$'}}, response_status: incomplete}}\n{ECHO}"
    ))
    .await;
    let p = Project::new();
    cases(&p, 3, |_| vec![]);
    suite(&p, &format!("base_url: '{}', api_key_env: EVALS_TEST_KEY", s.base_url()), "");
    for (n, out_file) in [(1, "a.json"), (2, "b.json")] {
        let out = evals(&p, &["run", "evals/s.yaml", "--out", out_file, "-q"]);
        let stdout = text(&out.stdout);
        assert_eq!(code(&out), 1, "{stdout}{}", text(&out.stderr));
        assert!(stdout.contains("gate failed: 2 errors (max 0): response_failed 1, response_incomplete 1"), "{stdout}");
        let run = run_file(&p, out_file);
        let by_case = |id: &str| run.results.iter().find(|r| r.case_id == id).unwrap();
        assert_eq!((by_case("case-000").status, by_case("case-000").cached), (Status::Pass, n == 2));
        for (id, cause) in [("case-001", "response_failed"), ("case-002", "response_incomplete")] {
            let r = by_case(id);
            assert_eq!((r.status, r.cause.as_deref(), r.cached, r.retries), (Status::Error, Some(cause), false, 0));
        }
        // The good answer comes from the cache on the rerun; the two unusable ones are asked again.
        assert_eq!(s.requests(), 3 + 2 * (n - 1));
        assert_eq!(s.faults(), 2 * n);
    }
}

#[test]
fn repeats_count_passes_per_case_and_flag_flaky_ones() {
    let p = Project::new();
    cases(&p, 2, |_| vec![]);
    // Case 0 gets a wrong answer half the time, like a model at a high temperature.
    let mock = mock_script(&p, &format!("rules:\n  - {{when: {{user: 'ask 0$'}}, rate: 0.5, text: wrong}}\n{ECHO}"));
    suite(&p, &format!("mock: '{mock}'"), "repeat: 2\n");
    let out = p.evals(&["run", "evals/s.yaml", "--repeat", "24", "--out", "r.json", "-q"]);
    let run = run_file(&p, "r.json");
    assert_complete(&run, 2, 24);
    assert_eq!(run.summary.repeat, 24);
    assert_eq!(run.summary.flaky, vec!["case-000".to_string()]);
    let stdout = text(&out.stdout);
    // The flaky case is listed with its pass fraction; the steady one is counted.
    assert!(stdout.contains("✗ flaky: case-000 ") && stdout.contains("/24 passed · "), "{stdout}");
    assert!(stdout.contains("✓ 1 case passed (--verbose lists them)") && !stdout.contains("case-001"), "{stdout}");
    // Errors are not failures, and a flaky case's failures are: the gate sees the fails.
    assert!(run.summary.failed > 0 && run.summary.passed > 24);
}

#[test]
fn budgets_stop_scheduling_and_the_rest_error_with_cause_budget() {
    let p = Project::new();
    cases(&p, 6, |_| vec![]);
    let mock = mock_script(&p, ECHO);
    suite(
        &p,
        &format!("mock: '{mock}', concurrency: 1"),
        "pricing:\n  fake-model: {input: 1000000, output: 1000000}\ngate: {max_cost_usd: 5}\n",
    );
    let out = p.evals(&["run", "evals/s.yaml", "--out", "r.json", "-q"]);
    assert_eq!(code(&out), 1, "a budget stop fails the gate");
    let run = run_file(&p, "r.json");
    assert_complete(&run, 6, 1);
    // Each case costs $4 (2 tokens in, 2 out at $1 a token): the second brings the total past $5.
    assert_eq!(run.summary.passed, 2);
    let stopped: Vec<_> = run.results.iter().filter(|r| r.cause.as_deref() == Some("budget")).collect();
    assert_eq!(stopped.len(), 4);
    assert!(stopped.iter().all(|r| r.status == Status::Error && r.model_calls == 0));
    assert_eq!(run.summary.cost_usd, Some(8.0));
    assert!(text(&out.stdout).contains("budget reached: 4 cases not run"), "{}", text(&out.stdout));

    suite(&p, &format!("mock: '{mock}', concurrency: 1"), "gate: {max_tokens: 10}\n");
    p.evals(&["run", "evals/s.yaml", "--out", "t.json", "-q", "--no-cache"]);
    let t = run_file(&p, "t.json");
    assert_eq!(t.summary.errors_by_cause.get("budget"), Some(&3), "3 cases of 4 tokens reach 10");
}

#[test]
fn filters_shards_and_merge() {
    let p = Project::new();
    cases(&p, 30, |i| if i % 3 == 0 { vec!["billing"] } else { vec![] });
    let mock = mock_script(&p, ECHO);
    suite(&p, &format!("mock: '{mock}'"), "");
    p.evals(&["run", "evals/s.yaml", "--filter", "tag:billing", "--out", "f.json", "-q"]);
    assert_eq!(run_file(&p, "f.json").results.len(), 10);
    p.evals(&["run", "evals/s.yaml", "--filter", "id:case-00[0-4]", "--filter", "tag:billing", "--out", "g.json"]);
    let ids: Vec<String> = run_file(&p, "g.json").results.iter().map(|r| r.case_id.clone()).collect();
    assert_eq!(ids, ["case-000", "case-003"]);
    let none = p.evals(&["run", "evals/s.yaml", "--filter", "failure:nope"]);
    assert_eq!(code(&none), 4);

    let mut shards = Vec::new();
    for k in 1..=3 {
        let out = format!("s{k}.json");
        p.evals(&["run", "evals/s.yaml", "--shard", &format!("{k}/3"), "--out", &out, "-q"]);
        shards.push(run_file(&p, &out));
    }
    let sizes: Vec<usize> = shards.iter().map(|s| s.results.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 30, "{sizes:?}");
    assert!(sizes.iter().all(|n| *n > 0), "{sizes:?}");
    // Stable: adding a case leaves every other case in its shard.
    cases(&p, 31, |_| vec![]);
    p.evals(&["run", "evals/s.yaml", "--shard", "2/3", "--out", "s2b.json", "-q"]);
    let before: HashSet<String> = shards[1].results.iter().map(|r| r.case_id.clone()).collect();
    let after: HashSet<String> = run_file(&p, "s2b.json").results.iter().map(|r| r.case_id.clone()).collect();
    assert!(after.is_superset(&before) && after.len() <= before.len() + 1);

    let merged = p.ok(&["merge", "s1.json", "s2.json", "s3.json", "--out", "all.json"]);
    assert!(merged.contains("30 cases: 30 passed"), "{merged}");
    assert_complete(&run_file(&p, "all.json"), 30, 1);
    // Merges are whole: a missing shard is named, and merged only on request, which the gate reports.
    let part = p.evals(&["merge", "s1.json", "s2.json", "--out", "part.json"]);
    assert_eq!(code(&part), 2);
    assert!(
        text(&part.stderr).contains("merged 2 of 3 shards: 3/3 missing; --allow-partial merges them anyway"),
        "{}",
        text(&part.stderr)
    );
    assert!(!p.path("part.json").exists());
    let part = p.ok(&["merge", "s1.json", "s2.json", "--allow-partial", "--out", "part.json"]);
    assert!(part.contains("partial: merged 2 of 3 shards: 3/3 missing"), "{part}");
    let gate = p.evals(&["diff", "all.json", "part.json"]);
    let last = text(&gate.stdout).lines().next().unwrap().to_string();
    assert!(last.ends_with("; partial run, merged 2 of 3 shards: 3/3 missing"), "{last}");
    // A shard run on other cases (31, not 30) is refused.
    let other = p.evals(&["merge", "s1.json", "s2b.json", "s3.json", "--out", "x.json"]);
    assert_eq!(code(&other), 2);
    assert!(text(&other.stderr).contains("its datasets differ"), "{}", text(&other.stderr));
    let dup = p.evals(&["merge", "s1.json", "s1.json", "--out", "x.json"]);
    assert_eq!(code(&dup), 2);
    assert!(text(&dup.stderr).contains("shards must not overlap"), "{}", text(&dup.stderr));
    let bad = p.evals(&["run", "evals/s.yaml", "--shard", "4/3"]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad.stderr).contains("give K/N"));
}

#[test]
fn set_overrides_suite_keys_and_progress_goes_to_stderr() {
    let p = Project::new();
    cases(&p, 3, |_| vec![]);
    let mock = mock_script(&p, ECHO);
    suite(&p, &format!("mock: '{mock}'"), "");
    let out = p.evals(&["run", "evals/s.yaml", "--set", "target.model=gpt-4.1-mini", "--out", "r.json"]);
    assert_eq!(run_file(&p, "r.json").target.model, "gpt-4.1-mini");
    assert!(text(&out.stderr).contains("progress: 3/3 ✓3 ✗0 !0"), "{}", text(&out.stderr));
    let quiet = p.evals(&["run", "evals/s.yaml", "-q"]);
    assert_eq!(text(&quiet.stderr), "");
    let bad = p.evals(&["run", "evals/s.yaml", "--set", "target.modle=x"]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad.stderr).contains("target.modle: unknown field"), "{}", text(&bad.stderr));
}

/// On a terminal (a pseudo-terminal from util-linux `script`) the progress is a bar with
/// done/total, pass/fail/error counts, cost so far, rate and ETA; it is cleared at the end.
#[test]
fn progress_on_a_terminal_is_a_bar() {
    let p = Project::new();
    cases(&p, 6, |i| if i == 0 { vec!["x"] } else { vec![] });
    // Slow enough that the bar is drawn while cases are still running.
    let mock = mock_script(&p, &format!("latency_ms: 300\n{ECHO}"));
    suite(&p, &format!("mock: '{mock}', concurrency: 2"), "");
    let bin = env!("CARGO_BIN_EXE_evals");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{bin} run evals/s.yaml --set target.model=gpt-4.1-mini"), "/dev/null"])
        .current_dir(p.path(""))
        .env("EVALS_STORE", p.path(".evals/evals.db"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen}");
    let frames: Vec<&str> = screen.split(['\r', '\n']).filter(|l| l.contains("/6 ✓")).collect();
    let bar = frames
        .iter()
        .find(|l| !l.contains(" 0/6") && !l.contains(" 6/6"))
        .unwrap_or_else(|| panic!("no bar drawn mid-run in\n{screen}"));
    for want in ["✗0 !0", "· $0.0", "/s", "ETA"] {
        assert!(bar.contains(want), "missing {want:?} in the bar {bar:?}");
    }
    // Every frame's counts add up to its done count.
    for f in &frames {
        let num = |after: &str| -> u64 {
            let rest = &f[f.find(after).unwrap() + after.len()..];
            rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
        };
        let done: u64 = f[..f.find("/6").unwrap()].rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(done, num("✓") + num("✗") + num("!"), "{f:?}");
    }
    assert!(!screen.contains("progress: "), "no plain progress lines on a terminal:\n{screen}");
    assert!(screen.contains("6 cases: 6 passed"), "{screen}");
}

/// `n` cases against a mock answering after 150 ms, run by a child `evals run` in the background
/// at this concurrency: the mock, the project, its store and the child.
async fn slow_run(n: usize, concurrency: usize) -> (Server, Project, std::path::PathBuf, std::process::Child) {
    let s = server(&format!("latency_ms: 150\n{ECHO}")).await;
    let p = Project::new();
    cases(&p, n, |_| vec![]);
    suite(&p, &format!("base_url: '{}', api_key_env: EVALS_TEST_KEY, concurrency: {concurrency}", s.base_url()), "");
    let store = p.path(".evals/evals.db");
    let child = command(&p, &["run", "evals/s.yaml", "--no-cache", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (s, p, store, child)
}

/// Kill -9 a run against a slow mock, resume it, and check that no finished case was asked
/// again and that the result equals an uninterrupted run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_kill_9_repeats_no_finished_case() {
    let (s, p, store, mut child) = slow_run(16, 2).await;
    // Wait until some, not all, results are committed; then kill without warning.
    let started = Instant::now();
    let stored = |run: &Option<Run>| run.as_ref().map_or(0, |r| r.results.len());
    let mut run = None;
    while stored(&run) < 5 {
        assert!(started.elapsed() < Duration::from_secs(20), "the run never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
        if store.exists() {
            let st = evals::store::Store::open(&store).unwrap();
            run = st.unfinished_runs().unwrap().first().map(|(id, _)| st.load_run(id).unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let st = evals::store::Store::open(&store).unwrap();
    let id = st.unfinished_runs().unwrap().into_iter().next().expect("the killed run is unfinished").0;
    let finished: Vec<String> = st.load_run(&id).unwrap().results.iter().map(|r| r.case_id.clone()).collect();
    drop(st);
    assert!(finished.len() >= 5 && finished.len() < 16, "{finished:?}");

    let out = evals(&p, &["run", "--resume", "--out", "resumed.json"]);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    let counts: HashMap<String, u64> = s.requests_by_user();
    for i in 0..16 {
        let id = format!("case-{i:03}");
        let n = counts.get(&format!("ask {i}")).copied().unwrap_or(0);
        if finished.contains(&id) {
            assert_eq!(n, 1, "{id} was finished before the kill but asked again");
        } else {
            assert!((1..=2).contains(&n), "{id}: {n} requests");
        }
    }
    let resumed = run_file(&p, "resumed.json");
    assert_eq!(resumed.id, id);
    assert_complete(&resumed, 16, 1);
    let again = evals(&p, &["run", "--resume"]);
    assert_eq!(code(&again), 2, "nothing left to resume");

    evals(&p, &["run", "evals/s.yaml", "--no-cache", "--out", "fresh.json", "-q"]);
    let fresh = run_file(&p, "fresh.json");
    let view = |r: &Run| -> Vec<(String, Status, String, Value)> {
        r.results
            .iter()
            .map(|x| (x.case_id.clone(), x.status, x.output.text.clone(), serde_json::to_value(&x.grades).unwrap()))
            .collect()
    };
    assert_eq!(view(&resumed), view(&fresh));
    assert_eq!(
        (resumed.summary.passed, resumed.summary.failed, resumed.summary.errored),
        (fresh.summary.passed, fresh.summary.failed, fresh.summary.errored)
    );
}

/// `--resume` leaves a live run alone: without an id it finds no interrupted run, with the id it
/// is refused naming the owner; once the run is killed, the same command resumes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_never_takes_a_live_run() {
    let (s, p, store, mut child) = slow_run(30, 1).await;
    let started = Instant::now();
    let id = loop {
        assert!(started.elapsed() < Duration::from_secs(20), "the run never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
        if store.exists()
            && let Some((id, _)) = evals::store::Store::open(&store).unwrap().unfinished_runs().unwrap().first()
        {
            break id.clone();
        }
    };
    let owner = format!("process {} on ", child.id());
    let out = evals(&p, &["run", "--resume"]);
    assert_eq!(code(&out), 2, "{}{}", text(&out.stdout), text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("no interrupted run to resume: the newest unfinished one, {id}, is live ({owner}")),
        "{err}"
    );
    let out = evals(&p, &["run", "--resume", &id]);
    assert_eq!(code(&out), 2, "{}{}", text(&out.stdout), text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("run {id} is live: {owner}")), "{err}");
    assert!(child.try_wait().unwrap().is_none(), "the live run was still going while resume was refused");

    child.kill().unwrap(); // SIGKILL: no release, the dead process is what frees the run
    child.wait().unwrap();
    let out = evals(&p, &["run", "--resume", "--out", "resumed.json"]);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    let resumed = run_file(&p, "resumed.json");
    assert_eq!(resumed.id, id);
    assert_complete(&resumed, 30, 1);
    // The one case in flight at the kill may be asked twice; nothing else was.
    let counts: HashMap<String, u64> = s.requests_by_user();
    assert!(counts.values().filter(|n| **n > 1).count() <= 1, "{counts:?}");
}

#[test]
fn tool_policies_answer_mock_refuse_and_keep_unmatched_calls_as_events() {
    let p = Project::new();
    let case = |id: &str, user: &str, recorded: &str, answer: &str| {
        p.write(
            &format!("datasets/d/{id}.yaml"),
            &format!(
                "id: {id}\nsource: {{trace_id: t}}\ninput:\n  items: [{{role: user, content: '{user}'}}]\n\
                 recorded:\n  tool_outputs: [{recorded}]\n  output: {{text: '{answer}'}}\nprivacy: {{status: clean}}\ncontent_hash: {id}\n"
            ),
        );
    };
    case("mocked", "call_tool search q=rust", "", "TOOL RESULT: found rust");
    case(
        "by-order",
        "call_tool get_weather city=Rome",
        "{name: get_weather, arguments: '{\"city\": \"Paris\"}', output: Sunny}",
        "TOOL RESULT: Sunny",
    );
    case("forbidden", "call_tool rm path=x", "", "x");
    case("unmatched", "call_tool lookup id=1", "", "x");
    case("asks-new", "call_tool lookup id=1", "{name: lookup, arguments: '{\"id\": \"2\"}', output: two}", "x");
    suite(&p, "mock: builtin", "");
    let s = std::fs::read_to_string(p.path("evals/s.yaml")).unwrap().replace(
        "target: {model: fake-model}",
        "target:\n  model: fake-model\n  tool_policy:\n    default: {use: recorded, unmatched: continue}\n    \
         search: {use: mock, output: 'found {{ q }}'}\n    rm: error\n    get_weather: {use: recorded, unmatched: by_order}\n",
    );
    p.write("evals/s.yaml", &s);
    let reports =
        ["--report", "md:r.md", "--report", "junit:r.xml", "--report", "html:r.html", "--report", "json:r-report.json"];
    let out = p.evals(&[&["run", "evals/s.yaml", "--out", "r.json", "-q"][..], &reports[..]].concat());
    let run = run_file(&p, "r.json");
    let get = |id: &str| run.results.iter().find(|r| r.case_id == id).unwrap();
    assert_eq!(get("mocked").status, Status::Pass, "{:?}", get("mocked"));
    // Every report shows the call the agent asked and the recording nearest to it.
    let shown = "nearest recorded: lookup({\"id\":\"2\"})";
    assert!(text(&out.stdout).contains(shown), "{}", text(&out.stdout));
    for f in ["r.md", "r.xml", "r.html"] {
        let body = std::fs::read_to_string(p.path(f)).unwrap().replace("&quot;", "\"").replace("&#34;", "\"");
        assert!(body.contains(shown), "{f}: {body}");
    }
    // The JSON report, with no baseline to compare, lists the cases that did not pass and why.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("r-report.json")).unwrap()).unwrap();
    let reasons: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()))
        .collect();
    assert!(reasons.iter().any(|r| r.contains(shown)), "{reasons:?}");
    let by_order = get("by-order");
    assert_eq!(by_order.status, Status::Pass);
    assert_eq!(by_order.output.events[0].kind, "matched_by_order");
    let forbidden = get("forbidden");
    assert_eq!((forbidden.status, forbidden.cause.as_deref()), (Status::Error, Some("tool")));
    assert_eq!(forbidden.output.events[0].kind, "forbidden_tool_call");
    let unmatched = get("unmatched");
    assert_eq!(unmatched.status, Status::Fail, "the loop went on and the answer was graded");
    assert_eq!(unmatched.output.events[0].kind, "unmatched_call");
    assert_eq!(unmatched.output.events[0].tool, "lookup");
    // Not answered with another call's output: the event names what was asked and what was recorded.
    let new = get("asks-new");
    assert_eq!(new.output.events[0].kind, "unmatched_call");
    assert_eq!(
        new.output.events[0].message,
        "unmatched call lookup({\"id\":\"1\"}): no recording has these arguments; nearest recorded: lookup({\"id\":\"2\"})"
    );
    assert!(new.output.text.starts_with("TOOL RESULT: error: no recorded output for lookup"), "{}", new.output.text);
    assert!(unmatched.output.text.starts_with("TOOL RESULT: error: no recorded output for lookup"));
}

#[test]
fn suite_agents_hand_off_with_their_own_model_and_answer_parallel_calls() {
    let p = Project::new();
    p.write(
        "datasets/d/c.yaml",
        "id: c\nsource: {trace_id: t}\ninput:\n  items: [{role: user, content: 'weather in Paris and Rome, transfer'}]\n\
         recorded:\n  tool_outputs:\n    - {name: get_weather, arguments: '{\"city\":\"Paris\"}', output: Sunny}\n    \
         - {name: get_weather, arguments: '{\"city\":\"Rome\"}', output: Rainy}\n  output: {text: 'Sunny / Rainy'}\n\
         privacy: {status: clean}\ncontent_hash: c\n",
    );
    let mock = mock_script(
        &p,
        "rules:\n  - when: {model: m-expert, tool: get_weather}\n    text: 'Sunny / Rainy'\n  \
         - when: {model: m-expert}\n    calls:\n      - {name: get_weather, arguments: {city: Paris}}\n      \
         - {name: get_weather, arguments: {city: Rome}}\n  \
         - when: {instructions: triage, user: transfer}\n    call: {name: transfer_to_weather_expert}\n",
    );
    suite(&p, &format!("mock: '{mock}'"), "");
    let s = std::fs::read_to_string(p.path("evals/s.yaml")).unwrap().replace(
        "target: {model: fake-model}",
        "target:\n  model: fake-model\n  entry: Triage\n  agents:\n    - {name: Triage, instructions: 'You triage.', handoffs: [Weather expert]}\n    \
         - name: Weather expert\n      instructions: 'You are the expert on {{ case.id }}.'\n      model: m-expert\n      \
         tools: [{type: function, name: get_weather}]\n",
    );
    p.write("evals/s.yaml", &s);
    let out = p.evals(&["run", "evals/s.yaml", "--out", "r.json", "-q"]);
    let run = run_file(&p, "r.json");
    let r = &run.results[0];
    assert_eq!(r.status, Status::Pass, "{}{:?}", text(&out.stdout), r);
    assert_eq!(r.output.agent.as_deref(), Some("Weather expert"));
    let calls: Vec<(&str, Option<&str>)> =
        r.output.tool_calls.iter().map(|c| (c.name.as_str(), c.output.as_deref())).collect();
    assert_eq!(
        calls,
        [
            ("transfer_to_weather_expert", Some("{\"assistant\":\"Weather expert\"}")),
            ("get_weather", Some("Sunny")),
            ("get_weather", Some("Rainy"))
        ]
    );
    assert_eq!(r.turns, 3, "both parallel calls were answered in one turn");

    let bad = s.replace("handoffs: [Weather expert]", "handoffs: [Nobody]");
    p.write("evals/s.yaml", &bad);
    let out = p.evals(&["run", "evals/s.yaml"]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("target.agents[0].handoffs[0]: no agent named \"Nobody\""),
        "{}",
        text(&out.stderr)
    );
}
