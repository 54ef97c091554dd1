//! The capture server behind `evals collect`: the Agents SDK exporter's ingest endpoint, OTLP/HTTP
//! traces and logs, a recording proxy for the Responses and Chat Completions APIs, and the token,
//! body-limit and privacy rules every route shares. Writes go through one group-committing writer.

mod otlp;
pub mod privacy;
mod proxy;
mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

pub use privacy::Privacy;
pub use writer::Totals;

use crate::store::{Handle, Store};
use crate::trace::{Batch, PROJECT_KEY, Span, Trace, agents_sdk};

/// Where model calls go when `--upstream` is not given.
pub const DEFAULT_UPSTREAM: &str = "https://api.openai.com/v1";
/// The header that carries the collect token on every route.
pub const TOKEN_HEADER: &str = "x-evals-token";

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// Base URL of the model API, as in `OPENAI_BASE_URL` (`.../v1`).
    pub upstream: String,
    pub token: Option<String>,
    /// Request bodies larger than this get 413.
    pub max_body: usize,
    pub privacy: Privacy,
    /// Routes that store no content whatever `privacy` says (`--no-content=traces`): a team can
    /// keep the conversation in the proxy's recordings only.
    pub no_content: Vec<Route>,
}

/// The two halves of collect, for route-wise settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    /// `/v1/responses` and `/v1/chat/completions`.
    Proxy,
    /// `/v1/traces/ingest`, `/v1/traces` and `/v1/logs`.
    Traces,
}

/// A request carrying this header (any value but `0` or `false`) is stored without content.
pub const NO_CONTENT_HEADER: &str = "x-evals-no-content";

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 4319)),
            upstream: DEFAULT_UPSTREAM.into(),
            token: None,
            max_body: 32 << 20,
            privacy: Privacy::Keep,
            no_content: vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "refusing to listen on {0} without a token: anyone who can reach it could write to the store \
         and use the proxy"
    )]
    TokenRequired(SocketAddr),
    #[error("cannot listen on {addr}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("upstream {url:?} is not an http(s) base URL: {reason}")]
    Upstream { url: String, reason: String },
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(String),
}

/// What every route shares.
struct App {
    writer: mpsc::Sender<writer::Write>,
    token: Option<String>,
    privacy: Privacy,
    no_content: Vec<Route>,
    upstream: String,
    client: reqwest::Client,
    /// Also the limit for a gzip body once inflated.
    max_body: usize,
    /// Failed model calls, so that a retry joins them.
    retries: proxy::Retries,
}

impl App {
    /// What of a request's content is stored: none when its route is listed in `--no-content`
    /// or the app asked for none in the request's header.
    fn privacy(&self, route: Route, headers: &HeaderMap) -> Privacy {
        let asked = headers
            .get(NO_CONTENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | ""));
        if asked || self.no_content.contains(&route) { Privacy::NoContent } else { self.privacy }
    }

    /// Queue a write and wait until it is committed.
    async fn commit(&self, batch: Batch, recording: Option<(Trace, Span)>) -> Result<(), String> {
        let (done, committed) = oneshot::channel();
        self.writer
            .send(writer::Write { batch, recording, done: Some(done) })
            .await
            .map_err(|_| "the server is shutting down".to_string())?;
        committed.await.map_err(|_| "the server is shutting down".to_string())?
    }
}

/// A running capture server.
pub struct Server {
    pub addr: SocketAddr,
    totals: Arc<Totals>,
    shutdown: oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<()>,
    writer: tokio::task::JoinHandle<()>,
    store: std::thread::JoinHandle<Store>,
}

impl Server {
    /// Check the options, bind, and serve in the background.
    pub async fn start(opts: Options, store: Store) -> Result<Server, CollectError> {
        Server::start_with(opts, store, None).await
    }

    /// As [`Server::start`], with more routes on the same port: `mount` gets the store's handle
    /// and returns a router (with its own fallback and its own token check), served beside the
    /// capture routes.
    pub async fn start_with(
        opts: Options,
        store: Store,
        mount: Option<Box<dyn FnOnce(Handle) -> Router + Send>>,
    ) -> Result<Server, CollectError> {
        if !token_ok(opts.listen, opts.token.as_deref()) {
            return Err(CollectError::TokenRequired(opts.listen));
        }
        let upstream = opts.upstream.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&upstream)
            .map_err(|e| CollectError::Upstream { url: opts.upstream.clone(), reason: e.to_string() })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CollectError::Upstream {
                url: opts.upstream.clone(),
                reason: "scheme must be http or https".into(),
            });
        }
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CollectError::Client(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| CollectError::Listen { addr: opts.listen, source })?;
        let addr = listener.local_addr().map_err(|source| CollectError::Listen { addr: opts.listen, source })?;

        let (store, store_thread) = Handle::spawn(store);
        let extra = mount.map(|m| m(store.clone()));
        let totals = Arc::new(Totals::default());
        let (tx, rx) = mpsc::channel(1024);
        let writer = tokio::spawn(writer::run(rx, store, totals.clone()));
        let app = Arc::new(App {
            writer: tx,
            token: opts.token.clone(),
            privacy: opts.privacy,
            no_content: opts.no_content.clone(),
            upstream,
            client,
            max_body: opts.max_body,
            retries: proxy::Retries::default(),
        });
        let router = Router::new()
            .route("/v1/traces/ingest", post(ingest))
            .route("/v1/traces", post(otlp::traces))
            .route("/v1/logs", post(otlp::logs))
            .route("/v1/responses", post(proxy::responses))
            .route("/v1/chat/completions", post(proxy::chat_completions));
        let router = match extra {
            None => router.fallback(|| async { error(StatusCode::NOT_FOUND, "no such route on evals collect".into()) }),
            Some(_) => router,
        }
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .layer(DefaultBodyLimit::max(opts.max_body))
        .with_state(app);
        // The mounted routes check the token themselves (their static files need none).
        let router = match extra {
            Some(extra) => router.merge(extra),
            None => router,
        };
        let (shutdown, stop) = oneshot::channel::<()>();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(Server { addr, totals, shutdown, serve, writer, store: store_thread })
    }

    /// `http://ADDR`; routes are under `/v1`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Stop accepting, finish the requests in flight, commit everything received, and close
    /// the store.
    pub async fn shutdown(self) -> Arc<Totals> {
        let _ = self.shutdown.send(());
        let _ = self.serve.await;
        // The router, and with it the last sender, is gone: the writer drains and stops.
        let _ = self.writer.await;
        let store = self.store;
        let _ = tokio::task::spawn_blocking(move || store.join()).await;
        self.totals
    }
}

/// The client's error shape of the OpenAI API, which both SDKs print.
fn error(status: StatusCode, message: String) -> Response {
    let kind = if status.is_server_error() { "server_error" } else { "invalid_request_error" };
    (status, axum::Json(json!({"error": {"message": message, "type": kind, "param": null, "code": null}})))
        .into_response()
}

/// A body over the limit is 413, anything else unreadable 400, each with the reason.
fn body_error(e: BytesRejection) -> Response {
    error(e.status(), e.body_text())
}

/// The listening rule `collect` and `ui` share: loopback needs no token, any other address does.
pub fn token_ok(listen: SocketAddr, token: Option<&str>) -> bool {
    listen.ip().is_loopback() || token.is_some_and(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// With a token, every request must carry it: in `X-Evals-Token` on any route, or as the
/// bearer key on the trace routes (the SDK exporter sends its key that way). The proxy routes'
/// `Authorization` belongs to the upstream, so there only the header counts.
async fn authorize(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let proxied = matches!(req.uri().path(), "/v1/responses" | "/v1/chat/completions");
        if !presented(req.headers(), token, proxied) {
            return error(
                StatusCode::UNAUTHORIZED,
                format!("missing or wrong evals collect token (send it in the {TOKEN_HEADER} header)"),
            );
        }
    }
    next.run(req).await
}

/// The token is in `X-Evals-Token`, or (unless `proxied`) the bearer key of `Authorization`.
pub fn presented(headers: &HeaderMap, token: &str, proxied: bool) -> bool {
    let header = headers.get(TOKEN_HEADER).map(|v| v.as_bytes());
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::as_bytes);
    header.is_some_and(|h| constant_time_eq(h, token.as_bytes()))
        || (!proxied && bearer.is_some_and(|b| constant_time_eq(b, token.as_bytes())))
}

/// `POST /v1/traces/ingest`: a `BackendSpanExporter` body, committed before the answer.
/// The `OpenAI-Project` header the SDKs send when a project is set.
fn openai_project(headers: &HeaderMap) -> Option<String> {
    headers.get("openai-project").and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).map(str::to_string)
}

async fn ingest(State(app): State<Arc<App>>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")),
    };
    let mut batch = match agents_sdk::parse_export_body(&value) {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not an Agents SDK export body: {e}")),
    };
    if let Some(project) = openai_project(&headers) {
        for t in &mut batch.traces {
            t.metadata.get_or_insert_default().insert(PROJECT_KEY.into(), project.clone().into());
        }
    }
    app.privacy(Route::Traces, &headers).batch(&mut batch);
    match app.commit(batch, None).await {
        Ok(()) => axum::Json(json!({})).into_response(),
        // 5xx: the exporter retries, and records are stored once whatever it re-sends.
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_read_from_the_header_or_the_exporters_bearer_key() {
        let mut h = HeaderMap::new();
        assert!(!presented(&h, "s3cret", false));
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(presented(&h, "s3cret", false));
        assert!(!presented(&h, "s3cret", true), "on the proxy, Authorization is the upstream key");
        h.insert(TOKEN_HEADER, "s3cret".parse().unwrap());
        assert!(presented(&h, "s3cret", true));
        h.insert(TOKEN_HEADER, "s3cres".parse().unwrap());
        assert!(!presented(&h, "s3cret", true));
    }
}
