//! The first five minutes: `evals init` and the README's loop, the schemas editors read, and the
//! fit with the shell (completions, man page, colour, `--json`, `-` as stdout).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Project, code, fixture, repo, text};

/// The commands of the README's "loop in five commands", as written there.
fn readme_loop() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## The loop in five commands").nth(1).expect("the README has the loop");
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    block.lines().map(str::to_string).collect()
}

#[test]
fn the_readme_loop_works_verbatim_after_init() {
    let p = Project::new();
    // Step 1 imports the user's capture, `traces.jsonl`: here a real Agents SDK one.
    std::fs::copy(fixture("agents_processor_full.jsonl"), p.path("traces.jsonl")).unwrap();
    let lines = readme_loop();
    assert!(lines[0].starts_with("evals init"), "the loop starts with init: {lines:?}");
    let mut ran = Vec::new();
    for line in &lines {
        if line.starts_with("# ... change the prompt") {
            // The step the reader does by hand: a new prompt in the template.
            let prompt = p.path("evals/prompts/main.j2");
            assert!(prompt.exists(), "init wrote the prompt the README tells to change");
            std::fs::write(&prompt, "{{ case.instructions }} Answer briefly.\n").unwrap();
            continue;
        }
        let command = line.split(" #").next().unwrap().trim();
        let args: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(args[0], "evals", "every step is an evals command: {line}");
        let out = p.evals(&args[1..]);
        assert_eq!(code(&out), 0, "`{command}` failed:\n{}{}", text(&out.stdout), text(&out.stderr));
        ran.push((command.to_string(), text(&out.stdout)));
    }
    assert!(ran.len() >= 7, "{ran:?}");
    let (last, out) = ran.last().unwrap();
    assert!(last.contains("--baseline"), "{last}");
    assert!(out.contains("compared with") && out.contains("gate passed"), "{out}");
    assert!(p.path("runs/base.json").is_file());
}

#[test]
fn init_writes_a_starting_point_and_never_overwrites() {
    let p = Project::new();
    p.write("evals/main.yaml", "# mine\n");
    let out = p.evals_env(&["init", "--ci", "github", "--pre-commit"], &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("kept  evals/main.yaml (it exists)"), "{said}");
    assert_eq!(std::fs::read_to_string(p.path("evals/main.yaml")).unwrap(), "# mine\n");
    assert!(said.contains("OPENAI_API_KEY is not set"), "{said}");
    for f in ["evals/prompts/main.j2", "evals/schemas/suite.json", "evals/schemas/case.json", "datasets/main/.gitkeep"]
    {
        assert!(p.path(f).exists(), "{f} missing:\n{said}");
    }
    let taxonomy = std::fs::read_to_string(p.path("evals/taxonomy.yaml")).unwrap();
    assert!(taxonomy.starts_with("# yaml-language-server: $schema=schemas/taxonomy.json\n"), "{taxonomy}");
    let mock = std::fs::read_to_string(p.path("evals/mock.yaml")).unwrap();
    assert!(mock.starts_with("# yaml-language-server: $schema=schemas/mock.json\n"), "{mock}");
    // The workflow is the README's example, run on the suite init wrote.
    let workflow = std::fs::read_to_string(p.path(".github/workflows/evals.yml")).unwrap();
    let example = std::fs::read_to_string(repo().join("examples/github-actions/evals.yml")).unwrap();
    assert!(workflow.contains("evals/main.yaml"), "the workflow runs another suite:\n{workflow}");
    assert_eq!(workflow.lines().count(), example.lines().count());
    let hooks = std::fs::read_to_string(p.path(".pre-commit-config.yaml")).unwrap();
    assert!(hooks.contains("entry: evals check"), "{hooks}");

    // Without --mock the suite calls the API at OPENAI_BASE_URL.
    let q = Project::new();
    q.evals_env(&["init", "--suite", "support"], &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]);
    let suite = std::fs::read_to_string(q.path("evals/support.yaml")).unwrap();
    assert!(suite.starts_with("# yaml-language-server: $schema=schemas/suite.json\n"), "{suite}");
    assert!(suite.contains("base_url: http://127.0.0.1:9/v1") && suite.contains("api_key_env: OPENAI_API_KEY"));
    assert!(!q.path(".github").exists() && !q.path(".pre-commit-config.yaml").exists(), "asked for neither");
    // `evals check` accepts what init wrote.
    assert_eq!(code(&q.evals(&["check"])), 0);
    let out = q.evals(&["init", "--suite", "../x"]);
    assert_eq!(code(&out), 2, "a suite name is a plain file name: {}", text(&out.stderr));
}

#[test]
fn promoted_and_imported_cases_name_their_schema() {
    let p = Project::new();
    let files = p.with_demo_cases();
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert!(first.starts_with("# yaml-language-server: $schema=../../evals/schemas/case.json\n"), "{first}");
    let jsonl = p.ok(&["dataset", "export", "demo", "--format", "jsonl"]);
    p.write("demo.jsonl", &jsonl);
    p.ok(&["dataset", "import", "demo.jsonl", "--dataset", "copy", "--datasets", "other/data"]);
    let copied = std::fs::read_dir(p.path("other/data/copy")).unwrap().next().unwrap().unwrap().path();
    let copied = std::fs::read_to_string(copied).unwrap();
    assert!(copied.starts_with("# yaml-language-server: $schema=../../../evals/schemas/case.json\n"), "{copied}");
}

/// The committed schemas are what this build generates: a changed type fails until they are
/// regenerated with `evals schema --out schemas`.
#[test]
fn committed_schemas_are_current() {
    let p = Project::new();
    p.ok(&["schema", "--out", "fresh"]);
    for kind in ["suite", "case", "taxonomy", "mock"] {
        let fresh = std::fs::read_to_string(p.path(&format!("fresh/{kind}.json"))).unwrap();
        let committed = std::fs::read_to_string(repo().join(format!("schemas/{kind}.json")))
            .unwrap_or_else(|_| panic!("schemas/{kind}.json is not committed"));
        assert!(fresh == committed, "schemas/{kind}.json is stale: run `cargo run -- schema --out schemas`");
        assert_eq!(p.ok(&["schema", kind]), committed);
    }
    let all: serde_json::Value = serde_json::from_str(&p.ok(&["schema", "--out", "-"])).unwrap();
    assert_eq!(all["case"]["title"], "Case");
    assert!(!p.path("-").exists());
}

fn validator(kind: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(format!("schemas/{kind}.json"))).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(yaml: &str) -> serde_json::Value {
    evals::yaml::to_json(&evals::yaml::parse_any(yaml).unwrap()).unwrap()
}

/// `evals check` and the schema give the same verdict on each file (`valid` is what both say).
fn agree(kind: &str, dir: &str, files: &[(&str, bool, String)], setup: impl Fn(&Project)) {
    let schema = validator(kind);
    for (what, valid, body) in files {
        let p = Project::new();
        setup(&p);
        let file = p.write(&format!("{dir}/file.yaml"), body);
        let by_schema = schema.is_valid(&as_json(body));
        let out = p.evals(&["check", file.to_str().unwrap()]);
        let by_check = code(&out) == 0;
        assert_eq!(by_schema, *valid, "{kind} {what}: the schema says {by_schema}:\n{body}");
        assert_eq!(by_check, *valid, "{kind} {what}: check says {by_check}:\n{}{body}", text(&out.stdout));
    }
}

#[test]
fn check_and_the_schemas_agree_on_valid_and_invalid_files() {
    let suite = "name: s\ntarget: {model: m, instructions: {file: p.j2}, tool_policy: {search: recorded, mail: {use: mock, output: sent}}}\n\
                 provider: {mock: builtin, concurrency: 2}\ncases: [../datasets/demo]\n\
                 graders: [{type: contains, value: x}, {type: contains-any, values: [a]}]\ngate: {min_pass_rate: 0.9, max_errors: 5%}\n";
    agree(
        "suite",
        "evals",
        &[
            ("as documented", true, suite.to_string()),
            ("unknown key", false, suite.replace("target:", "targett:")),
            ("a count as text", false, format!("{suite}repeat: many\n")),
            ("no cases", false, suite.replace("cases: [../datasets/demo]\n", "")),
            ("a grader without a type", false, suite.replace("{type: contains, value: x}", "{value: x}")),
            ("an unknown grader", false, suite.replace("type: contains,", "type: contians,")),
            ("instructions as a list", false, suite.replace("{file: p.j2}", "[a]")),
        ],
        |p| {
            std::fs::create_dir_all(p.path("datasets/demo")).unwrap();
            p.write("evals/p.j2", "Hi");
        },
    );

    let case =
        std::fs::read_to_string(repo().join("datasets/demo/call-tool-get-weather-city-paris-a258354f.yaml")).unwrap();
    agree(
        "case",
        "datasets/demo",
        &[
            ("as promoted", true, case.clone()),
            ("unknown key", false, case.replace("label:", "lable:")),
            ("an unknown verdict", false, case.replace("verdict: pass", "verdict: maybe")),
            ("no input", false, case.replace("input:", "inputs:")),
            ("a privacy status of its own", false, case.replace("status: clean", "status: fine")),
        ],
        |_| {},
    );

    let taxonomy = std::fs::read_to_string(repo().join("evals/taxonomy.yaml")).unwrap();
    agree(
        "taxonomy",
        "evals",
        &[
            ("the starter", true, taxonomy.clone()),
            ("a version as text", false, taxonomy.replace("version: 1", "version: one")),
            ("unknown key", false, taxonomy.replacen("    title: Tool use", "    titel: Tool use", 1)),
        ],
        |_| {},
    );

    // Mock scripts are read by the run that uses them; `check` leaves them alone.
    let schema = validator("mock");
    let mock = std::fs::read_to_string(repo().join("evals/mock.yaml")).unwrap();
    for (body, valid) in [
        (mock.clone(), true),
        (format!("{mock}faults:\n  - {{rate: 0.1, status: 429}}\n"), true),
        (mock.replace("rules:", "rulez:"), false),
        (format!("{mock}latency_ms: soon\n"), false),
    ] {
        let p = Project::new();
        p.with_demo_cases();
        let suite = p.suite("demo", "");
        p.write("mock.yaml", &body);
        let yaml = std::fs::read_to_string(&suite).unwrap();
        let yaml = yaml
            .replace(&repo().join("evals/mock.yaml").display().to_string(), &p.path("mock.yaml").display().to_string());
        std::fs::write(&suite, yaml).unwrap();
        let out = p.evals(&["run", suite.to_str().unwrap(), "--quiet"]);
        assert_eq!(schema.is_valid(&as_json(&body)), valid, "{body}");
        assert_eq!(code(&out) != 2, valid, "{body}\n{}", text(&out.stderr));
    }
}

#[test]
fn completions_complete_in_bash_and_the_man_page_lists_the_commands() {
    let p = Project::new();
    for (shell, marker) in [
        ("bash", "complete -F _evals"),
        ("zsh", "#compdef evals"),
        ("fish", "complete -c evals"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        assert!(p.ok(&["completions", shell]).contains(marker), "{shell}");
    }
    let script = p.path("evals.bash");
    std::fs::write(&script, p.ok(&["completions", "bash"])).unwrap();
    // Bash itself completes `evals ini` and `evals runs s`.
    let complete = |words: &str, cword: usize| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _evals evals \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .unwrap();
        text(&out.stdout)
    };
    assert_eq!(complete("evals ini", 1).trim(), "init");
    assert!(complete("evals runs s", 2).lines().any(|l| l == "show"));
    let man = p.ok(&["man"]);
    assert!(man.starts_with(".ie") && man.contains(".TH evals 1"), "{}", &man[..200.min(man.len())]);
    for command in ["init", "traces", "run", "check", "completions"] {
        assert!(man.contains(&format!("evals\\-{command}")) || man.contains(command), "{command}");
    }
}

#[test]
fn color_follows_the_flag_no_color_and_clicolor_force() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let run: serde_json::Value =
        serde_json::from_slice(&p.evals(&["run", suite.to_str().unwrap(), "--out", "-", "--quiet"]).stdout).unwrap();
    let id = run["id"].as_str().unwrap();
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["runs", "show", id];
        all.extend(args);
        let out = p.evals_env(&all, env);
        assert_eq!(code(&out), 0);
        text(&out.stdout).contains('\u{1b}')
    };
    // Output into a pipe: no colour unless asked for.
    assert!(!coloured(&[], &[]));
    assert!(coloured(&["--color", "always"], &[]));
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&[], &[("CLICOLOR_FORCE", "0")]));
    assert!(!coloured(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!coloured(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(coloured(&["--color=always"], &[("NO_COLOR", "1")]), "the flag wins over the environment");
}

#[test]
fn every_listing_has_json_and_dash_is_stdout() {
    let p = Project::new();
    p.with_demo_cases();
    let suite = p.suite("demo", "");
    let suite = suite.to_str().unwrap();
    p.ok(&["run", suite, "--quiet"]);
    let json = |args: &[&str]| -> serde_json::Value {
        let out = p.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} is not JSON ({e}):\n{out}"))
    };
    let runs = json(&["runs", "list", "--json"]);
    let id = runs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(runs[0]["suite"]["name"], "demo");
    let shown = json(&["runs", "show", &id, "--json"]);
    assert_eq!(shown["run"]["results"].as_array().unwrap().len(), 3);
    assert_eq!(shown["trend"].as_array().unwrap().len(), 1);
    let flaky = json(&["runs", "flaky", "demo", "--json"]);
    assert_eq!(flaky["runs"], 1);
    let cases = json(&["cases", "list", "--json"]);
    assert_eq!(cases.as_array().unwrap().len(), 3);
    assert_eq!(cases[0]["dataset"], "demo");
    let taxonomy = json(&["taxonomy", "--json"]);
    assert!(taxonomy["categories"].as_array().unwrap().iter().any(|c| c["id"] == "wrong_tool"));
    p.write("datasets/demo/bad.yaml", "id: x\n");
    let out = p.evals(&["check", "--json"]);
    assert_eq!(code(&out), 1);
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        checked["problems"].as_array().unwrap().iter().any(|pr| pr["file"].as_str().unwrap().ends_with("bad.yaml"))
    );
    std::fs::remove_file(p.path("datasets/demo/bad.yaml")).unwrap();

    // `merge --out -` joins `run --out -`, `--report json:-`, `baseline bless --out -`.
    let out = p.evals(&["run", suite, "--shard", "1/1", "--out", "s1.json", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = p.evals(&["merge", "s1.json", "--out", "-"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the merged run alone");
    assert_eq!(merged["results"].as_array().unwrap().len(), 3);
    assert!(!p.path("-").exists() && !Path::new("-").exists());
}
