//! One file per command.

pub mod diff;
pub mod merge;
pub mod mock;
pub mod promote;
pub mod run;
pub mod traces;

use std::path::Path;

use crate::store::Store;

use super::CliError;

fn open_store(path: &Path) -> Result<Store, CliError> {
    Ok(Store::open(path)?)
}

/// A multi-threaded runtime for the commands that do network work.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the async runtime: {e}")))
}
