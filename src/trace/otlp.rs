//! OTLP/HTTP export requests (traces and logs, JSON or protobuf, gzip) with OpenTelemetry GenAI
//! semantic-convention and OpenInference attributes, mapped onto the trace model.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::agents_sdk::{RESPONSE_PARAMS, call_from_response};
use super::items::{chat_assistant_items, from_chat_messages, strip_nulls, tool_from_chat};
use super::{Batch, Capture, ModelApi, ModelCall, Span, SpanData, SpanError, Trace, Usage};

/// How an export request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Protobuf,
}

impl Encoding {
    /// The encoding a `Content-Type` header names (parameters such as `charset` ignored).
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        match content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
            "application/json" => Some(Encoding::Json),
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            _ => None,
        }
    }
}

/// Why an export request was refused; the message is meant for a 400 answer.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("invalid OTLP protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("invalid OTLP JSON: {0}")]
    Json(String),
    #[error("invalid gzip body: {0}")]
    Gzip(std::io::Error),
    #[error("gzip body inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("span {index} ({name:?}): {reason}")]
    Span { index: usize, name: String, reason: String },
    /// A field of the request that cannot be read, by its path (`resourceSpans[0]...traceId`).
    #[error("{path}: {reason}")]
    Field { path: String, reason: String },
}

/// Inflate a `Content-Encoding: gzip` body, refusing one that inflates beyond `limit` bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, OtlpError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).take(limit as u64 + 1).read_to_end(&mut out).map_err(OtlpError::Gzip)?;
    if out.len() > limit {
        return Err(OtlpError::TooLarge { limit });
    }
    Ok(out)
}

/// An `ExportTraceServiceRequest` body (already inflated).
pub fn parse_traces(body: &[u8], encoding: Encoding) -> Result<Batch, OtlpError> {
    let resources = match encoding {
        Encoding::Protobuf => {
            let req: pb::ExportTraceServiceRequest = prost::Message::decode(body)?;
            req.resource_spans
                .into_iter()
                .enumerate()
                .map(|(i, r)| Resource::from_pb(i, r))
                .collect::<Result<_, _>>()?
        }
        Encoding::Json => json_resources(&json_body(body)?, "resourceSpans")?,
    };
    spans_batch(resources)
}

/// An `ExportLogsServiceRequest` body (already inflated): GenAI content events, attached to the
/// model-call spans they belong to.
pub fn parse_logs(body: &[u8], encoding: Encoding) -> Result<Batch, OtlpError> {
    let logs = match encoding {
        Encoding::Protobuf => {
            let req: pb::ExportLogsServiceRequest = prost::Message::decode(body)?;
            let mut logs = Vec::new();
            for (i, r) in req.resource_logs.into_iter().enumerate() {
                for (j, s) in r.scope_logs.into_iter().enumerate() {
                    for (k, l) in s.log_records.into_iter().enumerate() {
                        logs.push(Log::from_pb(&format!("resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"), l)?);
                    }
                }
            }
            logs
        }
        Encoding::Json => json_logs(&json_body(body)?)?,
    };
    Ok(logs_batch(logs))
}

/// One OTLP/JSON document already parsed (a line of a Collector file export): a trace or a
/// logs request. `None` when it is neither.
pub fn parse_json_value(v: &Value) -> Option<Result<Batch, OtlpError>> {
    if v.get("resourceSpans").is_some() {
        Some(json_resources(v, "resourceSpans").and_then(spans_batch))
    } else if v.get("resourceLogs").is_some() {
        Some(json_logs(v).map(logs_batch))
    } else {
        None
    }
}

fn json_body(body: &[u8]) -> Result<Value, OtlpError> {
    serde_json::from_slice(body).map_err(|e| OtlpError::Json(e.to_string()))
}

/// The attributes of a span or log record, flattened to JSON values by key.
type Attrs = Map<String, Value>;

struct Resource {
    attrs: Attrs,
    spans: Vec<RawSpan>,
}

struct RawSpan {
    trace_id: String,
    span_id: String,
    parent_id: Option<String>,
    name: String,
    start: u64,
    end: u64,
    attrs: Attrs,
    events: Vec<Event>,
    /// 2 is ERROR.
    status_code: i32,
    status_message: String,
}

struct Event {
    name: String,
    attrs: Attrs,
}

struct Log {
    trace_id: String,
    span_id: String,
    event_name: String,
    attrs: Attrs,
    body: Value,
}

// ---- protobuf -------------------------------------------------------------------------------

/// The few OTLP messages needed, by hand (field numbers from opentelemetry-proto v1).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportTraceServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_spans: Vec<ResourceSpans>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceSpans {
        #[prost(message, optional, tag = "1")]
        pub resource: Option<Resource>,
        #[prost(message, repeated, tag = "2")]
        pub scope_spans: Vec<ScopeSpans>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Resource {
        #[prost(message, repeated, tag = "1")]
        pub attributes: Vec<KeyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeSpans {
        #[prost(message, repeated, tag = "2")]
        pub spans: Vec<Span>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Span {
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub parent_span_id: Vec<u8>,
        #[prost(string, tag = "5")]
        pub name: String,
        #[prost(fixed64, tag = "7")]
        pub start_time_unix_nano: u64,
        #[prost(fixed64, tag = "8")]
        pub end_time_unix_nano: u64,
        #[prost(message, repeated, tag = "9")]
        pub attributes: Vec<KeyValue>,
        #[prost(message, repeated, tag = "11")]
        pub events: Vec<Event>,
        #[prost(message, optional, tag = "15")]
        pub status: Option<Status>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(message, repeated, tag = "3")]
        pub attributes: Vec<KeyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Status {
        #[prost(string, tag = "2")]
        pub message: String,
        #[prost(int32, tag = "3")]
        pub code: i32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportLogsServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_logs: Vec<ResourceLogs>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceLogs {
        #[prost(message, repeated, tag = "2")]
        pub scope_logs: Vec<ScopeLogs>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeLogs {
        #[prost(message, repeated, tag = "2")]
        pub log_records: Vec<LogRecord>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LogRecord {
        #[prost(message, optional, tag = "5")]
        pub body: Option<AnyValue>,
        #[prost(message, repeated, tag = "6")]
        pub attributes: Vec<KeyValue>,
        #[prost(bytes = "vec", tag = "9")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "10")]
        pub span_id: Vec<u8>,
        #[prost(string, tag = "12")]
        pub event_name: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<AnyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyValue {
        #[prost(oneof = "Value", tags = "1, 2, 3, 4, 5, 6, 7")]
        pub value: Option<Value>,
    }
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        String(String),
        #[prost(bool, tag = "2")]
        Bool(bool),
        #[prost(int64, tag = "3")]
        Int(i64),
        #[prost(double, tag = "4")]
        Double(f64),
        #[prost(message, tag = "5")]
        Array(ArrayValue),
        #[prost(message, tag = "6")]
        Kvlist(KeyValueList),
        #[prost(bytes = "vec", tag = "7")]
        Bytes(Vec<u8>),
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ArrayValue {
        #[prost(message, repeated, tag = "1")]
        pub values: Vec<AnyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValueList {
        #[prost(message, repeated, tag = "1")]
        pub values: Vec<KeyValue>,
    }
}

fn pb_value(v: Option<pb::AnyValue>) -> Value {
    match v.and_then(|v| v.value) {
        None => Value::Null,
        Some(pb::Value::String(s)) => Value::String(s),
        Some(pb::Value::Bool(b)) => Value::Bool(b),
        Some(pb::Value::Int(i)) => Value::from(i),
        Some(pb::Value::Double(d)) => serde_json::Number::from_f64(d).map_or(Value::Null, Value::Number),
        Some(pb::Value::Array(a)) => Value::Array(a.values.into_iter().map(|v| pb_value(Some(v))).collect()),
        Some(pb::Value::Kvlist(l)) => Value::Object(pb_attrs(l.values)),
        Some(pb::Value::Bytes(b)) => Value::String(hex::encode(b)),
    }
}

fn pb_attrs(kvs: Vec<pb::KeyValue>) -> Attrs {
    kvs.into_iter().map(|kv| (kv.key, pb_value(kv.value))).collect()
}

/// The byte length of an id field: 16 for a trace id, 8 for a span id.
fn id_len(key: &str) -> usize {
    if key == "traceId" { 16 } else { 8 }
}

/// An id field of a protobuf request: absent (empty) or all zeros is none; any other length
/// than the field's is refused with its place rather than stored under a broken id.
fn pb_id(bytes: &[u8], at: &str, key: &str) -> Result<Option<String>, OtlpError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let len = id_len(key);
    if bytes.len() != len {
        return Err(OtlpError::Field {
            path: format!("{at}.{key}"),
            reason: format!("{} bytes, not {len}", bytes.len()),
        });
    }
    Ok(bytes.iter().any(|b| *b != 0).then(|| hex::encode(bytes)))
}

impl Resource {
    fn from_pb(i: usize, r: pb::ResourceSpans) -> Result<Resource, OtlpError> {
        let mut spans = Vec::new();
        for (j, scope) in r.scope_spans.into_iter().enumerate() {
            for (k, s) in scope.spans.into_iter().enumerate() {
                let at = format!("resourceSpans[{i}].scopeSpans[{j}].spans[{k}]");
                let status = s.status.unwrap_or_default();
                spans.push(RawSpan {
                    trace_id: pb_id(&s.trace_id, &at, "traceId")?.unwrap_or_default(),
                    span_id: pb_id(&s.span_id, &at, "spanId")?.unwrap_or_default(),
                    parent_id: pb_id(&s.parent_span_id, &at, "parentSpanId")?,
                    name: s.name,
                    start: s.start_time_unix_nano,
                    end: s.end_time_unix_nano,
                    attrs: pb_attrs(s.attributes),
                    events: s
                        .events
                        .into_iter()
                        .map(|e| Event { name: e.name, attrs: pb_attrs(e.attributes) })
                        .collect(),
                    status_code: status.code,
                    status_message: status.message,
                });
            }
        }
        Ok(Resource { attrs: pb_attrs(r.resource.map(|r| r.attributes).unwrap_or_default()), spans })
    }
}

impl Log {
    fn from_pb(at: &str, l: pb::LogRecord) -> Result<Log, OtlpError> {
        Ok(Log {
            trace_id: pb_id(&l.trace_id, at, "traceId")?.unwrap_or_default(),
            span_id: pb_id(&l.span_id, at, "spanId")?.unwrap_or_default(),
            event_name: l.event_name,
            attrs: pb_attrs(l.attributes),
            body: pb_value(l.body),
        })
    }
}

// ---- JSON -----------------------------------------------------------------------------------

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn json_str(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// 64-bit integers are decimal strings in OTLP/JSON, but numbers are accepted too.
fn json_u64(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(n) => n.as_u64().unwrap_or(0),
        None => 0,
    }
}

/// An id field of OTLP/JSON, hex as the spec says: absent, empty or all zeros is none; anything
/// but the field's number of hex digits is refused with its place.
fn json_id(v: &Value, at: &str, key: &str) -> Result<Option<String>, OtlpError> {
    let bad = |reason: String| OtlpError::Field { path: format!("{at}.{key}"), reason };
    let id = match v.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(other) => return Err(bad(format!("{other} is not a hex string"))),
    };
    if id.is_empty() {
        return Ok(None);
    }
    let digits = 2 * id_len(key);
    if id.len() != digits || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let shown: String = id.chars().take(40).collect();
        return Err(bad(format!("{shown:?} is not {digits} hex digits")));
    }
    Ok(id.bytes().any(|b| b != b'0').then_some(id))
}

fn json_value(v: &Value) -> Value {
    let Some(o) = v.as_object() else { return Value::Null };
    if let Some(s) = o.get("stringValue") {
        return s.clone();
    }
    if let Some(b) = o.get("boolValue") {
        return b.clone();
    }
    if let Some(i) = o.get("intValue") {
        return match i {
            Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        };
    }
    if let Some(d) = o.get("doubleValue") {
        return d.clone();
    }
    if let Some(a) = o.get("arrayValue") {
        return Value::Array(list(a, "values").iter().map(json_value).collect());
    }
    if let Some(l) = o.get("kvlistValue") {
        return Value::Object(json_attrs(list(l, "values")));
    }
    o.get("bytesValue").cloned().unwrap_or(Value::Null)
}

fn json_attrs(kvs: &[Value]) -> Attrs {
    kvs.iter().map(|kv| (json_str(kv, "key"), kv.get("value").map(json_value).unwrap_or(Value::Null))).collect()
}

fn json_resources(doc: &Value, key: &str) -> Result<Vec<Resource>, OtlpError> {
    let Some(resources) = doc.get(key).and_then(Value::as_array) else {
        return Err(OtlpError::Json(format!("expected an object with `{key}`")));
    };
    let mut out = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let mut spans = Vec::new();
        for (j, scope) in list(r, "scopeSpans").iter().enumerate() {
            for (k, s) in list(scope, "spans").iter().enumerate() {
                let at = format!("{key}[{i}].scopeSpans[{j}].spans[{k}]");
                let status = s.get("status").unwrap_or(&Value::Null);
                spans.push(RawSpan {
                    trace_id: json_id(s, &at, "traceId")?.unwrap_or_default(),
                    span_id: json_id(s, &at, "spanId")?.unwrap_or_default(),
                    parent_id: json_id(s, &at, "parentSpanId")?,
                    name: json_str(s, "name"),
                    start: json_u64(s, "startTimeUnixNano"),
                    end: json_u64(s, "endTimeUnixNano"),
                    attrs: json_attrs(list(s, "attributes")),
                    events: list(s, "events")
                        .iter()
                        .map(|e| Event { name: json_str(e, "name"), attrs: json_attrs(list(e, "attributes")) })
                        .collect(),
                    status_code: status_code(status.get("code")),
                    status_message: json_str(status, "message"),
                });
            }
        }
        let attrs = r.get("resource").map(|res| json_attrs(list(res, "attributes"))).unwrap_or_default();
        out.push(Resource { attrs, spans });
    }
    Ok(out)
}

/// Enums are integers in OTLP/JSON; the proto names are accepted as well.
fn status_code(v: Option<&Value>) -> i32 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) as i32,
        Some(Value::String(s)) if s == "STATUS_CODE_ERROR" => 2,
        Some(Value::String(s)) if s == "STATUS_CODE_OK" => 1,
        _ => 0,
    }
}

fn json_logs(doc: &Value) -> Result<Vec<Log>, OtlpError> {
    let Some(resources) = doc.get("resourceLogs").and_then(Value::as_array) else {
        return Err(OtlpError::Json("expected an object with `resourceLogs`".into()));
    };
    let mut logs = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        for (j, scope) in list(r, "scopeLogs").iter().enumerate() {
            for (k, l) in list(scope, "logRecords").iter().enumerate() {
                let at = format!("resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]");
                logs.push(Log {
                    trace_id: json_id(l, &at, "traceId")?.unwrap_or_default(),
                    span_id: json_id(l, &at, "spanId")?.unwrap_or_default(),
                    event_name: json_str(l, "eventName"),
                    attrs: json_attrs(list(l, "attributes")),
                    body: l.get("body").map(json_value).unwrap_or(Value::Null),
                });
            }
        }
    }
    Ok(logs)
}

// ---- mapping --------------------------------------------------------------------------------

fn time(nanos: u64) -> Option<DateTime<Utc>> {
    (nanos > 0).then(|| DateTime::from_timestamp_nanos(nanos as i64))
}

fn spans_batch(resources: Vec<Resource>) -> Result<Batch, OtlpError> {
    let mut batch = Batch::default();
    let mut index = 0;
    for resource in resources {
        for raw in resource.spans {
            if raw.trace_id.is_empty() || raw.span_id.is_empty() {
                let which = if raw.trace_id.is_empty() { "traceId" } else { "spanId" };
                return Err(OtlpError::Span { index, name: raw.name, reason: format!("missing {which}") });
            }
            index += 1;
            if raw.parent_id.is_none() {
                batch.traces.push(trace_record(&raw, &resource.attrs));
            }
            batch.spans.push(map_span(raw));
        }
    }
    Ok(batch)
}

/// A root span stands for the whole trace: its name is the workflow, and the service and the
/// session or conversation id are kept as metadata.
fn trace_record(root: &RawSpan, resource: &Attrs) -> Trace {
    let a = &root.attrs;
    let mut metadata = Map::new();
    if let Some(service) = resource.get("service.name").filter(|v| v.is_string()) {
        metadata.insert("service.name".into(), service.clone());
    }
    if let Some(Value::Object(m)) = parsed(a, "metadata") {
        metadata.extend(m);
    }
    if let Some(user) = a.get("user.id").filter(|v| v.is_string()) {
        metadata.insert("user.id".into(), user.clone());
    }
    Trace {
        id: root.trace_id.clone(),
        workflow: Some(root.name.clone()).filter(|n| !n.is_empty()),
        group_id: text(a, "session.id").or_else(|| text(a, "gen_ai.conversation.id")),
        metadata: Some(metadata).filter(|m| !m.is_empty()),
    }
}

fn map_span(raw: RawSpan) -> Span {
    let error = (raw.status_code == 2).then(|| SpanError {
        message: Some(raw.status_message.clone())
            .filter(|m| !m.is_empty())
            .or_else(|| {
                raw.events.iter().find(|e| e.name == "exception").and_then(|e| text(&e.attrs, "exception.message"))
            })
            .or_else(|| text(&raw.attrs, "error.type"))
            .unwrap_or_else(|| "error".into()),
        data: None,
    });
    Span {
        data: span_data(&raw),
        trace_id: raw.trace_id,
        id: raw.span_id,
        parent_id: raw.parent_id,
        started_at: time(raw.start),
        ended_at: time(raw.end),
        error,
    }
}

fn span_data(raw: &RawSpan) -> SpanData {
    let a = &raw.attrs;
    if let Some(kind) = text(a, "openinference.span.kind") {
        return openinference(&kind, raw);
    }
    let op = text(a, "gen_ai.operation.name");
    match op.as_deref() {
        Some("execute_tool") => SpanData::Tool {
            name: text(a, "gen_ai.tool.name")
                .unwrap_or_else(|| raw.name.trim_start_matches("execute_tool ").to_string()),
            arguments: as_text(a.get("gen_ai.tool.call.arguments")),
            output: as_text(a.get("gen_ai.tool.call.result")),
            call_id: text(a, "gen_ai.tool.call.id"),
        },
        Some("invoke_agent" | "create_agent") => SpanData::Agent {
            name: text(a, "gen_ai.agent.name").unwrap_or_else(|| raw.name.clone()),
            handoffs: vec![],
            tools: vec![],
            output_type: None,
        },
        Some("chat" | "text_completion" | "generate_content" | "responses") => {
            SpanData::Model(Box::new(genai_call(a, &raw.events)))
        }
        None if a.contains_key("gen_ai.request.model") || a.contains_key("gen_ai.system") => {
            SpanData::Model(Box::new(genai_call(a, &raw.events)))
        }
        _ => custom(raw),
    }
}

fn custom(raw: &RawSpan) -> SpanData {
    SpanData::Custom { name: raw.name.clone(), data: Value::Object(raw.attrs.clone()) }
}

fn openinference(kind: &str, raw: &RawSpan) -> SpanData {
    let a = &raw.attrs;
    match kind {
        "LLM" => SpanData::Model(Box::new(openinference_call(a))),
        // The Agents SDK instrumentation records a handoff as a TOOL span with only the two
        // agent names as input and output.
        "TOOL" if !a.contains_key("tool.name") && raw.name.starts_with("handoff") => {
            SpanData::Handoff { from: text(a, "input.value"), to: text(a, "output.value") }
        }
        "TOOL" => SpanData::Tool {
            name: text(a, "tool.name").unwrap_or_else(|| raw.name.clone()),
            arguments: as_text(a.get("input.value")),
            output: as_text(a.get("output.value")),
            call_id: text(a, "tool.id").or_else(|| text(a, "tool_call.id")),
        },
        // The root AGENT span stands for the workflow, not an agent: it has no `agent.name`.
        "AGENT" => match text(a, "agent.name") {
            Some(name) => SpanData::Agent { name, handoffs: vec![], tools: vec![], output_type: None },
            None => custom(raw),
        },
        _ => custom(raw),
    }
}

/// A model call from OpenInference LLM attributes. When `output.value` is the full Responses
/// object (the Agents SDK instrumentation) it is used as is; the flattened `llm.*` attributes
/// fill whatever it lacks.
fn openinference_call(a: &Attrs) -> ModelCall {
    let flat = openinference_flat(a);
    let response = parsed(a, "output.value").filter(|r| r.get("output").is_some_and(Value::is_array));
    match response {
        Some(r) => {
            let input = parsed(a, "input.value").filter(|i| i.is_array() || i.is_string());
            let mut call = call_from_response(&r, input.as_ref());
            call.capture = Some(Capture::OpenInference);
            call.merge(&flat);
            call
        }
        None => flat,
    }
}

fn openinference_flat(a: &Attrs) -> ModelCall {
    let messages: Vec<Value> = indexed(a, "llm.input_messages.").iter().map(oi_message).collect();
    let outputs: Vec<Value> = indexed(a, "llm.output_messages.").iter().map(oi_message).collect();
    let (instructions, input) = from_chat_messages(&messages);
    let invocation = parsed(a, "llm.invocation_parameters").unwrap_or(Value::Null);
    let mut params = Map::new();
    if let Some(o) = invocation.as_object() {
        for (k, v) in o {
            let key = if k == "max_tokens" { "max_output_tokens" } else { k.as_str() };
            let v = strip_nulls(v);
            // `{"effort": null}` says nothing once the nulls are gone.
            if RESPONSE_PARAMS.contains(&key) && !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()) {
                params.insert(key.to_string(), v);
            }
        }
    }
    let tokens = |k: &str| a.get(k).and_then(Value::as_u64);
    let usage =
        (tokens("llm.token_count.prompt").is_some() || tokens("llm.token_count.completion").is_some()).then(|| Usage {
            input_tokens: tokens("llm.token_count.prompt").unwrap_or(0),
            output_tokens: tokens("llm.token_count.completion").unwrap_or(0),
            cached_input_tokens: tokens("llm.token_count.prompt_details.cache_read").unwrap_or(0),
            reasoning_tokens: tokens("llm.token_count.completion_details.reasoning").unwrap_or(0),
        });
    ModelCall {
        api: ModelApi::ChatCompletions,
        response_id: invocation.get("id").and_then(Value::as_str).map(str::to_string),
        model: text(a, "llm.model_name"),
        instructions: instructions
            .or_else(|| invocation.get("instructions").and_then(Value::as_str).map(str::to_string)),
        input: (!messages.is_empty()).then_some(input),
        output: (!outputs.is_empty()).then(|| outputs.iter().flat_map(chat_assistant_items).collect()),
        tools: indexed(a, "llm.tools.")
            .iter()
            .filter_map(|t| parsed(t, "tool.json_schema"))
            .map(|t| tool_from_chat(&t))
            .collect(),
        params,
        usage,
        attempts: vec![],
        provider: text(a, "llm.provider").or_else(|| text(a, "llm.system")),
        capture: Some(Capture::OpenInference),
    }
}

/// An OpenInference flattened message as a Chat Completions message.
fn oi_message(m: &Attrs) -> Value {
    let content = text(m, "message.content").unwrap_or_else(|| {
        indexed(m, "message.contents.")
            .iter()
            .filter_map(|c| text(c, "message_content.text"))
            .collect::<Vec<_>>()
            .join("")
    });
    let mut msg = json!({"role": text(m, "message.role").unwrap_or_else(|| "user".into()), "content": content});
    let calls: Vec<Value> = indexed(m, "message.tool_calls.")
        .iter()
        .map(|c| {
            json!({"id": text(c, "tool_call.id").unwrap_or_default(), "type": "function", "function": {
                "name": text(c, "tool_call.function.name").unwrap_or_default(),
                "arguments": text(c, "tool_call.function.arguments").unwrap_or_else(|| "{}".into()),
            }})
        })
        .collect();
    if !calls.is_empty() {
        msg["tool_calls"] = Value::Array(calls);
    }
    if let Some(id) = text(m, "message.tool_call_id") {
        msg["tool_call_id"] = id.into();
    }
    msg
}

/// A model call from GenAI semantic-convention attributes (any version), with content from
/// `gen_ai.*.messages`, the older prompt/completion span events, or OpenLLMetry-style
/// flattened prompts.
fn genai_call(a: &Attrs, events: &[Event]) -> ModelCall {
    let tokens = |keys: &[&str]| keys.iter().find_map(|k| a.get(*k).and_then(Value::as_u64));
    let usage = tokens(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"])
        .or(tokens(&["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"]))
        .map(|_| Usage {
            input_tokens: tokens(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"]).unwrap_or(0),
            output_tokens: tokens(&["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"]).unwrap_or(0),
            cached_input_tokens: tokens(&["gen_ai.usage.cache_read.input_tokens"]).unwrap_or(0),
            reasoning_tokens: tokens(&["gen_ai.usage.reasoning.output_tokens"]).unwrap_or(0),
        });
    let event_attr =
        |event: &str, key: &str| events.iter().find(|e| e.name == event).and_then(|e| parsed(&e.attrs, key));
    let input_msgs = parsed(a, "gen_ai.input.messages")
        .map(|m| genai_messages(&m))
        .or_else(|| event_attr("gen_ai.content.prompt", "gen_ai.prompt").map(|m| genai_messages(&m)))
        .or_else(|| flattened_messages(a, "gen_ai.prompt."));
    let output_msgs = parsed(a, "gen_ai.output.messages")
        .map(|m| genai_messages(&m))
        .or_else(|| event_attr("gen_ai.content.completion", "gen_ai.completion").map(|m| genai_messages(&m)))
        .or_else(|| flattened_messages(a, "gen_ai.completion."));
    let (from_messages, input) = match &input_msgs {
        Some(m) => {
            let (i, items) = from_chat_messages(m);
            (i, Some(items))
        }
        None => (None, None),
    };
    let mut params = Map::new();
    for (attr, key) in [
        ("gen_ai.request.temperature", "temperature"),
        ("gen_ai.request.top_p", "top_p"),
        ("gen_ai.request.max_tokens", "max_output_tokens"),
        ("gen_ai.request.seed", "seed"),
        ("gen_ai.request.frequency_penalty", "frequency_penalty"),
        ("gen_ai.request.presence_penalty", "presence_penalty"),
        ("gen_ai.request.stop_sequences", "stop"),
    ] {
        if let Some(v) = a.get(attr).filter(|v| !v.is_null()) {
            params.insert(key.into(), v.clone());
        }
    }
    ModelCall {
        api: if text(a, "openai.api.type").as_deref() == Some("responses") {
            ModelApi::Responses
        } else {
            ModelApi::ChatCompletions
        },
        response_id: text(a, "gen_ai.response.id"),
        model: text(a, "gen_ai.response.model").or_else(|| text(a, "gen_ai.request.model")),
        instructions: parsed(a, "gen_ai.system_instructions").map(|p| parts_text(&p)).or(from_messages),
        input,
        output: output_msgs.map(|m| m.iter().flat_map(chat_assistant_items).collect()),
        tools: match parsed(a, "gen_ai.tool.definitions") {
            Some(Value::Array(tools)) => tools.iter().map(tool_from_chat).collect(),
            _ => vec![],
        },
        params,
        usage,
        attempts: vec![],
        provider: text(a, "gen_ai.provider.name").or_else(|| text(a, "gen_ai.system")),
        capture: Some(Capture::OtlpGenai),
    }
}

/// GenAI messages (`{role, parts: [...]}`, or chat-shaped `{role, content}`) as Chat
/// Completions messages; one tool message per tool result part.
fn genai_messages(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for m in v.as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(parts) = m.get("parts").and_then(Value::as_array) else {
            out.push(m.clone());
            continue;
        };
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        let mut calls = Vec::new();
        for p in parts {
            match p.get("type").and_then(Value::as_str) {
                Some("tool_call") => calls.push(json!({
                    "id": json_str(p, "id"), "type": "function",
                    "function": {"name": json_str(p, "name"), "arguments": as_text(p.get("arguments")).unwrap_or_else(|| "{}".into())},
                })),
                Some("tool_call_response") => out.push(json!({
                    "role": "tool", "tool_call_id": json_str(p, "id"),
                    "content": as_text(p.get("response").or_else(|| p.get("result"))).unwrap_or_default(),
                })),
                _ => {}
            }
        }
        let content = parts_text(&Value::Array(parts.clone()));
        if !content.is_empty() || !calls.is_empty() {
            let mut msg = json!({"role": role, "content": content});
            if !calls.is_empty() {
                msg["tool_calls"] = Value::Array(calls);
            }
            out.push(msg);
        }
    }
    out
}

/// The text parts of a GenAI part list (or a plain string).
fn parts_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str).is_none_or(|t| t == "text"))
            .filter_map(|p| p.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// OpenLLMetry-style `gen_ai.prompt.N.role|content` attributes as chat messages.
fn flattened_messages(a: &Attrs, prefix: &str) -> Option<Vec<Value>> {
    let msgs: Vec<Value> = indexed(a, prefix)
        .iter()
        .map(|m| json!({"role": text(m, "role").unwrap_or_else(|| "user".into()), "content": text(m, "content").unwrap_or_default()}))
        .collect();
    (!msgs.is_empty()).then_some(msgs)
}

/// GenAI content that arrives as log records: the v1.37+ `gen_ai.client.inference.operation.details`
/// event carries the whole call; older versions send one event per message and `gen_ai.choice`.
/// Each becomes a model span with the id of the span it belongs to, so that ingest merges it
/// into that span whichever arrives first.
fn logs_batch(logs: Vec<Log>) -> Batch {
    let mut per_span: BTreeMap<(String, String), Vec<Log>> = BTreeMap::new();
    for log in logs {
        // Content outside any span has nothing to attach to.
        if log.trace_id.is_empty() || log.span_id.is_empty() {
            continue;
        }
        per_span.entry((log.trace_id.clone(), log.span_id.clone())).or_default().push(log);
    }
    let mut batch = Batch::default();
    for ((trace_id, span_id), logs) in per_span {
        let mut call: Option<ModelCall> = None;
        let (mut messages, mut choices) = (Vec::new(), Vec::new());
        for log in &logs {
            let name = if log.event_name.is_empty() {
                text(&log.attrs, "event.name").unwrap_or_default()
            } else {
                log.event_name.clone()
            };
            match name.as_str() {
                "gen_ai.client.inference.operation.details" => {
                    let c = genai_call(&log.attrs, &[]);
                    match &mut call {
                        Some(existing) => existing.merge(&c),
                        None => call = Some(c),
                    }
                }
                "gen_ai.choice" => choices.push(log.body.get("message").cloned().unwrap_or(Value::Null)),
                n if n.starts_with("gen_ai.") && n.ends_with(".message") => {
                    let role = n.trim_start_matches("gen_ai.").trim_end_matches(".message");
                    let mut msg = log.body.clone();
                    if let Some(o) = msg.as_object_mut() {
                        o.entry("role").or_insert_with(|| role.into());
                        if role == "tool"
                            && let Some(id) = o.get("id").cloned()
                        {
                            o.entry("tool_call_id").or_insert(id);
                        }
                    }
                    messages.push(msg);
                }
                _ => {}
            }
        }
        if !messages.is_empty() || !choices.is_empty() {
            let first = &logs[0].attrs;
            let (instructions, input) = from_chat_messages(&messages);
            let c = ModelCall {
                api: ModelApi::ChatCompletions,
                response_id: text(first, "gen_ai.response.id"),
                model: text(first, "gen_ai.response.model").or_else(|| text(first, "gen_ai.request.model")),
                instructions,
                input: (!messages.is_empty()).then_some(input),
                output: (!choices.is_empty()).then(|| choices.iter().flat_map(chat_assistant_items).collect()),
                tools: vec![],
                params: Map::new(),
                usage: None,
                attempts: vec![],
                provider: None,
                capture: None,
            };
            match &mut call {
                Some(existing) => existing.merge(&c),
                None => call = Some(c),
            }
        }
        if let Some(call) = call {
            batch.spans.push(Span {
                trace_id,
                id: span_id,
                parent_id: None,
                started_at: None,
                ended_at: None,
                data: SpanData::Model(Box::new(call)),
                error: None,
            });
        }
    }
    batch
}

// ---- attribute helpers ----------------------------------------------------------------------

fn text(a: &Attrs, key: &str) -> Option<String> {
    a.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A value as text: strings as they are, anything else as compact JSON.
fn as_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// An attribute that holds JSON, either structured or as a JSON string (Python OTel can only
/// store strings). A string that is not JSON is returned as a string.
fn parsed(a: &Attrs, key: &str) -> Option<Value> {
    match a.get(key)? {
        Value::String(s) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// `prefix.N.rest` attributes grouped by N, in index order, keyed by `rest`.
fn indexed(a: &Attrs, prefix: &str) -> Vec<Attrs> {
    let mut groups: BTreeMap<usize, Attrs> = BTreeMap::new();
    for (k, v) in a {
        let Some(tail) = k.strip_prefix(prefix) else { continue };
        let Some((n, rest)) = tail.split_once('.') else { continue };
        if let Ok(n) = n.parse::<usize>() {
            groups.entry(n).or_default().insert(rest.to_string(), v.clone());
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::items::{function_calls, function_outputs, last_user_text, output_text};

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/otlp/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn calls(batch: &Batch) -> Vec<&ModelCall> {
        batch.spans.iter().filter_map(Span::model_call).collect()
    }

    #[test]
    fn openinference_protobuf_tool_run_maps_content_and_tree() {
        let batch = parse_traces(&fixture("openinference-agents-protobuf/traces/001.bin"), Encoding::Protobuf).unwrap();
        assert_eq!(batch.spans.len(), 8);
        assert_eq!(batch.traces.len(), 1);
        assert_eq!(batch.traces[0].workflow.as_deref(), Some("Agent workflow"));
        let meta = batch.traces[0].metadata.as_ref().unwrap();
        assert_eq!(meta["service.name"], "otlp-capture-openinference-agents");
        let calls = calls(&batch);
        assert_eq!(calls.len(), 2);
        assert!(calls.iter().all(|c| c.has_content() && c.api == ModelApi::Responses));
        // Spans come children first; find the call that asked for the tool.
        let first = calls.iter().find(|c| !function_calls(c.output.as_ref().unwrap()).is_empty()).unwrap();
        assert_eq!(first.model.as_deref(), Some("fake-model"));
        assert_eq!(first.instructions.as_deref(), Some("Answer, call get_weather, or hand off to the expert."));
        assert_eq!(last_user_text(first.input.as_ref().unwrap()).as_deref(), Some("call_tool get_weather city=Paris"));
        let call = &function_calls(first.output.as_ref().unwrap())[0];
        assert_eq!((call.name.as_str(), call.arguments.as_str()), ("get_weather", "{\"city\": \"Paris\"}"));
        assert_eq!(first.tools.len(), 2);
        assert_eq!(first.tools[0]["name"], "get_weather");
        assert!(!first.params.contains_key("reasoning"), "all-null settings are dropped: {:?}", first.params);
        let second = calls.iter().find(|c| function_calls(c.output.as_ref().unwrap()).is_empty()).unwrap();
        assert_eq!(output_text(second.output.as_ref().unwrap()), "TOOL RESULT: Sunny and 21C in Paris");
        assert_eq!(function_outputs(second.input.as_ref().unwrap())[0].1, "Sunny and 21C in Paris");
        let u = first.usage.unwrap();
        assert!(u.input_tokens > 0 && u.output_tokens > 0);
        let tool = batch.spans.iter().find(|s| s.data.kind() == "tool").unwrap();
        match &tool.data {
            SpanData::Tool { name, arguments, output, .. } => {
                assert_eq!(name, "get_weather");
                assert_eq!(arguments.as_deref(), Some("{\"city\": \"Paris\"}"));
                assert_eq!(output.as_deref(), Some("Sunny and 21C in Paris"));
            }
            other => panic!("{other:?}"),
        }
        // The tree is intact: every parent is in the request, and one root.
        let ids: std::collections::HashSet<_> = batch.spans.iter().map(|s| s.id.as_str()).collect();
        assert!(batch.spans.iter().filter_map(|s| s.parent_id.as_deref()).all(|p| ids.contains(p)));
        assert_eq!(batch.spans.iter().filter(|s| s.parent_id.is_none()).count(), 1);
        assert!(batch.spans.iter().all(|s| s.started_at.is_some() && s.ended_at.is_some() && s.error.is_none()));
        let agents: Vec<_> =
            batch.spans.iter().filter(|s| s.data.kind() == "agent").filter_map(|s| s.data.name()).collect();
        assert_eq!(agents, vec!["Triage"]);
    }

    #[test]
    fn openinference_handoff_becomes_a_handoff_span() {
        let batch = parse_traces(&fixture("openinference-agents-protobuf/traces/002.bin"), Encoding::Protobuf).unwrap();
        let handoff = batch.spans.iter().find(|s| s.data.kind() == "handoff").unwrap();
        assert_eq!(handoff.data, SpanData::Handoff { from: Some("Triage".into()), to: Some("Weather expert".into()) });
        let mut agents: Vec<_> =
            batch.spans.iter().filter(|s| s.data.kind() == "agent").filter_map(|s| s.data.name()).collect();
        agents.sort();
        assert_eq!(agents, vec!["Triage", "Weather expert"]);
        let expert =
            calls(&batch).into_iter().find(|c| c.instructions.as_deref() == Some("You are a weather expert.")).unwrap();
        assert_eq!(output_text(expert.output.as_ref().unwrap()), "TOOL RESULT: {\"assistant\": \"Weather expert\"}");
    }

    #[test]
    fn gzip_json_and_protobuf_of_the_same_run_agree() {
        let gz = fixture("openinference-agents-protobuf/gzip/traces/001.bin.gz");
        let from_gzip = parse_traces(&gunzip(&gz, 1 << 20).unwrap(), Encoding::Protobuf).unwrap();
        let from_json =
            parse_traces(&fixture("openinference-agents-protobuf/gzip/traces/001.json"), Encoding::Json).unwrap();
        assert_eq!(from_gzip.spans, from_json.spans);
        let text = output_text(calls(&from_gzip)[0].output.as_ref().unwrap());
        assert_eq!(text, "HELLO FROM A STREAMED RUN");
        assert!(matches!(gunzip(&gz, 100).unwrap_err(), OtlpError::TooLarge { limit: 100 }));
        assert!(matches!(gunzip(b"not gzip", 100).unwrap_err(), OtlpError::Gzip(_)));
    }

    #[test]
    fn genai_spans_carry_messages_tool_calls_and_tool_results() {
        let tool_call =
            parse_traces(&fixture("otel-genai-openai-v2/span_and_event/traces/002.bin"), Encoding::Protobuf).unwrap();
        let c = calls(&tool_call)[0];
        assert_eq!(c.model.as_deref(), Some("fake-model"));
        let call = &function_calls(c.output.as_ref().unwrap())[0];
        assert_eq!((call.name.as_str(), call.arguments.as_str()), ("get_weather", "{\"city\":\"Paris\"}"));

        let answer =
            parse_traces(&fixture("otel-genai-openai-v2/span_and_event/traces/003.bin"), Encoding::Protobuf).unwrap();
        let c = calls(&answer)[0];
        assert_eq!(c.response_id.as_deref(), Some("chatcmpl_0000000000000014"));
        assert_eq!(c.usage.unwrap(), Usage { input_tokens: 8, output_tokens: 7, ..Usage::default() });
        assert_eq!(
            function_outputs(c.input.as_ref().unwrap()),
            vec![("call_0000000000000012".into(), "Sunny and 21C in Paris".into())]
        );
        assert_eq!(output_text(c.output.as_ref().unwrap()), "TOOL RESULT: Sunny and 21C in Paris");
        assert_eq!(answer.traces[0].workflow.as_deref(), Some("chat fake-model"));

        let first =
            parse_traces(&fixture("otel-genai-openai-v2/span_and_event/traces/001.bin"), Encoding::Protobuf).unwrap();
        let c = calls(&first)[0];
        assert_eq!(c.instructions.as_deref(), Some("You are terse."));
        assert_eq!(c.params["temperature"], 0.2);
        assert_eq!(c.params["max_output_tokens"], 50);
    }

    #[test]
    fn genai_without_content_keeps_model_and_tokens() {
        let batch =
            parse_traces(&fixture("otel-genai-openai-v2/content_true/traces/001.bin"), Encoding::Protobuf).unwrap();
        let c = calls(&batch)[0];
        assert!(!c.has_content());
        assert_eq!(c.model.as_deref(), Some("fake-model"));
        assert!(c.usage.unwrap().total() > 0);
    }

    #[test]
    fn genai_log_events_carry_the_call_content_for_its_span() {
        let spans =
            parse_traces(&fixture("otel-genai-openai-v2/span_and_event/traces/003.bin"), Encoding::Protobuf).unwrap();
        let logs =
            parse_logs(&fixture("otel-genai-openai-v2/span_and_event/logs/003.bin"), Encoding::Protobuf).unwrap();
        assert_eq!(logs.spans.len(), 1);
        let (s, l) = (&spans.spans[0], &logs.spans[0]);
        assert_eq!((&l.trace_id, &l.id), (&s.trace_id, &s.id));
        // The structured (kvlist) messages of the log equal the JSON-string ones of the span.
        let (sc, lc) = (s.model_call().unwrap(), l.model_call().unwrap());
        assert_eq!(lc.input, sc.input);
        assert_eq!(lc.output, sc.output);
        let json_logs = parse_logs(&fixture("otel-genai-openai-v2-json/logs/003.raw.json"), Encoding::Json).unwrap();
        assert_eq!(
            output_text(json_logs.spans[0].model_call().unwrap().output.as_ref().unwrap()),
            "TOOL RESULT: Sunny and 21C in Paris"
        );
    }

    #[test]
    fn older_per_message_log_events_are_assembled() {
        let doc = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "eventName": "gen_ai.system.message",
             "body": {"kvlistValue": {"values": [{"key": "content", "value": {"stringValue": "Be brief."}}]}}},
            {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
             "attributes": [{"key": "event.name", "value": {"stringValue": "gen_ai.user.message"}}],
             "body": {"kvlistValue": {"values": [{"key": "content", "value": {"stringValue": "hi"}}]}}},
            {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "eventName": "gen_ai.choice",
             "body": {"kvlistValue": {"values": [{"key": "message", "value": {"kvlistValue": {"values": [
                {"key": "content", "value": {"stringValue": "Hello."}}]}}}]}}}
        ]}]}]});
        let batch = parse_json_value(&doc).unwrap().unwrap();
        let c = batch.spans[0].model_call().unwrap();
        assert_eq!(c.instructions.as_deref(), Some("Be brief."));
        assert_eq!(last_user_text(c.input.as_ref().unwrap()).as_deref(), Some("hi"));
        assert_eq!(output_text(c.output.as_ref().unwrap()), "Hello.");
    }

    #[test]
    fn every_json_fixture_equals_its_protobuf() {
        for dir in ["openinference-agents-protobuf/traces", "otel-genai-openai-v2/span_and_event/traces"] {
            for n in 1..=3 {
                let pb = parse_traces(&fixture(&format!("{dir}/00{n}.bin")), Encoding::Protobuf).unwrap();
                let js = parse_traces(&fixture(&format!("{dir}/00{n}.json")), Encoding::Json).unwrap();
                assert_eq!(pb.spans, js.spans, "{dir}/00{n}");
            }
        }
        let raw = parse_traces(&fixture("openinference-agents-json/traces/001.raw.json"), Encoding::Json).unwrap();
        assert_eq!(raw.spans.len(), 8);
        assert_eq!(calls(&raw).iter().filter(|c| c.has_content()).count(), 2);
    }

    #[test]
    fn malformed_ids_are_refused_with_their_field_path() {
        let span = |trace: Value, span: Value| {
            json!({"resourceSpans": [{"scopeSpans": [{"spans": [
                {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "ok"},
                {"traceId": trace, "spanId": span, "parentSpanId": "", "name": "x"}]}]}]})
        };
        let good_trace = json!("0af7651916cd43dd8448eb211c80319c");
        for (doc, want) in [
            (
                span(json!("not-hex-at-all-but-32-chars-long"), json!("b7ad6b7169203331")),
                "resourceSpans[0].scopeSpans[0].spans[1].traceId: \"not-hex-at-all-but-32-chars-long\" is not 32 hex digits",
            ),
            (span(json!("0af765"), json!("b7ad6b7169203331")), "spans[1].traceId: \"0af765\" is not 32 hex digits"),
            (
                span(good_trace.clone(), json!("b7ad6b71692033")),
                "spans[1].spanId: \"b7ad6b71692033\" is not 16 hex digits",
            ),
            (span(good_trace.clone(), json!(12)), "spans[1].spanId: 12 is not a hex string"),
        ] {
            let err = parse_traces(doc.to_string().as_bytes(), Encoding::Json).unwrap_err();
            assert!(err.to_string().ends_with(want), "{err}");
        }
        let logs = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz", "spanId": "b7ad6b7169203331"}]}]}]});
        let err = parse_logs(logs.to_string().as_bytes(), Encoding::Json).unwrap_err();
        assert_eq!(err.to_string(), "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: \"zz\" is not 32 hex digits");
        // Protobuf ids are bytes: the wrong length is refused the same way.
        let req = pb::ExportTraceServiceRequest {
            resource_spans: vec![pb::ResourceSpans {
                scope_spans: vec![pb::ScopeSpans {
                    spans: vec![pb::Span { trace_id: vec![1; 16], span_id: vec![2; 5], ..Default::default() }],
                }],
                ..Default::default()
            }],
        };
        let err = parse_traces(&prost::Message::encode_to_vec(&req), Encoding::Protobuf).unwrap_err();
        assert_eq!(err.to_string(), "resourceSpans[0].scopeSpans[0].spans[0].spanId: 5 bytes, not 8");
    }

    #[test]
    fn error_status_becomes_a_span_error() {
        let doc = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "execute_tool lookup",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                           {"key": "gen_ai.tool.call.arguments", "value": {"kvlistValue": {"values": [{"key": "q", "value": {"intValue": "3"}}]}}}],
            "status": {"code": 2, "message": "timeout"}}]}]}]});
        let batch = parse_json_value(&doc).unwrap().unwrap();
        let s = &batch.spans[0];
        assert_eq!(s.error.as_ref().unwrap().message, "timeout");
        assert_eq!(
            s.data,
            SpanData::Tool { name: "lookup".into(), arguments: Some("{\"q\":3}".into()), output: None, call_id: None }
        );
    }

    #[test]
    fn malformed_bodies_are_refused_with_a_reason() {
        let e = parse_traces(b"\x0a\xff\xff", Encoding::Protobuf).unwrap_err();
        assert!(e.to_string().starts_with("invalid OTLP protobuf"), "{e}");
        let e = parse_traces(b"{\"resourceSpans\": [", Encoding::Json).unwrap_err();
        assert!(e.to_string().starts_with("invalid OTLP JSON"), "{e}");
        let e = parse_traces(b"{\"spans\": []}", Encoding::Json).unwrap_err();
        assert!(e.to_string().contains("resourceSpans"), "{e}");
        let e = parse_traces(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"b7ad6b7169203331","name":"x"}]}]}]}"#,
            Encoding::Json,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "span 0 (\"x\"): missing traceId");
        assert_eq!(Encoding::from_content_type("application/json; charset=utf-8"), Some(Encoding::Json));
        assert_eq!(Encoding::from_content_type("application/x-protobuf"), Some(Encoding::Protobuf));
        assert_eq!(Encoding::from_content_type("text/plain"), None);
    }
}
