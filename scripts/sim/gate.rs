//! The gate simulation: a noisy agent — the mock answering each case right with its own
//! probability, fresh seeded draws for every run — replayed by the real binary (`evals run`
//! against the mock, into a scratch store) and judged by the shipped gate. Used by
//! `examples/sim_gate.rs` (`scripts/sim-gate.sh`, the README figures) and, at a small scale, by
//! `tests/gate.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The noisy agent as a mock script: case `i` is answered right with probability `p[i]`, each
/// draw seeded (by `seed` and the request), so a trial can be run again draw for draw.
fn noisy_mock(p: &[f64], seed: u64) -> String {
    let mut yaml = format!("seed: {seed}\nrules:\n");
    for (i, x) in p.iter().enumerate() {
        yaml.push_str(&format!("  - {{when: {{user: '^ask {i}$'}}, rate: {x}, text: 'ANSWER {i}'}}\n"));
    }
    yaml.push_str("default: {text: 'no idea'}\n");
    yaml
}

/// A scratch project of `cases` cases, each asking `ask i` and recorded answering `ANSWER i`, and
/// a suite grading by similarity to the recorded answer, with the shipped gate defaults.
fn project(dir: &Path, cases: usize) {
    let data = dir.join("datasets/sim");
    std::fs::create_dir_all(&data).expect("a dataset folder");
    std::fs::create_dir_all(dir.join("evals")).expect("a suite folder");
    for i in 0..cases {
        let case = format!(
            "id: case-{i:04}\nsource: {{trace_id: trace_{i}}}\ninput:\n  items: [{{role: user, content: 'ask {i}'}}]\n\
             recorded: {{output: {{text: 'ANSWER {i}'}}}}\nprivacy: {{status: clean}}\ncontent_hash: sim{i}\n"
        );
        std::fs::write(data.join(format!("case-{i:04}.yaml")), case).expect("a case file");
    }
    let suite = "name: sim\ntarget: {model: noisy-mock}\nprovider: {mock: mock.yaml, concurrency: 64}\n\
                 cases: [../datasets/sim]\ngraders:\n  - {type: similarity, threshold: 0.99}\n";
    std::fs::write(dir.join("evals/sim.yaml"), suite).expect("a suite");
}

/// Where a trial's runs happen: the binary, the scratch project, the trial's own store.
struct Runs<'a> {
    evals: &'a Path,
    dir: &'a Path,
    store: PathBuf,
    repeat: String,
}

impl Runs<'_> {
    /// One `evals run` of the suite against the agent `p`: (exit code, verdict line).
    fn run(&self, p: &[f64], seed: u64, out: &str, baseline: Option<&str>) -> (i32, String) {
        std::fs::write(self.dir.join("evals/mock.yaml"), noisy_mock(p, seed)).expect("a mock script");
        let mut args = vec!["run", "evals/sim.yaml", "--quiet", "--no-cache", "--repeat", &self.repeat, "--out", out];
        if let Some(b) = baseline {
            args.extend(["--baseline", b]);
        }
        let o = Command::new(self.evals)
            .args(&args)
            .current_dir(self.dir)
            .env("EVALS_STORE", &self.store)
            .env("NO_COLOR", "1")
            .env_remove("OPENAI_API_KEY")
            .output()
            .expect("evals runs");
        let stdout = String::from_utf8_lossy(&o.stdout);
        // With --quiet the verdict is the report's first line.
        (o.status.code().unwrap_or(-1), stdout.lines().next().unwrap_or("").to_string())
    }
}

/// One trial: fresh probabilities, the earlier runs replayed against the noisy mock into a fresh
/// store, then the current agent's run against the newest of them as its baseline, judged by
/// the shipped gate: (exit code, the verdict line).
pub fn trial(evals: &Path, dir: &Path, s: &Scenario, seed: u64) -> (i32, String) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let p = draw_probabilities(&mut rng, s.cases);
    let now = dropped(&p, s.drop_points);
    // A store of its own, so that no trial sees another's runs as history.
    let runs = Runs { evals, dir, store: dir.join(format!("sim-{seed}.db")), repeat: s.repeat.to_string() };
    let earlier = s.earlier.max(1);
    for e in 0..earlier {
        let (code, verdict) = runs.run(&p, rng.u64(..), &format!("runs/earlier-{e}.json"), None);
        assert!(code == 0 || code == 1, "an earlier run exited {code}: {verdict}");
    }
    let baseline = format!("runs/earlier-{}.json", earlier - 1);
    let verdict = runs.run(&now, rng.u64(..), "runs/current.json", Some(&baseline));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", runs.store.display()));
    }
    verdict
}

/// Every trial of a scenario, seeds `seed`, `seed + 1`, ...
pub fn simulate(evals: &Path, dir: &Path, s: &Scenario, trials: usize, seed: u64) -> Outcome {
    let mut o = Outcome { trials, ..Outcome::default() };
    // Runs start in the scratch project.
    let evals = &std::path::absolute(evals).expect("the binary's path");
    let dir = dir.join(format!("{}-cases", s.cases));
    if !dir.join("evals/sim.yaml").exists() {
        project(&dir, s.cases);
    }
    for t in 0..trials {
        let (code, last) = trial(evals, &dir, s, seed + t as u64);
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

/// The first trial's seed of scenario `i` in a simulation seeded `seed`: each scenario draws its
/// own agents, so no two share a trial.
pub fn first_seed(seed: u64, i: usize) -> u64 {
    seed + 1_000_000 * i as u64
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
