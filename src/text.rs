//! Small text helpers shared by every layer.

use std::collections::HashMap;
use std::time::Duration;

/// Shorten to `max` characters, marking the cut.
/// `n` and the word, plural unless `n` is 1: `1 case`, `3 cases`.
pub fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub fn truncate(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max.saturating_sub(1)).collect::<String>())
    }
}

/// Columns a text takes in a terminal: a CJK character or an emoji takes two, a combining mark none.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Percent-encoding of everything but the unreserved characters of RFC 3986, for one part of
/// a URL.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Natural order of ids: runs of digits compare as numbers, so `case-2` sorts before `case-10`;
/// ids equal that way (`a01`, `a1`) fall back to plain order, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while let (Some(&cx), Some(&cy)) = (x.first(), y.first()) {
        let order = if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let (nx, ny) = (digits(x), digits(y));
            let (vx, vy) = (trim_zeros(&x[..nx]), trim_zeros(&y[..ny]));
            let order = vx.len().cmp(&vy.len()).then_with(|| vx.cmp(vy));
            (x, y) = (&x[nx..], &y[ny..]);
            order
        } else {
            (x, y) = (&x[1..], &y[1..]);
            cx.cmp(&cy)
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    x.len().cmp(&y.len()).then_with(|| a.cmp(b))
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let zeros = s.iter().take_while(|&&c| c == b'0').count();
    &s[zeros..]
}

/// An error and its causes in one line (`cannot read x: No such file`), for messages that
/// embed an error in other text; the CLI prints the causes on lines of their own instead.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A path's components with `.` and `dir/..` taken out, without asking the file system.
fn clean_components(path: &std::path::Path) -> Vec<std::path::Component<'_>> {
    use std::path::Component;
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts
}

/// A path cleaned of `.` and `dir/..` (`evals/../datasets/a` is `datasets/a`), so a report
/// shows the path a reader would type.
pub fn clean_path(path: &std::path::Path) -> String {
    let clean: std::path::PathBuf = clean_components(path).iter().collect();
    if clean.as_os_str().is_empty() { ".".into() } else { clean.to_string_lossy().into_owned() }
}

/// The parts of the path of `to` seen from the folder `from` (`..` to climb); both absolute,
/// or both relative to the same folder.
fn relative_parts(from: &std::path::Path, to: &std::path::Path) -> Vec<String> {
    let (from, to) = (clean_components(from), clean_components(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let up = std::iter::repeat_n("..".to_string(), from.len() - common);
    up.chain(to[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned())).collect()
}

/// The path of `to` seen from the folder `from`, with `/` separators (`../../evals/x.json`).
pub fn relative_path(from: &std::path::Path, to: &std::path::Path) -> String {
    relative_parts(from, to).join("/")
}

/// [`relative_path`] as a URL path: each part percent-encoded where a URL needs it.
pub fn relative_url(from: &std::path::Path, to: &std::path::Path) -> String {
    relative_parts(from, to).iter().map(|p| url_encode(p)).collect::<Vec<_>>().join("/")
}

/// A length of time: a number and a unit, `s`, `m`, `h`, `d` or `w`.
pub fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| format!("{s:?} is not a duration like 30m, 2h, 7d"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(format!("{s:?} has no unit: use s, m, h, d or w (e.g. 7d)")),
    }
}

/// A metadata condition, `key=value`.
pub fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE (e.g. customer=acme)")),
    }
}

/// A point in time: a duration ago, a date (UTC midnight), or an RFC 3339 time.
pub fn parse_when(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(d) = parse_duration(s) {
        return Ok(chrono::Utc::now() - d);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!("{s:?} is not a time: use a duration ago (2h, 7d), a date (2026-11-01) or RFC 3339"))
}

/// Past this many character pairs the exact algorithms are too slow; a diff's ratio stands in.
pub const EXACT_LIMIT: usize = 16_000_000;

/// Similarity of two strings in [0, 1]: twice their longest common subsequence of chars over
/// their total length (Python difflib's and rapidfuzz's `ratio`).
pub fn fuzzy_ratio(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la * lb > 64 * EXACT_LIMIT {
        return f64::from(similar::TextDiff::configure().timeout(Duration::from_millis(100)).diff_chars(a, b).ratio());
    }
    2.0 * lcs_chars(a, la, b) as f64 / (la + lb) as f64
}

/// LCS length of two strings' chars (`a` has `a_len` of them), 64 positions of `a` per machine
/// word (Hyyrö's bit-vector recurrence V' = (V + (V & M)) | (V & !M); the LCS is the count of
/// zero bits). Works on the `str`s directly: graders call it per result, so no char vectors.
pub(crate) fn lcs_chars(a: &str, a_len: usize, b: &str) -> usize {
    if a_len == 0 || b.is_empty() {
        return 0;
    }
    let words = a_len.div_ceil(64);
    // One buffer: the ASCII match masks (128 rows), an all-zero row, then V.
    let mut buf = vec![0u64; 130 * words];
    let (ascii, rest) = buf.split_at_mut(128 * words);
    let (none, v) = rest.split_at_mut(words);
    v.fill(!0);
    let mut other: HashMap<char, Vec<u64>> = HashMap::new();
    for (i, c) in a.chars().enumerate() {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        if c.is_ascii() {
            ascii[c as usize * words + w] |= bit;
        } else {
            other.entry(c).or_insert_with(|| vec![0; words])[w] |= bit;
        }
    }
    for c in b.chars() {
        let m: &[u64] = if c.is_ascii() {
            &ascii[c as usize * words..(c as usize + 1) * words]
        } else {
            other.get(&c).map_or(&*none, |m| m)
        };
        let mut carry = 0u64;
        for (x, &mw) in v.iter_mut().zip(m) {
            let u = *x & mw;
            let (s1, c1) = x.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(carry);
            carry = u64::from(c1 || c2);
            *x = s2 | (*x & !mw);
        }
    }
    let tail = a_len % 64;
    let ones: usize = v
        .iter()
        .enumerate()
        .map(|(w, x)| {
            let mask = if w == words - 1 && tail != 0 { (1u64 << tail) - 1 } else { !0 };
            (x & mask).count_ones() as usize
        })
        .sum();
    a_len - ones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_conditions() {
        assert_eq!(parse_meta("tier=gold=1").unwrap(), ("tier".into(), "gold=1".into()));
        assert!(parse_meta("=x").is_err());
        assert!(parse_meta("tier").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn points_in_time() {
        let ago = parse_when("1h").unwrap();
        assert!((chrono::Utc::now() - ago - chrono::Duration::hours(1)).num_seconds().abs() < 5);
        assert_eq!(parse_when("2026-11-01").unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(parse_when("2026-11-01T10:00:00+02:00").unwrap().to_rfc3339(), "2026-11-01T08:00:00+00:00");
        assert!(parse_when("last tuesday").is_err());
    }

    #[test]
    fn relative_paths_climb_out_of_the_folder() {
        use std::path::Path;
        let p = |from: &str, to: &str| relative_path(Path::new(from), Path::new(to));
        assert_eq!(p("/r/datasets/weather", "/r/evals/schemas/case.json"), "../../evals/schemas/case.json");
        assert_eq!(p("/r/evals", "/r/evals/schemas/suite.json"), "schemas/suite.json");
        assert_eq!(p("/r/./x/../datasets/d", "/r/evals/case.json"), "../../evals/case.json");
    }

    #[test]
    fn paths_are_cleaned_and_made_relative_for_links() {
        use std::path::Path;
        assert_eq!(clean_path(Path::new("evals/../datasets/./weather/a.yaml")), "datasets/weather/a.yaml");
        assert_eq!(clean_path(Path::new("../x/../y")), "../y");
        assert_eq!(clean_path(Path::new("./")), ".");
        let (repo, out) = (Path::new("/r"), Path::new("/r/out/html"));
        assert_eq!(relative_url(out, &repo.join("datasets/w/a b#1.yaml")), "../../datasets/w/a%20b%231.yaml");
        assert_eq!(relative_url(repo, Path::new("/r/d/c.yaml")), "d/c.yaml");
    }

    #[test]
    fn ids_sort_with_their_numbers_as_numbers() {
        let mut ids = vec!["case-10", "case-2", "case-1", "b", "case-002", "case-100", "a9z", "a10", "case-2b"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["a9z", "a10", "b", "case-1", "case-002", "case-2", "case-2b", "case-10", "case-100"]);
        assert_eq!(natural_cmp("x", "x"), std::cmp::Ordering::Equal);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h").unwrap(), chrono::Duration::hours(2));
        assert_eq!(parse_duration("7d").unwrap(), chrono::Duration::days(7));
        assert!(parse_duration("7").unwrap_err().contains("no unit"));
        assert!(parse_duration("d").is_err());
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("a\nb", 10), "a b");
    }

    #[test]
    fn chain_joins_the_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e =
            crate::store::StoreError::Open { path: "x.db".into(), source: rusqlite::Error::InvalidPath("x".into()) };
        assert_eq!(chain(&io), "gone");
        assert!(chain(&e).starts_with("cannot open store x.db: "), "{}", chain(&e));
    }
}
