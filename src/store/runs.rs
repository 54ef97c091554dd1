//! Runs and their per-case results in the store; results are committed as they finish.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, micros};
use crate::run::{CaseResult, Run, TrendPoint};

fn header_json(run: &Run) -> String {
    serde_json::to_string(&run.header()).expect("a run always serializes")
}

/// The headers of the (id, header) rows, in their order.
fn headers(rows: impl Iterator<Item = rusqlite::Result<(String, String)>>) -> Result<Vec<Run>> {
    rows.map(|row| {
        let (id, header) = row?;
        parse_header(&id, &header)
    })
    .collect()
}

fn parse_header(id: &str, header: &str) -> Result<Run> {
    serde_json::from_str(header).map_err(|e| StoreError::Corrupt(format!("run {id}: {e}")))
}

/// Which earlier runs [`Store::case_history`] reads.
#[derive(Debug, Clone)]
pub struct HistoryQuery<'a> {
    pub suite: &'a str,
    pub dataset_hash: &'a str,
    pub branch: Option<&'a str>,
    pub before: chrono::DateTime<chrono::Utc>,
    pub exclude: &'a str,
    pub limit: usize,
}

impl Store {
    pub fn create_run(&mut self, run: &Run) -> Result<()> {
        self.conn.execute(
            "INSERT INTO runs (id, suite, started_at, finished_at, header) VALUES (?1, ?2, ?3, NULL, ?4)",
            params![run.id, run.suite.name, micros(run.started_at), header_json(run)],
        )?;
        Ok(())
    }

    /// Commit finished results in one transaction: a run saves whatever finished while the
    /// previous commit was on disk, so a fast run is not held to one commit per case.
    pub fn save_results(&mut self, run_id: &str, results: &[CaseResult]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO results (run_id, case_id, repeat, status, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for r in results {
                let data = serde_json::to_string(r).expect("a result always serializes");
                insert.execute(params![run_id, r.case_id, r.repeat, r.status.as_str(), data])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Record the run's final header (finish time, summary).
    pub fn finish_run(&mut self, run: &Run) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, header = ?3 WHERE id = ?1",
            params![run.id, run.finished_at.map(micros), header_json(run)],
        )?;
        Ok(())
    }

    /// The newest run that never finished (killed or interrupted), for `run --resume`.
    pub fn latest_unfinished_run(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM runs WHERE finished_at IS NULL ORDER BY started_at DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn resolve_run(&self, prefix: &str) -> Result<String> {
        self.resolve("runs", "run", prefix)
    }

    /// Run headers (no results), newest first; of one suite when given.
    pub fn list_runs(&self, suite: Option<&str>, limit: usize) -> Result<Vec<Run>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, header FROM runs WHERE (?1 IS NULL OR suite = ?1) ORDER BY started_at DESC, id DESC LIMIT ?2",
        )?;
        let rows =
            stmt.query_map(params![suite, limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        headers(rows)
    }

    /// The pass-rate trend of a suite: its finished runs up to `until`, oldest first.
    pub fn trend(&self, suite: &str, until: chrono::DateTime<chrono::Utc>, limit: usize) -> Result<Vec<TrendPoint>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, header FROM runs WHERE suite = ?1 AND started_at <= ?2 AND finished_at IS NOT NULL \
             ORDER BY started_at DESC, id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![suite, micros(until), limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out: Vec<TrendPoint> = headers(rows)?.iter().map(TrendPoint::from).collect();
        out.reverse();
        Ok(out)
    }

    /// The newest finished run of a suite recorded on a git branch.
    pub fn latest_run_on_branch(&self, suite: &str, branch: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM runs WHERE suite = ?1 AND finished_at IS NOT NULL \
                 AND json_extract(header, '$.git.branch') = ?2 ORDER BY started_at DESC, id DESC LIMIT 1",
                params![suite, branch],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The earlier runs of a suite on one dataset that the gate learns each case's pass rate
    /// from: the newest `limit` finished runs started before `before`, other than `exclude`, on
    /// `branch` when given. Returns how many runs that was and, per case, (passes, graded).
    pub fn case_history(&self, q: &HistoryQuery<'_>) -> Result<(usize, Vec<(String, u32, u32)>)> {
        const PICKED: &str = "SELECT id FROM runs WHERE suite = ?1 AND finished_at IS NOT NULL \
             AND json_extract(header, '$.dataset_hash') = ?2 \
             AND (?3 IS NULL OR json_extract(header, '$.git.branch') = ?3) \
             AND started_at < ?4 AND id != ?5 ORDER BY started_at DESC, id DESC LIMIT ?6";
        let args = params![q.suite, q.dataset_hash, q.branch, micros(q.before), q.exclude, q.limit as i64];
        let runs: i64 = self.conn.query_row(&format!("SELECT COUNT(*) FROM ({PICKED})"), args, |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT case_id, SUM(status = 'pass'), SUM(status != 'error') FROM results \
             WHERE run_id IN ({PICKED}) GROUP BY case_id ORDER BY case_id"
        ))?;
        let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok((runs as usize, rows.collect::<rusqlite::Result<_>>()?))
    }

    pub fn load_run(&self, id: &str) -> Result<Run> {
        let header: String = self
            .conn
            .query_row("SELECT header FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "run", prefix: id.to_string() })?;
        let mut run = parse_header(id, &header)?;
        let mut stmt =
            self.conn.prepare_cached("SELECT data FROM results WHERE run_id = ?1 ORDER BY case_id, repeat")?;
        for data in stmt.query_map([id], |r| r.get::<_, String>(0))? {
            let data = data?;
            run.results.push(
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("result in run {id}: {e}")))?,
            );
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::tests::run;
    use crate::run::{Status, Summary};

    #[test]
    fn results_are_stored_in_batches_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let mut r = run("run_1", &[("b", Status::Pass, "x"), ("a", Status::Fail, "y")]);
        s.create_run(&r.header()).unwrap();
        s.save_results(&r.id, &r.results[..1]).unwrap();
        s.save_results(&r.id, &r.results[1..]).unwrap();
        // Saving again replaces, never duplicates.
        s.save_results(&r.id, &r.results[..1]).unwrap();
        r.finished_at = Some(chrono::Utc::now());
        r.summary = Summary::of(&r.results);
        s.finish_run(&r).unwrap();
        let loaded = s.load_run(&s.resolve_run("run_").unwrap()).unwrap();
        r.sort_results();
        assert_eq!(loaded, r);
    }

    #[test]
    fn lists_trends_and_finds_the_latest_run_of_a_branch() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let t0 = chrono::Utc::now() - chrono::Duration::hours(3);
        for (i, (branch, status)) in
            [("main", Status::Pass), ("feature", Status::Fail), ("main", Status::Fail)].iter().enumerate()
        {
            let mut r = run(&format!("run_{i}"), &[("a", *status, "x")]);
            r.started_at = t0 + chrono::Duration::hours(i as i64);
            r.finished_at = Some(r.started_at);
            r.git = Some(crate::run::GitInfo { commit: format!("c{i}"), branch: Some(branch.to_string()) });
            s.create_run(&r).unwrap();
            s.save_results(&r.id, &r.results).unwrap();
            s.finish_run(&r).unwrap();
        }
        let all = s.list_runs(None, 10).unwrap();
        assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["run_2", "run_1", "run_0"]);
        assert!(s.list_runs(Some("other"), 10).unwrap().is_empty());
        let t = s.trend("s", t0 + chrono::Duration::hours(1), 10).unwrap();
        assert_eq!(
            t.iter().map(|p| (p.run_id.as_str(), p.pass_rate)).collect::<Vec<_>>(),
            vec![("run_0", 1.0), ("run_1", 0.0)]
        );
        assert_eq!(s.latest_run_on_branch("s", "main").unwrap().as_deref(), Some("run_2"));
        assert_eq!(s.latest_run_on_branch("s", "feature").unwrap().as_deref(), Some("run_1"));
        assert_eq!(s.latest_run_on_branch("s", "nope").unwrap(), None);

        // History: the runs before run_2 on main; then any branch; another dataset has none.
        let q = HistoryQuery {
            suite: "s",
            dataset_hash: "d",
            branch: Some("main"),
            before: t0 + chrono::Duration::hours(2),
            exclude: "run_2",
            limit: 20,
        };
        assert_eq!(s.case_history(&q).unwrap(), (1, vec![("a".to_string(), 1, 1)]));
        let any = HistoryQuery { branch: None, before: chrono::Utc::now(), ..q.clone() };
        assert_eq!(s.case_history(&any).unwrap(), (2, vec![("a".to_string(), 1, 2)]));
        assert_eq!(s.case_history(&HistoryQuery { limit: 1, ..any.clone() }).unwrap().0, 1);
        assert_eq!(s.case_history(&HistoryQuery { dataset_hash: "other", ..any }).unwrap(), (0, vec![]));
    }
}
