//! The gate's configuration: the suite's pass criteria and budgets (`gate:`), recorded with
//! each run so a later `evals diff` decides by the same rules.

use serde::{Deserialize, Serialize};

/// The significance level of the drop test when the suite names none.
pub const DEFAULT_SIGNIFICANCE: f64 = 0.05;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Lowest acceptable pass rate, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pass_rate: Option<f64>,
    /// An absolute budget: cases whose pass fraction may fall against the baseline. Unset, no
    /// count is enforced; the drop test decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regressions: Option<usize>,
    /// The level of the one-sided drop test that runs whenever there is a baseline (default
    /// 0.05): a drop fails the gate when p < significance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance: Option<f64>,
    /// Cases allowed to end as errors: a count (`2`) or a share of the results (`5%`); default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_errors: Option<MaxErrors>,
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

/// `gate.max_errors`: how many results may end as errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum MaxErrors {
    Count(usize),
    /// `"5%"`: a share of the run's results.
    Share(String),
}

impl MaxErrors {
    /// The share in 0..=1 of a `N%` value, or why it is not one.
    pub fn share(text: &str) -> Result<f64, String> {
        let bad = || format!("max_errors {text:?} is neither a count nor a percentage such as 5%");
        let n: f64 = text.trim().strip_suffix('%').ok_or_else(bad)?.trim().parse().map_err(|_| bad())?;
        if !(0.0..=100.0).contains(&n) {
            return Err(format!("max_errors {text} is not between 0% and 100%"));
        }
        Ok(n / 100.0)
    }

    /// Errors allowed among `results` results.
    pub fn allowed(&self, results: usize) -> usize {
        match self {
            MaxErrors::Count(n) => *n,
            // Validated when the suite loads; a run file from elsewhere allows none if garbled.
            MaxErrors::Share(s) => Self::share(s).map_or(0, |f| (f * results as f64 + 1e-9).floor() as usize),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            MaxErrors::Count(n) => n.to_string(),
            MaxErrors::Share(s) => s.trim().to_string(),
        }
    }
}
