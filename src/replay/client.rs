//! The Responses API client: one `POST {base_url}/responses` per model turn.

use std::time::Duration;

use serde_json::Value;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ApiError {
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("unreadable response: {0}")]
    Decode(String),
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl Client {
    pub fn new(base_url: &str, api_key: Option<String>, timeout: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(256)
            .build()
            .expect("HTTP client builds");
        Client { http, url: format!("{}/responses", base_url.trim_end_matches('/')), api_key, timeout }
    }

    /// Create a response; non-2xx answers become errors carrying the API's message.
    pub async fn create(&self, body: &Value) -> Result<Value, ApiError> {
        let mut req = self.http.post(&self.url).json(body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
            return Err(ApiError::Status { status: status.as_u16(), message });
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
    }

    fn transport(&self, e: reqwest::Error) -> ApiError {
        if e.is_timeout() {
            ApiError::Timeout(self.timeout)
        } else if e.is_decode() || e.is_body() {
            ApiError::Decode(e.to_string())
        } else {
            ApiError::Connect(e.to_string())
        }
    }
}
