//! Small text helpers shared by every layer.

/// Shorten to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max.saturating_sub(1)).collect::<String>())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
