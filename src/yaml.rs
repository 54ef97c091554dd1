//! Every YAML read and write of the project, with `file:line:col` and key-path errors.
//!
//! The parser is serde_yaml_ng, the maintained fork of the archived serde_yaml; no other module
//! names it, so it can be swapped here alone.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub use serde_yaml_ng::Value;

/// A YAML problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub struct YamlError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Dotted key path (`graders[1].type`); empty at the document root.
    pub path: String,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if !self.path.is_empty() && self.path != "." {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// The text of a YAML file, kept so that errors found after loading can still be located.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(file: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Source { file: file.into(), text: text.into() }
    }

    /// Read a file as UTF-8 text, without the byte order mark editors may put first; invalid
    /// UTF-8 is an error naming its byte offset, line and column.
    pub fn read(file: &Path) -> std::io::Result<Self> {
        use std::io::Read;
        // Read until the end without asking the file's size first: `fs::read` spends two more
        // system calls on that, a tenth of the time a run takes to check 100,000 small cases.
        let mut bytes = Vec::with_capacity(4096);
        std::fs::File::open(file)?.take(u64::MAX).read_to_end(&mut bytes)?;
        Source::from_bytes(file, bytes)
    }

    /// [`Source::read`] of bytes already read.
    pub fn from_bytes(file: &Path, bytes: Vec<u8>) -> std::io::Result<Self> {
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let valid = std::str::from_utf8(&e.as_bytes()[..at]).expect("valid up to here");
                let line = valid.matches('\n').count() + 1;
                let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("invalid UTF-8 at byte {at} (line {line}, column {column})"),
                ));
            }
        };
        Ok(Source::new(file, text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text)))
    }

    /// `seconds` as a duration, or a located error: a timeout must be positive and at most a day
    /// (a longer one is a typo, and would overflow the clock).
    pub fn seconds(&self, path: &str, seconds: f64) -> Result<std::time::Duration, YamlError> {
        if seconds.is_nan() || seconds <= 0.0 {
            return Err(self.error_at(path, "must be a positive number of seconds"));
        }
        if seconds > MAX_SECONDS {
            return Err(self.error_at(path, format!("at most {MAX_SECONDS} seconds")));
        }
        Ok(std::time::Duration::from_secs_f64(seconds))
    }

    /// Deserialize the whole document into `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, YamlError> {
        if let Some((line, column)) = too_deep(&self.text) {
            return Err(YamlError {
                file: self.file.clone(),
                line,
                column,
                path: String::new(),
                message: format!("nested deeper than {MAX_DEPTH} levels"),
            });
        }
        // Tracking the key path slows every parse (10,000 case files: 0.17 s to 0.12 s without);
        // only a failed parse needs it, so that one is parsed again with tracking.
        if let Ok(value) = serde_yaml_ng::from_str(&self.text) {
            return Ok(value);
        }
        let de = serde_yaml_ng::Deserializer::from_str(&self.text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = clean_path(&e.path().to_string());
            let inner = e.into_inner();
            let (line, column) = match inner.location() {
                Some(l) => (l.line(), l.column()),
                None => self.locate(&path),
            };
            YamlError {
                file: self.file.clone(),
                line,
                column,
                message: strip_location(&inner.to_string(), &path),
                path,
            }
        })
    }

    /// Deserialize a value found at `path` of this document (for example one grader of a list,
    /// after its `type` chose the shape), reporting errors at their place in the file.
    pub fn parse_value<T: DeserializeOwned>(&self, value: Value, path: &str) -> Result<T, YamlError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let sub = clean_path(&e.path().to_string());
            let full = join_path(path, &sub);
            let message = strip_location(&e.into_inner().to_string(), &full);
            self.error_at(&full, message)
        })
    }

    /// An error about the node at `path` (`a.b[2].c`), located at that node, or at the nearest
    /// ancestor that exists when the node itself is absent.
    pub fn error_at(&self, path: &str, message: impl Into<String>) -> YamlError {
        let (line, column) = self.locate(path);
        YamlError { file: self.file.clone(), line, column, path: path.to_string(), message: message.into() }
    }

    /// Line and column (1-based) of the node at `path`.
    pub fn locate(&self, path: &str) -> (usize, usize) {
        let segments = parse_path(path);
        for len in (0..=segments.len()).rev() {
            if let Some(pos) = find(&self.text, &segments[..len]) {
                return pos;
            }
        }
        (1, 1)
    }
}

/// Serialize to YAML text.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(value)
}

/// Convert any serializable value to a YAML value.
pub fn to_value<T: Serialize>(value: &T) -> Result<Value, serde_yaml_ng::Error> {
    serde_yaml_ng::to_value(value)
}

/// Parse a YAML document whose shape is not known in advance.
pub fn parse_any(text: &str) -> Result<Value, String> {
    if let Some((line, column)) = too_deep(text) {
        return Err(format!("line {line} column {column}: nested deeper than {MAX_DEPTH} levels"));
    }
    serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
}

/// The longest timeout a file may set, in seconds: a day.
pub const MAX_SECONDS: f64 = 86400.0;

/// Deepest nesting of flow collections (`[`, `{`) a document may have. The parser's time grows
/// with the square of the depth (100,000 `[` took 37 s), so deeper text is refused before it.
pub const MAX_DEPTH: usize = 128;

fn bytecount(text: &str, byte: u8) -> usize {
    text.bytes().filter(|b| *b == byte).count()
}

/// Where `text` opens a flow collection deeper than [`MAX_DEPTH`], in one pass over it. Brackets
/// in quotes, comments, block scalars and plain scalars (`note: a[1`) open nothing.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    // Fewer openers than the limit cannot nest past it: most files end the check here, and a
    // byte count is a fraction of the cost of the walk below (`evals check` reads every case).
    if bytecount(text, b'[') + bytecount(text, b'{') <= MAX_DEPTH {
        return None;
    }
    #[derive(PartialEq)]
    enum At {
        /// Where a node may begin: a `[` there opens a collection, a quote a string.
        Start,
        /// Inside a plain scalar, or after a node: only `: ` and ` #` mean something.
        Token,
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    // The indentation of the line that opened a `|` or `>` scalar, while its lines last.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut at = At::Start;
        let mut prev = ' ';
        let mut chars = line.chars().enumerate().peekable();
        while let Some((col, c)) = chars.next() {
            let blank_after = chars.peek().is_none_or(|(_, c)| *c == ' ' || *c == '\t');
            let blank_before = prev == ' ' || prev == '\t';
            prev = c;
            if let Some(q) = quote {
                match c {
                    '\\' if q == '"' => {
                        chars.next();
                    }
                    '\'' if q == '\'' && chars.peek().is_some_and(|(_, c)| *c == '\'') => {
                        chars.next();
                    }
                    _ if c == q => {
                        quote = None;
                        at = At::Token;
                    }
                    _ => {}
                }
                continue;
            }
            match c {
                '#' if blank_before => break,
                ' ' | '\t' => {}
                '[' | '{' if depth > 0 || at == At::Start => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some((n + 1, col + 1));
                    }
                    at = At::Start;
                }
                ']' | '}' if depth > 0 => {
                    depth -= 1;
                    at = At::Token;
                }
                ',' if depth > 0 => at = At::Start,
                ':' if blank_after || depth > 0 => at = At::Start,
                '-' | '?' if blank_after && at == At::Start => {}
                '\'' | '"' if at == At::Start => quote = Some(c),
                '|' | '>' if depth == 0 && at == At::Start => {
                    block_scalar = Some(indent);
                    break;
                }
                // Anchors and tags come before the node they name.
                '&' | '!' if at == At::Start => while chars.next_if(|(_, c)| *c != ' ' && *c != '\t').is_some() {},
                _ => at = At::Token,
            }
        }
    }
    None
}

/// Convert a YAML value to JSON (for values the model or a template consumes).
pub fn to_json(value: &Value) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(value)
}

fn join_path(base: &str, sub: &str) -> String {
    match (base.is_empty(), sub.is_empty() || sub == ".") {
        (_, true) => base.to_string(),
        (true, false) => sub.to_string(),
        (false, false) if sub.starts_with('[') => format!("{base}{sub}"),
        (false, false) => format!("{base}.{sub}"),
    }
}

fn clean_path(p: &str) -> String {
    if p == "." { String::new() } else { p.to_string() }
}

/// serde_yaml_ng wraps its messages in "PATH: ... at line X column Y"; we print both up front.
fn strip_location(msg: &str, path: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    match msg.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => rest.to_string(),
        _ => msg.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        // `[N]` groups only; a stray `]` in a key (fuzzing found `x[0]]`) ends the path here.
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            if let Ok(i) = inner[..end].parse() {
                out.push(Segment::Index(i));
            }
            rest = &inner[end + 1..];
        }
    }
    out
}

const FOUND: &str = "\u{0}evals-yaml-locate";

/// Walks the document along `segments` and stops with a marker error at the target node; the
/// YAML deserializer attaches the node's position to that error.
fn find(text: &str, segments: &[Segment]) -> Option<(usize, usize)> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    match Walk(segments).deserialize(de) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

struct Walk<'a>(&'a [Segment]);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.0.is_empty() {
            // Fail from inside the node's own visitor so the error carries the node's position.
            return d.deserialize_any(Found);
        }
        d.deserialize_any(self)
    }
}

struct Found;

impl<'de> Visitor<'de> for Found {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Segment::Key(want) = &self.0[0] else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(key) = map.next_key::<Value>()? {
            let matches = match &key {
                Value::String(s) => s == want,
                other => serde_yaml_ng::to_string(other).map(|s| s.trim() == want).unwrap_or(false),
            };
            if matches {
                map.next_value_seed(Walk(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Segment::Index(want) = self.0[0] else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut i = 0;
        loop {
            let found = if i == want {
                seq.next_element_seed(Walk(&self.0[1..]))?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !found {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (_, v) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(v).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_with_stray_brackets_do_not_panic() {
        assert_eq!(parse_path("a[1]]"), vec![Segment::Key("a".into()), Segment::Index(1)]);
        assert_eq!(parse_path("]"), vec![Segment::Key("]".into())]);
        assert_eq!(parse_path("x[]].y"), vec![Segment::Key("x".into()), Segment::Key("y".into())]);
        assert_eq!(
            parse_path("cases[2].id"),
            vec![Segment::Key("cases".into()), Segment::Index(2), Segment::Key("id".into())]
        );
    }
    use serde::Deserialize;

    const DOC: &str = "name: demo\ngraders:\n  - type: contains\n    value: hi\n  - type: regex\n    pattern: '('\n";

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        graders: Vec<Value>,
    }

    #[test]
    fn deep_flow_nesting_is_refused_where_it_passes_the_limit() {
        let err = Source::new("s.yaml", "[".repeat(100_000)).parse::<Value>().unwrap_err();
        assert_eq!(err.to_string(), format!("s.yaml:1:{}: nested deeper than 128 levels", MAX_DEPTH + 1));
        let text = format!("name: x\ngraders:\n  - {{a: {}1{}}}\n", "[".repeat(200), "]".repeat(200));
        let err = Source::new("s.yaml", text).parse::<Value>().unwrap_err();
        assert_eq!((err.line, err.column), (3, 8 + MAX_DEPTH));
        assert!(parse_any(&"{a: ".repeat(1000)).unwrap_err().starts_with("line 1 column 513: nested deeper"));
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Source::new("s.yaml", ok).parse::<Value>().is_ok());
    }

    #[test]
    fn brackets_that_open_nothing_do_not_count_as_nesting() {
        let many = "[".repeat(300);
        for text in [
            format!("a: '{many}'\nb: \"{many}\\\"\"\n"),
            format!("a: 'it''s {many}'\n"),
            format!("a: x # {many}\n"),
            format!("a: text{many}\n"),
            format!("a: |\n  {many}\n\n  {many}\nb: 1\n"),
            format!("- >-\n    {many}\n- 2\n"),
            format!("a: [\"{many}\", 'x']\n"),
            // Plain scalars on many lines, each with an unclosed bracket.
            (0..300).map(|i| format!("k{i}: x[\n")).collect(),
        ] {
            assert!(too_deep(&text).is_none(), "{text}");
            Source::new("s.yaml", text.clone()).parse::<Value>().unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        assert!(too_deep(&format!("a: &x !!seq {many}\n")).is_some(), "a tagged collection still counts");
    }

    #[test]
    fn reading_drops_a_bom_and_locates_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, b"\xef\xbb\xbfname: x\ngraders: []\n").unwrap();
        assert_eq!(Source::read(&path).unwrap().parse::<Doc>().unwrap().name, "x");
        std::fs::write(&path, b"name: x\ngraders: [caf\xc3\xa9, \xff]\n").unwrap();
        let err = Source::read(&path).unwrap_err();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 25 (line 2, column 17)");
    }

    #[test]
    fn seconds_are_positive_and_at_most_a_day() {
        let src = Source::new("s.yaml", "provider:\n  timeout_s: 1e20\n");
        assert_eq!(src.seconds("provider.timeout_s", 86400.0).unwrap().as_secs(), 86400);
        let err = src.seconds("provider.timeout_s", 1e20).unwrap_err();
        assert_eq!(err.to_string(), "s.yaml:2:14: provider.timeout_s: at most 86400 seconds");
        for bad in [0.0, -1.0, f64::NAN] {
            let err = src.seconds("provider.timeout_s", bad).unwrap_err();
            assert!(err.to_string().ends_with("must be a positive number of seconds"), "{bad}");
        }
    }

    #[test]
    fn locates_nested_nodes() {
        let src = Source::new("s.yaml", DOC);
        assert_eq!(src.locate("graders[1].pattern"), (6, 14));
        assert_eq!(src.locate("graders[1]"), (5, 5));
        assert_eq!(src.locate("name"), (1, 7));
        // Absent node: nearest ancestor.
        assert_eq!(src.locate("graders[1].missing"), (5, 5));
    }

    #[test]
    fn unknown_key_reports_file_line_col_and_name() {
        let src = Source::new("s.yaml", "name: x\ngraders: []\nextra: 1\n");
        let err = src.parse::<Doc>().unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("s.yaml:3:"), "{text}");
        assert!(text.contains("unknown field `extra`"), "{text}");
    }

    #[test]
    fn type_error_carries_key_path() {
        let src = Source::new("s.yaml", "name: [1]\ngraders: []\n");
        let err = src.parse::<Doc>().unwrap_err();
        assert_eq!(err.path, "name");
        assert_eq!((err.line, err.column), (1, 7));
    }

    #[test]
    fn parse_value_locates_sub_errors() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Regex {
            r#type: String,
            pattern: String,
        }
        let src = Source::new("s.yaml", DOC);
        let doc: Doc = src.parse().unwrap();
        let err = src.parse_value::<Regex>(doc.graders[0].clone(), "graders[0]").unwrap_err();
        assert_eq!(err.path, "graders[0].value");
        assert_eq!(err.line, 4, "{err}");
        assert!(err.message.contains("unknown field `value`"));
    }
}
