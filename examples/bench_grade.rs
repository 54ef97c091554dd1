//! Benchmark: the deterministic graders over 100,000 case results (target: under 1 s).
//! Run by `scripts/bench-grade.sh`, in release mode.

use std::time::Instant;

use evals::dataset::Case;
use evals::grade::{Grader, Graders, Subject, scoring};
use evals::record::{Output, ToolCall};
use evals::trace::Usage;
use evals::yaml::{Source, Value};

const RESULTS: usize = 100_000;

const SUITE: &str = r#"graders:
  - {type: equals, value: 'It is sunny and 21C in Paris.'}
  - {type: contains, value: Paris}
  - {type: icontains, value: SUNNY}
  - {type: contains_any, values: [rain, snow, sun]}
  - {type: contains_all, values: [Paris, 21C], ignore_case: true}
  - {type: starts_with, value: It}
  - {type: regex, pattern: '\d+ ?C'}
  - {type: not_regex, pattern: '(?i)traceback|exception'}
  - {type: is_json, negate: true}
  - {type: json_schema, schema: {type: object, required: [city]}}
  - {type: json_path, path: $.city, equals: Paris}
  - {type: tool_called, tool: get_weather, arguments: {city: Paris}}
  - {type: tool_not_called, tool: book}
  - {type: tool_sequence, tools: [get_weather], mode: subsequence}
  - {type: handoff_to, agent: Weather expert}
  - {type: turns, max: 4}
  - {type: not_refusal}
  - {type: latency_ms, max: 5000}
  - {type: cost_usd, max: 0.01}
  - {type: tokens, max: 2000}
  - {type: expected}
  - {type: similarity, threshold: 0.8}
"#;

const CASE: &str = "id: c\nsource: {trace_id: t}\ninput: {items: [{role: user, content: Weather in Paris?}]}\n\
recorded: {output: {text: 'It is sunny and 21C in Paris.'}}\n\
expected: {reference: 'It is sunny and 21C in Paris.', contains: [paris], tools_required: [get_weather], tools_forbidden: [book]}\n\
privacy: {status: clean}\ncontent_hash: h\n";

fn main() {
    let src = Source::new("bench.yaml", SUITE);
    let doc: Value = src.parse().expect("bench suite parses");
    let list: Vec<Grader> = doc["graders"]
        .as_sequence()
        .expect("a list")
        .iter()
        .enumerate()
        .map(|(i, g)| Grader::parse(&src, &format!("graders[{i}]"), g).expect("valid grader"))
        .collect();
    let graders = Graders::new(list, Some(0.8));
    let case: Case = Source::new("case.yaml", CASE).parse().expect("bench case parses");

    let texts = [
        "It is sunny and 21C in Paris.",
        "Paris: sunny, 21 C, light wind from the west. Enjoy your day!",
        "I'm sorry, but I can't help with that.",
        r#"{"city": "Paris", "temperature": "21C", "sky": "sunny"}"#,
    ];
    let outputs: Vec<Output> = (0..RESULTS)
        .map(|i| Output {
            // Distinct texts, except the JSON one, which must stay JSON.
            text: if i % texts.len() == 3 { texts[3].to_string() } else { format!("{} #{i}", texts[i % texts.len()]) },
            tool_calls: vec![ToolCall {
                name: if i % 3 == 0 { "book".into() } else { "get_weather".into() },
                arguments: r#"{"city": "Paris", "unit": "C"}"#.into(),
                output: Some("Sunny, 21C".into()),
            }],
            ..Output::default()
        })
        .collect();
    let usage = Usage { input_tokens: 800, output_tokens: 120, ..Usage::default() };

    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let (mut grades, mut passed) = (0usize, 0usize);
    for (i, out) in outputs.iter().enumerate() {
        let s = Subject {
            case: &case,
            output: out,
            turns: 2,
            latency_ms: 900 + (i as u64 % 300),
            usage: &usage,
            cost_usd: Some(0.002),
        };
        let g = graders.grade_pure(&s);
        grades += g.len();
        passed += usize::from(scoring::passed(&g, graders.threshold));
    }
    let (elapsed, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu_start);
    println!(
        "graded {RESULTS} results with {} deterministic graders ({grades} grades, {passed} cases passed): \
         {:.0} ms CPU, {:.0} ms wall ({:.2} µs CPU per result)",
        graders.list.len(),
        cpu * 1000.0,
        elapsed * 1000.0,
        cpu * 1e6 / RESULTS as f64
    );
    // Where the time goes: each grader alone over the same results.
    for g in &graders.list {
        let start = Instant::now();
        let mut n = 0usize;
        for out in &outputs {
            let s =
                Subject { case: &case, output: out, turns: 2, latency_ms: 900, usage: &usage, cost_usd: Some(0.002) };
            n += usize::from(g.grade_pure(&s).is_some_and(|v| v.pass));
        }
        println!("  {:<16} {:>7.1} ms  ({n} passed)", g.name, start.elapsed().as_secs_f64() * 1000.0);
    }
    // CPU time, not wall time, is held to the target: on a shared machine the wall clock
    // measures the neighbours too.
    if cpu >= 1.0 {
        eprintln!("too slow: the target is under 1 s of CPU");
        std::process::exit(1);
    }
}

/// CPU time of this process (user + system), from /proc; 0 where there is no /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 100 per second on Linux.
    (tick(11) + tick(12)) / 100.0
}
