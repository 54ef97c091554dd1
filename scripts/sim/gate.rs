//! The gate simulation: a noisy agent whose every case answers right with its own probability,
//! fresh draws for every run, and the shipped gate judging each trial through the real binary
//! (`evals diff` over runs stored in a scratch store). Used by `examples/sim_gate.rs`
//! (`scripts/sim-gate.sh`, the README figures) and, at a small scale, by `tests/gate_sim.rs`.

use std::path::Path;
use std::process::Command;

use chrono::{Duration, Utc};
use evals::record::{CaseResult, Run, StoredRuns, Summary};
use evals::store::{RunOwner, Store};

/// One configuration of the simulation.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub cases: usize,
    /// Samples per case in every run (`--repeat`).
    pub repeat: u32,
    /// Earlier runs in the store, the newest of them the baseline (at least 1).
    pub earlier: usize,
    /// How far the current run's expected pass rate falls, in points (0 = unchanged agent).
    pub drop_points: f64,
}

/// What the gate said over the trials of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub trials: usize,
    /// Trials whose exit code was 1 (gate failed).
    pub failed: usize,
    /// Trials whose printed verdict (the first line) agreed with the exit code.
    pub agreed: usize,
    /// Exit codes other than 0 and 1 (a bug: counted, and shown).
    pub other: usize,
}

/// Each case's pass probability, drawn fresh per trial from a mixture like a real agent's
/// suite: 70% nearly always right (0.95–1), 10% nearly always wrong (0–0.05), 20% flaky (0.2–0.8).
pub fn draw_probabilities(rng: &mut fastrand::Rng, cases: usize) -> Vec<f64> {
    (0..cases)
        .map(|_| {
            let kind = rng.f64();
            let (lo, hi) = if kind < 0.7 {
                (0.95, 1.0)
            } else if kind < 0.8 {
                (0.0, 0.05)
            } else {
                (0.2, 0.8)
            };
            lo + (hi - lo) * rng.f64()
        })
        .collect()
}

/// The same agent made worse by `points`: every case's pass probability scaled down by one
/// factor, so that the expected pass rate falls by exactly that many points.
pub fn dropped(p: &[f64], points: f64) -> Vec<f64> {
    let mean = p.iter().sum::<f64>() / p.len() as f64;
    let factor = (1.0 - points / 100.0 / mean).max(0.0);
    p.iter().map(|x| x * factor).collect()
}

fn result(case: usize, repeat: u32, pass: bool) -> CaseResult {
    serde_json::from_value(serde_json::json!({
        "case_id": format!("case-{case:04}"),
        "repeat": repeat,
        "status": if pass { "pass" } else { "fail" },
        "output": {"text": if pass { "right" } else { "wrong" }},
    }))
    .expect("a case result")
}

/// One run of the agent: every case sampled `repeat` times with fresh draws.
fn sample_run(rng: &mut fastrand::Rng, id: &str, p: &[f64], repeat: u32, minutes_ago: i64) -> Run {
    let mut results = Vec::with_capacity(p.len() * repeat as usize);
    for k in 0..repeat {
        for (i, x) in p.iter().enumerate() {
            results.push(result(i, k, rng.f64() < *x));
        }
    }
    let started = Utc::now() - Duration::minutes(minutes_ago);
    let mut run: Run = serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "id": id,
        "suite": {"name": "sim", "path": "evals/sim.yaml", "hash": "sim"},
        "started_at": started,
        "finished_at": started,
        "target": {"model": "noisy-mock", "instructions_hash": "sim"},
        "dataset_hash": "sim",
        "options": {"repeat": repeat},
    }))
    .expect("a run header");
    run.summary = Summary::of(&results);
    run.results = results;
    run
}

/// One trial: fresh probabilities, the earlier runs and the current run stored, and the gate's
/// verdict from `evals diff BASELINE CURRENT`: (exit code, the verdict line).
pub fn trial(evals: &Path, dir: &Path, s: &Scenario, seed: u64) -> (i32, String) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let p = draw_probabilities(&mut rng, s.cases);
    let now = dropped(&p, s.drop_points);
    let db = dir.join(format!("sim-{seed}.db"));
    let mut store = Store::open(&db).expect("a scratch store");
    let earlier = s.earlier.max(1);
    let mut ids = Vec::new();
    for e in 0..earlier {
        let id = format!("run_earlier_{e}");
        let run = sample_run(&mut rng, &id, &p, s.repeat, (earlier - e) as i64 + 1);
        store_run(&mut store, &run);
        ids.push(id);
    }
    let current = sample_run(&mut rng, "run_current", &now, s.repeat, 0);
    store_run(&mut store, &current);
    drop(store);
    let out = Command::new(evals)
        .args(["diff", ids.last().expect("a baseline"), "run_current"])
        .env("EVALS_STORE", &db)
        .env("NO_COLOR", "1")
        .output()
        .expect("evals runs");
    let _ = std::fs::remove_file(&db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The verdict is the report's first line.
    let verdict = stdout.lines().next().unwrap_or("").to_string();
    (out.status.code().unwrap_or(-1), verdict)
}

fn store_run(store: &mut Store, run: &Run) {
    let owner = RunOwner { pid: std::process::id(), host: "sim".into(), heartbeat: run.started_at };
    store.create_run(run, &owner).expect("run stored");
    store.save_results(&run.id, &run.results).expect("results stored");
    store.finish_run(run).expect("run finished");
}

/// Every trial of a scenario, seeds `seed`, `seed + 1`, ...
pub fn simulate(evals: &Path, dir: &Path, s: &Scenario, trials: usize, seed: u64) -> Outcome {
    let mut o = Outcome { trials, ..Outcome::default() };
    for t in 0..trials {
        let (code, last) = trial(evals, dir, s, seed + t as u64);
        match code {
            0 => o.agreed += usize::from(last.starts_with("gate passed")),
            1 => {
                o.failed += 1;
                o.agreed += usize::from(last.starts_with("gate failed"));
            }
            _ => o.other += 1,
        }
    }
    o
}

/// 95% Wilson interval of k of n, in percent.
pub fn wilson_pct(k: usize, n: usize) -> (f64, f64) {
    let i = evals::compare::stats::wilson(k, n);
    (i.low * 100.0, i.high * 100.0)
}

/// One Markdown table row: scenario, what the figure is, the rate with its interval, agreement.
pub fn row(s: &Scenario, o: &Outcome) -> String {
    let what = if s.drop_points > 0.0 { "detection" } else { "false alarms" };
    let (lo, hi) = wilson_pct(o.failed, o.trials);
    format!(
        "| {} | {what} | {}/{} = {:.1}% (95% CI {lo:.1}–{hi:.1}%) | {}/{} |",
        s.name,
        o.failed,
        o.trials,
        100.0 * o.failed as f64 / o.trials.max(1) as f64,
        o.agreed,
        o.trials
    )
}

/// The scenarios the README reports: unchanged and 10-point drop, 1 and 3 repeats, and with
/// five earlier runs in the store.
pub fn scenarios(cases: usize) -> Vec<Scenario> {
    let mut v = Vec::new();
    for (repeat, earlier) in [(1, 1), (3, 1), (1, 5)] {
        for drop_points in [0.0, 10.0] {
            let history = if earlier > 1 { format!(", {earlier} earlier runs") } else { String::new() };
            v.push(Scenario {
                name: format!(
                    "{}, --repeat {repeat}{history}",
                    if drop_points > 0.0 { "10-point drop" } else { "unchanged agent" }
                ),
                cases,
                repeat,
                earlier,
                drop_points,
            });
        }
    }
    v
}
