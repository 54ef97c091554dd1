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
    Iban,
    Card,
    Ssn,
    Ip,
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
            Kind::Iban => "iban",
            Kind::Card => "card",
            Kind::Ssn => "ssn",
            Kind::Ip => "ip",
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
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Ssn => "SSN",
            Kind::Ip => "IP",
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

/// Names under which a value is a credential: `password`, `api_key`, `client_secret`,
/// `X-Auth-Token`, ...
const SECRET_NAME: &str = r"(?:[A-Za-z0-9]+[_-])*(?:api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|secret|token|password|passwd|pwd|passphrase|credentials?)";

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
                &format!(
                    r#"(?i)\b{SECRET_NAME}\b["']?\s*[:=]\s*["']?([A-Za-z0-9_\-+/=.!@#$%^&*~]{{8,}})|\bbearer\s+([A-Za-z0-9_\-+/=.~]{{16,}})"#
                ),
                1,
                looks_random,
            ),
            d(Kind::Email, r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", 0, any),
            d(Kind::Iban, r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", 0, iban),
            d(Kind::Card, r"\b\d(?:[ -]?\d){12,18}\b", 0, card),
            d(Kind::Ssn, r"\b(\d{3})-(\d{2})-(\d{4})\b", 0, ssn),
            d(Kind::Ip, r"(?:^|[^\w.])((?:\d{1,3}\.){3}\d{1,3})(?:$|[^\w.]|\.(?:$|\s))", 1, ipv4),
            d(Kind::Ip, r"(?:^|[^\w:])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})", 1, ipv6),
            d(
                Kind::Phone,
                concat!(
                    r"\+\d[\d ().-]{6,22}\d",
                    r"|(?:\(\d{3}\) ?|\b\d{3}[.-])\d{3}[.-]\d{4}\b|\b\d{3} \d{3} \d{4}\b",
                    r"|\b0\d{1,4}(?:[ .-]\d{2,8}){1,4}\b",
                ),
                0,
                phone,
            ),
        ]
    })
}

/// The secret-looking value of a `name = value` pair, by the name alone (for JSON objects,
/// where the name is a key and the value a string of its own).
fn secret_name(name: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(&format!("(?i)^{SECRET_NAME}$")).expect("built-in pattern")).is_match(name)
}

/// ISO 13616: move the first four characters to the end, letters to numbers, mod 97 is 1.
fn iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// The SSA never issues area 000, 666 or 9xx, group 00 or serial 0000.
fn ssn(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let area = parts[0];
    area != "000" && area != "666" && !area.starts_with('9') && parts[1] != "00" && parts[2] != "0000"
}

/// A full IPv6 address (clock times like 12:30:45 do not parse).
fn ipv6(s: &str) -> bool {
    let s = s.trim_end_matches(':');
    s.matches(':').count() >= 2
        && s.chars().filter(char::is_ascii_hexdigit).count() >= 3
        && s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// Mixed character classes and no repeated filler: a credential, not a word like "redacted".
fn looks_random(s: &str) -> bool {
    let classes = [
        s.chars().any(|c| c.is_ascii_lowercase()),
        s.chars().any(|c| c.is_ascii_uppercase()),
        s.chars().any(|c| c.is_ascii_digit()),
        s.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    s.len() >= 8 && classes.iter().filter(|c| **c).count() >= 2 && entropy(s) >= 3.0
}

fn entropy(s: &str) -> f64 {
    let mut counts = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum()
}

/// A card number: an issuer prefix with its lengths (Visa, Mastercard, Amex, Diners, Discover,
/// JCB, UnionPay) and a valid Luhn check digit.
fn card(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    let n = digits.len();
    let lengths_ok = match (digits[0], digits[1]) {
        (4, _) => matches!(n, 13 | 16 | 19),
        (5, 1..=5) | (2, 2..=7) => n == 16,
        (3, 4 | 7) => n == 15,
        (3, 0 | 6 | 8 | 9) => (14..=19).contains(&n),
        (3, 5) | (6, _) => (16..=19).contains(&n),
        _ => false,
    };
    lengths_ok && luhn(&digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// 8 to 15 digits after a `+` (E.164), 10 in the North American shapes, 9 to 12 after a
/// national trunk `0`; separators never doubled.
fn phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let doubled = s.as_bytes().windows(2).any(|w| matches!(w, [b' ' | b'.' | b'-', b' ' | b'.' | b'-']));
    let range = if s.starts_with('+') {
        8..=15
    } else if s.starts_with('0') {
        9..=12
    } else {
        10..=10
    };
    !doubled && range.contains(&digits)
}

/// An address that points at someone: not loopback, unspecified or broadcast.
fn ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !(ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast()))
}

/// Cheap tests that rule a detector out before its regex runs (most texts hold no `@`, few
/// digits and no credential word); they keep `evals check` fast on large datasets.
fn may_contain(kind: Kind, text: &str, digits: usize) -> bool {
    static KEY: OnceLock<Regex> = OnceLock::new();
    static SECRET: OnceLock<Regex> = OnceLock::new();
    let literals = |cell: &'static OnceLock<Regex>, pattern: &str| {
        cell.get_or_init(|| Regex::new(pattern).expect("built-in pattern")).is_match(text)
    };
    match kind {
        Kind::PrivateKey => text.contains("PRIVATE KEY"),
        Kind::Jwt => text.contains("eyJ"),
        Kind::ApiKey => literals(&KEY, r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abprs]-|AIza"),
        Kind::Secret => literals(&SECRET, r"(?i)key|secret|token|pass|pwd|credential|bearer"),
        Kind::Email => text.contains('@'),
        Kind::Iban | Kind::Ip => digits >= 2,
        Kind::Ssn | Kind::Phone => digits >= 8,
        Kind::Card => digits >= 13,
    }
}

/// Every sensitive value in `text`, non-overlapping, in order.
pub fn scan(text: &str) -> Vec<Match> {
    let mut found: Vec<(usize, Match)> = Vec::new();
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    for (priority, det) in detectors().iter().enumerate() {
        if !may_contain(det.kind, text, digits) {
            continue;
        }
        for caps in det.regex.captures_iter(text) {
            // A pattern with alternatives keeps its value in the first group that took part.
            let Some(m) = (det.group..caps.len()).find_map(|g| caps.get(g)) else { continue };
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
    /// Every replacement made, in order, so a JSON text can be patched in place.
    replaced: Vec<(String, String)>,
}

impl Redactor {
    /// Redact a text. A text that is a JSON document (tool arguments, a JSON tool output) is
    /// scanned value by value, so escapes cannot hide or distort a value and a secret under a
    /// key like `"password"` is found; its formatting is kept.
    pub fn text(&mut self, location: &str, text: &str) -> String {
        self.redacted(location, text).unwrap_or_else(|| text.to_string())
    }

    /// The redacted text, or `None` when nothing was found (no copy made).
    fn redacted(&mut self, location: &str, text: &str) -> Option<String> {
        let t = text.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(mut doc) = serde_json::from_str::<Value>(text)
        {
            let from = self.replaced.len();
            self.value(location, &mut doc);
            return (self.replaced.len() > from).then(|| self.patch_json(text, &doc, from));
        }
        let matches = scan(text);
        if matches.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in matches {
            out.push_str(&text[last..m.start]);
            out.push_str(&self.replace(location, m.kind, &text[m.start..m.end]));
            last = m.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// The placeholder for a value, numbered on first sight, counted as a finding at `location`.
    fn replace(&mut self, location: &str, kind: Kind, value: &str) -> String {
        let key = (kind, value.to_string());
        let placeholder = match self.placeholders.get(&key) {
            Some(p) => p.clone(),
            None => {
                let n = self.counters.entry(kind).or_insert(0);
                *n += 1;
                let p = format!("<{}_{}>", kind.placeholder(), n);
                self.placeholders.insert(key, p.clone());
                p
            }
        };
        *self.findings.entry((location.to_string(), kind)).or_insert(0) += 1;
        self.replaced.push((value.to_string(), placeholder.clone()));
        placeholder
    }

    /// Apply the replacements made since `from` to the original JSON text, each value in its
    /// JSON-escaped spelling; when a spelling is not found verbatim, write the redacted document.
    fn patch_json(&self, text: &str, doc: &Value, from: usize) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.replaced[from..] {
            let quoted = serde_json::to_string(value).expect("strings serialize");
            let escaped = &quoted[1..quoted.len() - 1];
            if !out.contains(escaped) {
                return serde_json::to_string(doc).expect("JSON values serialize");
            }
            out = out.replace(escaped, placeholder);
        }
        out
    }

    pub fn in_place(&mut self, location: &str, text: &mut String) {
        if let Some(r) = self.redacted(location, text) {
            *text = r;
        }
    }

    /// Redact every string inside a JSON value; locations extend `location` with keys and indices.
    pub fn value(&mut self, location: &str, v: &mut Value) {
        self.walk(&mut location.to_string(), v);
    }

    /// `value` with one growing location buffer: large cases have many small values.
    fn walk(&mut self, at: &mut String, v: &mut Value) {
        let len = at.len();
        match v {
            Value::String(s) => self.in_place(at, s),
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    at.push_str(&format!("[{i}]"));
                    self.walk(at, x);
                    at.truncate(len);
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    at.push('.');
                    at.push_str(k);
                    match x {
                        Value::String(s) if secret_name(k) && !is_placeholder(s) && looks_random(s) => {
                            *s = self.replace(at, Kind::Secret, s);
                        }
                        _ => self.walk(at, x),
                    }
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    pub fn findings(self) -> Vec<Finding> {
        self.findings.into_iter().map(|((location, kind), count)| Finding { kind, location, count }).collect()
    }
}

/// `<EMAIL_1>`: already redacted.
fn is_placeholder(s: &str) -> bool {
    s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).and_then(|s| s.rsplit_once('_')).is_some_and(|(k, n)| {
        k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && n.chars().all(|c| c.is_ascii_digit())
    })
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
    fn checksummed_and_structured_kinds() {
        assert_eq!(kinds("IBAN DE89 3704 0044 0532 0130 00"), vec![Kind::Iban]);
        assert!(kinds("IBAN DE89 3704 0044 0532 0130 01").is_empty());
        assert_eq!(kinds("ssn 123-45-6789"), vec![Kind::Ssn]);
        assert_eq!(kinds("from 81.2.69.160 and 2001:db8::8a2e:370:7334"), vec![Kind::Ip, Kind::Ip]);
        assert!(kinds("at 12:30:45 on 127.0.0.1, v1.2.3.4").is_empty());
        assert_eq!(kinds("Authorization: Bearer abcDEF123456ghiJKL789"), vec![Kind::Secret]);
    }

    #[test]
    fn json_texts_are_scanned_value_by_value_and_keep_their_formatting() {
        let mut r = Redactor::default();
        let user = r.text("input", "I am ann@x.org");
        // `\n` before the address would glue an `n` onto it in a plain-text scan.
        let args = r.text("args", r#"{"note": "line\nann@x.org", "password": "Zq8#xL2!pW"}"#);
        assert_eq!(user, "I am <EMAIL_1>");
        assert_eq!(args, r#"{"note": "line\n<EMAIL_1>", "password": "<SECRET_1>"}"#);
        let f = r.findings();
        assert!(f.iter().any(|f| f.location == "args.password" && f.kind == Kind::Secret), "{f:?}");
        assert!(f.iter().any(|f| f.location == "args.note" && f.kind == Kind::Email), "{f:?}");
    }

    #[test]
    fn redaction_is_idempotent() {
        let mut r = Redactor::default();
        let once = r.text("x", "write to ann@x.org or +44 20 7946 0958");
        assert_eq!(Redactor::default().text("x", &once), once);
    }
}
