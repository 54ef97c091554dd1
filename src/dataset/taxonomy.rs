//! The failure taxonomy: versioned categories that case labels must use.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CaseFile, DatasetError, Result};
use crate::yaml::Source;

/// Default location, relative to the current directory.
pub const DEFAULT_PATH: &str = "evals/taxonomy.yaml";

/// The starter taxonomy, used when the project has none of its own.
pub const BUILTIN: &str = include_str!("../../evals/taxonomy.yaml");

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub version: u32,
    pub categories: Vec<Category>,
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent: Option<String>,
    /// Former ids of this category, still accepted in labels.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl Taxonomy {
    /// The project's taxonomy at `path`, or the built-in starter when that file does not exist.
    pub fn load(path: &Path) -> Result<Taxonomy> {
        let src = if path.exists() {
            Source::read(path).map_err(|source| DatasetError::Read { path: path.to_path_buf(), source })?
        } else {
            Source::new(format!("{} (built-in)", path.display()), BUILTIN)
        };
        let mut t: Taxonomy = src.parse()?;
        t.file = src.file.clone();
        t.validate(&src)?;
        Ok(t)
    }

    fn validate(&self, src: &Source) -> Result<()> {
        let mut seen = HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            for id in std::iter::once(&c.id).chain(&c.aliases) {
                if !seen.insert(id.as_str()) {
                    return Err(src
                        .error_at(&format!("categories[{i}].id"), format!("duplicate category id {id:?}"))
                        .into());
                }
            }
        }
        for (i, c) in self.categories.iter().enumerate() {
            if let Some(p) = &c.parent
                && !self.categories.iter().any(|x| &x.id == p)
            {
                return Err(src.error_at(&format!("categories[{i}].parent"), format!("unknown parent {p:?}")).into());
            }
        }
        for (i, c) in self.categories.iter().enumerate() {
            if self.ancestors(&c.id).any(|a| a == c.id) {
                return Err(src.error_at(&format!("categories[{i}].parent"), "parents form a cycle").into());
            }
        }
        Ok(())
    }

    /// Parent, grandparent, ... of a category (stops after a cycle's length).
    fn ancestors<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a str> + 'a {
        let mut cur = self.categories.iter().find(|c| c.id == id).and_then(|c| c.parent.as_deref());
        let mut steps = 0;
        std::iter::from_fn(move || {
            let id = cur.filter(|_| steps <= self.categories.len())?;
            steps += 1;
            cur = self.categories.iter().find(|c| c.id == id).and_then(|c| c.parent.as_deref());
            Some(id)
        })
    }

    /// Whether category `id` is `ancestor` or below it (ids as the taxonomy names them now).
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let id = self.resolve(id).map(|c| c.id.as_str()).unwrap_or(id);
        id == ancestor || self.ancestors(id).any(|a| a == ancestor)
    }

    /// Categories in tree order (each parent followed by its children), with their depth.
    pub fn tree(&self) -> Vec<(usize, &Category)> {
        fn walk<'a>(t: &'a Taxonomy, parent: Option<&str>, depth: usize, out: &mut Vec<(usize, &'a Category)>) {
            for c in t.categories.iter().filter(|c| c.parent.as_deref() == parent) {
                out.push((depth, c));
                walk(t, Some(&c.id), depth + 1, out);
            }
        }
        let mut out = Vec::new();
        walk(self, None, 0, &mut out);
        out
    }

    /// How many cases of each dataset carry each failure id (aliases counted under the current
    /// id; ids the taxonomy does not know under themselves).
    pub fn usage(&self, cases: &[CaseFile]) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for cf in cases {
            if let Some(f) = &cf.case.label.failure {
                let id = self.resolve(f).map(|c| c.id.clone()).unwrap_or_else(|_| f.clone());
                *out.entry(id).or_default().entry(cf.dataset()).or_insert(0) += 1;
            }
        }
        out
    }

    /// The category for an id or one of its aliases; an unknown id gets a "did you mean".
    pub fn resolve(&self, id: &str) -> Result<&Category> {
        if let Some(c) = self.categories.iter().find(|c| c.id == id || c.aliases.iter().any(|a| a == id)) {
            return Ok(c);
        }
        let ids: Vec<&str> = self.categories.iter().map(|c| c.id.as_str()).collect();
        let suggestion = similar::get_close_matches(id, &ids, 1, 0.6).into_iter().next().map(str::to_string);
        Err(DatasetError::UnknownFailure { id: id.to_string(), file: self.file.clone(), suggestion })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_agent_failure_modes() {
        let t = Taxonomy::load(Path::new("/nonexistent/taxonomy.yaml")).unwrap();
        for id in [
            "wrong_tool",
            "wrong_arguments",
            "missed_tool_call",
            "hallucination",
            "wrong_handoff",
            "refusal",
            "format_violation",
            "instruction_not_followed",
        ] {
            t.resolve(id).unwrap();
        }
    }

    #[test]
    fn unknown_id_suggests_the_closest() {
        let t = Taxonomy::load(Path::new("/nonexistent/taxonomy.yaml")).unwrap();
        let err = t.resolve("wrong_tol").unwrap_err().to_string();
        assert!(err.contains("did you mean \"wrong_tool\"?"), "{err}");
    }

    #[test]
    fn tree_order_and_cycles() {
        let t = Taxonomy::load(Path::new("/nonexistent/taxonomy.yaml")).unwrap();
        let tree = t.tree();
        assert_eq!(tree.len(), t.categories.len());
        let pos = |id: &str| tree.iter().position(|(_, c)| c.id == id).unwrap();
        assert!(pos("tool_use") < pos("wrong_tool") && tree[pos("wrong_tool")].0 == 1);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.yaml");
        std::fs::write(
            &p,
            "version: 1\ncategories:\n  - {id: a, title: A, parent: b}\n  - {id: b, title: B, parent: a}\n",
        )
        .unwrap();
        let err = Taxonomy::load(&p).unwrap_err().to_string();
        assert!(err.contains("t.yaml:3:") && err.contains("cycle"), "{err}");
    }

    #[test]
    fn aliases_resolve_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.yaml");
        std::fs::write(&p, "version: 2\ncategories:\n  - {id: bad_tool, title: B, aliases: [wrong_tool]}\n").unwrap();
        assert_eq!(Taxonomy::load(&p).unwrap().resolve("wrong_tool").unwrap().id, "bad_tool");
        std::fs::write(&p, "version: 2\ncategories:\n  - {id: a, title: A}\n  - {id: a, title: B}\n").unwrap();
        let err = Taxonomy::load(&p).unwrap_err().to_string();
        assert!(err.contains("t.yaml:4:") && err.contains("duplicate category id"), "{err}");
    }
}
