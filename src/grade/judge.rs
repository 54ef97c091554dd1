//! LLM judges (`score_model`, `label_model`, `judge`): a Responses API call with a JSON-schema
//! answer, cached in the store; and the IO edge they (and cosine similarity) go through.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::openai::{check_template, render};
use super::{Subject, Verdict, fields};
use crate::provider::client::{ApiError, Client};
use crate::provider::pricing::PriceTable;
use crate::store::Handle;
use crate::trace::Usage;
use crate::trace::items::{canonical_json, output_text};
use crate::yaml::{self, Source, YamlError};

/// What graders with IO use: the judge model's API, the response cache, prices.
pub struct Edge {
    pub client: Client,
    /// Judge answers are cached here by request hash; absent, every call goes out.
    pub cache: Option<Handle>,
    /// Cached answers older than this are asked again (`cache: {ttl}`).
    pub ttl: Option<Duration>,
    pub prices: PriceTable,
    http: reqwest::Client,
    embeddings_url: String,
    api_key: Option<String>,
}

impl Edge {
    /// Judges ask through `client` (sharing its connections and its rate limits with whatever
    /// else uses it); embeddings go to `base_url`'s `/embeddings` over the same connections.
    pub fn new(
        client: Client,
        base_url: &str,
        api_key: Option<String>,
        prices: PriceTable,
        cache: Option<Handle>,
    ) -> Edge {
        Edge {
            http: client.http().clone(),
            client,
            cache,
            ttl: None,
            prices,
            embeddings_url: format!("{}/embeddings", base_url.trim_end_matches('/')),
            api_key,
        }
    }

    /// The one place judges call the model: the cache first, then the API. Returns the
    /// response and whether it came from the cache.
    pub async fn respond(&self, body: &Value) -> Result<(Value, bool), String> {
        let keyed = format!("{}\0{}", self.client.provider(), canonical_json(body));
        let key = format!("judge:{}", hex::encode(Sha256::digest(keyed.as_bytes())));
        if let Some(cache) = &self.cache {
            let k = key.clone();
            let since = self.ttl.and_then(|t| chrono::Duration::from_std(t).ok()).map(|t| chrono::Utc::now() - t);
            if let Ok(Some(hit)) = cache.call(move |s| s.cache_get(&k, since)).await
                && ApiError::unusable(&hit).is_none()
            {
                return Ok((hit, true));
            }
        }
        let response = self.client.create(body).await.map_err(|e| e.to_string())?;
        // Never cached: asked again, the judge may answer.
        if let Some(e) = ApiError::unusable(&response) {
            return Err(e.to_string());
        }
        if let Some(cache) = &self.cache {
            let r = response.clone();
            // A cache that cannot be written costs a repeat call later, never this grade.
            let _ = cache.call(move |s| s.cache_put(&key, &r)).await;
        }
        Ok((response, false))
    }

    /// `POST /embeddings` for several texts at once.
    pub async fn embed(&self, model: &str, texts: &[String]) -> Result<Vec<Vec<f64>>, String> {
        let mut req = self.http.post(&self.embeddings_url).json(&json!({"model": model, "input": texts}));
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                body.pointer("/error/message").and_then(Value::as_str).unwrap_or("")
            ));
        }
        let data = body["data"].as_array().ok_or("no `data` in the embeddings answer")?;
        data.iter()
            .map(|d| {
                d["embedding"]
                    .as_array()
                    .map(|v| v.iter().filter_map(Value::as_f64).collect())
                    .ok_or_else(|| "an embedding is not a list of numbers".to_string())
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ask {
    Score { range: (f64, f64), pass_threshold: f64 },
    Label { labels: Vec<String>, passing: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct Judge {
    model: String,
    messages: Vec<Message>,
    ask: Ask,
    params: Map<String, Value>,
    /// A plain `judge` appends the case, the output and the tool calls to its rubric.
    rubric: bool,
}

/// One message of a judge's prompt: its role and its content templates.
#[derive(Debug, Clone)]
struct Message {
    role: String,
    content: Content,
}

#[derive(Debug, Clone)]
enum Content {
    Text(String),
    /// `[{type: input_text, text}, …]`, sent as parts of these types.
    Parts(Vec<(String, String)>),
}

/// The part types a judge prompt may hold: text only (images and audio are not replayed).
const PART_TYPES: &[&str] = &["input_text", "output_text"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageFile {
    role: String,
    /// Text, a content part with `text`, or a list of such parts.
    content: Value,
    #[serde(default, rename = "type")]
    _type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreFile {
    input: Vec<MessageFile>,
    model: String,
    #[serde(default)]
    range: Option<(f64, f64)>,
    #[serde(default)]
    pass_threshold: Option<f64>,
    #[serde(default)]
    sampling_params: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    input: Vec<MessageFile>,
    model: String,
    labels: Vec<String>,
    passing_labels: Vec<String>,
    #[serde(default)]
    sampling_params: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricFile {
    rubric: String,
    #[serde(default = "judge_model")]
    model: String,
    #[serde(default)]
    pass_threshold: Option<f64>,
    #[serde(default)]
    sampling_params: Option<Map<String, Value>>,
}

fn judge_model() -> String {
    "gpt-4.1-mini".into()
}

const SAMPLING: &[&str] =
    &["temperature", "top_p", "seed", "max_completions_tokens", "max_output_tokens", "reasoning_effort"];

/// The case as a plain judge sees it after its rubric.
const CASE_BLOCK: &str = "\n\n## User input\n{{ item.input }}\n\n## Tool calls\n{% for c in tool_calls %}- {{ c.name }}({{ c.arguments }}){% if c.output %} -> {{ c.output }}{% endif %}\n{% else %}(none)\n{% endfor %}\n## Answer to grade\n{{ output }}\n";

impl Judge {
    pub fn parse(src: &Source, path: &str, ty: &str, v: yaml::Value) -> Result<Judge, YamlError> {
        let at = |k: &str| format!("{path}.{k}");
        let part = |at: &str, v: &Value| -> Result<(String, String), YamlError> {
            let ty = v.get("type").and_then(Value::as_str).unwrap_or("input_text");
            match v.get("text").and_then(Value::as_str) {
                Some(t) if PART_TYPES.contains(&ty) => {
                    check_template(src, &format!("{at}.text"), t)?;
                    Ok((ty.to_string(), t.to_string()))
                }
                _ => Err(src.error_at(
                    at,
                    format!("a content part must be text: `type` one of {}, and `text`", PART_TYPES.join(", ")),
                )),
            }
        };
        let messages = |input: Vec<MessageFile>| -> Result<Vec<Message>, YamlError> {
            if input.is_empty() {
                return Err(src.error_at(&at("input"), "input lists no messages"));
            }
            input
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let at = format!("{path}.input[{i}].content");
                    let content = match &m.content {
                        Value::String(s) => {
                            check_template(src, &at, s)?;
                            Content::Text(s.clone())
                        }
                        Value::Object(_) => Content::Text(part(&at, &m.content)?.1),
                        Value::Array(parts) if !parts.is_empty() => Content::Parts(
                            parts
                                .iter()
                                .enumerate()
                                .map(|(j, p)| part(&format!("{at}[{j}]"), p))
                                .collect::<Result<_, _>>()?,
                        ),
                        _ => {
                            return Err(src.error_at(&at, "content must be text, a text part, or a list of text parts"));
                        }
                    };
                    Ok(Message { role: m.role, content })
                })
                .collect()
        };
        let sampling = |p: Option<Map<String, Value>>| -> Result<Map<String, Value>, YamlError> {
            let p = p.unwrap_or_default();
            if let Some(k) = p.keys().find(|k| !SAMPLING.contains(&k.as_str())) {
                return Err(src.error_at(
                    &format!("{path}.sampling_params.{k}"),
                    format!(
                        "unknown sampling parameter `{k}` (known: {}){}",
                        SAMPLING.join(", "),
                        super::did_you_mean(k, SAMPLING)
                    ),
                ));
            }
            Ok(p)
        };
        let threshold = |t: Option<f64>, range: (f64, f64)| -> Result<f64, YamlError> {
            let t = t.unwrap_or((range.0 + range.1) / 2.0);
            if t < range.0 || t > range.1 {
                return Err(src.error_at(&at("pass_threshold"), "pass_threshold must lie within the range"));
            }
            Ok(t)
        };
        match ty {
            "score_model" => {
                let f: ScoreFile = fields(src, v, path)?;
                let range = f.range.unwrap_or((0.0, 1.0));
                if range.1 <= range.0 {
                    return Err(src.error_at(&at("range"), "range must be [low, high] with low < high"));
                }
                Ok(Judge {
                    messages: messages(f.input)?,
                    ask: Ask::Score { range, pass_threshold: threshold(f.pass_threshold, range)? },
                    model: f.model,
                    params: sampling(f.sampling_params)?,
                    rubric: false,
                })
            }
            "label_model" => {
                let f: LabelFile = fields(src, v, path)?;
                if f.labels.is_empty() {
                    return Err(src.error_at(&at("labels"), "labels lists nothing"));
                }
                if let Some(p) = f.passing_labels.iter().find(|p| !f.labels.contains(p)) {
                    return Err(
                        src.error_at(&at("passing_labels"), format!("passing label {p:?} is not one of the labels"))
                    );
                }
                Ok(Judge {
                    messages: messages(f.input)?,
                    ask: Ask::Label { labels: f.labels, passing: f.passing_labels },
                    model: f.model,
                    params: sampling(f.sampling_params)?,
                    rubric: false,
                })
            }
            _ => {
                let f: RubricFile = fields(src, v, path)?;
                check_template(src, &at("rubric"), &f.rubric)?;
                Ok(Judge {
                    messages: vec![Message { role: "user".into(), content: Content::Text(f.rubric + CASE_BLOCK) }],
                    ask: Ask::Score { range: (0.0, 1.0), pass_threshold: threshold(f.pass_threshold, (0.0, 1.0))? },
                    model: f.model,
                    params: sampling(f.sampling_params)?,
                    rubric: true,
                })
            }
        }
    }

    pub fn templates(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (i, m) in self.messages.iter().enumerate() {
            match &m.content {
                Content::Text(t) if self.rubric => out.push(("rubric".to_string(), t.as_str())),
                Content::Text(t) => out.push((format!("input[{i}].content"), t.as_str())),
                Content::Parts(parts) => out.extend(
                    parts.iter().enumerate().map(|(j, (_, t))| (format!("input[{i}].content[{j}].text"), t.as_str())),
                ),
            }
        }
        out
    }

    /// The Responses API request: the rendered messages and a strict JSON-schema answer.
    pub fn request(&self, s: &Subject) -> Result<Value, String> {
        let ctx = s.context();
        let mut input = Vec::new();
        for m in &self.messages {
            let content = match &m.content {
                Content::Text(t) => json!(render(t, &ctx)?),
                Content::Parts(parts) => Value::Array(
                    parts
                        .iter()
                        .map(|(ty, t)| Ok(json!({"type": ty, "text": render(t, &ctx)?})))
                        .collect::<Result<_, String>>()?,
                ),
            };
            input.push(json!({"role": m.role, "content": content}));
        }
        let (instructions, schema) = match &self.ask {
            Ask::Score { range: (lo, hi), .. } => (
                format!(
                    "You are a grader. Grade the answer as the messages ask. Reply with JSON: `reason`, one or two sentences explaining the grade, and `score`, a number from {lo} to {hi}."
                ),
                json!({
                    "type": "object",
                    "properties": {"reason": {"type": "string"}, "score": {"type": "number"}},
                    "required": ["reason", "score"],
                    "additionalProperties": false,
                }),
            ),
            Ask::Label { labels, .. } => (
                format!(
                    "You are a grader. Label the answer as the messages ask. Reply with JSON: `reason`, one or two sentences explaining the label, and `label`, one of: {}.",
                    labels.join(", ")
                ),
                json!({
                    "type": "object",
                    "properties": {"reason": {"type": "string"}, "label": {"type": "string", "enum": labels}},
                    "required": ["reason", "label"],
                    "additionalProperties": false,
                }),
            ),
        };
        let mut body = json!({
            "model": self.model,
            "instructions": instructions,
            "input": input,
            "text": {"format": {"type": "json_schema", "name": "grade", "strict": true, "schema": schema}},
            "store": false,
        });
        for (k, v) in &self.params {
            match k.as_str() {
                "max_completions_tokens" | "max_output_tokens" => body["max_output_tokens"] = v.clone(),
                "reasoning_effort" => body["reasoning"] = json!({"effort": v}),
                _ => body[k] = v.clone(),
            }
        }
        Ok(body)
    }

    pub async fn grade(&self, s: &Subject<'_>, edge: Option<&Edge>) -> Verdict {
        let body = match self.request(s) {
            Ok(b) => b,
            Err(e) => return Verdict::error(e),
        };
        let Some(edge) = edge else { return Verdict::error("judges need the run's model endpoint") };
        let (response, cached) = match edge.respond(&body).await {
            Ok(r) => r,
            Err(e) => return Verdict::error(format!("judge call failed: {e}")),
        };
        let cost = if cached {
            Some(0.0)
        } else {
            Usage::from_json(&response["usage"]).and_then(|u| edge.prices.cost(&self.model, &u))
        };
        let mut v = self.read(&response);
        v.cost_usd = cost;
        v
    }

    /// The verdict in a judge's response; a malformed answer is a grader error.
    fn read(&self, response: &Value) -> Verdict {
        let items = response["output"].as_array().cloned().unwrap_or_default();
        let text = output_text(&items);
        let Ok(answer) = serde_json::from_str::<Value>(&text) else {
            return Verdict::error(format!("judge answered no JSON: {}", crate::text::truncate(&text, 120)));
        };
        let reason = answer["reason"].as_str().unwrap_or_default().to_string();
        match &self.ask {
            Ask::Score { range: (lo, hi), pass_threshold } => match answer["score"].as_f64() {
                Some(x) if x >= *lo && x <= *hi => Verdict::new(
                    (x - lo) / (hi - lo),
                    x + 1e-9 >= *pass_threshold,
                    format!("{reason} (score {x}, pass_threshold {pass_threshold})"),
                ),
                _ => Verdict::error(format!("judge gave no score within [{lo}, {hi}]: {text}")),
            },
            Ask::Label { labels, passing } => match answer["label"].as_str() {
                Some(l) if labels.iter().any(|x| x == l) => {
                    let pass = passing.iter().any(|p| p == l);
                    Verdict::check(pass, format!("{reason} (label {l})"))
                }
                _ => Verdict::error(format!("judge gave no label among {labels:?}: {text}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{case, grader, output};
    use super::*;

    fn subject_request(def: &str) -> Value {
        let g = grader(def).unwrap();
        let super::super::Kind::Judge(j) = &g.kind else { panic!("not a judge") };
        let c = case("x");
        let out = output("Sunny in Paris", &[("get_weather", r#"{"city":"Paris"}"#)]);
        let usage = Usage::default();
        let s = Subject { case: &c, output: &out, turns: 1, latency_ms: 1, usage: &usage, cost_usd: None };
        j.request(&s).unwrap()
    }

    #[test]
    fn score_model_request_as_openai_documents_it() {
        let body = subject_request(
            r#"{"type": "score_model", "name": "Example score model grader", "input": [{"role": "user", "content": "Score how close the reference answer is to the model answer. Score 1.0 if they are the same and 0.0 if they are different. Reference answer: {{item.recorded_output}}. Model answer: {{sample.output_text}}"}], "model": "o4-mini-2025-04-16", "range": [0, 1], "sampling_params": {"seed": 42, "temperature": 1, "max_completions_tokens": 32768, "reasoning_effort": "medium"}}"#,
        );
        assert_eq!(body["model"], "o4-mini-2025-04-16");
        assert_eq!(
            body["input"][0]["content"],
            "Score how close the reference answer is to the model answer. Score 1.0 if they are the same and 0.0 if they are different. Reference answer: x. Model answer: Sunny in Paris"
        );
        assert_eq!(body["text"]["format"]["type"], "json_schema");
        assert_eq!(body["text"]["format"]["schema"]["required"], json!(["reason", "score"]));
        assert_eq!((body["seed"].clone(), body["max_output_tokens"].clone()), (json!(42), json!(32768)));
        assert_eq!(body["reasoning"], json!({"effort": "medium"}));
    }

    #[test]
    fn label_model_and_rubric_requests() {
        let body = subject_request(
            r#"{"type": "label_model", "name": "First label grader", "model": "gpt-4o-2024-08-06", "input": [{"type": "message", "role": "system", "content": {"type": "input_text", "text": "Classify the sentiment of the following statement as one of positive, neutral, or negative"}}, {"type": "message", "role": "user", "content": {"type": "input_text", "text": "Statement: {{item.input}}"}}], "passing_labels": ["positive"], "labels": ["positive", "neutral", "negative"]}"#,
        );
        assert_eq!(body["input"][1]["content"], "Statement: Weather in Paris?");
        assert_eq!(
            body["text"]["format"]["schema"]["properties"]["label"]["enum"],
            json!(["positive", "neutral", "negative"])
        );
        let body = subject_request("{type: judge, rubric: 'Is the answer about {{ item.input }}?'}");
        let prompt = body["input"][0]["content"].as_str().unwrap();
        assert!(prompt.starts_with("Is the answer about Weather in Paris??"), "{prompt}");
        assert!(
            prompt.contains("- get_weather({\"city\":\"Paris\"})")
                && prompt.contains("## Answer to grade\nSunny in Paris"),
            "{prompt}"
        );
    }

    #[test]
    fn judge_misconfiguration_is_located() {
        let err = grader(
            "{type: label_model, model: m, input: [{role: user, content: hi}], labels: [a], passing_labels: [b]}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("graders[0].passing_labels: passing label \"b\""), "{err}");
        let err = grader(
            "{type: score_model, model: m, input: [{role: user, content: hi}], sampling_params: {temprature: 1}}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("did you mean \"temperature\""), "{err}");
        let err = grader("{type: judge, rubric: 'Grade {{ answer }}'}").unwrap_err().to_string();
        assert!(err.contains("graders[0].rubric: template uses undefined variable `answer`"), "{err}");
        let err = grader(
            "{type: score_model, model: m, input: [{role: user, content: hi}], range: [1, 10], pass_threshold: 11}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("graders[0].pass_threshold"), "{err}");
    }

    #[test]
    fn answers_become_verdicts() {
        let g = grader(
            "{type: score_model, model: m, input: [{role: user, content: hi}], range: [1, 5], pass_threshold: 4}",
        )
        .unwrap();
        let super::super::Kind::Judge(j) = &g.kind else { panic!() };
        let resp = |t: &str| json!({"output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": t}]}]});
        let v = j.read(&resp(r#"{"reason": "close", "score": 4}"#));
        assert!(v.pass && !v.error && (v.score - 0.75).abs() < 1e-9 && v.reason.starts_with("close"), "{v:?}");
        assert!(!j.read(&resp(r#"{"reason": "meh", "score": 3}"#)).pass);
        assert!(j.read(&resp(r#"{"reason": "x", "score": 9}"#)).error);
        assert!(j.read(&resp("not json")).error);
    }
}
