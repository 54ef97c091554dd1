//! The statistics a comparison rests on: Wilson intervals, the exact McNemar test on paired
//! verdicts, and pass^k over repeats.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// 95% Wilson score interval of `passed` out of `n`; the whole range when nothing was graded.
pub fn wilson(passed: usize, n: usize) -> Interval {
    if n == 0 {
        return Interval { low: 0.0, high: 1.0 };
    }
    let (n, p) = (n as f64, passed as f64 / n as f64);
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval { low: (centre - half).max(0.0), high: (centre + half).min(1.0) }
}

/// The exact McNemar test on the pairs both runs graded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Pairs graded in both runs.
    pub shared: usize,
    pub pass_to_fail: usize,
    pub fail_to_pass: usize,
    /// Two-sided exact p-value (binomial on the discordant pairs, p = 1/2).
    pub p_value: f64,
}

pub fn mcnemar(shared: usize, pass_to_fail: usize, fail_to_pass: usize) -> McNemar {
    McNemar { shared, pass_to_fail, fail_to_pass, p_value: mcnemar_p(pass_to_fail, fail_to_pass) }
}

/// P(X <= min(b, c)) * 2 for X ~ Binomial(b + c, 1/2), summed in log space so that thousands of
/// discordant pairs neither overflow nor underflow.
fn mcnemar_p(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0; // ln C(n, 0)
    let mut terms = Vec::with_capacity(k + 1);
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        terms.push(ln_choose + ln_half_n);
    }
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let tail = max.exp() * terms.iter().map(|t| (t - max).exp()).sum::<f64>();
    (2.0 * tail).min(1.0)
}

/// pass^k for one k: the chance that k repeats of a case all pass, averaged over cases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PassK {
    pub k: u32,
    pub value: f64,
}

/// pass^k for k = 1 ..= the fewest graded trials of any case, from (passes, trials) per case:
/// the unbiased estimate C(c, k) / C(n, k) per case, averaged.
pub fn pass_hat_k(per_case: &[(u32, u32)]) -> Vec<PassK> {
    let graded: Vec<&(u32, u32)> = per_case.iter().filter(|(_, n)| *n > 0).collect();
    let Some(min_n) = graded.iter().map(|(_, n)| *n).min() else { return Vec::new() };
    (1..=min_n)
        .map(|k| {
            let sum: f64 = graded.iter().map(|&&(c, n)| choose_ratio(c, n, k)).sum();
            PassK { k, value: sum / graded.len() as f64 }
        })
        .collect()
}

/// C(c, k) / C(n, k) as a product, exact for small numbers and never overflowing.
fn choose_ratio(c: u32, n: u32, k: u32) -> f64 {
    if c < k {
        return 0.0;
    }
    (0..k).map(|i| (c - i) as f64 / (n - i) as f64).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn wilson_matches_the_textbook_values() {
        // 8 of 10: 0.4902 .. 0.9433 (Wilson, 95%).
        let i = wilson(8, 10);
        assert!(close(i.low, 0.4902) && close(i.high, 0.9433), "{i:?}");
        let all = wilson(10, 10);
        assert!(close(all.high, 1.0) && close(all.low, 0.7225), "{all:?}");
        assert_eq!(wilson(0, 0), Interval { low: 0.0, high: 1.0 });
    }

    #[test]
    fn mcnemar_exact_p_values() {
        assert_eq!(mcnemar_p(0, 0), 1.0);
        // 2 discordant pairs, both one way: 2 * (1/2)^2.
        assert!(close(mcnemar_p(2, 0), 0.5));
        // 10 vs 0: 2 / 1024.
        assert!(close(mcnemar_p(10, 0), 2.0 / 1024.0));
        // 6 vs 1: 2 * (1 + 7) / 128.
        assert!(close(mcnemar_p(6, 1), 16.0 / 128.0));
        assert_eq!(mcnemar_p(3, 3), 1.0);
        // Large counts stay finite and small.
        let p = mcnemar_p(5_000, 4_000);
        assert!(p > 0.0 && p < 1e-20, "{p}");
    }

    #[test]
    fn pass_hat_k_punishes_inconsistency() {
        // One case passes 3 of 3, one 2 of 3.
        let v = pass_hat_k(&[(3, 3), (2, 3)]);
        assert_eq!(v.len(), 3);
        assert!(close(v[0].value, (1.0 + 2.0 / 3.0) / 2.0));
        assert!(close(v[1].value, (1.0 + 1.0 / 3.0) / 2.0));
        assert!(close(v[2].value, 0.5));
        assert!(pass_hat_k(&[]).is_empty());
    }
}
