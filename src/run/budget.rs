//! Spending limits of a run: once reached, no new case starts (those in flight finish).

use std::sync::Mutex;

use crate::trace::Usage;

#[derive(Debug, Default)]
pub struct Budget {
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    spent: Mutex<(f64, u64)>,
}

impl Budget {
    pub fn new(max_cost_usd: Option<f64>, max_tokens: Option<u64>) -> Budget {
        Budget { max_cost_usd, max_tokens, spent: Mutex::new((0.0, 0)) }
    }

    /// Count spending toward the limits: this run's cases, and a resumed run's finished ones.
    pub fn add(&self, cost: Option<f64>, usage: &Usage) {
        let mut s = self.spent.lock().expect("budget lock");
        s.0 += cost.unwrap_or(0.0);
        s.1 += usage.total();
    }

    /// The limit reached, if any, said in words.
    pub fn exhausted(&self) -> Option<String> {
        let (cost, tokens) = *self.spent.lock().expect("budget lock");
        if let Some(max) = self.max_cost_usd.filter(|m| cost >= *m) {
            return Some(format!("budget reached: ${cost:.4} spent of gate.max_cost_usd ${max}"));
        }
        if let Some(max) = self.max_tokens.filter(|m| tokens >= *m) {
            return Some(format!("budget reached: {tokens} tokens used of gate.max_tokens {max}"));
        }
        None
    }
}
