//! Small text helpers shared by every layer.

use std::collections::HashMap;
use std::time::Duration;

/// Shorten to `max` characters, marking the cut.
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

/// The path of `to` seen from the folder `from`, with `/` separators (`../../evals/x.json`); both
/// absolute, or both relative to the same folder.
pub fn relative_path(from: &std::path::Path, to: &std::path::Path) -> String {
    use std::path::Component;
    fn parts(p: &std::path::Path) -> Vec<Component<'_>> {
        let mut out = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        out
    }
    let (from, to) = (parts(from), parts(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let up = std::iter::repeat_n("..".to_string(), from.len() - common);
    let down = to[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned());
    up.chain(down).collect::<Vec<_>>().join("/")
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
    fn relative_paths_climb_out_of_the_folder() {
        use std::path::Path;
        let p = |from: &str, to: &str| relative_path(Path::new(from), Path::new(to));
        assert_eq!(p("/r/datasets/weather", "/r/evals/schemas/case.json"), "../../evals/schemas/case.json");
        assert_eq!(p("/r/evals", "/r/evals/schemas/suite.json"), "schemas/suite.json");
        assert_eq!(p("/r/./x/../datasets/d", "/r/evals/case.json"), "../../evals/case.json");
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
