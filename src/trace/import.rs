//! Trace files: detecting their format line by line and parsing them into batches.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::Batch;
use super::agents_sdk;

/// The file formats `evals traces import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Decide per line from the record's shape.
    Auto,
    /// Agents SDK `BackendSpanExporter` bodies, `{"data":[...]}` one per line.
    AgentsExport,
    /// Agents SDK processor records, bare or wrapped as `{"event":..,"data":..}`.
    AgentsProcessor,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::AgentsExport => "agents-export",
            Format::AgentsProcessor => "agents-processor",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
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

pub fn read_file(path: &Path, format: Format) -> Result<Parsed, ImportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ImportError::Read { path: path.display().to_string(), source })?;
    Ok(parse_text(&text, format))
}

/// Parse a whole file: JSON Lines, or a single (possibly pretty-printed) JSON document.
pub fn parse_text(text: &str, format: Format) -> Parsed {
    let mut parsed = Parsed::default();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if serde_json::from_str::<Value>(first).is_err()
        && let Ok(doc) = serde_json::from_str::<Value>(text)
    {
        let docs = match doc {
            Value::Array(a) => a,
            other => vec![other],
        };
        for d in docs {
            add(&mut parsed, 1, parse_value(&d, format));
        }
        return parsed;
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let result = serde_json::from_str::<Value>(line)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|v| parse_value(&v, format));
        add(&mut parsed, i + 1, result);
    }
    parsed
}

fn add(parsed: &mut Parsed, line: usize, result: Result<Batch, String>) {
    match result {
        Ok(b) => {
            parsed.records += 1;
            parsed.batch.extend(b);
        }
        Err(message) => parsed.errors.push(LineError { line, message }),
    }
}

/// Parse one JSON record in the given (or detected) format.
pub fn parse_value(v: &Value, format: Format) -> Result<Batch, String> {
    let format = match format {
        Format::Auto => detect(v).ok_or_else(|| {
            "unrecognized record: expected an Agents SDK export body ({\"data\":[...]}) or processor record".to_string()
        })?,
        f => f,
    };
    let result = match format {
        Format::AgentsExport => agents_sdk::parse_export_body(v),
        Format::AgentsProcessor | Format::Auto => agents_sdk::parse_processor_line(v),
    };
    result.map_err(|e| format!("{format}: {e}"))
}

fn detect(v: &Value) -> Option<Format> {
    if v.get("data").is_some_and(Value::is_array) {
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
