//! Review: editing a case's label by hand, the privacy sign-off that lets a case be committed
//! (approve records who and when; reject deletes the case file), and each finding shown in its
//! text, for the reviewer to judge.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::privacy::Kind;

use super::taxonomy::Taxonomy;
use super::{Case, CaseFile, DatasetError, Expected, PrivacyStatus, Result, Verdict};

/// A change to a case's label; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LabelEdit {
    pub verdict: Option<Verdict>,
    /// A taxonomy id or alias; the empty string removes the failure.
    pub failure: Option<String>,
    /// The empty string removes the note.
    pub note: Option<String>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Added to the case's expectations (a reference replaces the one there).
    pub expected: Expected,
}

impl LabelEdit {
    pub fn is_empty(&self) -> bool {
        self.verdict.is_none()
            && self.failure.is_none()
            && self.note.is_none()
            && self.tags.is_none()
            && self.expected.is_empty()
    }
}

/// Apply a label edit. A failure id must be in the taxonomy (aliases become the current id) and
/// implies `fail`; a `pass` verdict with a failure is refused.
pub fn relabel(case: &mut Case, taxonomy: &Taxonomy, edit: &LabelEdit) -> Result<()> {
    let mut label = case.label.clone();
    match edit.failure.as_deref() {
        Some("") => label.failure = None,
        Some(f) => {
            label.failure = Some(taxonomy.resolve(f)?.id.clone());
            label.verdict = Verdict::Fail;
        }
        None => {}
    }
    if let Some(v) = edit.verdict {
        label.verdict = v;
        // Marking a case as passing drops a failure set earlier, but not one given now.
        if v != Verdict::Fail && edit.failure.is_none() {
            label.failure = None;
        }
    }
    if let (Verdict::Pass, Some(f)) = (label.verdict, &label.failure) {
        return Err(DatasetError::Invalid(format!(
            "failure {f} contradicts verdict pass: a labelled failure needs verdict fail"
        )));
    }
    match edit.note.as_deref() {
        Some("") => label.note = None,
        Some(n) => label.note = Some(n.to_string()),
        None => {}
    }
    if let Some(tags) = &edit.tags {
        case.tags = tags.iter().filter(|t| !t.is_empty()).cloned().collect();
    }
    case.label = label;
    case.expected.extend(&edit.expected);
    case.mark_expectation();
    Ok(())
}

/// Replace a case's expectations (an editor's whole new set, where a label edit only adds).
pub fn set_expected(case: &mut Case, expected: Expected) {
    case.expected = expected;
    case.mark_expectation();
}

/// The reviewer's name when none is given: git's `user.name`.
pub fn default_reviewer() -> Option<String> {
    let out = std::process::Command::new("git").args(["config", "user.name"]).output().ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !name.is_empty()).then_some(name)
}

/// Sign off a case's privacy: its redactions (or its having none) were checked by `reviewer`.
pub fn approve(case: &mut Case, reviewer: &str, at: DateTime<Utc>) {
    case.privacy.status = PrivacyStatus::Approved;
    case.privacy.reviewer = Some(reviewer.to_string());
    case.privacy.reviewed_at = Some(at);
}

/// Reject a case: its file is deleted, so nothing of it reaches git.
pub fn reject(cf: &CaseFile) -> Result<()> {
    std::fs::remove_file(&cf.path).map_err(|source| DatasetError::Write { path: cf.path.clone(), source })
}

/// The cases waiting for a privacy review, in dataset and file order.
pub fn pending(cases: Vec<CaseFile>) -> Vec<CaseFile> {
    cases.into_iter().filter(|c| c.case.privacy.status == PrivacyStatus::Pending).collect()
}

/// Save an edited case in place.
pub fn save(cf: &CaseFile) -> Result<()> {
    cf.case.save(&cf.path)
}

/// A finding where it is: the placeholders of its kind in the text at its location, each with
/// the text around it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InContext {
    pub kind: Kind,
    pub location: String,
    pub snippets: Vec<Snippet>,
}

/// A placeholder and up to [`CONTEXT`] characters either side of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Snippet {
    pub before: String,
    pub placeholder: String,
    pub after: String,
}

/// Characters of context shown on each side of a placeholder.
pub const CONTEXT: usize = 40;

/// Every finding of a case with the placeholders that replaced its values, in their text.
pub fn in_context(case: &Case) -> Vec<InContext> {
    let doc = serde_json::to_value(case).expect("cases serialize");
    case.privacy
        .findings
        .iter()
        .map(|f| {
            let text = text_at(&doc, &f.location).unwrap_or_default();
            InContext { kind: f.kind, location: f.location.clone(), snippets: snippets(&text, f.kind) }
        })
        .collect()
}

/// The text at a finding's location (`input.items[0].content`, `recorded.tool_outputs[1].output.card`):
/// a location goes on inside a string that holds a JSON document, as the scanner does.
fn text_at(doc: &Value, location: &str) -> Option<String> {
    let mut here = doc.clone();
    for part in location.split('.') {
        let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            if let Value::String(s) = &here {
                here = serde_json::from_str(s).ok()?;
            }
            here = here.get(key)?.clone();
        }
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            if let Value::String(s) = &here {
                here = serde_json::from_str(s).ok()?;
            }
            here = here.get(index.trim_end_matches(']').parse::<usize>().ok()?)?.clone();
        }
    }
    match here {
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

fn snippets(text: &str, kind: Kind) -> Vec<Snippet> {
    let open = format!("<{}", kind.placeholder());
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(&open).map(|i| i + from) {
        let Some(close) = text[i..].find('>').map(|j| i + j + 1) else { break };
        let tail = &text[i + open.len()..close - 1];
        if tail.is_empty() || tail.strip_prefix('_').is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())) {
            let before: String = text[..i].chars().rev().take(CONTEXT).collect::<Vec<_>>().into_iter().rev().collect();
            let after: String = text[close..].chars().take(CONTEXT).collect();
            out.push(Snippet { before, placeholder: text[i..close].to_string(), after });
        }
        from = close;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{CaseSource, Input, Label, Privacy, Recorded};
    use std::path::Path;

    fn case() -> Case {
        Case {
            id: "c".into(),
            source: CaseSource { trace_id: "t".into(), ..CaseSource::default() },
            input: Input { agent: None, instructions: None, items: vec![], params: Default::default() },
            tools: vec![],
            agents: vec![],
            handoffs: vec![],
            recorded: Recorded::default(),
            label: Label::default(),
            expected: Default::default(),
            privacy: Privacy { status: PrivacyStatus::Pending, findings: vec![], reviewer: None, reviewed_at: None },
            tags: vec!["a".into()],
            content_hash: "h".into(),
        }
    }

    fn taxonomy() -> Taxonomy {
        Taxonomy::load(Path::new("/nonexistent/taxonomy.yaml")).unwrap()
    }

    #[test]
    fn relabel_checks_ids_and_keeps_verdict_and_failure_consistent() {
        let mut c = case();
        let edit = LabelEdit { failure: Some("wrong_tool".into()), note: Some("n".into()), ..Default::default() };
        relabel(&mut c, &taxonomy(), &edit).unwrap();
        assert_eq!(
            (c.label.verdict, c.label.failure.as_deref(), c.label.note.as_deref()),
            (Verdict::Fail, Some("wrong_tool"), Some("n"))
        );
        let bad = LabelEdit { failure: Some("wrong_tol".into()), ..Default::default() };
        assert!(relabel(&mut c, &taxonomy(), &bad).unwrap_err().to_string().contains("did you mean"));
        let both = LabelEdit { failure: Some("refusal".into()), verdict: Some(Verdict::Pass), ..Default::default() };
        assert!(relabel(&mut c, &taxonomy(), &both).is_err());
        assert_eq!(c.label.failure.as_deref(), Some("wrong_tool"), "a refused edit changes nothing");
        let pass =
            LabelEdit { verdict: Some(Verdict::Pass), tags: Some(vec!["x".into(), "y".into()]), ..Default::default() };
        relabel(&mut c, &taxonomy(), &pass).unwrap();
        assert_eq!((c.label.verdict, c.label.failure.as_deref()), (Verdict::Pass, None));
        assert_eq!(c.tags, vec!["x", "y"]);
    }

    #[test]
    fn approve_records_reviewer_and_time() {
        let mut c = case();
        let at = Utc::now();
        approve(&mut c, "Ada", at);
        assert_eq!(c.privacy.status, PrivacyStatus::Approved);
        assert_eq!((c.privacy.reviewer.as_deref(), c.privacy.reviewed_at), (Some("Ada"), Some(at)));
    }

    #[test]
    fn findings_are_shown_in_their_text_even_inside_json() {
        let mut case: Case = crate::yaml::Source::new(
            "c.yaml",
            "id: c\nsource: {trace_id: t}\ninput: {items: [{role: user, content: 'Mail me at ann@x.org or bob@y.org please'}]}\n\
             recorded: {tool_outputs: [{name: lookup, arguments: '{}', output: '{\"card\": \"4111 1111 1111 1111\"}'}], output: {text: ok}}\n\
             privacy: {status: clean}\ncontent_hash: h\n",
        )
        .parse()
        .unwrap();
        case.privacy.findings = crate::dataset::redact_case(&mut case);
        let seen = in_context(&case);
        let email = seen.iter().find(|f| f.kind == Kind::Email).unwrap();
        assert_eq!(email.location, "input.items[0].content");
        let shown: Vec<_> = email.snippets.iter().map(|s| (s.before.as_str(), s.placeholder.as_str())).collect();
        assert_eq!(shown, [("Mail me at ", "<EMAIL_1>"), ("Mail me at <EMAIL_1> or ", "<EMAIL_2>")]);
        assert_eq!(email.snippets[1].after, " please");
        let card = seen.iter().find(|f| f.kind == Kind::Card).unwrap();
        assert_eq!(card.location, "recorded.tool_outputs[0].output.card");
        assert_eq!(card.snippets[0].placeholder, "<CARD_1>");
    }
}
