//! The gate simulation behind the README figures: false alarms on an unchanged noisy agent and
//! detection of a 10-point drop, with 1 and 3 repeats and with earlier runs in the store, each
//! trial judged by the real binary. Run by `scripts/sim-gate.sh`.
//!
//! Usage: sim_gate EVALS_BINARY [TRIALS] [SEED] [SCENARIO]   (SCENARIO: only the scenarios whose
//! name contains it)

#[path = "../scripts/sim/gate.rs"]
mod gate;

fn main() {
    let mut args = std::env::args().skip(1);
    let evals = std::path::PathBuf::from(args.next().expect("usage: sim_gate EVALS_BINARY [TRIALS] [SEED] [SCENARIO]"));
    let trials: usize = args.next().map_or(100, |t| t.parse().expect("TRIALS is a number"));
    let seed: u64 = args.next().map_or(1, |s| s.parse().expect("SEED is a number"));
    let only = args.next().unwrap_or_default();
    let dir = tempfile::tempdir().expect("a scratch directory");
    println!("{trials} trials per scenario, 200 cases, seeds from {seed}; shipped gate defaults\n");
    println!("| scenario | figure | gate failed | printed verdict = exit code |");
    println!("|---|---|---|---|");
    for (i, s) in gate::scenarios(200).iter().enumerate().filter(|(_, s)| s.name.contains(&only)) {
        let o = gate::simulate(&evals, dir.path(), s, trials, gate::first_seed(seed, i));
        println!("{}", gate::row(s, &o));
        if o.other > 0 {
            println!("  ({} trials exited with neither 0 nor 1)", o.other);
        }
    }
}
