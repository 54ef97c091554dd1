//! The module graph has no circles: each top-level module imports only modules on its layer or
//! below, in the order the README's module map gives (test code is left out).

use std::collections::BTreeSet;
use std::path::Path;

/// Top to bottom; a module may import anything after it in this list, nothing before it.
const LAYERS: &[&str] = &[
    "cli", "ui", "report", "run", "check", "compare", "grade", "replay", "record", "suite", "dataset", "collect",
    "store", "provider", "trace", "privacy", "template", "text", "yaml", "mock",
];

/// What `mock` (a tool at the bottom, started by runs and tests) may use.
const MOCK_MAY_USE: &[&str] = &["template", "text", "trace", "yaml"];

fn imports(dir: &Path, found: &mut BTreeSet<String>) {
    let re = regex::Regex::new(r"crate::(\w+)|use crate::\{([^}]*)\}").unwrap();
    let entries: Vec<_> = if dir.is_dir() {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
    } else {
        vec![dir.to_path_buf()]
    };
    for path in entries {
        if path.is_dir() {
            imports(&path, found);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for c in re.captures_iter(code) {
            if let Some(m) = c.get(1) {
                found.insert(m.as_str().to_string());
            }
            if let Some(list) = c.get(2) {
                for item in list.as_str().split(',') {
                    if let Some(name) = item.trim().split("::").next().filter(|n| !n.is_empty()) {
                        found.insert(name.to_string());
                    }
                }
            }
        }
    }
}

#[test]
fn every_module_imports_only_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for (rank, module) in LAYERS.iter().enumerate() {
        let path = if src.join(module).is_dir() { src.join(module) } else { src.join(format!("{module}.rs")) };
        assert!(path.exists(), "{module} is in LAYERS but not in src/");
        let mut found = BTreeSet::new();
        imports(&path, &mut found);
        for used in found.iter().filter(|u| *u != module && LAYERS.contains(&u.as_str())) {
            let allowed = if *module == "mock" {
                MOCK_MAY_USE.contains(&used.as_str())
            } else {
                LAYERS.iter().position(|l| l == used).unwrap() > rank
            };
            if !allowed {
                problems.push(format!("{module} imports {used}, which is above it"));
            }
        }
    }
    let mut known: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    known.sort();
    for m in &known {
        assert!(LAYERS.contains(&m.as_str()), "module {m} has no layer: add it to LAYERS and the README");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
