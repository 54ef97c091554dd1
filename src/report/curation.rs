//! Curation views: promotion results, the taxonomy with its usage, the case overview, `check`
//! problems and the review screen.

use std::collections::BTreeMap;

use crate::check::Problem;
use crate::dataset::promote::Promoted;
use crate::dataset::taxonomy::Taxonomy;
use crate::dataset::{Case, CaseFile, review};
use crate::trace::items;

use super::table;
use crate::text::{count, truncate};

/// What promotion wrote (or would write), its privacy state and near-duplicates.
pub fn promoted(trace_id: &str, p: &Promoted, dry_run: bool) -> String {
    let mut out = if dry_run {
        format!("would write {} → {}\n", trace_id, p.path.display())
    } else {
        format!("promoted {} → {}\n", trace_id, p.path.display())
    };
    out.push_str(&privacy_line(&p.case));
    for w in &p.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if p.case.label.needs_expectation {
        out.push_str(&needs_expectation(&p.case.id));
    }
    for n in &p.near {
        out.push_str(&format!(
            "near-duplicate: {:.0}% similar to {} (dataset {})\n",
            n.similarity * 100.0,
            n.id,
            n.dataset
        ));
    }
    out
}

/// The case is labelled fail and nothing says what is right: how to say it.
pub fn needs_expectation(id: &str) -> String {
    format!(
        "needs an expectation: the recorded output is labelled wrong, so it cannot be graded against it; \
         `evals label {id} --expect-contains TEXT` (or --expect-tool, --reference, --expect-not-tool, --expect-not-contains)\n"
    )
}

fn privacy_line(case: &Case) -> String {
    if case.privacy.findings.is_empty() {
        return format!("privacy: {} (nothing found)\n", case.privacy.status.as_str());
    }
    let kinds: Vec<String> =
        case.privacy.findings.iter().map(|f| format!("{}×{} at {}", f.kind.as_str(), f.count, f.location)).collect();
    format!("privacy: {}; redacted {}\n", status_words(case), kinds.join(", "))
}

fn status_words(case: &Case) -> String {
    match case.privacy.status {
        crate::dataset::PrivacyStatus::Pending => "pending review".into(),
        s => s.as_str().into(),
    }
}

/// The taxonomy as a tree, with how many cases of each dataset use each category.
pub fn taxonomy(t: &Taxonomy, usage: &BTreeMap<String, BTreeMap<String, usize>>, datasets: &[String]) -> String {
    let mut header = vec!["ID", "TITLE"];
    header.extend(datasets.iter().map(String::as_str));
    header.push("TOTAL");
    let row = |id: String, title: String, counts: Option<&BTreeMap<String, usize>>| {
        let mut r = vec![id, title];
        let mut total = 0;
        for d in datasets {
            let n = counts.and_then(|c| c.get(d)).copied().unwrap_or(0);
            total += n;
            r.push(n.to_string());
        }
        r.push(total.to_string());
        r
    };
    let mut rows: Vec<Vec<String>> = t
        .tree()
        .into_iter()
        .map(|(depth, c)| {
            let mut title = truncate(&c.title, 40);
            if !c.aliases.is_empty() {
                title.push_str(&format!(" (was {})", c.aliases.join(", ")));
            }
            row(format!("{}{}", "  ".repeat(depth), c.id), title, usage.get(&c.id))
        })
        .collect();
    for (id, counts) in usage.iter().filter(|(id, _)| t.resolve(id).is_err()) {
        rows.push(row(id.clone(), "(not in the taxonomy)".into(), Some(counts)));
    }
    let right: Vec<usize> = (2..header.len()).collect();
    let mut out = format!("{} version {}\n", t.file.display(), t.version);
    out.push_str(&table(&header, &rows, &right));
    out
}

/// The cases table and counts by failure category and privacy status.
pub fn cases(cases: &[CaseFile]) -> String {
    if cases.is_empty() {
        return "no cases match\n".into();
    }
    let header = ["DATASET", "ID", "VERDICT", "FAILURE", "PRIVACY", "TAGS", "INPUT"];
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|cf| {
            let c = &cf.case;
            vec![
                cf.dataset(),
                c.id.clone(),
                c.label.verdict.as_str().into(),
                c.label.failure.clone().unwrap_or_else(|| "-".into()),
                c.privacy.status.as_str().into(),
                c.tags.join(","),
                truncate(&items::last_user_text(&c.input.items).unwrap_or_default(), 40),
            ]
        })
        .collect();
    let mut out = table(&header, &rows, &[]);
    let mut by_failure: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_privacy: BTreeMap<&str, usize> = BTreeMap::new();
    for cf in cases {
        *by_failure.entry(cf.case.label.failure.clone().unwrap_or_else(|| "(none)".into())).or_insert(0) += 1;
        *by_privacy.entry(cf.case.privacy.status.as_str()).or_insert(0) += 1;
    }
    let join = |m: Vec<(String, usize)>| m.into_iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    out.push_str(&format!("{} cases\n", cases.len()));
    out.push_str(&format!("by failure: {}\n", join(by_failure.into_iter().collect())));
    out.push_str(&format!("by privacy: {}\n", join(by_privacy.into_iter().map(|(k, n)| (k.to_string(), n)).collect())));
    out
}

/// Every problem `evals check` found, one per line, and a summary.
pub fn check(problems: &[Problem], files: usize) -> String {
    let mut out = String::new();
    for p in problems {
        out.push_str(&format!("{p}\n"));
    }
    if problems.is_empty() {
        out.push_str(&format!("check passed: {}\n", count(files, "file")));
    } else {
        out.push_str(&format!("check failed: {} in {}\n", count(problems.len(), "problem"), count(files, "file")));
    }
    out
}

/// One case as the reviewer sees it: where it came from, input, output, findings, label.
pub fn review_case(cf: &CaseFile, n: usize, total: usize) -> String {
    let c = &cf.case;
    let mut out = format!("\n[{n}/{total}] {} ({})\n", c.id, cf.path.display());
    out.push_str(&format!(
        "trace {}{}\n",
        c.source.trace_id,
        c.source.span_id.as_deref().map(|s| format!(", span {s}")).unwrap_or_default()
    ));
    if let Some(i) = &c.input.instructions {
        out.push_str(&format!("instructions: {}\n", truncate(i, 200)));
    }
    for item in &c.input.items {
        let role = items::role(item).unwrap_or("item");
        out.push_str(&format!("  {role}: {}\n", truncate(&items::item_text(item), 200)));
    }
    for t in &c.recorded.output.tool_calls {
        out.push_str(&format!("output call: {}({})\n", t.name, truncate(&t.arguments, 120)));
    }
    out.push_str(&format!("output: {}\n", truncate(&c.recorded.output.text, 300)));
    out.push_str(&privacy_line(c));
    // Each finding in its text, the placeholder marked, so the reviewer can judge it.
    for f in review::in_context(c) {
        for s in &f.snippets {
            let flat = |t: &str| t.replace('\n', " ");
            out.push_str(&format!(
                "  {} at {}: …{}»{}«{}…\n",
                f.kind.as_str(),
                f.location,
                flat(&s.before),
                s.placeholder,
                flat(&s.after)
            ));
        }
    }
    out.push_str(&format!(
        "label: {}{}{}\n",
        c.label.verdict.as_str(),
        c.label.failure.as_deref().map(|f| format!(", failure {f}")).unwrap_or_default(),
        c.label.note.as_deref().map(|n| format!(", note {n:?}")).unwrap_or_default()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_summary_counts_in_words() {
        let one =
            Problem { file: "datasets/a.yaml".into(), line: 3, column: 9, message: "colour: unknown field".into() };
        assert_eq!(check(std::slice::from_ref(&one), 1), format!("{one}\ncheck failed: 1 problem in 1 file\n"));
        assert_eq!(check(&[one.clone(), one], 2).lines().last(), Some("check failed: 2 problems in 2 files"));
        assert_eq!(check(&[], 1), "check passed: 1 file\n");
    }
}
