//! Text similarity metrics (fuzzy ratio, Levenshtein, BLEU, GLEU, METEOR, ROUGE-N, ROUGE-L) and
//! the `similarity` grader that compares the output with the reference or the recorded output.

use crate::text::{EXACT_LIMIT, fuzzy_ratio};
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Subject, Verdict, fields};
use crate::yaml::{self, Source, YamlError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// 2·LCS / (|a| + |b|) over characters (the Indel ratio).
    #[default]
    #[serde(alias = "fuzzy_match", alias = "ratio")]
    Fuzzy,
    /// 1 − edit distance / longer length, over characters.
    Levenshtein,
    Bleu,
    Gleu,
    Meteor,
    #[serde(rename = "rouge_1")]
    Rouge1,
    #[serde(rename = "rouge_2")]
    Rouge2,
    #[serde(rename = "rouge_3")]
    Rouge3,
    #[serde(rename = "rouge_4")]
    Rouge4,
    #[serde(rename = "rouge_5")]
    Rouge5,
    #[serde(rename = "rouge_l")]
    RougeL,
    /// Cosine of embeddings; needs an embeddings endpoint (text_similarity only).
    Cosine,
}

/// The metric's score of `candidate` against `reference`, in [0, 1]. Not for `Cosine`.
pub fn score(metric: Metric, candidate: &str, reference: &str) -> f64 {
    let c = || tokens(candidate);
    let r = || tokens(reference);
    match metric {
        Metric::Fuzzy => fuzzy_ratio(candidate, reference),
        Metric::Levenshtein => levenshtein_similarity(candidate, reference),
        Metric::Bleu => bleu(&c(), &r()),
        Metric::Gleu => gleu(&c(), &r()),
        Metric::Meteor => meteor(&c(), &r()),
        Metric::Rouge1 => rouge_n(&c(), &r(), 1),
        Metric::Rouge2 => rouge_n(&c(), &r(), 2),
        Metric::Rouge3 => rouge_n(&c(), &r(), 3),
        Metric::Rouge4 => rouge_n(&c(), &r(), 4),
        Metric::Rouge5 => rouge_n(&c(), &r(), 5),
        Metric::RougeL => rouge_l(&c(), &r()),
        Metric::Cosine => 0.0,
    }
}

/// Lower-cased words: runs of letters and digits, with each Chinese or Japanese character a
/// word of its own (those scripts put no spaces between words).
pub fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut rest = run;
        while let Some(i) = rest.find(unspaced) {
            if i > 0 {
                out.push(rest[..i].to_lowercase());
            }
            let c = rest[i..].chars().next().unwrap_or_default();
            out.push(c.to_string());
            rest = &rest[i + c.len_utf8()..];
        }
        if !rest.is_empty() {
            out.push(rest.to_lowercase());
        }
    }
    out
}

/// Han ideographs, kana and their extensions: scripts written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // Hiragana, Katakana
        | 0x31F0..=0x31FF // Katakana extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF66..=0xFF9D // half-width Katakana
        | 0x20000..=0x3134F // CJK extensions B–G
    )
}

pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

pub fn levenshtein_similarity(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count());
    if longest == 0 {
        return 1.0;
    }
    if a.len().saturating_mul(b.len()) > EXACT_LIMIT {
        return fuzzy_ratio(a, b);
    }
    1.0 - levenshtein(a, b) as f64 / longest as f64
}

/// Length of the longest common subsequence.
fn lcs<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn ngrams(words: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut m = HashMap::new();
    if words.len() >= n {
        for w in words.windows(n) {
            *m.entry(w).or_insert(0) += 1;
        }
    }
    m
}

/// Clipped matches and the candidate's and reference's n-gram totals.
fn overlap(c: &[String], r: &[String], n: usize) -> (usize, usize, usize) {
    let (cg, rg) = (ngrams(c, n), ngrams(r, n));
    let matches = cg.iter().map(|(g, k)| (*k).min(rg.get(g).copied().unwrap_or(0))).sum();
    (matches, c.len().saturating_sub(n - 1), r.len().saturating_sub(n - 1))
}

/// Sentence BLEU-4 as nltk's `sentence_bleu` with `method2` smoothing: the geometric mean of
/// clipped n-gram precisions, each over at least one n-gram, with one added to both sides for
/// n > 1 (so an answer shorter than four words still scores), times the brevity penalty; 0
/// when no word matches.
pub fn bleu(c: &[String], r: &[String]) -> f64 {
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut log_sum = 0.0;
    for n in 1..=4 {
        let (m, total, _) = overlap(c, r, n);
        let total = total.max(1) as f64;
        let p = if n == 1 { m as f64 / total } else { (m as f64 + 1.0) / (total + 1.0) };
        if p == 0.0 {
            return 0.0;
        }
        log_sum += p.ln() / 4.0;
    }
    let bp = if c.len() >= r.len() { 1.0 } else { (1.0 - r.len() as f64 / c.len() as f64).exp() };
    bp * log_sum.exp()
}

/// Google BLEU: n-grams of orders 1 to 4 pooled; matches over the larger of the two totals.
pub fn gleu(c: &[String], r: &[String]) -> f64 {
    let (mut m, mut tc, mut tr) = (0, 0, 0);
    for n in 1..=4 {
        let (a, b, d) = overlap(c, r, n);
        m += a;
        tc += b;
        tr += d;
    }
    let denom = tc.max(tr);
    if denom == 0 { 0.0 } else { m as f64 / denom as f64 }
}

/// METEOR as nltk's `meteor_score` computes it, with its exact and Porter-stem stages (not
/// its WordNet synonym stage): the recall-weighted harmonic mean 10PR/(R+9P), less a
/// fragmentation penalty 0.5·(chunks/matches)³. Words align as nltk aligns them: exact
/// matches first, then the stems of the words left; in each stage from the last candidate word
/// back, each to the last free reference word equal to it, so a repeated word keeps the
/// alignment in one chunk.
pub fn meteor(c: &[String], r: &[String]) -> f64 {
    let mut aligned: Vec<(usize, usize)> = Vec::new();
    let (mut c_free, mut r_free) = (vec![true; c.len()], vec![true; r.len()]);
    let mut stage = |c_words: &[String], r_words: &[String]| {
        for i in (0..c.len()).rev() {
            if !c_free[i] {
                continue;
            }
            if let Some(j) = (0..r.len()).rev().find(|&j| r_free[j] && r_words[j] == c_words[i]) {
                (c_free[i], r_free[j]) = (false, false);
                aligned.push((i, j));
            }
        }
    };
    stage(c, r);
    let stems = |words: &[String]| words.iter().map(|w| super::stem::stem(w)).collect::<Vec<_>>();
    stage(&stems(c), &stems(r));
    aligned.sort_unstable();
    let m = aligned.len();
    if m == 0 {
        return 0.0;
    }
    let chunks = 1 + aligned.windows(2).filter(|w| !(w[1].0 == w[0].0 + 1 && w[1].1 == w[0].1 + 1)).count();
    let p = m as f64 / c.len() as f64;
    let rec = m as f64 / r.len() as f64;
    let fmean = 10.0 * p * rec / (rec + 9.0 * p);
    fmean * (1.0 - 0.5 * (chunks as f64 / m as f64).powi(3))
}

fn f1(matches: usize, c: usize, r: usize) -> f64 {
    if matches == 0 || c == 0 || r == 0 {
        return 0.0;
    }
    let (p, rec) = (matches as f64 / c as f64, matches as f64 / r as f64);
    2.0 * p * rec / (p + rec)
}

/// ROUGE-N F1.
pub fn rouge_n(c: &[String], r: &[String], n: usize) -> f64 {
    let (m, tc, tr) = overlap(c, r, n);
    f1(m, tc, tr)
}

/// ROUGE-L F1 over the longest common word subsequence.
pub fn rouge_l(c: &[String], r: &[String]) -> f64 {
    f1(lcs(c, r), c.len(), r.len())
}

/// The `similarity` grader, and `not_similarity`, which passes below the threshold.
#[derive(Debug, Clone)]
pub struct Spec {
    threshold: f64,
    negate: bool,
    against: Against,
    metric: Metric,
    /// The metric's name as reasons show it (`fuzzy`, `rouge1`), spelt once at load.
    label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Against {
    /// The production output the case recorded.
    Recorded,
    /// The case's `expected.reference`.
    Reference,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    threshold: f64,
    #[serde(default = "recorded")]
    against: Against,
    #[serde(default)]
    metric: Metric,
    #[serde(default)]
    negate: bool,
}

fn recorded() -> Against {
    Against::Recorded
}

impl Spec {
    pub fn parse(src: &Source, path: &str, v: yaml::Value, not: bool) -> Result<Spec, YamlError> {
        let s: SpecFile = fields(src, v, path)?;
        if !(0.0..=1.0).contains(&s.threshold) {
            return Err(src.error_at(&format!("{path}.threshold"), "threshold must be between 0 and 1"));
        }
        if s.metric == Metric::Cosine {
            return Err(src.error_at(&format!("{path}.metric"), "cosine needs an embeddings call: use text_similarity"));
        }
        let label = format!("{:?}", s.metric).to_lowercase();
        Ok(Spec { threshold: s.threshold, negate: s.negate != not, against: s.against, metric: s.metric, label })
    }

    pub fn grade(&self, s: &Subject) -> Verdict {
        if self.against == Against::Recorded && s.case.label.verdict == crate::dataset::Verdict::Fail {
            // The recorded output is labelled wrong: similar to it is not right. What is right
            // is the case's expectation (a case without one never reaches the graders).
            let v = super::deterministic::expected(s, self.threshold, self.metric);
            let reason = format!("the recorded output is labelled wrong, graded by the expectation: {}", v.reason);
            return Verdict { reason, ..v };
        }
        let reference = match self.against {
            Against::Recorded => Some(s.case.recorded.output.text.as_str()),
            Against::Reference => s.case.expected.reference.as_deref(),
        };
        let Some(r) = reference else {
            return Verdict::check(false, "case has no expected.reference to compare with");
        };
        let value = score(self.metric, &s.output.text, r);
        let what = if self.against == Against::Recorded { "recorded output" } else { "reference" };
        let reason = format!("{} similarity to the {what} {value:.3} (threshold {})", self.label, self.threshold);
        if self.negate {
            // The score is how dissimilar the output is, so weights and thresholds read the same way.
            Verdict::new(1.0 - value, value + 1e-9 < self.threshold, format!("{reason}, which it must stay under"))
        } else {
            Verdict::new(value, value + 1e-9 >= self.threshold, reason)
        }
    }
}

/// promptfoo's metric assertions, against the `value` they give: `levenshtein` passes at an
/// edit distance of at most `threshold` (default 5); `rouge_n` (ROUGE-1 F1, default 0.75) and
/// `bleu` (default 0.5, the best of several values) pass at a score of at least `threshold`.
#[derive(Debug, Clone)]
pub struct Assertion {
    kind: AssertKind,
    values: Vec<String>,
    threshold: f64,
    negate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AssertKind {
    Distance,
    Rouge,
    Bleu,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssertionFile {
    value: OneOrMany,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    negate: bool,
}

impl Assertion {
    /// Parse `levenshtein`, `rouge_n` or `bleu` (`base`), negated by a `not_` prefix (`not`).
    pub fn parse(src: &Source, path: &str, base: &str, not: bool, v: yaml::Value) -> Result<Assertion, YamlError> {
        let f: AssertionFile = fields(src, v, path)?;
        let kind = match base {
            "levenshtein" => AssertKind::Distance,
            "rouge_n" => AssertKind::Rouge,
            _ => AssertKind::Bleu,
        };
        let values = match f.value {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) if kind == AssertKind::Bleu && !v.is_empty() => v,
            OneOrMany::Many(_) => {
                let what = if kind == AssertKind::Bleu { "one text or a non-empty list" } else { "one text" };
                return Err(src.error_at(&format!("{path}.value"), format!("value must be {what}")));
            }
        };
        let threshold = f.threshold.unwrap_or(match kind {
            AssertKind::Distance => 5.0,
            AssertKind::Rouge => 0.75,
            AssertKind::Bleu => 0.5,
        });
        let valid = threshold.is_finite() && threshold >= 0.0 && (kind == AssertKind::Distance || threshold <= 1.0);
        if !valid {
            let range = if kind == AssertKind::Distance { "an edit distance ≥ 0" } else { "between 0 and 1" };
            return Err(src.error_at(&format!("{path}.threshold"), format!("threshold must be {range}")));
        }
        Ok(Assertion { kind, values, threshold, negate: f.negate != not })
    }

    pub fn grade(&self, s: &Subject) -> Verdict {
        let out = s.output.text.as_str();
        let (ok, reason) = match self.kind {
            AssertKind::Distance => {
                let d = levenshtein(out, &self.values[0]);
                (d as f64 <= self.threshold, format!("edit distance {d} (at most {})", self.threshold))
            }
            AssertKind::Rouge | AssertKind::Bleu => {
                let (metric, name) =
                    if self.kind == AssertKind::Rouge { (Metric::Rouge1, "rouge-1") } else { (Metric::Bleu, "bleu") };
                let best = self.values.iter().map(|r| score(metric, out, r)).fold(0.0, f64::max);
                (best + 1e-9 >= self.threshold, format!("{name} {best:.3} (threshold {})", self.threshold))
            }
        };
        let pass = ok != self.negate;
        Verdict::check(pass, if self.negate { format!("{reason}, which must not hold") } else { reason })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{grade, grader};
    use super::*;

    fn t(s: &str) -> Vec<String> {
        tokens(s)
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-4, "{a} != {b}");
    }

    // Every expected value below is worked out by hand in the comment beside it.
    #[test]
    fn character_metrics() {
        close(fuzzy_ratio("abcd", "abce"), 0.75); // LCS 3: 2·3 / 8
        close(fuzzy_ratio("", ""), 1.0);
        close(fuzzy_ratio("abc", "xyz"), 0.0);
        assert_eq!(levenshtein("kitten", "sitting"), 3); // k→s, e→i, +g
        close(levenshtein_similarity("kitten", "sitting"), 1.0 - 3.0 / 7.0);
        close(levenshtein_similarity("", ""), 1.0);
    }

    #[test]
    fn bit_parallel_lcs_agrees_with_the_table() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..200 {
            let (la, lb) = (rng.usize(0..150), rng.usize(0..150));
            let a: Vec<char> = (0..la).map(|_| ['a', 'b', 'c', 'é', '→'][rng.usize(0..5)]).collect();
            let b: Vec<char> = (0..lb).map(|_| ['a', 'b', 'c', 'é', 'x'][rng.usize(0..5)]).collect();
            let (sa, sb): (String, String) = (a.iter().collect(), b.iter().collect());
            assert_eq!(crate::text::lcs_chars(&sa, la, &sb), lcs(&a, &b), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn rouge() {
        let r = t("The cat sat on the mat.");
        close(rouge_n(&t("the cat sat"), &r, 1), 2.0 / 3.0); // P 3/3, R 3/6
        close(rouge_n(&t("the cat sat"), &r, 2), 4.0 / 7.0); // P 2/2, R 2/5: 2·0.4/1.4
        close(rouge_l(&t("the mat sat"), &r), 4.0 / 9.0); // LCS 2: P 2/3, R 2/6
        close(rouge_n(&t("the mat sat"), &r, 1), 2.0 / 3.0); // the, mat, sat all match
        close(rouge_n(&t("dog"), &r, 1), 0.0);
    }

    #[test]
    fn bleu_gleu_meteor() {
        let (c, r) = (t("the cat sat on the mat"), t("the cat sat on a mat"));
        // p1 5/6; p2 (3+1)/(5+1); p3 (2+1)/(4+1); p4 (1+1)/(3+1); product 1/6; BP 1.
        close(bleu(&c, &r), (1.0f64 / 6.0).powf(0.25));
        close(bleu(&r, &r), 1.0);
        // Shorter candidate: BP exp(1 − 6/3); p1 1, p2 (2+1)/(2+1), p3 (1+1)/(1+1), and no
        // 4-gram: p4 (0+1)/(1+1), as nltk counts at least one n-gram.
        close(bleu(&t("the cat sat"), &r), (1.0f64 - 2.0).exp() * 0.5f64.powf(0.25));
        // One word: only p1 is a real match; p2..p4 are each 1/2.
        close(bleu(&t("Paris"), &t("Paris")), 0.125f64.powf(0.25));
        // Matches 5+3+2+1 over 18 n-grams on each side.
        close(gleu(&c, &r), 11.0 / 18.0);
        // Aligned from the end: mat, then the candidate's second `the` to the only `the`, then
        // on, sat, cat: 5 matches in 3 chunks; P = R = 5/6; penalty 0.5·(3/5)³.
        close(meteor(&c, &r), 5.0 / 6.0 * (1.0 - 0.5 * 0.6f64.powi(3)));
        close(meteor(&r, &r), 1.0 - 0.5 * (1.0f64 / 6.0).powi(3));
        // `ships` and `ship` match by their stem, after the exact matches: order, 1234, monday.
        let (c, r) = (t("Your order 1234 ships on Monday"), t("Order 1234 will ship Monday"));
        // 4 matches in 2 chunks (order 1234 | ships … monday are apart); P 4/6, R 4/5.
        let (p, rec) = (4.0 / 6.0, 4.0 / 5.0);
        close(meteor(&c, &r), 10.0 * p * rec / (rec + 9.0 * p) * (1.0 - 0.5 * (3.0f64 / 4.0).powi(3)));
    }

    #[test]
    fn chinese_and_japanese_split_into_characters() {
        assert_eq!(t("我喜欢猫"), ["我", "喜", "欢", "猫"]);
        assert_eq!(t("東京は晴れ, Tokyo2026 OK"), ["東", "京", "は", "晴", "れ", "tokyo2026", "ok"]);
        assert_eq!(t("abc東京def"), ["abc", "東", "京", "def"]);
        // Korean is written with spaces: its words stay whole.
        assert_eq!(t("서울 날씨"), ["서울", "날씨"]);
        close(rouge_n(&t("我喜欢猫"), &t("我喜欢狗"), 1), 0.75);
    }

    /// Expected values from nltk, rouge-score and rapidfuzz (scripts/reference-metrics.sh):
    /// METEOR equals nltk's without its WordNet stage and stays within 0.05 of nltk's default.
    #[test]
    fn metrics_match_their_references() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/metrics/reference.json")).unwrap();
        let pairs = fixture["pairs"].as_array().unwrap();
        assert!(pairs.len() >= 20, "{} pairs", pairs.len());
        let exact = [
            ("fuzzy", Metric::Fuzzy),
            ("levenshtein", Metric::Levenshtein),
            ("gleu", Metric::Gleu),
            ("rouge_1", Metric::Rouge1),
            ("rouge_2", Metric::Rouge2),
            ("rouge_3", Metric::Rouge3),
            ("rouge_4", Metric::Rouge4),
            ("rouge_5", Metric::Rouge5),
            ("rouge_l", Metric::RougeL),
        ];
        let (mut worst_bleu, mut worst_meteor) = (0.0f64, 0.0f64);
        for p in pairs {
            let (c, r) = (p["candidate"].as_str().unwrap(), p["reference"].as_str().unwrap());
            let want_tokens: Vec<Vec<String>> = serde_json::from_value(p["tokens"].clone()).unwrap();
            assert_eq!([t(c), t(r)].to_vec(), want_tokens, "tokens of {c:?} / {r:?}");
            for (key, m) in exact {
                let (got, want) = (score(m, c, r), p[key].as_f64().unwrap());
                assert!((got - want).abs() < 1e-9, "{key} of {c:?} / {r:?}: {got} vs {want}");
            }
            let gap = |key: &str, m: Metric| (score(m, c, r) - p[key].as_f64().unwrap()).abs();
            worst_bleu = worst_bleu.max(gap("bleu", Metric::Bleu));
            worst_meteor = worst_meteor.max(gap("meteor", Metric::Meteor));
            assert!(gap("meteor_stem", Metric::Meteor) < 1e-9, "meteor of {c:?} / {r:?}");
        }
        assert!(worst_bleu <= 0.02, "bleu off nltk by up to {worst_bleu}");
        assert!(worst_meteor <= 0.05, "meteor off nltk by up to {worst_meteor}");
    }

    #[test]
    fn promptfoo_metric_assertions() {
        // levenshtein: "Sunny in Paris" is 2 edits from "Sunny in Pariss!" (promptfoo: distance ≤ 5).
        assert!(grade("{type: levenshtein, value: Sunny in Pariss!}", "Sunny in Paris", &[]).pass);
        assert!(!grade("{type: levenshtein, value: Sunny in Pariss!, threshold: 1}", "Sunny in Paris", &[]).pass);
        assert!(grade("{type: not-levenshtein, value: Rain in Rome, threshold: 2}", "Sunny in Paris", &[]).pass);
        // rouge-n: ROUGE-1 F1 2/3 for "Paris is sunny" against "Sunny in Paris".
        assert!(!grade("{type: rouge-n, value: Sunny in Paris}", "Paris is sunny", &[]).pass);
        assert!(grade("{type: rouge-n, value: Sunny in Paris, threshold: 0.6}", "Paris is sunny", &[]).pass);
        // bleu: the best of several references.
        let v = grade("{type: bleu, value: [Rain in Rome, Sunny in Paris today]}", "Sunny in Paris today", &[]);
        assert!(v.pass && v.reason.starts_with("bleu 1.000"), "{v:?}");
        assert!(grade("{type: not-bleu, value: Rain in Rome}", "Sunny in Paris today", &[]).pass);
        let err = grader("{type: rouge-n, value: [a, b]}").unwrap_err().to_string();
        assert!(err.contains("graders[0].value: value must be one text"), "{err}");
        let err = grader("{type: bleu, value: x, threshold: 2}").unwrap_err().to_string();
        assert!(err.contains("graders[0].threshold: threshold must be between 0 and 1"), "{err}");
    }

    #[test]
    fn similarity_grader() {
        let g = grade("{type: similarity, threshold: 0.8}", "Sunny in Paris!", &[]);
        assert!(g.pass && g.score > 0.9, "{g:?}");
        let g = grade("{type: similarity, threshold: 0.8}", "Pluie à Rome", &[]);
        assert!(!g.pass && g.score < 0.5, "{g:?}");
        let g = grade("{type: similarity, threshold: 0.5, against: reference}", "x", &[]);
        assert!(!g.pass && g.reason.contains("no expected.reference"));
        let g = grade("{type: similarity, threshold: 0.6, metric: rouge_1}", "Paris is sunny", &[]);
        close(g.score, 2.0 / 3.0); // sunny, paris of 3 and 3 words
        assert!(g.pass && g.reason.starts_with("rouge1 similarity"), "{g:?}");
        // The negated form passes below the threshold, and scores the dissimilarity.
        let g = grade("{type: not_similarity, threshold: 0.8}", "Pluie à Rome", &[]);
        assert!(g.pass && g.score > 0.5, "{g:?}");
        let g = grade("{type: not_similarity, threshold: 0.8}", "Sunny in Paris!", &[]);
        assert!(!g.pass && g.score < 0.1 && g.reason.contains("must stay under"), "{g:?}");
        let g = grade("{type: similarity, threshold: 0.8, negate: true}", "Sunny in Paris!", &[]);
        assert!(!g.pass, "{g:?}");
        let g = grade("{type: not-similarity, threshold: 0.5, metric: bleu}", "Rain in Rome", &[]);
        assert!(g.pass, "{g:?}");
    }

    #[test]
    fn a_recorded_output_labelled_wrong_is_never_the_reference() {
        use super::super::tests::{case, grade_with, output};
        let mut c = case("Rain in Rome");
        c.label.verdict = crate::dataset::Verdict::Fail;
        c.expected.contains = vec!["Paris".into()];
        c.expected.not_contains = vec!["Rome".into()];
        // The replay reproduces the production failure word for word: that is a failure.
        let v = grade_with("{type: similarity, threshold: 0.8}", &c, &output("Rain in Rome", &[]));
        assert!(!v.pass, "{v:?}");
        assert!(
            v.reason.starts_with("the recorded output is labelled wrong, graded by the expectation: 0/2"),
            "{}",
            v.reason
        );
        let v = grade_with("{type: similarity, threshold: 0.8}", &c, &output("Sunny in Paris", &[]));
        assert!(v.pass && v.score == 1.0, "{v:?}");
        // Against a reference it compares as asked.
        c.expected.reference = Some("Sunny in Paris".into());
        assert!(
            grade_with("{type: similarity, threshold: 0.8, against: reference}", &c, &output("Sunny in Paris", &[]))
                .pass
        );
    }
}
