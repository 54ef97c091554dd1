//! Trace files: detecting their format line by line and parsing them into batches, a chunk at
//! a time so that a large file never sits in memory whole.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::Value;

use super::{Batch, agents_sdk, openai_log, otlp};

/// The file formats `evals traces import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Decide per line from the record's shape.
    Auto,
    /// Agents SDK `BackendSpanExporter` bodies, `{"data":[...]}` one per line.
    AgentsExport,
    /// Agents SDK processor records, bare or wrapped as `{"event":..,"data":..}`.
    AgentsProcessor,
    /// OTLP/JSON export requests (traces or logs), one per line as the Collector's file exporter writes them.
    OtlpJson,
    /// One OTLP protobuf `ExportTraceServiceRequest` (a saved request body).
    OtlpProtobuf,
    /// OpenAI request/response logs: `{"endpoint", "request", "response"}` per line.
    OpenaiLog,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::AgentsExport => "agents-export",
            Format::AgentsProcessor => "agents-processor",
            Format::OtlpJson => "otlp-json",
            Format::OtlpProtobuf => "otlp-protobuf",
            Format::OpenaiLog => "openai-log",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}")]
    Read { path: String, source: std::io::Error },
}

/// A line that could not be imported; the rest of the file still is.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub batch: Batch,
    pub records: usize,
    pub errors: Vec<LineError>,
}

impl Parsed {
    fn add(&mut self, line: usize, result: Result<Batch, String>) {
        match result {
            Ok(b) => {
                self.records += 1;
                self.batch.extend(b);
            }
            Err(message) => self.errors.push(LineError { line, message }),
        }
    }

    fn absorb(&mut self, other: Parsed) {
        self.batch.extend(other.batch);
        self.records += other.records;
        self.errors.extend(other.errors);
    }
}

/// Largest inflated size of a gzip file, and of a protobuf request file.
const MAX_BINARY: usize = 1 << 30;

pub fn read_file(path: &Path, format: Format) -> Result<Parsed, ImportError> {
    let mut all = Parsed::default();
    read_chunked(path, format, usize::MAX, |p| {
        all.absorb(p);
        Ok::<(), ImportError>(())
    })?;
    Ok(all)
}

/// Read a file (gzip-compressed or not) and hand it to `sink` in pieces of about `chunk`
/// records, each with the bad lines it met.
pub fn read_chunked<E: From<ImportError>>(
    path: &Path,
    format: Format,
    chunk: usize,
    sink: impl FnMut(Parsed) -> Result<(), E>,
) -> Result<(), E> {
    let err = |source| ImportError::Read { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(err)?;
    let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 20, file));
    if reader.fill_buf().map_err(err)?.starts_with(&[0x1f, 0x8b]) {
        reader = Box::new(BufReader::with_capacity(1 << 20, flate2::bufread::GzDecoder::new(reader)));
    }
    parse_reader(reader, format, chunk, sink).map_err(|e| match e {
        ReadFailure::Io(source) => E::from(err(source)),
        ReadFailure::Sink(e) => e,
    })
}

enum ReadFailure<E> {
    Io(std::io::Error),
    Sink(E),
}

/// Parse a whole text: JSON Lines, or a single (possibly pretty-printed) JSON document.
pub fn parse_text(text: &str, format: Format) -> Parsed {
    let mut all = Parsed::default();
    let done = parse_reader(text.as_bytes(), format, usize::MAX, |p| {
        all.absorb(p);
        Ok::<(), ()>(())
    });
    debug_assert!(done.is_ok(), "reading from memory cannot fail");
    all
}

fn parse_reader<E>(
    mut reader: impl BufRead,
    format: Format,
    chunk: usize,
    mut sink: impl FnMut(Parsed) -> Result<(), E>,
) -> Result<(), ReadFailure<E>> {
    let head = reader.fill_buf().map_err(ReadFailure::Io)?;
    // A protobuf body has control bytes early on; JSON text never does.
    let binary = head.iter().take(512).any(|b| *b < 0x09 || (0x0e..0x20).contains(b));
    if format == Format::OtlpProtobuf || (format == Format::Auto && binary) {
        let mut body = Vec::new();
        reader.take(MAX_BINARY as u64).read_to_end(&mut body).map_err(ReadFailure::Io)?;
        let mut parsed = Parsed::default();
        parsed.add(1, otlp::parse_traces(&body, otlp::Encoding::Protobuf).map_err(|e| format!("otlp-protobuf: {e}")));
        return sink(parsed).map_err(ReadFailure::Sink);
    }
    let mut parsed = Parsed::default();
    let mut line = Vec::new();
    let mut number = 0;
    let mut seen_record = false;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(ReadFailure::Io)? == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value = serde_json::from_slice::<Value>(&line);
        if !seen_record && value.is_err() {
            // Not JSON Lines: maybe one pretty-printed document.
            let mut rest = std::mem::take(&mut line);
            reader.read_to_end(&mut rest).map_err(ReadFailure::Io)?;
            if let Ok(doc) = serde_json::from_slice::<Value>(&rest) {
                let docs = match doc {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                for d in docs {
                    parsed.add(number, parse_value(&d, format));
                }
            } else {
                for (i, l) in rest.split(|b| *b == b'\n').enumerate() {
                    if !l.iter().all(u8::is_ascii_whitespace) {
                        parsed.add(number + i, parse_line(l, format));
                    }
                }
            }
            break;
        }
        seen_record = true;
        parsed.add(number, value.map_err(|e| format!("not JSON: {e}")).and_then(|v| parse_value(&v, format)));
        if parsed.records + parsed.errors.len() >= chunk {
            sink(std::mem::take(&mut parsed)).map_err(ReadFailure::Sink)?;
        }
    }
    sink(parsed).map_err(ReadFailure::Sink)
}

fn parse_line(line: &[u8], format: Format) -> Result<Batch, String> {
    serde_json::from_slice::<Value>(line).map_err(|e| format!("not JSON: {e}")).and_then(|v| parse_value(&v, format))
}

/// Parse one JSON record in the given (or detected) format.
pub fn parse_value(v: &Value, format: Format) -> Result<Batch, String> {
    let format = match format {
        Format::Auto => detect(v).ok_or_else(|| {
            "unrecognized record: expected an Agents SDK export body ({\"data\":[...]}) or processor record, \
             an OTLP/JSON request ({\"resourceSpans\":[...]}), or an OpenAI request/response log line"
                .to_string()
        })?,
        f => f,
    };
    let result = match format {
        Format::AgentsExport => agents_sdk::parse_export_body(v).map_err(|e| e.to_string()),
        Format::OtlpJson => match otlp::parse_json_value(v) {
            Some(r) => r.map_err(|e| e.to_string()),
            None => Err("expected an object with `resourceSpans` or `resourceLogs`".into()),
        },
        Format::OtlpProtobuf => Err("a protobuf request is a whole binary file, not a line".into()),
        Format::OpenaiLog => openai_log::parse_line(v).map_err(|e| e.to_string()),
        Format::AgentsProcessor | Format::Auto => agents_sdk::parse_processor_line(v).map_err(|e| e.to_string()),
    };
    result.map_err(|e| format!("{format}: {e}"))
}

fn detect(v: &Value) -> Option<Format> {
    if v.get("resourceSpans").is_some() || v.get("resourceLogs").is_some() {
        Some(Format::OtlpJson)
    } else if openai_log::is_log_record(v) {
        Some(Format::OpenaiLog)
    } else if v.get("data").is_some_and(Value::is_array) {
        Some(Format::AgentsExport)
    } else if v.get("object").is_some() || (v.get("event").is_some() && v.get("data").is_some_and(Value::is_object)) {
        Some(Format::AgentsProcessor)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents-sdk").join(name)
    }

    #[test]
    fn detects_each_agents_sdk_format() {
        for (name, traces) in
            [("agents_ingest.jsonl", 3), ("agents_processor_full.jsonl", 3), ("agents_processor.jsonl", 3)]
        {
            let p = read_file(&fixture(name), Format::Auto).unwrap();
            assert!(p.errors.is_empty(), "{name}: {:?}", p.errors);
            let ids: std::collections::HashSet<_> = p.batch.traces.iter().map(|t| &t.id).collect();
            assert_eq!(ids.len(), traces, "{name}");
        }
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_kept() {
        let good = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap();
        let mut lines: Vec<&str> = good.lines().collect();
        lines.insert(2, "{oops");
        lines.insert(4, "{\"hello\": 1}");
        let p = parse_text(&lines.join("\n"), Format::Auto);
        assert_eq!(p.errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 5]);
        assert!(p.errors[0].message.starts_with("not JSON"));
        assert_eq!(p.records, 22);
    }

    #[test]
    fn forced_format_is_applied() {
        let text = std::fs::read_to_string(fixture("agents_processor_full.jsonl")).unwrap();
        let p = parse_text(&text, Format::AgentsExport);
        assert_eq!(p.records, 0);
        assert!(p.errors[0].message.starts_with("agents-export:"));
    }

    #[test]
    fn pretty_printed_document_is_one_record() {
        let p = parse_text("{\n \"object\": \"trace\",\n \"id\": \"trace_1\"\n}\n", Format::Auto);
        assert_eq!(p.batch.traces.len(), 1);
    }
}
