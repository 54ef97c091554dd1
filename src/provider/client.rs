//! The model API client: the one place that sends `POST {base_url}/responses` (or, for agents
//! on Chat Completions, `POST {base_url}/chat/completions` with the request and the answer
//! converted), each request under the scheduler's policy (shared rate limiter, retries with
//! backoff, per-attempt timeout).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::trace::{ModelApi, chat};

use super::retry::{MAX_SERVER_DELAY, RateLimiter, RetryPolicy, retryable_status, server_delay};

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ApiError {
    #[error("HTTP {status}: {message}")]
    Status { status: u16, code: Option<String>, message: String },
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("unreadable response: {0}")]
    Decode(String),
    /// A well-formed answer with nothing to use (`status: failed` or `incomplete`, no output):
    /// never cached, and the case ends as an error with this cause, not as a model failure.
    #[error("unusable response: {message}")]
    Unusable { cause: &'static str, message: String },
    #[error(
        "{error}; the server asks to retry after {}s, longer than the {}s evals waits",
        after.as_secs(),
        MAX_SERVER_DELAY.as_secs()
    )]
    RetryTooLate { error: Box<ApiError>, after: Duration },
}

impl ApiError {
    /// The short cause a result records, so a report can tell rate limits from timeouts.
    pub fn cause(&self) -> &'static str {
        match self {
            ApiError::Status { code: Some(c), .. } if c == "insufficient_quota" => "quota",
            ApiError::Status { status: 429, .. } => "rate_limit",
            ApiError::Status { status, .. } if *status >= 500 => "server",
            ApiError::Status { .. } => "request",
            ApiError::Timeout(_) => "timeout",
            ApiError::Connect(_) => "connection",
            ApiError::Decode(_) => "decode",
            ApiError::Unusable { cause, .. } => cause,
            ApiError::RetryTooLate { error, .. } => error.cause(),
        }
    }

    /// The answer is not one a case can be graded on: why, when it is not.
    pub fn unusable(body: &Value) -> Option<ApiError> {
        let status = body["status"].as_str().unwrap_or("");
        let (cause, message) = match status {
            "failed" => (
                "response_failed",
                format!(
                    "status failed: {}",
                    body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no reason given")
                ),
            ),
            "incomplete" => (
                "response_incomplete",
                format!(
                    "status incomplete: {}",
                    body.pointer("/incomplete_details/reason").and_then(Value::as_str).unwrap_or("no reason given")
                ),
            ),
            _ if body["output"].as_array().is_none_or(|o| o.is_empty()) => {
                ("no_output", "the response has no output".into())
            }
            _ => return None,
        };
        Some(ApiError::Unusable { cause, message })
    }
}

/// A base URL the client cannot send to.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("base URL {url:?} is not an http(s) URL: {reason}")]
pub struct BadBaseUrl {
    pub url: String,
    pub reason: String,
}

/// `base_url` parsed, or why it cannot be sent to.
pub fn base_url_ok(base_url: &str) -> Result<reqwest::Url, BadBaseUrl> {
    let bad = |reason: String| BadBaseUrl { url: base_url.to_string(), reason };
    let url = reqwest::Url::parse(base_url).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(bad(format!("the scheme is {other:?}"))),
    }
}

/// A successful answer and how many attempts it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub body: Value,
    pub attempts: u32,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Parsed once: reqwest would otherwise parse (and IDNA-check) the URL on every request.
    url: reqwest::Url,
    api_key: Option<String>,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: Arc<RateLimiter>,
    /// Who answers, as the response cache keys it (absent: the base URL).
    provider: Option<String>,
    /// The API requests go to; bodies and answers are in the Responses vocabulary either way.
    api: ModelApi,
}

/// One failed attempt: the error, whether to try again, and after how long the server asked
/// (`Err` when that is longer than evals waits).
struct Failure {
    error: ApiError,
    retry: bool,
    delay: Option<Result<Duration, Duration>>,
}

impl Client {
    /// A client with the default retry policy; `timeout` bounds each attempt.
    pub fn new(base_url: &str, api_key: Option<String>, timeout: Duration) -> Result<Client, BadBaseUrl> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .expect("HTTP client builds");
        Ok(Client {
            http,
            url: base_url_ok(&format!("{}/responses", base_url.trim_end_matches('/')))?,
            api_key,
            timeout,
            retry: RetryPolicy::default(),
            limiter: Arc::new(RateLimiter::default()),
            provider: None,
            api: ModelApi::Responses,
        })
    }

    /// The HTTP client underneath, to send other requests over the same connections: building
    /// one reads the system's root certificates (about 6 ms, before the first request).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Send to Chat Completions instead: each Responses body is converted to the chat request
    /// that asks the same, and each `chat.completion` back to a Responses answer.
    pub fn with_api(mut self, api: ModelApi) -> Client {
        if api == ModelApi::ChatCompletions {
            let base = self.url.as_str().trim_end_matches("responses").to_string();
            self.url = reqwest::Url::parse(&format!("{base}chat/completions")).expect("the base URL parsed before");
        }
        self.api = api;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Create a response under the retry policy; the error is the last attempt's.
    /// The provider answers come from, as the cache keys them: base URL and API flavour, or
    /// the name given with [`Client::with_provider`].
    pub fn provider(&self) -> String {
        self.provider.clone().unwrap_or_else(|| format!("{} responses", self.url))
    }

    /// Name the provider for the cache when the URL does not (a mock on a fresh port each run).
    pub fn with_provider(mut self, provider: String) -> Client {
        self.provider = Some(provider);
        self
    }

    pub async fn create(&self, body: &Value) -> Result<Value, ApiError> {
        self.send(body).await.map(|r| r.body).map_err(|(e, _)| e)
    }

    /// One request with the scheduler's policy: waits out rate-limit pauses, retries 408, 409,
    /// 429, 5xx, timeouts and connection errors with jittered exponential backoff (or the
    /// server's `retry-after`), never 400/401/403 or `insufficient_quota`.
    pub async fn send(&self, body: &Value) -> Result<Reply, (ApiError, u32)> {
        let mut attempt = 0;
        loop {
            self.limiter.ready().await;
            attempt += 1;
            match self.attempt(body).await {
                Ok(body) => return Ok(Reply { body, attempts: attempt }),
                Err(Failure { error, retry: true, delay: Some(Err(after)) }) if attempt <= self.retry.max_retries => {
                    return Err((ApiError::RetryTooLate { error: Box::new(error), after }, attempt));
                }
                Err(f) if f.retry && attempt <= self.retry.max_retries => {
                    let delay = f.delay.and_then(Result::ok);
                    let wait = delay.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                    if delay.is_some() {
                        // The server's delay is about the account, not this request.
                        self.limiter.pause(wait);
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(f) => return Err((f.error, attempt)),
            }
        }
    }

    async fn attempt(&self, body: &Value) -> Result<Value, Failure> {
        let converted;
        let body = match self.api {
            ModelApi::Responses => body,
            ModelApi::ChatCompletions => {
                converted = chat::chat_request(body);
                &converted
            }
        };
        let mut req = self.http.post(self.url.clone()).json(body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        self.limiter.observe(resp.headers());
        let should_retry = resp.headers().get("x-should-retry").and_then(|v| v.to_str().ok()).map(|v| v == "true");
        // A success needs no header past this point: only a failure keeps them.
        let headers = (!status.is_success()).then(|| resp.headers().clone());
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        if let Some(headers) = headers {
            let parsed = serde_json::from_slice::<Value>(&bytes).ok();
            let field =
                |k: &str| parsed.as_ref().and_then(|v| v.pointer(k)).and_then(Value::as_str).map(str::to_string);
            let message =
                field("/error/message").unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
            let code = field("/error/code").or_else(|| field("/error/type").filter(|t| t == "insufficient_quota"));
            let retry = should_retry.unwrap_or_else(|| retryable_status(status.as_u16(), code.as_deref()));
            let error = ApiError::Status { status: status.as_u16(), code, message };
            return Err(Failure { error, retry, delay: server_delay(&headers) });
        }
        // A 200 with a body cut short or garbled is a transport accident: worth another try.
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| Failure {
            error: ApiError::Decode(e.to_string()),
            retry: should_retry.unwrap_or(true),
            delay: None,
        })?;
        Ok(match self.api {
            ModelApi::Responses => answer,
            ModelApi::ChatCompletions => chat::response_from_chat(&answer),
        })
    }

    fn transport(&self, e: reqwest::Error) -> Failure {
        let error = if e.is_timeout() {
            ApiError::Timeout(self.timeout)
        } else {
            // A body that breaks off mid-way is a dropped connection, like a refused one.
            ApiError::Connect(describe(&e))
        };
        Failure { error, retry: true, delay: None }
    }
}

/// The error with its causes, which reqwest keeps in the source chain.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_incomplete_and_empty_answers_are_unusable_with_their_cause() {
        let ok = json!({"status": "completed", "output": [{"type": "message"}]});
        assert!(ApiError::unusable(&ok).is_none());
        let cause = |v: Value| ApiError::unusable(&v).map(|e| (e.cause(), e.to_string()));
        assert_eq!(
            cause(json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": []})),
            Some(("response_incomplete", "unusable response: status incomplete: max_output_tokens".into()))
        );
        assert_eq!(
            cause(json!({"status": "failed", "error": {"message": "server_error"}})),
            Some(("response_failed", "unusable response: status failed: server_error".into()))
        );
        assert_eq!(cause(json!({"status": "completed", "output": []})).unwrap().0, "no_output");
        assert_eq!(cause(json!({})).unwrap().0, "no_output");
    }
}
