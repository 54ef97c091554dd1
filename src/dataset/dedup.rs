//! Duplicates: the content hash over a normalized input (exact duplicates), and word-level
//! similarity between inputs (near-duplicates worth a look before promoting).

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{CaseFile, Input};
use crate::trace::items::{self, canonical_json};

/// Inputs at least this similar (0..1, word level) are reported as near-duplicates.
pub const NEAR_THRESHOLD: f64 = 0.8;

/// The content hash of a case: over its normalized input, so the same conversation cut from two
/// traces (other generated ids, timestamps, spacing) hashes the same. A single-turn case hashes
/// apart from the whole-run case of the same input.
pub fn content_hash(input: &Input, single_turn: bool) -> String {
    let mut call_ids = Vec::<String>::new();
    let items: Vec<Value> = input.items.iter().map(|i| normalize(i, &mut call_ids)).collect();
    let mut doc = json!({
        "instructions": input.instructions.as_deref().map(squash),
        "items": items,
    });
    if single_turn {
        doc["single_turn"] = json!(true);
    }
    format!("sha256:{}", hex::encode(Sha256::digest(canonical_json(&doc).as_bytes())))
}

/// Whitespace squashed and timestamps (ISO 8601, RFC 3339) replaced by one token.
fn squash(s: &str) -> String {
    static TIME: OnceLock<Regex> = OnceLock::new();
    let time = TIME.get_or_init(|| {
        Regex::new(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
            .expect("built-in pattern")
    });
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    time.replace_all(&words, "<TIME>").into_owned()
}

/// Drop generated ids and statuses, number call ids by first appearance, squash whitespace.
fn normalize(v: &Value, call_ids: &mut Vec<String>) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "id" | "status" | "created_at" | "timestamp"))
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("call_id", Value::String(id)) => {
                            let n = call_ids.iter().position(|c| c == id).unwrap_or_else(|| {
                                call_ids.push(id.clone());
                                call_ids.len() - 1
                            });
                            Value::String(format!("call_{n}"))
                        }
                        _ => normalize(v, call_ids),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, call_ids)).collect()),
        Value::String(s) => Value::String(squash(s)),
        other => other.clone(),
    }
}

/// The words of an input's items, lower-cased, without punctuation: what near-duplicates share.
pub fn words(input: &Input) -> String {
    let text: Vec<String> = input.items.iter().map(items::item_text).collect();
    let text = squash(&text.join(" ")).to_lowercase();
    text.split(|c: char| !c.is_alphanumeric() && c != '<' && c != '>' && c != '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Word-level similarity of two `words` texts, 0 to 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    similar::TextDiff::from_slices(&a, &b).ratio() as f64
}

/// A case similar to the one being promoted.
#[derive(Debug, Clone)]
pub struct Near {
    pub id: String,
    pub dataset: String,
    pub similarity: f64,
}

/// Existing cases whose input is at least `threshold` similar to `input`, most similar first.
pub fn near_duplicates(input: &Input, existing: &[CaseFile], threshold: f64) -> Vec<Near> {
    let mine = words(input);
    let mut out: Vec<Near> = existing
        .iter()
        .filter_map(|cf| {
            let s = similarity(&mine, &words(&cf.case.input));
            (s >= threshold).then(|| Near { id: cf.case.id.clone(), dataset: cf.dataset(), similarity: s })
        })
        .collect();
    out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn input(items: Vec<Value>) -> Input {
        Input { agent: None, instructions: Some("Be  helpful.\n".into()), items, params: Map::new() }
    }

    #[test]
    fn hash_ignores_ids_timestamps_and_spacing_but_not_content() {
        let a = input(vec![
            json!({"role": "user", "content": "weather in  Paris? sent 2026-11-21T09:30:00Z"}),
            json!({"type": "function_call", "id": "fc_1", "call_id": "call_AAA", "name": "w", "arguments": "{}"}),
            json!({"type": "function_call_output", "call_id": "call_AAA", "output": "sun"}),
        ]);
        let b = input(vec![
            json!({"role": "user", "content": "weather in Paris? sent 2026-11-22 10:00:05.123+02:00"}),
            json!({"type": "function_call", "id": "fc_9", "call_id": "call_ZZZ", "name": "w", "arguments": "{}", "status": "completed"}),
            json!({"type": "function_call_output", "call_id": "call_ZZZ", "output": "sun"}),
        ]);
        assert_eq!(content_hash(&a, false), content_hash(&b, false));
        assert_ne!(content_hash(&a, false), content_hash(&a, true));
        let c = input(vec![json!({"role": "user", "content": "weather in Rome?"})]);
        assert_ne!(content_hash(&a, false), content_hash(&c, false));
    }

    #[test]
    fn near_duplicates_are_similar_wording_not_similar_topics() {
        let a = input(vec![json!({"role": "user", "content": "What's the weather in Paris today?"})]);
        let b = input(vec![json!({"role": "user", "content": "what is the weather in paris today"})]);
        let c = input(vec![json!({"role": "user", "content": "Book me a flight to Rome next week"})]);
        assert!(similarity(&words(&a), &words(&b)) >= NEAR_THRESHOLD);
        assert!(similarity(&words(&a), &words(&c)) < 0.3);
    }
}
