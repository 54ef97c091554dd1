//! The one place errors become exit codes and hints. Every error the commands can meet is a
//! variant here or inside one, each with its documented exit code:
//! 0 gate passed · 1 gate failed · 2 usage, config or input error · 3 store error ·
//! 4 nothing selected to run · 130 interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::collect::CollectError;
use crate::dataset::DatasetError;
use crate::mock::MockError;
use crate::provider::client::BadBaseUrl;
use crate::provider::pricing::PricesError;
use crate::record::{FindRunError, MergeError, RunFileError};
use crate::run::RunError;
use crate::store::StoreError;
use crate::suite::SuiteError;
use crate::suite::select::SelectError;
use crate::trace::import::ImportError;
use crate::ui::UiError;
use crate::yaml::YamlError;

pub const GATE_FAILED: u8 = 1;
pub const BAD_INPUT: u8 = 2;
pub const STORE: u8 = 3;
pub const NOTHING_SELECTED: u8 = 4;
pub const INTERRUPTED: u8 = 130;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Run(#[from] RunError),
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
    FindRun(#[from] FindRunError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    BaseUrl(#[from] BadBaseUrl),
    #[error(transparent)]
    Prices(#[from] PricesError),
    #[error(transparent)]
    Ui(#[from] UiError),
    #[error("cannot listen on {0}")]
    Listen(SocketAddr, #[source] std::io::Error),
    #[error("cannot read {}", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    #[error("cannot write {}", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
    #[error("--turn counts from 1")]
    TurnZero,
    #[error("nothing to promote: no stored trace matches the filters")]
    NoTraceMatches,
    #[error("{0} lines could not be imported (the rest were)")]
    ImportIncomplete(usize),
    #[error("{0} records could not be stored")]
    NotStored(u64),
    #[error("nothing to change: give --verdict, --failure, --note, --tags or an --expect-* flag")]
    NothingToChange,
    #[error("who is reviewing? pass --reviewer NAME or set `git config user.name`")]
    NoReviewer,
    #[error("not a terminal: use the commands above")]
    NotATerminal,
    #[error("nothing to check: no evals/ or datasets/ folder here")]
    NothingToCheck,
    #[error("which schema? name one (suite, case, taxonomy, mock) or give --out DIR for all")]
    NoSchemaNamed,
}

/// A store error is the store's (exit 3), except an id that matches nothing, which is input.
fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::NotFound { .. } | StoreError::Ambiguous { .. } => BAD_INPUT,
        _ => STORE,
    }
}

fn find_run_code(e: &FindRunError) -> u8 {
    match e {
        FindRunError::Store(s) => store_code(s),
        FindRunError::NoFile(_) | FindRunError::RunFile(_) => BAD_INPUT,
    }
}

impl CliError {
    pub fn code(&self) -> u8 {
        match self {
            CliError::Run(e) => match e {
                RunError::Store(s) => store_code(s),
                RunError::FindRun(f) => find_run_code(f),
                RunError::NothingSelected { .. } | RunError::NothingFailed { .. } => NOTHING_SELECTED,
                RunError::Interrupted { .. } => INTERRUPTED,
                RunError::NoSuite
                | RunError::NothingToResume
                | RunError::AlreadyFinished { .. }
                | RunError::Live { .. }
                | RunError::OnlyLive { .. }
                | RunError::SuiteChanged { .. }
                | RunError::NoApiKey { .. }
                | RunError::Repeat { .. }
                | RunError::Concurrency { .. }
                | RunError::Mock(_)
                | RunError::Runtime(_)
                | RunError::Spill(_)
                | RunError::Suite(_)
                | RunError::Yaml(_)
                | RunError::Dataset(_)
                | RunError::Select(_)
                | RunError::Script(_)
                | RunError::BaseUrl(_)
                | RunError::RunFile(_) => BAD_INPUT,
            },
            CliError::Store(s) | CliError::Dataset(DatasetError::Store(s)) => store_code(s),
            CliError::FindRun(f) => find_run_code(f),
            CliError::NoTraceMatches | CliError::NothingToCheck => NOTHING_SELECTED,
            CliError::Dataset(_)
            | CliError::Suite(_)
            | CliError::Yaml(_)
            | CliError::Import(_)
            | CliError::Mock(_)
            | CliError::RunFile(_)
            | CliError::Collect(_)
            | CliError::Select(_)
            | CliError::Merge(_)
            | CliError::BaseUrl(_)
            | CliError::Prices(_)
            | CliError::Ui(_)
            | CliError::Listen(..)
            | CliError::Read(..)
            | CliError::Write(..)
            | CliError::Runtime(_)
            | CliError::Output(_)
            | CliError::TurnZero
            | CliError::ImportIncomplete(_)
            | CliError::NotStored(_)
            | CliError::NothingToChange
            | CliError::NoReviewer
            | CliError::NotATerminal
            | CliError::NoSchemaNamed => BAD_INPUT,
        }
    }

    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        let store_hint = |e: &StoreError| match e {
            StoreError::NotFound { kind: "trace", .. } => Some("`evals traces list` shows the stored traces".into()),
            StoreError::NotFound { kind: "run", .. } => Some("`evals runs list` shows the stored runs".into()),
            StoreError::Ambiguous { .. } => Some("give more characters of the id".into()),
            StoreError::TooNew { .. } => Some("install the newer evals, or pass --store with another file".into()),
            StoreError::Missing(_) => Some(
                "check --store or EVALS_STORE; `evals collect`, `evals traces import`, `evals run` and \
                 `evals promote` create the store"
                    .into(),
            ),
            _ => None,
        };
        let dataset_hint = |e: &DatasetError| match e {
            DatasetError::NoContent { .. } => e.fix().map(str::to_string),
            DatasetError::UnknownFailure { .. } => Some("the failure ids are listed in evals/taxonomy.yaml".into()),
            _ => None,
        };
        let base_url = || {
            Some(
                "the base URL comes from provider.base_url, else OPENAI_BASE_URL; e.g. https://api.openai.com/v1"
                    .into(),
            )
        };
        match self {
            CliError::Run(e) => match e {
                RunError::Store(s) => store_hint(s),
                RunError::Dataset(d) => dataset_hint(d),
                RunError::BaseUrl(_) => base_url(),
                RunError::NoSuite => Some("give the suite file, or --resume to finish an interrupted run".into()),
                RunError::Live { .. } | RunError::OnlyLive { .. } => {
                    Some("wait for it to finish, or stop it (an interrupted or killed run can be resumed)".into())
                }
                RunError::SuiteChanged { .. } => Some("start a new run of the suite as it is now".into()),
                RunError::NoApiKey { .. } => Some("set it, or set provider.mock in the suite to run offline".into()),
                RunError::Repeat { .. } => Some("give --repeat between 1 and the limit".into()),
                RunError::Concurrency { .. } => Some("give --concurrency between 1 and the limit".into()),
                RunError::Interrupted { run_id } => Some(format!("`evals run --resume {run_id}` finishes it")),
                RunError::NothingFailed { .. } => Some("every case of that run passed; run the whole suite".into()),
                RunError::NothingSelected { loaded, .. } if *loaded > 0 => {
                    Some("check --filter and --shard; `evals cases list` shows the cases".into())
                }
                _ => None,
            },
            CliError::Store(s)
            | CliError::FindRun(FindRunError::Store(s))
            | CliError::Dataset(DatasetError::Store(s)) => store_hint(s),
            CliError::Dataset(d) => dataset_hint(d),
            CliError::BaseUrl(_) => base_url(),
            CliError::Collect(CollectError::TokenRequired(_)) => {
                Some("pass --token (or set EVALS_COLLECT_TOKEN), or listen on 127.0.0.1".into())
            }
            CliError::Ui(UiError::TokenRequired(_)) => {
                Some("pass --token (or set EVALS_UI_TOKEN), or listen on 127.0.0.1".into())
            }
            CliError::NothingToCheck => Some("name the paths to check: evals check datasets/ evals/".into()),
            _ => None,
        }
    }
}
