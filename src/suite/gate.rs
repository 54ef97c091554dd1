//! The gate's configuration: the suite's pass criteria and budgets (`gate:`), recorded with
//! each run so a later `evals diff` decides by the same rules.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Lowest acceptable pass rate, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pass_rate: Option<f64>,
    /// Cases allowed to go from pass to fail against the baseline (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regressions: Option<usize>,
    /// With it, regressions fail the gate only when the exact McNemar test on the shared cases
    /// says the drop is significant at this level (p < significance), so noise does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance: Option<f64>,
    /// The baseline to compare with when `--baseline` is not given: a run file (relative to the
    /// suite), a stored run id, or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Spending limits for replay: once reached, no new case starts and the rest end as errors
    /// with the cause `budget`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}
