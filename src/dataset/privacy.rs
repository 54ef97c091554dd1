//! The privacy scanner: finds personal data and secrets in text, replaces each distinct value
//! with a typed, numbered placeholder, and reports findings by kind and location (never values).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PrivateKey,
    Jwt,
    ApiKey,
    Secret,
    Email,
    Card,
    Phone,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private_key",
            Kind::Jwt => "jwt",
            Kind::ApiKey => "api_key",
            Kind::Secret => "secret",
            Kind::Email => "email",
            Kind::Card => "card",
            Kind::Phone => "phone",
        }
    }

    fn placeholder(self) -> &'static str {
        match self {
            Kind::PrivateKey => "PRIVATE_KEY",
            Kind::Jwt => "JWT",
            Kind::ApiKey => "API_KEY",
            Kind::Secret => "SECRET",
            Kind::Email => "EMAIL",
            Kind::Card => "CARD",
            Kind::Phone => "PHONE",
        }
    }
}

/// One kind of finding at one place in a case, with how many values were replaced there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub kind: Kind,
    pub location: String,
    pub count: usize,
}

/// A match in a text: byte range and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

struct Detector {
    kind: Kind,
    regex: Regex,
    /// The capture group holding the sensitive value (0 = whole match).
    group: usize,
    valid: fn(&str) -> bool,
}

fn detectors() -> &'static [Detector] {
    static D: OnceLock<Vec<Detector>> = OnceLock::new();
    D.get_or_init(|| {
        let d = |kind, pattern: &str, group, valid: fn(&str) -> bool| Detector {
            kind,
            regex: Regex::new(pattern).expect("built-in pattern"),
            group,
            valid,
        };
        let any = |_: &str| true;
        // Earlier detectors win where matches overlap: a key inside a JWT is the JWT.
        vec![
            d(Kind::PrivateKey, r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----", 0, any),
            d(Kind::Jwt, r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", 0, any),
            d(
                Kind::ApiKey,
                concat!(
                    r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}",
                    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
                    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}",
                    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}",
                    r"|\bAIza[0-9A-Za-z_-]{35}",
                ),
                0,
                any,
            ),
            d(
                Kind::Secret,
                r#"(?i)\b(?:api[_-]?key|access[_-]?key|secret|token|password|passwd|pwd)\b["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=.!@#$%^&*]{8,})"#,
                1,
                looks_random,
            ),
            d(Kind::Email, r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", 0, any),
            d(Kind::Card, r"\b\d(?:[ -]?\d){12,18}\b", 0, luhn),
            d(
                Kind::Phone,
                r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\b\d{2,4}(?:[ .-]\d{2,4}){1,4}\b|\+\d{8,15}\b",
                0,
                phone_digits,
            ),
        ]
    })
}

/// Mixed character classes and no repeated filler: a credential, not a word like "redacted".
fn looks_random(s: &str) -> bool {
    let classes = [
        s.chars().any(|c| c.is_ascii_lowercase()),
        s.chars().any(|c| c.is_ascii_uppercase()),
        s.chars().any(|c| c.is_ascii_digit()),
        s.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    classes.iter().filter(|c| **c).count() >= 2 && entropy(s) >= 3.0
}

fn entropy(s: &str) -> f64 {
    let mut counts = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum()
}

fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

fn phone_digits(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let separated = s.contains(['-', ' ', '.', '(']) || s.starts_with('+');
    // Dates (2024-01-05) and times are the common false positives: 8 digits in 4-2-2 shape.
    let parts: Vec<&str> = s.split(['-', '.', '/']).collect();
    let date_like = parts.len() == 3 && parts[0].len() == 4 && parts[1..].iter().all(|p| (1..=2).contains(&p.len()));
    separated && !date_like && (if s.starts_with('+') { 8..=15 } else { 9..=15 }).contains(&digits)
}

/// Every sensitive value in `text`, non-overlapping, in order.
pub fn scan(text: &str) -> Vec<Match> {
    let mut found: Vec<(usize, Match)> = Vec::new();
    for (priority, det) in detectors().iter().enumerate() {
        for caps in det.regex.captures_iter(text) {
            let Some(m) = caps.get(det.group) else { continue };
            if (det.valid)(m.as_str()) {
                found.push((priority, Match { kind: det.kind, start: m.start(), end: m.end() }));
            }
        }
    }
    found.sort_by_key(|(p, m)| (*p, m.start));
    let mut kept: Vec<Match> = Vec::new();
    for (_, m) in found {
        if kept.iter().all(|k| m.end <= k.start || m.start >= k.end) {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

/// `text` with every sensitive value replaced by its kind's unnumbered placeholder (`<EMAIL>`).
/// Stateless, so a value is masked the same way in every request of a live capture.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in scan(text) {
        out.push_str(&text[last..m.start]);
        out.push('<');
        out.push_str(m.kind.placeholder());
        out.push('>');
        last = m.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Replaces values with placeholders, the same value always with the same placeholder, and
/// collects findings by location.
#[derive(Default)]
pub struct Redactor {
    placeholders: HashMap<(Kind, String), String>,
    counters: HashMap<Kind, usize>,
    findings: BTreeMap<(String, Kind), usize>,
}

impl Redactor {
    pub fn text(&mut self, location: &str, text: &str) -> String {
        let matches = scan(text);
        if matches.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in matches {
            out.push_str(&text[last..m.start]);
            let value = &text[m.start..m.end];
            let key = (m.kind, value.to_string());
            let placeholder = match self.placeholders.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let n = self.counters.entry(m.kind).or_insert(0);
                    *n += 1;
                    let p = format!("<{}_{}>", m.kind.placeholder(), n);
                    self.placeholders.insert(key, p.clone());
                    p
                }
            };
            out.push_str(&placeholder);
            *self.findings.entry((location.to_string(), m.kind)).or_insert(0) += 1;
            last = m.end;
        }
        out.push_str(&text[last..]);
        out
    }

    pub fn in_place(&mut self, location: &str, text: &mut String) {
        *text = self.text(location, text);
    }

    /// Redact every string inside a JSON value; locations extend `location` with keys and indices.
    pub fn value(&mut self, location: &str, v: &mut Value) {
        match v {
            Value::String(s) => self.in_place(location, s),
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    self.value(&format!("{location}[{i}]"), x);
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    self.value(&format!("{location}.{k}"), x);
                }
            }
            _ => {}
        }
    }

    pub fn findings(self) -> Vec<Finding> {
        self.findings.into_iter().map(|((location, kind), count)| Finding { kind, location, count }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(text: &str) -> Vec<Kind> {
        scan(text).into_iter().map(|m| m.kind).collect()
    }

    #[test]
    fn finds_each_kind() {
        assert_eq!(kinds("mail jane.doe@example.co.uk now"), vec![Kind::Email]);
        assert_eq!(kinds("call +1 415 555 2671 or (415) 555-2671"), vec![Kind::Phone, Kind::Phone]);
        assert_eq!(kinds("card 4111 1111 1111 1111 ok"), vec![Kind::Card]);
        assert_eq!(kinds("key sk-proj-abcdefghijklmnopqrstuvwxyz012345"), vec![Kind::ApiKey]);
        assert_eq!(kinds("AKIAIOSFODNN7EXAMPLE"), vec![Kind::ApiKey]);
        assert_eq!(kinds("password: Xk9#mP2$vL8q"), vec![Kind::Secret]);
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        assert!(scan("Sunny and 21C in Paris on 2026-11-21, order 12345").is_empty());
        assert!(scan("card 4111 1111 1111 1112 fails Luhn").is_empty());
        assert!(scan("password: redacted").is_empty());
    }

    #[test]
    fn placeholders_are_consistent_across_locations() {
        let mut r = Redactor::default();
        let a = r.text("input.items[0].content", "I am ann@x.org, cc bob@x.org");
        let mut args = json!({"to": "ann@x.org"});
        r.value("recorded.tool_outputs[0].arguments", &mut args);
        assert_eq!(a, "I am <EMAIL_1>, cc <EMAIL_2>");
        assert_eq!(args, json!({"to": "<EMAIL_1>"}));
        let f = r.findings();
        assert_eq!(f.len(), 2);
        assert_eq!(f.iter().map(|f| f.count).sum::<usize>(), 3);
        assert!(f.iter().all(|f| !f.location.contains('@')));
    }

    #[test]
    fn mask_is_stateless_and_typed() {
        let text = "mail ann@x.org, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(mask(text), "mail <EMAIL>, card <CARD>, key <API_KEY>");
        assert_eq!(mask(&mask(text)), mask(text));
        assert_eq!(mask("nothing here"), "nothing here");
    }

    #[test]
    fn redaction_is_idempotent() {
        let mut r = Redactor::default();
        let once = r.text("x", "write to ann@x.org or +44 20 7946 0958");
        assert_eq!(Redactor::default().text("x", &once), once);
    }
}
