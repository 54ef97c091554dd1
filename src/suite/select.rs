//! Choosing which cases a run replays: `--filter` on id, tag and failure category, and
//! `--shard K/N`, stable by a hash of the case id so adding a case moves no other.

use regex::Regex;
use sha2::{Digest, Sha256};

use crate::dataset::{Case, CaseFile};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectError {
    #[error("bad filter {0:?}: {1}")]
    Filter(String, String),
    #[error("bad shard {0:?}: give K/N with 1 ≤ K ≤ N, e.g. 2/4")]
    Shard(String),
}

/// One `--filter`: `tag:T`, `failure:F`, or `id:REGEX` (a bare pattern is an id regex).
#[derive(Debug, Clone)]
pub enum Filter {
    Id(Regex),
    Tag(String),
    Failure(String),
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, SelectError> {
        let bad = |m: &str| SelectError::Filter(s.to_string(), m.to_string());
        let (kind, value) = match s.split_once(':') {
            Some((k @ ("id" | "tag" | "failure"), v)) => (k, v),
            _ => ("id", s),
        };
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        Ok(match kind {
            "tag" => Filter::Tag(value.to_string()),
            "failure" => Filter::Failure(value.to_string()),
            _ => Filter::Id(Regex::new(value).map_err(|e| bad(&e.to_string()))?),
        })
    }

    fn matches(&self, c: &Case) -> bool {
        match self {
            Filter::Id(re) => re.is_match(&c.id),
            Filter::Tag(t) => c.tags.iter().any(|x| x == t),
            Filter::Failure(f) => c.label.failure.as_deref() == Some(f.as_str()),
        }
    }
}

/// `K/N`: this process runs shard K (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, SelectError> {
        let bad = || SelectError::Shard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether a case belongs to this shard; depends on nothing but the case id.
    pub fn holds(&self, case_id: &str) -> bool {
        let h = Sha256::digest(case_id.as_bytes());
        let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
        n % self.count == self.index - 1
    }
}

/// The cases every filter matches and the shard holds.
pub fn select(cases: Vec<CaseFile>, filters: &[Filter], shard: Option<Shard>) -> Vec<CaseFile> {
    cases.into_iter().filter(|c| selects(&c.case, filters, shard)).collect()
}

/// The case matches every filter and falls in the shard.
pub fn selects(case: &Case, filters: &[Filter], shard: Option<Shard>) -> bool {
    filters.iter().all(|f| f.matches(case)) && shard.is_none_or(|s| s.holds(&case.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_and_are_stable() {
        let ids: Vec<String> = (0..200).map(|i| format!("case-{i}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|k| Shard { index: k, count: 4 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.holds(id)).count(), 1, "{id} in exactly one shard");
        }
        let sizes: Vec<usize> = shards.iter().map(|s| ids.iter().filter(|i| s.holds(i)).count()).collect();
        assert!(sizes.iter().all(|n| *n > 25), "{sizes:?}");
        // Membership depends on the id alone: a new case leaves the others where they were.
        let before: Vec<bool> = ids.iter().map(|i| shards[1].holds(i)).collect();
        let after: Vec<bool> = ids.iter().map(|i| shards[1].holds(i)).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn parse_errors_are_clear() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "x", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(Filter::parse("tag:"), Err(SelectError::Filter(..))));
        assert!(matches!(Filter::parse("id:("), Err(SelectError::Filter(..))));
        assert!(matches!(Filter::parse("tag:tools"), Ok(Filter::Tag(t)) if t == "tools"));
        assert!(matches!(Filter::parse("paris"), Ok(Filter::Id(_))));
    }
}
