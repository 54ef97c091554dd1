//! evals: turn what LLM agents did in production into regression tests.
pub mod cli;
pub mod collect;
pub mod compare;
pub mod dataset;
pub mod grade;
pub mod mock;
pub mod pricing;
pub mod replay;
pub mod report;
pub mod run;
pub mod store;
pub mod suite;
pub mod trace;
pub mod yaml;
