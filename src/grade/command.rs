//! Graders that run a program: `command` (any executable; JSON on stdin, `{score, pass,
//! reason}` on stdout) and `python` (a `grade(sample, item)` function run by python3).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{Subject, Verdict, fields};
use crate::yaml::{self, Source, YamlError};

#[derive(Debug, Clone)]
pub struct Command {
    argv: Vec<String>,
    /// Folder the program runs in: the suite's.
    dir: PathBuf,
    timeout: Duration,
    /// For `python`: its source, and the score from which it passes.
    python: Option<(String, f64)>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Argv {
    Shell(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandFile {
    command: Argv,
    #[serde(default = "thirty")]
    timeout_s: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PythonFile {
    source: String,
    /// The hosted API's sandbox image; here the local python3 runs the code.
    #[serde(default)]
    #[allow(dead_code)]
    image_tag: Option<String>,
    #[serde(default = "half")]
    pass_threshold: f64,
    #[serde(default = "thirty")]
    timeout_s: f64,
}

fn thirty() -> f64 {
    30.0
}

fn half() -> f64 {
    0.5
}

/// Runs the user's `grade(sample, item)` and prints its result as JSON.
const PYTHON_DRIVER: &str = r#"
import json, sys
job = json.load(sys.stdin)
scope = {"__name__": "grader"}
exec(compile(job["source"], "<grader source>", "exec"), scope)
if "grade" not in scope:
    sys.exit("the source defines no grade(sample, item) function")
result = scope["grade"](job["sample"], job["item"])
json.dump({"score": float(result)}, sys.stdout)
"#;

impl Command {
    pub fn parse(src: &Source, path: &str, ty: &str, v: yaml::Value) -> Result<Command, YamlError> {
        let dir = src.file.parent().map(PathBuf::from).unwrap_or_default();
        let timeout = |t: f64| src.seconds(&format!("{path}.timeout_s"), t);
        if ty == "python" {
            let f: PythonFile = fields(src, v, path)?;
            if !f.source.contains("def grade") {
                return Err(src.error_at(&format!("{path}.source"), "source must define grade(sample, item)"));
            }
            return Ok(Command {
                argv: vec!["python3".into(), "-c".into(), PYTHON_DRIVER.into()],
                dir,
                timeout: timeout(f.timeout_s)?,
                python: Some((f.source, f.pass_threshold)),
            });
        }
        let f: CommandFile = fields(src, v, path)?;
        let argv = match f.command {
            Argv::Shell(s) => vec!["sh".into(), "-c".into(), s],
            Argv::List(l) => l,
        };
        if argv.is_empty() || argv[0].trim().is_empty() {
            return Err(src.error_at(&format!("{path}.command"), "command is empty"));
        }
        Ok(Command { argv, dir, timeout: timeout(f.timeout_s)?, python: None })
    }

    pub async fn grade(&self, s: &Subject<'_>) -> Verdict {
        let ctx = s.context();
        let input = match &self.python {
            Some((source, _)) => json!({"source": source, "sample": ctx["sample"], "item": ctx["item"]}),
            None => {
                let mut v = ctx;
                v["latency_ms"] = json!(s.latency_ms);
                v["usage"] = json!(s.usage);
                v["cost_usd"] = json!(s.cost_usd);
                v
            }
        };
        let answer = match self.run(input.to_string()).await {
            Ok(a) => a,
            Err(e) => return Verdict::error(e),
        };
        match &self.python {
            Some((_, threshold)) => match answer["score"].as_f64() {
                Some(x) if x.is_finite() => Verdict::new(
                    x,
                    x + 1e-9 >= *threshold,
                    format!("grade() returned {x} (pass_threshold {threshold})"),
                ),
                _ => Verdict::error("grade() returned no number"),
            },
            None => read_answer(&answer),
        }
    }

    /// Run the program with `input` on stdin; its stdout parsed as JSON.
    async fn run(&self, input: String) -> Result<Value, String> {
        let name = if self.python.is_some() { "python3".to_string() } else { self.argv.join(" ") };
        let mut child = tokio::process::Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .current_dir(if self.dir.as_os_str().is_empty() { PathBuf::from(".") } else { self.dir.clone() })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let feed = async move {
            // A program may exit without reading its input; that is its business.
            let _ = stdin.write_all(input.as_bytes()).await;
        };
        let (_, out) =
            match tokio::time::timeout(self.timeout, async { tokio::join!(feed, child.wait_with_output()) }).await {
                Ok(r) => r,
                Err(_) => return Err(format!("{name} timed out after {:?}", self.timeout)),
            };
        let out = out.map_err(|e| format!("{name} failed: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            return Err(format!("{name} exited with {}: {}", out.status, crate::text::truncate(last, 200)));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim())
            .map_err(|_| format!("{name} answered no JSON object: {:?}", crate::text::truncate(text.trim(), 120)))
    }
}

/// `{score, pass, reason}`; anything else is the grader's error.
fn read_answer(a: &Value) -> Verdict {
    let score = a["score"].as_f64().filter(|s| (0.0..=1.0).contains(s));
    match (score, a["pass"].as_bool()) {
        (Some(score), Some(pass)) => {
            Verdict::new(score, pass, a["reason"].as_str().unwrap_or(if pass { "passed" } else { "failed" }))
        }
        _ => Verdict::error(format!(
            "command answered {}, not {{score in [0, 1], pass, reason}}",
            crate::text::truncate(&a.to_string(), 120)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{case, grader, output};
    use super::*;
    use crate::trace::Usage;

    async fn run(def: &str, text: &str) -> Verdict {
        let g = grader(def).unwrap();
        let c = case("Sunny in Paris");
        let out = output(text, &[]);
        let usage = Usage::default();
        let s = Subject { case: &c, output: &out, turns: 1, latency_ms: 5, usage: &usage, cost_usd: None };
        g.verdict(&s, None).await
    }

    #[tokio::test]
    async fn commands_read_json_and_answer_json() {
        let def = r#"{type: command, command: 'grep -q \"output\":\"Sunny && echo "{\"score\": 1, \"pass\": true, \"reason\": \"found\"}" || echo "{\"score\": 0, \"pass\": false}"'}"#;
        let v = run(def, "Sunny in Paris").await;
        assert!(v.pass && !v.error && v.reason == "found", "{v:?}");
        let v = run(def, "Rain").await;
        assert!(!v.pass && !v.error, "{v:?}");
    }

    #[tokio::test]
    async fn crashes_bad_answers_and_timeouts_are_grader_errors() {
        let v = run("{type: command, command: 'echo boom >&2; exit 3'}", "x").await;
        assert!(v.error && v.reason.contains("exited with") && v.reason.contains("boom"), "{v:?}");
        let v = run("{type: command, command: 'echo hello'}", "x").await;
        assert!(v.error && v.reason.contains("no JSON"), "{v:?}");
        let v = run("{type: command, command: 'echo {\\\"score\\\": 3, \\\"pass\\\": true}'}", "x").await;
        assert!(v.error, "{v:?}");
        let v = run("{type: command, command: 'sleep 5', timeout_s: 0.2}", "x").await;
        assert!(v.error && v.reason.contains("timed out"), "{v:?}");
        let v = run("{type: command, command: [/no/such/program]}", "x").await;
        assert!(v.error && v.reason.contains("cannot start"), "{v:?}");
    }

    #[tokio::test]
    async fn python_grade_function_as_openai_documents_it() {
        let def = r#"{"type": "python", "name": "Example python grader", "image_tag": "2025-05-08", "source": "from rapidfuzz import fuzz\ndef grade(sample, item) -> float:\n    output_text = sample['output_text']\n    reference_answer = item['recorded_output']\n    return 1.0 if output_text == reference_answer else 0.0\n"}"#;
        // rapidfuzz is not installed here: the import fails, and that is a grader error.
        let v = run(def, "Sunny in Paris").await;
        assert!(v.error && v.reason.contains("ModuleNotFoundError"), "{v:?}");
        let def = def.replace("from rapidfuzz import fuzz\\n", "");
        assert!(run(&def, "Sunny in Paris").await.pass);
        let v = run(&def, "Rain").await;
        assert!(!v.pass && !v.error && v.score == 0.0, "{v:?}");
        let v =
            run(r#"{type: python, source: "def grade(sample, item):\n    while True: pass\n", timeout_s: 0.5}"#, "x")
                .await;
        assert!(v.error && v.reason.contains("timed out"), "{v:?}");
    }
}
