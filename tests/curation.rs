//! Curation end to end: the privacy scanner against a labelled corpus, promotion, taxonomy,
//! labels, review, `evals check`, dedup, interchange and the case overview.

mod common;

use std::collections::BTreeSet;

use common::*;
use evals::dataset::privacy::scan;

/// Precision and recall of the scanner on `tests/privacy/corpus.tsv`. A string counts as found
/// when the scanner reports its labelled kind; any other kind reported is a false positive.
#[test]
fn privacy_scanner_precision_and_recall_on_the_labelled_corpus() {
    let corpus = std::fs::read_to_string(repo().join("tests/privacy/corpus.tsv")).unwrap();
    let (mut tp, mut fp, mut fn_, mut n) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for line in corpus.lines().filter(|l| !l.starts_with('#')) {
        let (kind, text) = line.split_once('\t').unwrap();
        n += 1;
        let found: BTreeSet<&str> = scan(text).iter().map(|m| m.kind.as_str()).collect();
        if kind != "-" {
            if found.contains(kind) {
                tp += 1;
            } else {
                fn_ += 1;
                misses.push(format!("missed {kind}: {text}"));
            }
        }
        for k in found.iter().filter(|k| **k != kind) {
            fp += 1;
            misses.push(format!("false {k}: {text}"));
        }
    }
    assert!(n >= 300, "the corpus has only {n} strings");
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    println!("privacy corpus: {n} strings, precision {precision:.3}, recall {recall:.3}\n{}", misses.join("\n"));
    assert!(recall >= 0.98 && precision >= 0.95, "precision {precision:.3}, recall {recall:.3}\n{}", misses.join("\n"));
}
