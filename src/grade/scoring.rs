//! Scoring: from a case's grades to its verdict. The case score is the weighted mean of the
//! grader scores; `required` graders must pass; a suite threshold on the score decides the rest
//! (without one, every grader must pass). A grader error makes the case an error.

use crate::record::{Grade, Status};

/// Weighted mean score in [0, 1]; 1 when no grader carries weight.
pub fn score(grades: &[Grade]) -> f64 {
    let total: f64 = grades.iter().map(|g| g.weight).sum();
    if total == 0.0 {
        return 1.0;
    }
    grades.iter().map(|g| g.weight * g.score).sum::<f64>() / total
}

/// Pass when the required graders pass and the score reaches the threshold (or, without one,
/// when every grader passes).
pub fn passed(grades: &[Grade], threshold: Option<f64>) -> bool {
    match threshold {
        None => grades.iter().all(|g| g.pass),
        Some(t) => grades.iter().filter(|g| g.required).all(|g| g.pass) && score(grades) + 1e-9 >= t,
    }
}

/// The status a replayed case's grades decide, and the error when a grader could not decide.
pub fn status(grades: &[Grade], threshold: Option<f64>) -> (Status, Option<String>) {
    let errors: Vec<String> =
        grades.iter().filter(|g| g.error).map(|g| format!("grader {}: {}", g.grader, g.reason)).collect();
    if !errors.is_empty() {
        (Status::Error, Some(errors.join("; ")))
    } else if passed(grades, threshold) {
        (Status::Pass, None)
    } else {
        (Status::Fail, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(score: f64, pass: bool, weight: f64, required: bool) -> Grade {
        Grade { grader: "g".into(), score, pass, reason: String::new(), weight, required, error: false, cost_usd: None }
    }

    #[test]
    fn weights_required_and_threshold() {
        let grades = [g(1.0, true, 3.0, false), g(0.0, false, 1.0, false)];
        assert_eq!(score(&grades), 0.75);
        assert!(!passed(&grades, None), "without a threshold every grader must pass");
        assert!(passed(&grades, Some(0.75)));
        assert!(!passed(&grades, Some(0.8)));
        let grades = [g(1.0, true, 3.0, false), g(0.0, false, 1.0, true)];
        assert!(!passed(&grades, Some(0.5)), "a failed required grader fails the case");
        assert_eq!(score(&[g(0.0, false, 0.0, false)]), 1.0);
    }

    #[test]
    fn grader_errors_make_the_case_an_error() {
        let mut bad = g(0.0, false, 1.0, false);
        bad.error = true;
        bad.reason = "judge call failed".into();
        let (st, error) = status(&[g(1.0, true, 1.0, false), bad], Some(0.1));
        assert_eq!(st, Status::Error);
        assert_eq!(error.as_deref(), Some("grader g: judge call failed"));
        assert_eq!(status(&[g(1.0, true, 1.0, false)], None), (Status::Pass, None));
    }
}
