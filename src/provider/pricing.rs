//! Model prices: US dollars per million tokens, for cost figures in trace lists and runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::trace::Usage;
use crate::yaml::{Source, YamlError};

/// A price file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum PricesError {
    #[error("cannot read {}", .0.display())]
    Read(std::path::PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Yaml(#[from] YamlError),
}

/// Where a project keeps its price overrides.
pub const OVERRIDES_FILE: &str = "evals/prices.yaml";

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
    pub output: f64,
}

impl Price {
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens) as f64;
        let fresh = usage.input_tokens as f64 - cached;
        (fresh * self.input
            + cached * self.cached_input.unwrap_or(self.input)
            + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

/// OpenAI list prices (standard tier, USD per 1M tokens). Prices change: a project overrides
/// or adds entries in `evals/prices.yaml`.
const BUILTIN: &[(&str, Price)] = &[
    ("gpt-5.5-pro", Price { input: 30.00, cached_input: None, output: 180.00 }),
    ("gpt-5.5", Price { input: 5.00, cached_input: Some(0.50), output: 30.00 }),
    ("gpt-5.4-pro", Price { input: 30.00, cached_input: None, output: 180.00 }),
    ("gpt-5.4-mini", Price { input: 0.75, cached_input: Some(0.075), output: 4.50 }),
    ("gpt-5.4-nano", Price { input: 0.20, cached_input: Some(0.02), output: 1.25 }),
    ("gpt-5.4", Price { input: 2.50, cached_input: Some(0.25), output: 15.00 }),
    ("gpt-5.2-pro", Price { input: 21.00, cached_input: None, output: 168.00 }),
    ("gpt-5.2", Price { input: 1.75, cached_input: Some(0.175), output: 14.00 }),
    ("gpt-5.1-codex-mini", Price { input: 0.25, cached_input: Some(0.025), output: 2.00 }),
    ("gpt-5.1-codex", Price { input: 1.25, cached_input: Some(0.125), output: 10.00 }),
    ("gpt-5.1", Price { input: 1.25, cached_input: Some(0.125), output: 10.00 }),
    ("gpt-5-pro", Price { input: 15.00, cached_input: None, output: 120.00 }),
    ("gpt-5-nano", Price { input: 0.05, cached_input: Some(0.005), output: 0.40 }),
    ("gpt-5-mini", Price { input: 0.25, cached_input: Some(0.025), output: 2.00 }),
    ("gpt-5-codex", Price { input: 1.25, cached_input: Some(0.125), output: 10.00 }),
    ("gpt-5", Price { input: 1.25, cached_input: Some(0.125), output: 10.00 }),
    ("gpt-4.1-nano", Price { input: 0.10, cached_input: Some(0.025), output: 0.40 }),
    ("gpt-4.1-mini", Price { input: 0.40, cached_input: Some(0.10), output: 1.60 }),
    ("gpt-4.1", Price { input: 2.00, cached_input: Some(0.50), output: 8.00 }),
    ("gpt-4o-mini", Price { input: 0.15, cached_input: Some(0.075), output: 0.60 }),
    ("gpt-4o", Price { input: 2.50, cached_input: Some(1.25), output: 10.00 }),
    ("o4-mini", Price { input: 1.10, cached_input: Some(0.275), output: 4.40 }),
    ("o3-pro", Price { input: 20.00, cached_input: None, output: 80.00 }),
    ("o3-deep-research", Price { input: 10.00, cached_input: Some(2.50), output: 40.00 }),
    ("o4-mini-deep-research", Price { input: 2.00, cached_input: Some(0.50), output: 8.00 }),
    ("o3-mini", Price { input: 1.10, cached_input: Some(0.55), output: 4.40 }),
    ("o3", Price { input: 2.00, cached_input: Some(0.50), output: 8.00 }),
    ("o1", Price { input: 15.00, cached_input: Some(7.50), output: 60.00 }),
];

/// Which model names an entry prices.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reach {
    /// The name and its dated snapshots (`gpt-4.1-2025-04-14`), nothing else: a newer sibling
    /// (`gpt-5.5` after `gpt-5`, `o1-mini` after `o1`) is unknown rather than mispriced.
    Snapshots,
    /// Every name starting with the key: a project's own entries (`my-finetune` for all its
    /// versions).
    Prefix,
}

/// Prices by model name. A model takes the price of the longest entry that reaches it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    prices: BTreeMap<String, (Price, Reach)>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable { prices: BUILTIN.iter().map(|(m, p)| (m.to_string(), (*p, Reach::Snapshots))).collect() }
    }
}

impl PriceTable {
    /// The built-in table with some entries replaced or added (from a config file or a suite);
    /// these reach every model name they are a prefix of.
    pub fn with_overrides(mut self, overrides: &BTreeMap<String, Price>) -> PriceTable {
        self.prices.extend(overrides.iter().map(|(k, v)| (k.clone(), (*v, Reach::Prefix))));
        self
    }

    /// The built-in table with the overrides of a YAML file mapping model-name prefixes to
    /// `{input, cached_input, output}` (USD per 1M tokens).
    pub fn load(src: &Source) -> Result<PriceTable, YamlError> {
        let overrides: BTreeMap<String, Price> = src.parse()?;
        Ok(PriceTable::default().with_overrides(&overrides))
    }

    /// A project's table: the built-in one with the overrides of `path`, else of
    /// [`OVERRIDES_FILE`] when that file exists.
    pub fn project(path: Option<&std::path::Path>) -> Result<PriceTable, PricesError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if std::path::Path::new(OVERRIDES_FILE).exists() => OVERRIDES_FILE.into(),
            None => return Ok(PriceTable::default()),
        };
        let src = Source::read(&path).map_err(|e| PricesError::Read(path.clone(), e))?;
        Ok(PriceTable::load(&src)?)
    }

    /// Cost of a trace's usage per model; `None` when some model's price is unknown.
    pub fn total(&self, usage: &[(String, Usage)]) -> Option<f64> {
        // Folded from +0.0: a float sum of nothing is -0.0, which prints as "$-0.00".
        usage.iter().try_fold(0.0, |total, (m, u)| Some(total + self.cost(m, u)?))
    }

    pub fn price(&self, model: &str) -> Option<Price> {
        self.prices
            .iter()
            .filter(|(key, (_, reach))| {
                model.strip_prefix(key.as_str()).is_some_and(|rest| match reach {
                    Reach::Prefix => true,
                    Reach::Snapshots => rest.is_empty() || is_snapshot(rest),
                })
            })
            .max_by_key(|(key, _)| key.len())
            .map(|(_, (p, _))| *p)
    }

    /// Cost of a usage on a model; `None` when the model's price is unknown.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.price(model).map(|p| p.cost(usage))
    }
}

/// A snapshot suffix: `-2025-04-14`, or the older `-0613`.
fn is_snapshot(rest: &str) -> bool {
    let Some(date) = rest.strip_prefix('-') else { return false };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match date.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] => y.len() == 4 && m.len() == 2 && d.len() == 2 && digits(y) && digits(m) && digits(d),
        [mmdd] => mmdd.len() == 4 && digits(mmdd),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_and_their_snapshots_are_priced_but_not_their_siblings() {
        let t = PriceTable::default();
        assert_eq!(t.price("gpt-4.1-mini-2025-04-14").unwrap().input, 0.40);
        assert_eq!(t.price("gpt-4.1-2025-04-14").unwrap().input, 2.00);
        assert_eq!(t.price("gpt-4-0613"), None, "gpt-4 is not in the table");
        assert!(t.price("fake-model").is_none());
        assert_eq!(t.price("gpt-5.1-2025-11-13").unwrap().input, 1.25);
        assert_eq!(t.price("gpt-5-mini").unwrap().input, 0.25);
        assert_eq!(t.price("o3-pro").unwrap().output, 80.0);
        assert_eq!(t.price("gpt-5.4-mini").unwrap().input, 0.75, "not gpt-5.4's price");
        assert_eq!(t.price("gpt-5.5").unwrap().output, 30.0, "not gpt-5's price");
        // Newer or unlisted siblings are unknown, never priced as their elder.
        for unknown in ["gpt-5.6", "o1-mini", "gpt-4o-audio-preview", "gpt-4.1-turbo", "o3-2025-04-16-x"] {
            assert_eq!(t.price(unknown), None, "{unknown}");
        }
        // A project's own entries reach every name they begin.
        let mine =
            BTreeMap::from([("ft:gpt-4.1-mini".to_string(), Price { input: 1.0, cached_input: None, output: 2.0 })]);
        let t = t.with_overrides(&mine);
        assert_eq!(t.price("ft:gpt-4.1-mini:acme::B7xq").unwrap().input, 1.0);
    }

    #[test]
    fn cached_tokens_are_cheaper() {
        let u = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 500_000,
            output_tokens: 1_000_000,
            reasoning_tokens: 0,
        };
        let c = PriceTable::default().cost("gpt-4.1", &u).unwrap();
        assert!((c - (1.0 + 0.25 + 8.0)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn overrides_load_from_yaml_with_located_errors() {
        let t = PriceTable::load(&Source::new("p.yaml", "fake-model: {input: 1, output: 2}\n")).unwrap();
        let u = Usage { input_tokens: 1_000_000, output_tokens: 1_000_000, ..Usage::default() };
        assert_eq!(t.total(&[("fake-model".into(), u), ("gpt-4.1".into(), u)]), Some(3.0 + 10.0));
        assert_eq!(t.total(&[("unknown".into(), u)]), None);
        assert_eq!(t.total(&[("".into(), u)]), None, "a call of an unknown model");
        assert!(t.total(&[]).unwrap().is_sign_positive(), "no calls cost +0, not -0");
        let err = PriceTable::load(&Source::new("p.yaml", "m:\n  input: 1\n  outptu: 2\n")).unwrap_err();
        assert!(err.to_string().starts_with("p.yaml:3:"), "{err}");
    }

    #[test]
    fn overrides_replace_and_add() {
        let mut o = BTreeMap::new();
        o.insert("fake".to_string(), Price { input: 1.0, cached_input: None, output: 2.0 });
        o.insert("gpt-4.1".to_string(), Price { input: 9.0, cached_input: None, output: 9.0 });
        let t = PriceTable::default().with_overrides(&o);
        let u = Usage { input_tokens: 1_000_000, output_tokens: 1_000_000, ..Usage::default() };
        assert_eq!(t.cost("fake-model", &u), Some(3.0));
        assert_eq!(t.price("gpt-4.1").unwrap().input, 9.0);
        assert_eq!(t.price("gpt-4.1-mini").unwrap().input, 0.40);
    }
}
