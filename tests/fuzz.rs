//! Property tests that feed the input parsers mutated copies of real inputs and hostile ones:
//! suites, cases, the taxonomy, mock scripts, OTLP JSON and protobuf, Agents SDK bodies and
//! processor lines. Each may refuse its input, none may panic. Bounded for CI (FUZZ_CASES per
//! target, default 256); inputs that once crashed are replayed from tests/fuzz/ every run.

mod common;

use std::path::{Path, PathBuf};

use common::repo;
use evals::dataset::Case;
use evals::dataset::taxonomy::Taxonomy;
use evals::mock::Script;
use evals::suite::Suite;
use evals::trace::{agents_sdk, otlp};
use evals::yaml::Source;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Characters that mean something to YAML, JSON or SSE, inserted more often than random bytes.
const SPECIAL: &[u8] = b"[]{}:,-#|>&*!'\"\\\n\t ?%@`0e9.";

/// Files under `dir` (recursively) whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, exts));
        } else if exts.iter().any(|e| path.to_string_lossy().ends_with(e)) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn seeds(paths: &[PathBuf], extra: &[&str]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    out.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
    out
}

/// A seed with a few edits: bytes inserted (random or special), removed, the rest cut off, or
/// a stretch repeated.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<u32>(), any::<u8>(), 0u8..6), 0..10);
    (0..seeds.len(), edits).prop_map(move |(i, edits)| {
        let mut b = seeds[i].clone();
        for (pos, byte, op) in edits {
            let at = pos as usize % (b.len() + 1);
            match op {
                0 => b.insert(at, byte),
                1 | 2 => b.insert(at, SPECIAL[byte as usize % SPECIAL.len()]),
                3 if at < b.len() => {
                    b.remove(at);
                }
                4 if byte < 16 => b.truncate(at),
                _ => {
                    let stretch: Vec<u8> = b[at..].iter().take(byte as usize % 64).copied().collect();
                    for _ in 0..(byte % 4) {
                        b.splice(at..at, stretch.iter().copied());
                    }
                }
            }
        }
        b
    })
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
}

/// Run `target` on mutated seeds and on every saved crash of `corpus` (tests/fuzz/<corpus>/).
fn fuzz(corpus: &str, seeds: Vec<Vec<u8>>, target: impl Fn(&[u8])) {
    let saved = repo().join("tests/fuzz").join(corpus);
    if saved.is_dir() {
        for path in files(&saved, &[""]) {
            target(&std::fs::read(&path).unwrap());
        }
    }
    // A fixed seed keeps CI repeatable; `FUZZ_SEED=N FUZZ_CASES=M` explores further.
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(20_261_203);
    let config =
        Config { cases: cases(), failure_persistence: None, rng_seed: RngSeed::Fixed(seed), ..Config::default() };
    TestRunner::new(config)
        .run(&mutated(seeds), |input| {
            target(&input);
            Ok(())
        })
        .unwrap();
}

/// Hostile YAML every YAML target also starts from.
const HOSTILE_YAML: &[&str] = &[
    "provider: {timeout_s: 1e300}\n",
    "provider: {timeout_s: .nan, concurrency: 18446744073709551615, backoff_ms: 18446744073709551615}\n",
    "graders: [{type: command, command: 'true', timeout_s: -1e308}]\n",
    "repeat: 4294967295\ntarget: {max_turns: 4294967295}\n",
    "\u{feff}name: x\n",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "a: &a [*a]\n",
    "? [a, {b: c}]\n: d\n",
];

#[test]
fn suites_load_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evals/s.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let seeds = seeds(&files(&repo().join("evals"), &[".yaml"]), HOSTILE_YAML);
    fuzz("suite", seeds, |input| {
        std::fs::write(&path, input).unwrap();
        let _ = Suite::load(&path);
        let _ = Suite::load_with(&path, &["provider.timeout_s=1e300".into(), "target.model=[".into()]);
    });
}

#[test]
fn cases_load_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    let seeds = seeds(&files(&repo().join("datasets"), &[".yaml"]), HOSTILE_YAML);
    fuzz("case", seeds, |input| {
        std::fs::write(&path, input).unwrap();
        let _ = Case::load(&path);
    });
}

#[test]
fn taxonomies_load_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taxonomy.yaml");
    let mut extra = HOSTILE_YAML.to_vec();
    extra.push("version: 1\ncategories:\n  - {id: a, parent: b}\n  - {id: b, parent: a}\n");
    let seeds = seeds(&[repo().join("evals/taxonomy.yaml")], &extra);
    fuzz("taxonomy", seeds, |input| {
        std::fs::write(&path, input).unwrap();
        let _ = Taxonomy::load(&path);
    });
}

#[test]
fn mock_scripts_parse_or_are_refused() {
    let mut extra = HOSTILE_YAML.to_vec();
    extra.push(
        "faults:\n  - {status: 429, retry_after: 1e300, retry_after_ms: 1e300}\n  - {slow_ms: 18446744073709551615}\n",
    );
    extra.push("latency_ms: 18446744073709551615\ndefault: {text: '{{ user'}\n");
    let seeds = seeds(&[repo().join("evals/mock.yaml")], &extra);
    fuzz("mock", seeds, |input| {
        let _ = Script::parse(&Source::new("m.yaml", String::from_utf8_lossy(input).into_owned()));
    });
}

#[test]
fn otlp_bodies_decode_or_are_refused() {
    let otlp = repo().join("tests/fixtures/otlp");
    let seeds = seeds(&files(&otlp, &[".json", ".bin"]), &[]);
    fuzz("otlp", seeds, |input| {
        for encoding in [otlp::Encoding::Json, otlp::Encoding::Protobuf] {
            let _ = otlp::parse_traces(input, encoding);
            let _ = otlp::parse_logs(input, encoding);
        }
        let _ = otlp::gunzip(input, 1 << 20);
    });
}

#[test]
fn agents_sdk_bodies_and_lines_parse_or_are_refused() {
    let sdk = repo().join("tests/fixtures/agents-sdk");
    let mut seeds = Vec::new();
    for path in files(&sdk, &[".jsonl"]) {
        let text = std::fs::read_to_string(path).unwrap();
        seeds.extend(text.lines().map(|l| l.as_bytes().to_vec()));
    }
    fuzz("agents-sdk", seeds, |input| {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(input) {
            let _ = agents_sdk::parse_export_body(&v);
            let _ = agents_sdk::parse_processor_line(&v);
            let _ = otlp::parse_json_value(&v);
        }
    });
}
