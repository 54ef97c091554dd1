//! What every integration test uses: the binary in a scratch project, fixtures, output helpers.
// Each test binary uses its own subset of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/agents-sdk").join(name)
}

/// A scratch project: its own store, datasets and suites.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn evals(&self, args: &[&str]) -> Output {
        self.evals_env(args, &[])
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.evals(args);
        assert!(out.status.success(), "evals {args:?} failed:\n{}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    pub fn write(&self, p: &str, content: &str) -> PathBuf {
        let path = self.path(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Import the fixture and promote its three traces into `datasets/demo`.
    pub fn with_demo_cases(&self) -> Vec<PathBuf> {
        self.ok(&["traces", "import", fixture("agents_processor_full.jsonl").to_str().unwrap()]);
        for id in ["trace_1a36", "trace_6a4a", "trace_07ac"] {
            self.ok(&["promote", id, "--dataset", "demo", "--verdict", "pass"]);
        }
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(self.path("datasets/demo")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files
    }

    /// A suite like the shipped demo, over this project's datasets, with the repo's mock script.
    pub fn suite(&self, name: &str, style: &str) -> PathBuf {
        let mock = repo().join("evals/mock.yaml");
        self.write(
            &format!("evals/{name}.yaml"),
            &format!(
                "name: {name}\ntarget:\n  model: fake-model\n  instructions: 'Answer, call get_weather, or hand off to the expert.{style}'\n\
                 provider: {{mock: '{}'}}\ncases: [../datasets/demo]\ngraders:\n  - {{name: same answer, type: similarity, threshold: 0.9}}\n\
                 gate: {{min_pass_rate: 1.0}}\n",
                mock.display()
            ),
        )
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

impl Project {
    /// `evals` with extra environment variables; nothing of the caller's OpenAI or GitHub
    /// environment leaks in.
    pub fn evals_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_evals"))
            .args(args)
            .current_dir(self.dir.path())
            .env("EVALS_STORE", self.path(".evals/evals.db"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("GITHUB_STEP_SUMMARY")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
}
