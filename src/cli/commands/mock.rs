//! `evals mock`: serve a scripted Responses API until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::runtime;
use crate::cli::CliError;
use crate::cli::printer::Printer;
use crate::mock::{Script, server::Server};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "127.0.0.1:4010")]
    listen: SocketAddr,
    /// Mock script (YAML rules); without one, the built-in script.
    #[arg(long)]
    script: Option<PathBuf>,
}

pub fn run(a: Args, out: &mut Printer) -> Result<ExitCode, CliError> {
    let script = match &a.script {
        Some(p) => Script::load(p)?,
        None => Script::builtin(),
    };
    runtime()?.block_on(async {
        let server = Server::start(script, a.listen).await.map_err(|e| CliError::Listen(a.listen, e))?;
        out.println(format_args!("mock Responses API on {} (Ctrl-C to stop)", server.base_url()))?;
        // Whoever started the server reads its address from this line: show it now.
        out.flush()?;
        server
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        Ok(ExitCode::SUCCESS)
    })
}
