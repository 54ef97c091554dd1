//! `evals ui`: serve the API and the web app over this directory's store and datasets until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{open_store, runtime, stopped};
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::dataset::{self, taxonomy};
use crate::provider::pricing::PriceTable;
use crate::ui::{DEFAULT_LISTEN, Repo, Server};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free one); anything but loopback needs --token.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Token every API request must present (header X-Evals-Token, or `Authorization: Bearer`).
    #[arg(long, env = "EVALS_UI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    repo: RepoArgs,
}

/// The repository the API serves, shared by `ui` and `collect`.
#[derive(clap::Args)]
pub struct RepoArgs {
    /// Root folder of datasets.
    #[arg(long, default_value = dataset::DEFAULT_ROOT)]
    datasets: PathBuf,
    #[arg(long, default_value = taxonomy::DEFAULT_PATH)]
    taxonomy: PathBuf,
    /// Price overrides for trace costs; default evals/prices.yaml when it exists.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

impl RepoArgs {
    pub fn repo(&self) -> Result<Repo, CliError> {
        Ok(Repo {
            datasets: self.datasets.clone(),
            taxonomy: self.taxonomy.clone(),
            prices: PriceTable::project(self.prices.as_deref())?,
        })
    }
}

pub fn run(store: &Path, a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let repo = a.repo.repo()?;
    let store = open_store(store)?;
    store.map_reads()?;
    let with_token = a.token.is_some();
    runtime()?.block_on(async {
        let server = Server::start(a.listen, a.token, repo, store).await?;
        out.println(format_args!("evals ui: {} (Ctrl-C to stop)", server.url()))?;
        if with_token {
            out.println(format_args!(
                "  the web app takes the token once from its address: {}?token=TOKEN",
                server.url()
            ))?;
        }
        // Whoever started the server reads its address from this line: show it now.
        out.flush()?;
        stopped().await;
        eprintln!("stopping: finishing requests in flight");
        server.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
