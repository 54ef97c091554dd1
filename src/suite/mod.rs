//! Suites: the suite file, loading it with located errors, validating it before any request,
//! and resolving each case into what replay sends.

pub mod gate;
pub mod policy;
pub mod select;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::dataset::{Case, CaseFile, Handoff};
use crate::provider::client;
use crate::provider::naming::{handoff_tool_name, js_handoff_tool_name};
use crate::provider::pricing::{Price, PriceTable};
use crate::provider::retry::RetryPolicy;
use crate::suite::gate::MaxErrors;
use crate::suite::policy::{Policies, Policy, Unmatched};
use crate::template;
use crate::trace::ModelApi;
use crate::yaml::{self, Source, YamlError};
use gate::Gate;

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read suite {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error("{0}")]
    Set(String),
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // Documentation for readers of the file; not used by the run.
    description: Option<String>,
    #[serde(default)]
    target: TargetFile,
    #[serde(default)]
    provider: ProviderFile,
    cases: Vec<String>,
    /// Each grader's keys depend on its `type`; the schema generator names the known types.
    #[serde(default)]
    #[schemars(with = "Vec<Map<String, Value>>")]
    graders: Vec<yaml::Value>,
    /// Weighted grader score a case must reach; absent, every grader must pass.
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    gate: Gate,
    /// Samples per case.
    #[serde(default)]
    repeat: Option<u32>,
    /// The response cache: `on` (the default), `off`, or `{ttl: 7d}`.
    #[serde(default)]
    #[schemars(with = "Option<Value>")]
    cache: Option<yaml::Value>,
    /// Prices per model name prefix (USD per million tokens), over the built-in table.
    #[serde(default)]
    pricing: BTreeMap<String, Price>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    #[serde(default)]
    model: Option<String>,
    /// Inline template text, or `{file: path}`.
    #[serde(default)]
    #[schemars(with = "Option<InstructionsSchema>")]
    instructions: Option<yaml::Value>,
    #[serde(default)]
    vars: Map<String, Value>,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default)]
    max_turns: Option<u32>,
    /// Per-tool answer policy (`default` for the tools not named).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, PolicySchema>")]
    tool_policy: BTreeMap<String, yaml::Value>,
    /// Several agents with handoffs; replaces the case's agents.
    #[serde(default)]
    agents: Vec<AgentFile>,
    /// The agent the conversation starts with (default: the first of `agents`).
    #[serde(default)]
    entry: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    name: String,
    #[serde(default)]
    #[schemars(with = "Option<InstructionsSchema>")]
    instructions: Option<yaml::Value>,
    #[serde(default)]
    tools: Vec<Value>,
    /// Agents this one can hand off to: a name (the tool is the Python SDK's default name) or
    /// `{agent: NAME, tool: TOOL}` for the tool name the app gives it.
    #[serde(default)]
    handoffs: Vec<HandoffFile>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    params: Map<String, Value>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum HandoffFile {
    Agent(String),
    Named { agent: String, tool: String },
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(rename = "use")]
    kind: String,
    /// `mock`: the answer, a minijinja template over the call's arguments.
    #[serde(default)]
    output: Option<String>,
    /// `mock`: answer the model with this error text instead.
    #[serde(default)]
    error: Option<String>,
    /// `recorded`: `error` (default) ends the case on a call with no recording; `continue`
    /// answers it with an error text and goes on.
    #[serde(default)]
    unmatched: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    file: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    api_key_env: Option<String>,
    #[serde(default)]
    concurrency: Option<usize>,
    #[serde(default)]
    timeout_s: Option<f64>,
    /// Run against the built-in mock model with this script (`builtin` for the default one).
    #[serde(default)]
    mock: Option<String>,
    /// `responses` (default) or `chat_completions`, for agents that call that API.
    #[serde(default)]
    api: Option<ModelApi>,
    /// Retries of a failed request (rate limit, server error, timeout, connection).
    #[serde(default)]
    max_retries: Option<u32>,
    /// First backoff delay in milliseconds; doubled on each retry, with jitter.
    #[serde(default)]
    backoff_ms: Option<u64>,
}

/// The shapes `instructions` takes, for the JSON Schema only (the loader reads the YAML value).
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum InstructionsSchema {
    Inline(String),
    File(TemplateFile),
}

/// The shapes a tool policy takes (`recorded`, `error`, or the long form), for the schema only.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PolicySchema {
    Short(String),
    Long(PolicyFile),
}

/// The JSON Schema of suite files.
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(SuiteFile)
}

/// The SDK's default turn limit.
pub const DEFAULT_MAX_TURNS: u32 = 10;

#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub path: PathBuf,
    /// sha256 of the suite file's text.
    pub hash: String,
    pub source: Source,
    pub target: Target,
    pub provider: Provider,
    pub datasets: Vec<PathBuf>,
    /// The `graders:` entries as written; `grade` parses them against `source`.
    pub graders: Vec<GraderDef>,
    pub threshold: Option<f64>,
    pub gate: Gate,
    pub repeat: u32,
    pub cache: CacheSetting,
    pub prices: PriceTable,
}

/// The most samples per case a run takes (`repeat`, `--repeat`).
pub const MAX_REPEAT: u32 = 1000;
/// The most cases replayed at once (`provider.concurrency`, `--concurrency`).
pub const MAX_CONCURRENCY: usize = 4096;

/// One entry of a suite's `graders:` list, where it stands (`graders[2]`) and what it says.
#[derive(Debug, Clone)]
pub struct GraderDef {
    pub path: String,
    pub value: yaml::Value,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub model: Option<String>,
    pub instructions: Option<Instructions>,
    pub vars: Map<String, Value>,
    pub params: Map<String, Value>,
    pub tools: Option<Vec<Value>>,
    pub max_turns: u32,
    pub policies: Policies,
    pub agents: Vec<SuiteAgent>,
    pub entry: Option<String>,
}

/// An agent of the suite's target, its handoff tools already added to `tools`.
#[derive(Debug, Clone)]
pub struct SuiteAgent {
    pub name: String,
    pub instructions: Option<Instructions>,
    pub tools: Vec<Value>,
    /// (tool, agent) of each handoff it offers.
    pub handoffs: Vec<(String, String)>,
    pub model: Option<String>,
    pub params: Map<String, Value>,
}

/// The prompt under test: a template, inline or from a file (whose folder serves includes).
#[derive(Debug, Clone)]
pub struct Instructions {
    pub text: String,
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Mock {
    Builtin,
    Script(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub base_url: Option<String>,
    pub api_key_env: String,
    pub concurrency: usize,
    pub timeout: Duration,
    pub mock: Option<Mock>,
    /// The API replay sends model calls to.
    pub api: ModelApi,
    pub retry: RetryPolicy,
}

/// One case resolved against the suite: exactly what replay sends.
#[derive(Debug, Clone)]
pub struct CasePlan {
    pub case: Case,
    pub model: String,
    pub instructions: Option<String>,
    pub tools: Vec<Value>,
    pub params: Map<String, Value>,
    pub max_turns: u32,
    pub policies: Policies,
    /// Agents reachable by handoff, with their resolved instructions and tools.
    pub agents: Vec<AgentPlan>,
    pub entry_agent: Option<String>,
    /// Which tool call switches to which agent (and from which, when known).
    pub handoffs: Vec<Handoff>,
}

#[derive(Debug, Clone)]
pub struct AgentPlan {
    pub name: String,
    pub instructions: Option<String>,
    pub tools: Vec<Value>,
    /// The agent's own model and params; absent, the plan's.
    pub model: Option<String>,
    pub params: Map<String, Value>,
}

impl Suite {
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        Suite::load_with(path, &[])
    }

    /// Load with `--set key.path=value` overrides applied to the file's YAML first; the
    /// suite's hash is then of the overridden text, so a resumed or compared run sees them.
    pub fn load_with(path: &Path, sets: &[String]) -> Result<Suite, SuiteError> {
        let mut source = Source::read(path).map_err(|source| SuiteError::Read { path: path.to_path_buf(), source })?;
        if !sets.is_empty() {
            source = apply_sets(source, sets)?;
        }
        let file: SuiteFile = source.parse()?;
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let resolve = |p: &str| if Path::new(p).is_absolute() { PathBuf::from(p) } else { dir.join(p) };

        let load_instructions = |value: &Option<yaml::Value>, key: &str| -> Result<Option<Instructions>, YamlError> {
            let instructions = match value {
                None => None,
                Some(yaml::Value::String(text)) => Some(Instructions { text: text.clone(), file: None }),
                Some(v) => {
                    let t: TemplateFile = source.parse_value(v.clone(), key)?;
                    let file = resolve(&t.file);
                    let text = std::fs::read_to_string(&file).map_err(|e| {
                        source.error_at(&format!("{key}.file"), format!("cannot read template {}: {e}", file.display()))
                    })?;
                    Some(Instructions { text, file: Some(file) })
                }
            };
            if let Some(i) = &instructions {
                let env = template::environment(i.file.as_deref().and_then(Path::parent));
                template::check(&env, &i.text)
                    .map_err(|e| source.error_at(key, format!("bad template: {}", template::describe(&e))))?;
            }
            Ok(instructions)
        };
        let instructions = load_instructions(&file.target.instructions, "target.instructions")?;
        let mut agents = Vec::new();
        for (i, a) in file.target.agents.iter().enumerate() {
            let key = format!("target.agents[{i}]");
            if file.target.agents[..i].iter().any(|b| b.name == a.name) {
                return Err(source
                    .error_at(&format!("{key}.name"), format!("agent {:?} is defined twice", a.name))
                    .into());
            }
            let mut tools = a.tools.clone();
            let mut handoffs = Vec::new();
            for (j, h) in a.handoffs.iter().enumerate() {
                let (to, tool) = match h {
                    HandoffFile::Agent(to) => (to, handoff_tool_name(to)),
                    HandoffFile::Named { agent, tool } => (agent, tool.clone()),
                };
                let Some(target) = file.target.agents.iter().find(|b| &b.name == to) else {
                    return Err(source
                        .error_at(&format!("{key}.handoffs[{j}]"), format!("no agent named {to:?} in target.agents"))
                        .into());
                };
                tools.push(handoff_tool(&target.name, &tool));
                handoffs.push((tool, target.name.clone()));
            }
            agents.push(SuiteAgent {
                name: a.name.clone(),
                instructions: load_instructions(&a.instructions, &format!("{key}.instructions"))?,
                tools,
                handoffs,
                model: a.model.clone(),
                params: a.params.clone(),
            });
        }
        if let Some(e) = &file.target.entry
            && !agents.iter().any(|a| &a.name == e)
        {
            return Err(source.error_at("target.entry", format!("no agent named {e:?} in target.agents")).into());
        }

        let mut datasets = Vec::new();
        for (i, c) in file.cases.iter().enumerate() {
            let p = resolve(c);
            if !p.is_dir() {
                return Err(source
                    .error_at(&format!("cases[{i}]"), format!("dataset folder {} does not exist", p.display()))
                    .into());
            }
            datasets.push(p);
        }
        if datasets.is_empty() {
            return Err(source.error_at("cases", "`cases` lists no dataset folder").into());
        }

        let graders: Vec<GraderDef> = file
            .graders
            .iter()
            .enumerate()
            .map(|(i, g)| GraderDef { path: format!("graders[{i}]"), value: g.clone() })
            .collect();
        if graders.is_empty() {
            return Err(source
                .error_at("graders", "the suite has no graders: add at least one under `graders:`")
                .into());
        }
        if let Some(t) = file.threshold.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(source.error_at("threshold", format!("threshold {t} is not between 0 and 1")).into());
        }

        if let Some(r) = file.gate.min_pass_rate.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(source
                .error_at("gate.min_pass_rate", format!("min_pass_rate {r} is not between 0 and 1"))
                .into());
        }
        if let Some(a) = file.gate.significance.filter(|a| !(*a > 0.0 && *a < 1.0)) {
            return Err(source
                .error_at("gate.significance", format!("significance {a} is not between 0 and 1"))
                .into());
        }
        let cache = parse_cache(&source, file.cache.as_ref())?;
        if let Some(MaxErrors::Share(text)) = &file.gate.max_errors
            && let Err(e) = MaxErrors::share(text)
        {
            return Err(source.error_at("gate.max_errors", e).into());
        }
        let p = &file.provider;
        // Bounds, so a typo (`repeat: 4294967295`) is a located error, not an endless job list.
        let bounds: [(&str, Option<u64>, u64, u64); 5] = [
            ("provider.concurrency", p.concurrency.map(|c| c as u64), 1, MAX_CONCURRENCY as u64),
            ("provider.max_retries", p.max_retries.map(u64::from), 0, 100),
            ("provider.backoff_ms", p.backoff_ms, 0, 600_000),
            ("repeat", file.repeat.map(u64::from), 1, u64::from(MAX_REPEAT)),
            ("target.max_turns", file.target.max_turns.map(u64::from), 1, 1000),
        ];
        for (key, value, min, max) in bounds {
            if let Some(v) = value.filter(|v| !(min..=max).contains(v)) {
                let name = key.rsplit('.').next().unwrap_or(key);
                return Err(source.error_at(key, format!("{name} {v} is not between {min} and {max}")).into());
            }
        }
        if let Some(u) = &p.base_url
            && let Err(e) = client::base_url_ok(u)
        {
            return Err(source.error_at("provider.base_url", e.to_string()).into());
        }
        let timeout = source.seconds("provider.timeout_s", p.timeout_s.unwrap_or(120.0))?;
        let mock = match p.mock.as_deref() {
            None => None,
            Some("builtin") => Some(Mock::Builtin),
            Some(m) => {
                let script = resolve(m);
                if !script.is_file() {
                    return Err(source
                        .error_at("provider.mock", format!("mock script {} does not exist", script.display()))
                        .into());
                }
                Some(Mock::Script(script))
            }
        };

        let mut policies = Policies::default();
        for (tool, v) in &file.target.tool_policy {
            let policy = parse_policy(&source, &format!("target.tool_policy.{tool}"), v)?;
            if tool == "default" {
                policies.default = policy;
            } else {
                policies.tools.insert(tool.clone(), policy);
            }
        }

        let name = file.name.clone().unwrap_or_else(|| {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "suite".into())
        });
        Ok(Suite {
            name,
            path: path.to_path_buf(),
            hash: format!("sha256:{}", hex::encode(Sha256::digest(source.text.as_bytes()))),
            target: Target {
                model: file.target.model,
                instructions,
                vars: file.target.vars,
                params: file.target.params,
                tools: file.target.tools,
                max_turns: file.target.max_turns.unwrap_or(DEFAULT_MAX_TURNS),
                policies,
                entry: file.target.entry.clone().or_else(|| agents.first().map(|a| a.name.clone())),
                agents,
            },
            provider: Provider {
                base_url: p.base_url.clone(),
                api_key_env: p.api_key_env.clone().unwrap_or_else(|| "OPENAI_API_KEY".into()),
                api: p.api.unwrap_or(ModelApi::Responses),
                concurrency: p.concurrency.unwrap_or(8),
                timeout,
                mock,
                retry: RetryPolicy {
                    max_retries: p.max_retries.unwrap_or(RetryPolicy::default().max_retries),
                    base_delay: p.backoff_ms.map(Duration::from_millis).unwrap_or(RetryPolicy::default().base_delay),
                    ..RetryPolicy::default()
                },
            },
            datasets,
            graders,
            threshold: file.threshold,
            gate: file.gate,
            repeat: file.repeat.unwrap_or(1),
            cache,
            prices: PriceTable::default().with_overrides(&file.pricing),
            source,
        })
    }

    /// Resolve every case: the suite's model, prompt, tools and params replace what the case
    /// recorded. Template errors (an undefined variable) are reported here, before any request.
    pub fn plan(&self, cases: Vec<CaseFile>) -> Result<Vec<CasePlan>, YamlError> {
        let planner = self.planner();
        cases.into_iter().map(|cf| planner.plan(cf.case)).collect()
    }

    /// A planner for this suite: its template environments are built once, then cases are
    /// planned one at a time (a large run plans each case as its turn comes).
    pub fn planner(&self) -> Planner<'_> {
        // One environment per template folder.
        let env_of = |t: &Instructions| template::environment(t.file.as_deref().and_then(Path::parent));
        Planner {
            suite: self,
            target_env: self.target.instructions.as_ref().map(env_of),
            agent_envs: self.target.agents.iter().map(|a| a.instructions.as_ref().map(env_of)).collect(),
        }
    }

    /// What an instructions template sees: the suite's vars, and the case.
    fn template_context(&self, case: &Case) -> Value {
        let mut ctx = self.target.vars.clone();
        ctx.insert(
            "case".into(),
            json!({
                "id": case.id,
                "tags": case.tags,
                "metadata": case.source.metadata,
                "instructions": case.input.instructions,
            }),
        );
        Value::Object(ctx)
    }
}

/// `cache:`: whether model and judge answers come from the store's response cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheSetting {
    #[default]
    On,
    Off,
    /// Answers older than this are asked again, so a nightly run notices a model that changed
    /// behind the same name.
    Ttl(Duration),
}

fn parse_cache(source: &Source, v: Option<&yaml::Value>) -> Result<CacheSetting, YamlError> {
    let bad = || source.error_at("cache", "cache is `on`, `off` or `{ttl: 7d}`");
    match v {
        None => Ok(CacheSetting::On),
        Some(yaml::Value::Bool(b)) => Ok(if *b { CacheSetting::On } else { CacheSetting::Off }),
        Some(yaml::Value::String(s)) if s == "on" => Ok(CacheSetting::On),
        Some(yaml::Value::String(s)) if s == "off" => Ok(CacheSetting::Off),
        Some(yaml::Value::Mapping(m)) => {
            let ttl = match (m.len(), m.get("ttl")) {
                (1, Some(yaml::Value::String(t))) => t,
                _ => return Err(bad()),
            };
            let d = crate::text::parse_duration(ttl)
                .ok()
                .and_then(|d| d.to_std().ok())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| source.error_at("cache.ttl", format!("ttl {ttl:?} is not a duration like 12h or 7d")))?;
            Ok(CacheSetting::Ttl(d))
        }
        Some(_) => Err(bad()),
    }
}

/// One tool's policy: `recorded`, `error`, or a mapping with `use:` and its settings.
fn parse_policy(source: &Source, path: &str, v: &yaml::Value) -> Result<Policy, YamlError> {
    let f = match v {
        yaml::Value::String(kind) => PolicyFile { kind: kind.clone(), output: None, error: None, unmatched: None },
        _ => source.parse_value(v.clone(), path)?,
    };
    let extra = |what: &str| source.error_at(path, format!("`{what}` does not go with `use: {}`", f.kind));
    match f.kind.as_str() {
        "recorded" => {
            if f.output.is_some() || f.error.is_some() {
                return Err(extra(if f.output.is_some() { "output" } else { "error" }));
            }
            let unmatched = match f.unmatched.as_deref() {
                None | Some("error") => Unmatched::Error,
                Some("continue") => Unmatched::Continue,
                Some("by_order") => Unmatched::ByOrder,
                Some(other) => {
                    return Err(source.error_at(
                        &format!("{path}.unmatched"),
                        format!("{other:?} is not `error`, `continue` or `by_order`"),
                    ));
                }
            };
            Ok(Policy::Recorded { unmatched })
        }
        "mock" => {
            if f.unmatched.is_some() {
                return Err(extra("unmatched"));
            }
            match (f.output, f.error) {
                (Some(t), None) => {
                    template::check(template::inline(), &t).map_err(|e| {
                        source.error_at(&format!("{path}.output"), format!("bad template: {}", template::describe(&e)))
                    })?;
                    Ok(Policy::Mock(t))
                }
                (None, Some(e)) => Ok(Policy::MockError(e)),
                _ => Err(source.error_at(path, "`use: mock` needs exactly one of `output` or `error`")),
            }
        }
        "error" => {
            if f.output.is_some() || f.error.is_some() || f.unmatched.is_some() {
                return Err(extra("output/error/unmatched"));
            }
            Ok(Policy::Error)
        }
        other => Err(source.error_at(path, format!("unknown tool policy {other:?}: use recorded, mock or error"))),
    }
}

/// The handoffs a case recorded; a case promoted before they were recorded knows its agents
/// only, so a call of either SDK's default tool name for one of them switches to it.
pub fn recorded_handoffs(case: &Case) -> Vec<Handoff> {
    if !case.handoffs.is_empty() {
        return case.handoffs.clone();
    }
    case.agents
        .iter()
        .flat_map(|a| {
            [handoff_tool_name(&a.name), js_handoff_tool_name(&a.name)].map(|tool| Handoff {
                from: None,
                tool,
                to: a.name.clone(),
            })
        })
        .collect()
}

/// The function tool the Agents SDK offers for a handoff to `agent`, named `name`.
fn handoff_tool(agent: &str, name: &str) -> Value {
    json!({
        "type": "function",
        "name": name,
        "description": format!("Handoff to the {agent} agent to handle the request."),
        "parameters": {"type": "object", "properties": {}, "required": [], "additionalProperties": false},
        "strict": true,
    })
}

/// The suite text with every `key.path=value` set; errors then point into this text, under the
/// file's name marked `(with overrides)`.
fn apply_sets(source: Source, sets: &[String]) -> Result<Source, SuiteError> {
    let bad = |m: String| SuiteError::Set(m);
    let mut doc = yaml::parse_any(&source.text).map_err(|e| bad(format!("{}: {e}", source.file.display())))?;
    for set in sets {
        let (key, value) = set.split_once('=').ok_or_else(|| bad(format!("override {set:?}: give KEY.PATH=VALUE")))?;
        let value = yaml::parse_any(value).map_err(|e| bad(format!("override {set:?}: the value is not YAML: {e}")))?;
        let mut node = &mut doc;
        for part in key.split('.') {
            if part.is_empty() {
                return Err(bad(format!("override {set:?}: empty key in the path")));
            }
            if node.is_null() {
                *node = yaml::Value::Mapping(Default::default());
            }
            node = match node {
                yaml::Value::Mapping(m) => m.entry(yaml::Value::String(part.to_string())).or_insert(yaml::Value::Null),
                yaml::Value::Sequence(list) => {
                    let i: usize =
                        part.parse().map_err(|_| bad(format!("override {set:?}: {part:?} is not a list index")))?;
                    let n = list.len();
                    list.get_mut(i)
                        .ok_or_else(|| bad(format!("override {set:?}: index {i} is past the list's end ({n})")))?
                }
                _ => return Err(bad(format!("override {set:?}: {part:?} is inside a value that is not a mapping"))),
            };
        }
        *node = value;
    }
    let text = yaml::to_string(&doc).map_err(|e| bad(e.to_string()))?;
    Ok(Source::new(format!("{} (with overrides)", source.file.display()), text))
}

/// Plans cases one at a time against a suite.
pub struct Planner<'a> {
    suite: &'a Suite,
    target_env: Option<minijinja::Environment<'static>>,
    agent_envs: Vec<Option<minijinja::Environment<'static>>>,
}

impl Planner<'_> {
    fn render(
        &self,
        env: &Option<minijinja::Environment>,
        t: &Instructions,
        case: &Case,
        key: &str,
    ) -> Result<String, YamlError> {
        let env = env.as_ref().expect("an environment for every template");
        template::render(env, &t.text, &self.suite.template_context(case)).map_err(|e| {
            self.suite.source.error_at(key, format!("template fails for case {}: {}", case.id, template::describe(&e)))
        })
    }

    /// Resolve one case: what replay sends for it.
    pub fn plan(&self, case: Case) -> Result<CasePlan, YamlError> {
        let model = self.suite.target.model.clone().or_else(|| case.source.model.clone()).ok_or_else(|| {
            self.suite.source.error_at("target.model", format!("case {} recorded no model; set target.model", case.id))
        })?;
        // The suite's agents replace the case's: the entry agent sets the first request.
        let mut suite_agents = Vec::new();
        for (i, a) in self.suite.target.agents.iter().enumerate() {
            let key = format!("target.agents[{i}].instructions");
            suite_agents.push(AgentPlan {
                name: a.name.clone(),
                instructions: a
                    .instructions
                    .as_ref()
                    .map(|t| self.render(&self.agent_envs[i], t, &case, &key))
                    .transpose()?,
                tools: a.tools.clone(),
                model: a.model.clone(),
                params: a.params.clone(),
            });
        }
        let mut params = case.input.params.clone();
        params.extend(self.suite.target.params.clone());
        let mut plan = CasePlan {
            instructions: match &self.suite.target.instructions {
                Some(t) => Some(self.render(&self.target_env, t, &case, "target.instructions")?),
                None => case.input.instructions.clone(),
            },
            model,
            tools: self.suite.target.tools.clone().unwrap_or_else(|| case.tools.clone()),
            params,
            max_turns: self.suite.target.max_turns,
            policies: self.suite.target.policies.clone(),
            agents: case
                .agents
                .iter()
                .map(|a| AgentPlan {
                    name: a.name.clone(),
                    instructions: a.instructions.clone(),
                    tools: a.tools.clone(),
                    model: None,
                    params: Map::new(),
                })
                .collect(),
            entry_agent: case.input.agent.clone(),
            handoffs: recorded_handoffs(&case),
            case,
        };
        if !suite_agents.is_empty() {
            let entry = self.suite.target.entry.as_deref().unwrap_or_default();
            let first = suite_agents.iter().find(|a| a.name == entry).expect("entry checked at load").clone();
            plan.instructions = first.instructions;
            plan.tools = first.tools;
            if let Some(m) = first.model {
                plan.model = m;
            }
            plan.params.extend(first.params);
            plan.entry_agent = Some(first.name);
            plan.agents = suite_agents;
            plan.handoffs = self
                .suite
                .target
                .agents
                .iter()
                .flat_map(|a| {
                    a.handoffs.iter().map(|(tool, to)| Handoff {
                        from: Some(a.name.clone()),
                        tool: tool.clone(),
                        to: to.clone(),
                    })
                })
                .collect();
        }
        Ok(plan)
    }
}

/// sha256 over the instructions one plan sends: the part of [`instructions_hash`] for one case.
pub fn instructions_digest(plan: &CasePlan) -> [u8; 32] {
    Sha256::digest(plan.instructions.as_deref().unwrap_or_default().as_bytes()).into()
}

/// sha256 over every case's instructions digest, in case order: changes exactly when a prompt does.
pub fn instructions_hash(digests: impl IntoIterator<Item = [u8; 32]>) -> String {
    let mut h = Sha256::new();
    for d in digests {
        h.update(d);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// sha256 over the cases' ids and content hashes.
pub fn dataset_hash<'a>(cases: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut h = Sha256::new();
    for (id, content_hash) in cases {
        h.update(id.as_bytes());
        h.update([0]);
        h.update(content_hash.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn setup(suite: &str) -> (tempfile::TempDir, Result<Suite, SuiteError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("datasets/demo")).unwrap();
        let p = write(dir.path(), "evals/s.yaml", suite);
        let s = Suite::load(&p);
        (dir, s)
    }

    #[test]
    fn loads_a_complete_suite() {
        let (_d, s) = setup(
            "name: demo\ntarget:\n  model: gpt-4.1\n  instructions: 'Be {{ tone }}.'\n  vars: {tone: brief}\n  max_turns: 4\n\
             provider: {concurrency: 2, mock: builtin}\ncases: [../datasets/demo]\ngraders:\n  - {type: contains, value: x}\n  - {type: contains, value: y}\ngate: {min_pass_rate: 0.9}\n",
        );
        let s = s.unwrap();
        assert_eq!(s.name, "demo");
        assert_eq!(s.target.max_turns, 4);
        assert_eq!(s.provider.concurrency, 2);
        assert!(matches!(s.provider.mock, Some(Mock::Builtin)));
        let graders = crate::grade::Graders::load(&s).unwrap();
        assert_eq!(graders.list.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), vec!["contains", "contains#2"]);
        assert_eq!(s.gate.min_pass_rate, Some(0.9));
    }

    #[test]
    fn handoffs_name_their_tool_and_the_api_is_chosen() {
        let (_d, s) = setup(
            "target:\n  agents:\n    - {name: Triage, handoffs: [Weather expert, {agent: Billing, tool: escalate_billing}]}\n    \
             - {name: Weather expert}\n    - {name: Billing}\nprovider: {api: chat_completions}\n\
             cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n",
        );
        let s = s.unwrap();
        assert_eq!(s.provider.api, ModelApi::ChatCompletions);
        let triage = &s.target.agents[0];
        let offered: Vec<&str> = triage.tools.iter().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(offered, vec!["transfer_to_weather_expert", "escalate_billing"]);
        assert_eq!(triage.handoffs[1], ("escalate_billing".to_string(), "Billing".to_string()));
        let (_d, s) =
            setup("provider: {api: completions}\ncases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n");
        let err = s.unwrap_err().to_string();
        assert!(err.contains("provider.api") && err.contains("chat_completions"), "{err}");
    }

    #[test]
    fn errors_point_at_the_offending_key() {
        let cases = [
            (
                "cases: [../datasets/nope]\ngraders: [{type: contains, value: x}]\n",
                "s.yaml:1:9: cases[0]: dataset folder",
            ),
            (
                "cases: [../datasets/demo]\ngraders:\n  - {type: judge_me}\n",
                "s.yaml:3:12: graders[0].type: unknown grader type \"judge_me\"",
            ),
            (
                "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\ntarget: {modle: x}\n",
                "s.yaml:3:10: target.modle: unknown field `modle`",
            ),
            (
                "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\ntarget: {instructions: '{{ oops'}\n",
                "s.yaml:3:24: target.instructions: bad template",
            ),
            ("cases: [../datasets/demo]\n", "s.yaml:1:1: graders: the suite has no graders"),
            (
                "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\nthreshold: 1.5\n",
                "s.yaml:3:12: threshold: threshold 1.5 is not between 0 and 1",
            ),
            (
                "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\nprovider: {base_url: 'localhost:8080/v1'}\n",
                "s.yaml:3:22: provider.base_url: base URL \"localhost:8080/v1\" is not an http(s) URL",
            ),
            (
                "cases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\nprovider: {base_url: '127.0.0.1:8080'}\n",
                "provider.base_url: base URL \"127.0.0.1:8080\" is not an http(s) URL",
            ),
        ];
        for (text, want) in cases {
            let (_d, s) = setup(text);
            // Graders are parsed by `grade`, as a run and `check` do right after the suite.
            let s = s.and_then(|s| crate::grade::Graders::load(&s).map(|_| s).map_err(SuiteError::from));
            let err = s.unwrap_err().to_string();
            assert!(err.contains(want), "{err}\nwanted: {want}");
        }
    }

    #[test]
    fn counts_out_of_range_are_located_errors() {
        for (line, want) in [
            ("repeat: 4294967295", "s.yaml:3:9: repeat: repeat 4294967295 is not between 1 and 1000"),
            ("repeat: 0", "repeat: repeat 0 is not between 1 and 1000"),
            ("provider: {concurrency: 100000}", "provider.concurrency: concurrency 100000 is not between 1 and 4096"),
            ("provider: {max_retries: 1000}", "provider.max_retries: max_retries 1000 is not between 0 and 100"),
            (
                "provider: {backoff_ms: 86400000}",
                "provider.backoff_ms: backoff_ms 86400000 is not between 0 and 600000",
            ),
            ("target: {max_turns: 0}", "target.max_turns: max_turns 0 is not between 1 and 1000"),
        ] {
            let (_d, s) =
                setup(&format!("cases: [../datasets/demo]\ngraders: [{{type: contains, value: x}}]\n{line}\n"));
            let err = s.unwrap_err().to_string();
            assert!(err.contains(want), "{err}\nwanted: {want}");
        }
    }

    #[test]
    fn tool_policies_load_and_bad_ones_are_located() {
        let (_d, s) = setup(
            "target:\n  tool_policy:\n    default: {use: recorded, unmatched: continue}\n    search: {use: mock, output: 'r {{ q }}'}\n    \
             mail: {use: mock, error: off}\n    rm: error\ncases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n",
        );
        let p = s.unwrap().target.policies;
        assert_eq!(p.default, Policy::Recorded { unmatched: Unmatched::Continue });
        assert_eq!(p.of("search"), &Policy::Mock("r {{ q }}".into()));
        assert_eq!(p.of("mail"), &Policy::MockError("off".into()));
        assert_eq!(p.of("rm"), &Policy::Error);
        for (bad, want) in [
            ("{use: mock}", "needs exactly one of"),
            ("{use: mock, output: '{{ x'}", "x.output: bad template"),
            ("{use: recorded, unmatched: maybe}", "x.unmatched"),
            ("{use: magic}", "unknown tool policy"),
            ("{use: mock, output: a, colour: red}", "unknown field `colour`"),
        ] {
            let (_d, s) = setup(&format!(
                "target:\n  tool_policy:\n    x: {bad}\ncases: [../datasets/demo]\ngraders: [{{type: contains, value: x}}]\n"
            ));
            let err = s.unwrap_err().to_string();
            assert!(err.contains("s.yaml:3:") && err.contains(want), "{err}");
        }
    }

    #[test]
    fn set_overrides_any_key_and_unknown_ones_are_still_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("datasets/demo")).unwrap();
        let p = write(
            dir.path(),
            "evals/s.yaml",
            "target: {model: a}\ncases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n",
        );
        let sets = ["target.model=gpt-4.1-mini", "provider.concurrency=3", "graders.0.value=y", "repeat=2"];
        let s = Suite::load_with(&p, &sets.map(String::from)).unwrap();
        assert_eq!(s.target.model.as_deref(), Some("gpt-4.1-mini"));
        assert_eq!((s.provider.concurrency, s.repeat), (3, 2));
        assert_ne!(s.hash, Suite::load(&p).unwrap().hash);
        let err = Suite::load_with(&p, &["target.modle=x".to_string()]).unwrap_err().to_string();
        assert!(err.contains("(with overrides)") && err.contains("target.modle: unknown field"), "{err}");
        let err = Suite::load_with(&p, &["nothing".to_string()]).unwrap_err().to_string();
        assert!(err.contains("KEY.PATH=VALUE"), "{err}");
    }

    #[test]
    fn undefined_template_variables_fail_before_any_request() {
        let (d, s) = setup(
            "target: {model: m, instructions: 'Hi {{ persona }}'}\ncases: [../datasets/demo]\ngraders: [{type: contains, value: x}]\n",
        );
        let s = s.unwrap();
        let case_path = write(
            d.path(),
            "datasets/demo/c.yaml",
            "id: c1\nsource: {trace_id: t}\ninput: {items: []}\nrecorded: {output: {text: x}}\nprivacy: {status: clean}\ncontent_hash: h\n",
        );
        let cases = vec![CaseFile { case: Case::load(&case_path).unwrap(), path: case_path }];
        let err = s.plan(cases).unwrap_err().to_string();
        assert!(
            err.contains("s.yaml:1:") && err.contains("template fails for case c1") && err.contains("undefined"),
            "{err}"
        );
    }
}
