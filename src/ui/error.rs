//! The API's errors, each answered as `{"error": {status, code, message, parameter?}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::dataset::DatasetError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown parameter {name:?}; this route takes {allowed}")]
    UnknownParameter { name: String, allowed: String },
    #[error("parameter {parameter:?}: {message}")]
    BadParameter { parameter: String, message: String },
    #[error("parameter {parameter:?} is not a cursor this route gave out")]
    BadCursor { parameter: &'static str },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing or wrong token: send it in the X-Evals-Token header or as `Authorization: Bearer TOKEN`")]
    Unauthorized,
    /// A request body the route cannot use.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("the request's work stopped: {0}")]
    Task(String),
}

impl ApiError {
    pub fn bad(parameter: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter { parameter: parameter.to_string(), message: message.into() }
    }

    fn status_code(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::UnknownParameter { .. } => (S::BAD_REQUEST, "unknown_parameter"),
            ApiError::BadParameter { .. } => (S::BAD_REQUEST, "bad_parameter"),
            ApiError::BadCursor { .. } => (S::BAD_REQUEST, "bad_cursor"),
            ApiError::NotFound(_) => (S::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (S::CONFLICT, "conflict"),
            ApiError::Unauthorized => (S::UNAUTHORIZED, "unauthorized"),
            ApiError::Invalid(_) => (S::BAD_REQUEST, "invalid"),
            ApiError::Store(e) => match e {
                StoreError::NotFound { .. } => (S::NOT_FOUND, "not_found"),
                StoreError::Ambiguous { .. } => (S::BAD_REQUEST, "invalid"),
                _ => (S::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::Dataset(e) => match e {
                DatasetError::CaseNotFound { .. } | DatasetError::MissingFolder(_) => (S::NOT_FOUND, "not_found"),
                DatasetError::Store(StoreError::NotFound { .. }) => (S::NOT_FOUND, "not_found"),
                DatasetError::Duplicate { .. } => (S::CONFLICT, "conflict"),
                DatasetError::AmbiguousCase { .. }
                | DatasetError::Invalid(_)
                | DatasetError::NoContent { .. }
                | DatasetError::UnknownFailure { .. }
                | DatasetError::BadName { .. }
                | DatasetError::Store(StoreError::Ambiguous { .. }) => (S::BAD_REQUEST, "invalid"),
                DatasetError::Read { .. }
                | DatasetError::Write { .. }
                | DatasetError::Yaml(_)
                | DatasetError::CaseFile(_)
                | DatasetError::Store(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::Task(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            ApiError::UnknownParameter { name, .. } => Some(name),
            ApiError::BadParameter { parameter, .. } => Some(parameter),
            ApiError::BadCursor { parameter } => Some(parameter),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        // The causes too: "cannot read x.yaml: permission denied".
        let mut message = self.to_string();
        let mut cause = std::error::Error::source(&self);
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.contains(&text) {
                message.push_str(&format!(": {text}"));
            }
            cause = c.source();
        }
        if let Some(fix) = match &self {
            ApiError::Dataset(d) => d.fix(),
            _ => None,
        } {
            message.push_str(&format!("; {fix}"));
        }
        let mut error = json!({"status": status.as_u16(), "code": code, "message": message});
        if let Some(p) = self.parameter() {
            error["parameter"] = p.into();
        }
        (status, Json(json!({ "error": error }))).into_response()
    }
}
