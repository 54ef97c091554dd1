//! `evals collect`: run the capture server until Ctrl-C or SIGTERM, then commit and stop.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use super::ui::RepoArgs;
use super::{open_store, runtime, stopped};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::collect::{DEFAULT_UPSTREAM, Options, Privacy, Route, Server, Totals};
use crate::store::Handle;
use axum::Router;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; anything but loopback needs --token.
    #[arg(long, default_value = "127.0.0.1:4319")]
    listen: SocketAddr,
    /// The model API the proxy forwards to, as a base URL like OPENAI_BASE_URL.
    #[arg(long, env = "EVALS_UPSTREAM", default_value = DEFAULT_UPSTREAM)]
    upstream: String,
    /// Token every request must present (header X-Evals-Token, or the exporter's bearer key).
    #[arg(long, env = "EVALS_COLLECT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 32 << 20)]
    max_body: usize,
    /// Mask e-mails, phone numbers, card numbers and secrets before anything is stored.
    #[arg(long, conflicts_with = "no_content")]
    redact: bool,
    /// Store structure, models, tokens and timings only: no text at all; `--no-content=traces`
    /// (or `proxy`) only on those routes. A request with the header X-Evals-No-Content: 1 is
    /// stored without content on any route.
    #[arg(long, value_enum, value_delimiter = ',', num_args = 0.., require_equals = true, value_name = "ROUTES")]
    no_content: Option<Vec<Route>>,
    /// Serve only the capture routes: no API and web app on this port.
    #[arg(long)]
    no_ui: bool,
    #[command(flatten)]
    repo: RepoArgs,
}

pub fn run(store: &Path, a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    // `--no-content` alone is every route; with routes, only those.
    let (privacy, no_content) = match (a.redact, a.no_content) {
        (true, _) => (Privacy::Redact, vec![]),
        (_, Some(routes)) if routes.is_empty() => (Privacy::NoContent, vec![]),
        (_, Some(routes)) => (Privacy::Keep, routes),
        _ => (Privacy::Keep, vec![]),
    };
    let ui = if a.no_ui { None } else { Some(a.repo.repo()?) };
    let token = a.token.clone();
    let opts =
        Options { listen: a.listen, upstream: a.upstream, token: a.token, max_body: a.max_body, privacy, no_content };
    let store = open_store(store)?;
    if ui.is_some() {
        store.map_reads()?;
    }
    let mount = ui.map(|repo| -> Box<dyn FnOnce(Handle) -> Router + Send> {
        Box::new(move |handle| crate::ui::router(handle, token, repo))
    });
    let with_ui = mount.is_some();
    runtime()?.block_on(async {
        let server = Server::start_with(opts, store, mount).await?;
        let url = server.url();
        out.println(format_args!("evals collect on {url} (Ctrl-C to stop)"))?;
        if with_ui {
            out.println(format_args!("  trace browser:        {url}/ (API under {url}/api/v1)"))?;
        }
        out.println(format_args!("  Agents SDK exporter:  BackendSpanExporter(endpoint=\"{url}/v1/traces/ingest\")"))?;
        out.println(format_args!("  model client:         OPENAI_BASE_URL={url}/v1"))?;
        out.println(format_args!("  OpenTelemetry:        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={url}/v1/traces"))?;
        // Whoever started the server reads its address from this banner: show it now.
        out.flush()?;
        stopped().await;
        eprintln!("stopping: finishing requests in flight and committing");
        let totals = server.shutdown().await;
        out.println(format_args!(
            "stored {} spans, {} trace records and {} model calls in {} transactions",
            Totals::get(&totals.spans),
            Totals::get(&totals.traces),
            Totals::get(&totals.recordings),
            Totals::get(&totals.transactions)
        ))?;
        if Totals::get(&totals.failed) > 0 {
            return Err(CliError::NotStored(Totals::get(&totals.failed)));
        }
        Ok(ExitCode::SUCCESS)
    })
}
