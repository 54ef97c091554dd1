//! The statistics a comparison rests on: Wilson intervals, the exact McNemar test on paired
//! verdicts, the one-sided stratified exact test the gate decides drops by, and pass^k over repeats.

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

/// One case's graded verdicts on both sides of the drop test: the reference (the baseline, or
/// the earlier runs of the suite) and the current run; every repeat counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stratum {
    pub ref_passed: u32,
    pub ref_total: u32,
    pub cur_passed: u32,
    pub cur_total: u32,
}

/// The one-sided test of a drop in pass rate, stratified by case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DropTest {
    /// Cases graded on both sides.
    pub cases: usize,
    /// Cases whose verdicts differ somewhere (the only ones that carry information).
    pub informative: usize,
    /// Current passes, summed over the shared cases.
    pub observed: u32,
    /// The current passes expected if nothing changed, given each case's verdicts on both sides.
    pub expected: f64,
    /// P(current passes <= observed | no change): small means a drop.
    pub p_value: f64,
    /// The p-value comes from the exact distribution (else from its normal approximation).
    pub exact: bool,
}

/// Above this much work (strata x range of the sum) the exact distribution gives way to the
/// normal approximation, which is accurate long before that many informative strata.
const EXACT_WORK: usize = 20_000_000;

/// The conditional test of "the current run passes no less than the reference", stratified by
/// case (the exact, one-sided Cochran-Mantel-Haenszel test). Within a case, given its passes on
/// both sides together, no change means the current run's share of them is hypergeometric; the
/// p-value is the lower tail of the sum of those over cases. Stable cases have narrow
/// distributions, so a stable case that flips weighs more than a flaky one; with one sample a
/// side it is the one-sided exact McNemar test.
pub fn drop_test(strata: &[Stratum]) -> DropTest {
    let shared: Vec<&Stratum> = strata.iter().filter(|s| s.ref_total > 0 && s.cur_total > 0).collect();
    let mut t = DropTest { cases: shared.len(), p_value: 1.0, exact: true, ..DropTest::default() };
    let max_n = shared.iter().map(|s| (s.ref_total + s.cur_total) as usize).max().unwrap_or(0);
    let ln_fact = ln_factorials(max_n);
    let ln_choose = |n: u32, k: u32| ln_fact[n as usize] - ln_fact[k as usize] - ln_fact[(n - k) as usize];
    // Per informative stratum: the lowest current pass count and the pmf from there.
    let mut dists: Vec<(u32, Vec<f64>)> = Vec::new();
    let (mut low_sum, mut variance) = (0u32, 0.0);
    for s in shared {
        let (n, m) = (s.ref_total, s.cur_total);
        let (total, passes) = (n + m, s.ref_passed + s.cur_passed);
        t.observed += s.cur_passed;
        let (lo, hi) = (passes.saturating_sub(n), passes.min(m));
        t.expected += f64::from(m) * f64::from(passes) / f64::from(total);
        if lo == hi {
            low_sum += lo;
            continue;
        }
        t.informative += 1;
        let (nf, mf, tf, pf) = (f64::from(n), f64::from(m), f64::from(total), f64::from(passes));
        variance += nf * mf * pf * (tf - pf) / (tf * tf * (tf - 1.0));
        let denom = ln_choose(total, passes);
        let pmf = (lo..=hi).map(|a| (ln_choose(m, a) + ln_choose(n, passes - a) - denom).exp()).collect();
        low_sum += lo;
        dists.push((lo, pmf));
    }
    if dists.is_empty() {
        return t;
    }
    let range: usize = dists.iter().map(|(_, p)| p.len() - 1).sum();
    let below = (t.observed - low_sum) as usize;
    if dists.len().saturating_mul(range) > EXACT_WORK {
        // Continuity-corrected normal approximation of the same sum.
        let z = (f64::from(t.observed) + 0.5 - t.expected) / variance.sqrt();
        t.p_value = normal_cdf(z).min(1.0);
        t.exact = false;
        return t;
    }
    let mut sum = vec![1.0];
    for (_, pmf) in &dists {
        let mut next = vec![0.0; sum.len() + pmf.len() - 1];
        for (i, a) in sum.iter().enumerate() {
            for (j, b) in pmf.iter().enumerate() {
                next[i + j] += a * b;
            }
        }
        sum = next;
    }
    t.p_value = sum[..=below.min(range)].iter().sum::<f64>().min(1.0);
    t
}

/// ln(k!) for k = 0 ..= n.
fn ln_factorials(n: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(n + 1);
    v.push(0.0);
    for k in 1..=n {
        v.push(v[k - 1] + (k as f64).ln());
    }
    v
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26 on erf; error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
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

    fn st(ref_passed: u32, ref_total: u32, cur_passed: u32, cur_total: u32) -> Stratum {
        Stratum { ref_passed, ref_total, cur_passed, cur_total }
    }

    #[test]
    fn one_sample_a_side_is_the_one_sided_exact_mcnemar() {
        // 6 pass→fail, 1 fail→pass, 13 unchanged: P(X <= 1), X ~ Bin(7, 1/2) = 8/128.
        let mut s = vec![st(1, 1, 0, 1); 6];
        s.push(st(0, 1, 1, 1));
        s.extend(vec![st(1, 1, 1, 1); 10]);
        s.extend(vec![st(0, 1, 0, 1); 3]);
        let t = drop_test(&s);
        assert!(close(t.p_value, 8.0 / 128.0), "{t:?}");
        assert_eq!((t.cases, t.informative, t.observed), (20, 7, 11));
        assert!(close(t.expected, 10.0 + 3.5));
        // The mirror image is a rise: nowhere near significant as a drop.
        let rise: Vec<Stratum> = s.iter().map(|x| st(x.cur_passed, 1, x.ref_passed, 1)).collect();
        assert!(close(drop_test(&rise).p_value, 1.0 - 1.0 / 128.0), "{:?}", drop_test(&rise));
        // Nothing differs: no evidence.
        assert_eq!(drop_test(&[st(1, 1, 1, 1), st(0, 1, 0, 1)]).p_value, 1.0);
        assert_eq!(drop_test(&[]).cases, 0);
    }

    #[test]
    fn a_stable_case_that_flips_weighs_more_than_a_flaky_one() {
        // Ten earlier samples, one now. A case that passed all ten and fails now is less likely
        // under no change (1/11) than one that passed five of ten and fails now (6/11).
        let stable = drop_test(&[st(10, 10, 0, 1)]);
        let flaky = drop_test(&[st(5, 10, 0, 1)]);
        assert!(close(stable.p_value, 1.0 / 11.0) && close(flaky.p_value, 6.0 / 11.0), "{stable:?} {flaky:?}");
    }

    #[test]
    fn hypergeometric_tail_with_repeats() {
        // 3 of 3 → 0 of 3: P(A = 0) where A ~ Hypergeometric(6 draws... 3 passes, 3 current).
        let t = drop_test(&[st(3, 3, 0, 3)]);
        assert!(close(t.p_value, 1.0 / 20.0), "{t:?}");
        // Two independent such cases: 1/400.
        assert!(close(drop_test(&[st(3, 3, 0, 3), st(3, 3, 0, 3)]).p_value, 1.0 / 400.0));
    }

    #[test]
    fn large_runs_use_the_normal_approximation_and_agree_with_the_exact_value() {
        let s: Vec<Stratum> = (0..40).map(|i| if i < 30 { st(1, 1, 0, 1) } else { st(0, 1, 1, 1) }).collect();
        let exact = drop_test(&s);
        // P(X <= 10), X ~ Bin(40, 1/2) = 0.00111.
        assert!(exact.exact && (exact.p_value - 0.001_111).abs() < 1e-5, "{exact:?}");
        let z = (10.0 + 0.5 - 20.0) / 10f64.sqrt();
        assert!((normal_cdf(z) - exact.p_value).abs() < 5e-4);
        assert!(close(normal_cdf(0.0), 0.5) && close(normal_cdf(1.959_964), 0.975));
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
