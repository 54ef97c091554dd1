//! The one place errors become exit codes and hints.

use crate::collect::CollectError;
use crate::dataset::DatasetError;
use crate::mock::MockError;
use crate::replay::client::BadBaseUrl;
use crate::run::{MergeError, RunFileError};
use crate::store::StoreError;
use crate::suite::SuiteError;
use crate::suite::select::SelectError;
use crate::trace::import::ImportError;
use crate::yaml::YamlError;

pub const GATE_FAILED: u8 = 1;
pub const BAD_INPUT: u8 = 2;
pub const STORE: u8 = 3;
pub const NOTHING_SELECTED: u8 = 4;
pub const INTERRUPTED: u8 = 130;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Mock(#[from] MockError),
    #[error(transparent)]
    RunFile(#[from] RunFileError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    BaseUrl(#[from] BadBaseUrl),
    /// Bad arguments or environment, said in a sentence.
    #[error("{0}")]
    Usage(String),
    #[error("nothing to run: {0}")]
    NothingSelected(String),
    #[error("{0}")]
    Io(String),
    #[error("interrupted")]
    Interrupted,
}

impl CliError {
    pub fn code(&self) -> u8 {
        match self {
            // An id that matches nothing is the user's input, not a broken store.
            CliError::Store(StoreError::NotFound { .. } | StoreError::Ambiguous { .. }) => BAD_INPUT,
            CliError::Store(_) => STORE,
            CliError::NothingSelected(_) => NOTHING_SELECTED,
            CliError::Interrupted => INTERRUPTED,
            _ => BAD_INPUT,
        }
    }

    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Dataset(DatasetError::NoContent(_)) => Some(
                "capture model content: run `evals collect` and point the app's model client at it \
                 (OPENAI_BASE_URL=http://127.0.0.1:4319/v1), or import a processor JSONL capture \
                 (README, \"Capture\")",
            ),
            CliError::Store(StoreError::NotFound { kind: "trace", .. }) => {
                Some("`evals traces list` shows the stored traces")
            }
            CliError::Store(StoreError::Ambiguous { .. }) => Some("give more characters of the id"),
            CliError::Store(StoreError::Missing(_)) => Some(
                "check --store or EVALS_STORE; `evals collect`, `evals traces import`, `evals run` and \
                 `evals promote` create the store",
            ),
            CliError::Store(StoreError::TooNew { .. }) => {
                Some("install the newer evals, or pass --store with another file")
            }
            CliError::BaseUrl(_) => {
                Some("the base URL comes from provider.base_url, else OPENAI_BASE_URL; e.g. https://api.openai.com/v1")
            }
            CliError::Dataset(DatasetError::UnknownFailure { .. }) => {
                Some("the failure ids are listed in evals/taxonomy.yaml")
            }
            _ => None,
        }
    }
}
