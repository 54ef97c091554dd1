//! `POST /v1/traces` and `POST /v1/logs`: OTLP/HTTP export requests, JSON or protobuf, plain or
//! gzip, answered in the encoding they came in as the OTLP specification asks.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{App, Route, body_error};
use crate::trace::otlp::{self, Encoding, OtlpError};

/// `google.rpc.Status`, the body of an OTLP error answer.
#[derive(Clone, PartialEq, prost::Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// `google.rpc.Code.INVALID_ARGUMENT` and `UNAVAILABLE`.
const INVALID_ARGUMENT: i32 = 3;
const UNAVAILABLE: i32 = 14;

pub async fn traces(State(app): State<Arc<App>>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    export(app, headers, body, otlp::parse_traces).await
}

pub async fn logs(State(app): State<Arc<App>>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    export(app, headers, body, otlp::parse_logs).await
}

async fn export(
    app: Arc<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    parse: fn(&[u8], Encoding) -> Result<crate::trace::Batch, OtlpError>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(encoding) = Encoding::from_content_type(content_type) else {
        return answer(
            Encoding::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some((
                INVALID_ARGUMENT,
                format!("content type {content_type:?}: send application/json or application/x-protobuf"),
            )),
        );
    };
    let gzipped = headers.get(header::CONTENT_ENCODING).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let inflated;
    let bytes: &[u8] = if gzipped {
        inflated = match otlp::gunzip(&body, app.max_body) {
            Ok(b) => b,
            Err(e @ OtlpError::TooLarge { .. }) => {
                return answer(encoding, StatusCode::PAYLOAD_TOO_LARGE, Some((INVALID_ARGUMENT, e.to_string())));
            }
            Err(e) => return answer(encoding, StatusCode::BAD_REQUEST, Some((INVALID_ARGUMENT, e.to_string()))),
        };
        &inflated
    } else {
        &body
    };
    let mut batch = match parse(bytes, encoding) {
        Ok(b) => b,
        Err(e) => return answer(encoding, StatusCode::BAD_REQUEST, Some((INVALID_ARGUMENT, e.to_string()))),
    };
    app.privacy(Route::Traces, &headers).batch(&mut batch);
    match app.commit(batch, None).await {
        Ok(()) => answer(encoding, StatusCode::OK, None),
        // 503 is retryable for OTLP exporters.
        Err(e) => answer(encoding, StatusCode::SERVICE_UNAVAILABLE, Some((UNAVAILABLE, e))),
    }
}

/// An empty export response on success, a `Status` otherwise, in the request's encoding.
fn answer(encoding: Encoding, status: StatusCode, problem: Option<(i32, String)>) -> Response {
    match encoding {
        Encoding::Json => {
            let body = match problem {
                Some((code, message)) => json!({"code": code, "message": message}),
                None => json!({}),
            };
            (status, axum::Json(body)).into_response()
        }
        Encoding::Protobuf => {
            let body = problem.map(|(code, message)| prost::Message::encode_to_vec(&Status { code, message }));
            (status, [(header::CONTENT_TYPE, "application/x-protobuf")], body.unwrap_or_default()).into_response()
        }
    }
}
