//! `evals ui`: the JSON API under `/api/v1` over the store and the repository's datasets (read,
//! and the same writes as promote, review and label, through the same library calls), and the
//! embedded web app; served by `evals ui` and mounted by `evals collect` on its port.

mod cases;
mod error;
mod params;
mod runs;
mod traces;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tokio::sync::oneshot;

pub use error::ApiError;

use crate::collect::{presented, token_ok};
use crate::provider::pricing::PriceTable;
use crate::store::{Handle, Store};

/// Where `evals ui` listens by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// The repository the API reads and writes: where its datasets and taxonomy are.
#[derive(Debug, Clone)]
pub struct Repo {
    pub datasets: PathBuf,
    pub taxonomy: PathBuf,
    pub prices: PriceTable,
}

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(
        "refusing to listen on {0} without a token: anyone who can reach it could read every trace and edit the datasets"
    )]
    TokenRequired(SocketAddr),
    #[error("cannot listen on {addr}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// What every handler shares.
pub(crate) struct App {
    store: Handle,
    token: Option<String>,
    repo: Repo,
    /// One write to the datasets at a time, so the check of a case's etag and the write that
    /// follows it are not interleaved with another request's.
    writes: tokio::sync::Mutex<()>,
    comparisons: runs::Cache,
}

impl App {
    /// Run `f` on the store's thread.
    async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        self.store.call(move |s| Ok(f(s))).await?
    }
}

/// File-system work off the async threads.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Task(e.to_string()))?
}

/// The API and the web app. With a token, every `/api/v1` route demands it; the web app's
/// files are served to anyone (they hold no data).
pub fn router(store: Handle, token: Option<String>, repo: Repo) -> Router {
    let app = Arc::new(App {
        store,
        token: token.filter(|t| !t.is_empty()),
        repo,
        writes: tokio::sync::Mutex::new(()),
        comparisons: runs::Cache::default(),
    });
    let api = Router::new()
        .route("/traces", get(traces::list))
        .route("/traces/stats", get(traces::stats))
        .route("/traces/{id}", get(traces::show))
        .route("/traces/{id}/promote", post(cases::promote))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/compare/{base}", get(runs::compare))
        .route("/suites/{name}/trend", get(runs::trend))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::show))
        .route("/cases/{id}/approve", post(cases::approve))
        .route("/cases/{id}/reject", post(cases::reject))
        .route("/cases/{id}/label", post(cases::label))
        .route("/cases/{id}/expected", put(cases::expected))
        .route("/taxonomy", get(cases::taxonomy))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .with_state(app);
    Router::new()
        .nest("/api/v1", api)
        .route("/app.js", get(|| async { asset("text/javascript; charset=utf-8", include_str!("../../web/app.js")) }))
        .route("/app.css", get(|| async { asset("text/css; charset=utf-8", include_str!("../../web/app.css")) }))
        .fallback(index)
}

/// Every page of the app is `index.html`; it routes by the URL's hash.
async fn index(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return ApiError::NotFound("no such API route".into()).into_response();
    }
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "the web app is read with GET").into_response();
    }
    asset("text/html; charset=utf-8", include_str!("../../web/index.html"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The OpenAPI 3.1 description of every route.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn authorize(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.token
        && !presented(req.headers(), token, false)
    {
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

/// A running `evals ui`.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<()>,
    store: std::thread::JoinHandle<Store>,
}

impl Server {
    /// Check the token rule, bind, and serve in the background.
    pub async fn start(listen: SocketAddr, token: Option<String>, repo: Repo, store: Store) -> Result<Server, UiError> {
        if !token_ok(listen, token.as_deref()) {
            return Err(UiError::TokenRequired(listen));
        }
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|source| UiError::Listen { addr: listen, source })?;
        let addr = listener.local_addr().map_err(|source| UiError::Listen { addr: listen, source })?;
        let (handle, store) = Handle::spawn(store);
        let app = router(handle, token, repo);
        let (shutdown, stop) = oneshot::channel::<()>();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(Server { addr, shutdown, serve, store })
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stop accepting, finish the requests in flight, and close the store.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.serve.await;
        let store = self.store;
        let _ = tokio::task::spawn_blocking(move || store.join()).await;
    }
}
