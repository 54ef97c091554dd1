//! The model provider: the OpenAI HTTP client, retries and rate limits, pricing, and the
//! Agents SDKs' naming rules; shared by replay, judges and the run pipeline.

pub mod client;
pub mod naming;
pub mod pricing;
pub mod retry;
