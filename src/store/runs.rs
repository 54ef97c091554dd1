//! Runs and their per-case results as rows: the run header and each result are JSON documents
//! the store keeps without reading them (the record module owns their shape); results are
//! committed as they finish.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, from_micros, micros};

/// One result to save: its key, its status, and the result as JSON.
pub struct ResultRow<'a> {
    pub case_id: &'a str,
    pub repeat: u32,
    pub status: &'a str,
    pub data: String,
}

/// Per case: (case id, passes, graded samples).
pub type CaseCounts = Vec<(String, u32, u32)>;

/// Which earlier runs [`Store::case_history`] reads.
#[derive(Debug, Clone)]
pub struct HistoryQuery<'a> {
    pub suite: &'a str,
    pub dataset_hash: &'a str,
    pub branch: Option<&'a str>,
    pub before: DateTime<Utc>,
    pub exclude: &'a str,
    pub limit: usize,
}

/// Rows of (id, header), in the order the query gave.
fn id_headers(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<(String, String)>> {
    let rows = stmt.query_map(params, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The process that runs a run, on its host, and when it last said it is alive.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOwner {
    pub pid: u32,
    pub host: String,
    pub heartbeat: DateTime<Utc>,
}

fn read_owner(pid: Option<i64>, host: Option<String>, heartbeat: Option<i64>) -> Option<RunOwner> {
    Some(RunOwner { pid: u32::try_from(pid?).ok()?, host: host?, heartbeat: from_micros(heartbeat?) })
}

impl Store {
    /// A new run, owned from the start by `owner`.
    pub fn insert_run(
        &mut self,
        id: &str,
        suite: &str,
        started_at: DateTime<Utc>,
        header: &str,
        owner: &RunOwner,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO runs (id, suite, started_at, finished_at, header, owner_pid, owner_host, heartbeat_at) \
             VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7)",
            params![id, suite, micros(started_at), header, owner.pid, owner.host, micros(owner.heartbeat)],
        )?;
        Ok(())
    }

    /// Make `me` the owner of run `id`, unless `live` says its owner is alive: then that owner
    /// is returned and nothing changes. One write transaction, so two resumers cannot both win.
    pub fn claim_run(&mut self, id: &str, me: &RunOwner, live: impl Fn(&RunOwner) -> bool) -> Result<Option<RunOwner>> {
        let tx = self.write()?;
        let current = tx
            .query_row("SELECT owner_pid, owner_host, heartbeat_at FROM runs WHERE id = ?1", [id], |r| {
                Ok(read_owner(r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "run", prefix: id.to_string() })?;
        if let Some(owner) = current.filter(|o| live(o)) {
            return Ok(Some(owner));
        }
        tx.execute(
            "UPDATE runs SET owner_pid = ?2, owner_host = ?3, heartbeat_at = ?4 WHERE id = ?1",
            params![id, me.pid, me.host, micros(me.heartbeat)],
        )?;
        tx.commit()?;
        Ok(None)
    }

    /// Say that `me` still runs run `id`; nothing when another process has taken it over.
    pub fn heartbeat_run(&mut self, id: &str, me: &RunOwner) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET heartbeat_at = ?4 WHERE id = ?1 AND owner_pid = ?2 AND owner_host = ?3",
            params![id, me.pid, me.host, micros(me.heartbeat)],
        )?;
        Ok(())
    }

    /// Let go of run `id` (interrupted), so that it can be resumed at once, from any host.
    pub fn release_run(&mut self, id: &str, me: &RunOwner) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL \
             WHERE id = ?1 AND owner_pid = ?2 AND owner_host = ?3",
            params![id, me.pid, me.host],
        )?;
        Ok(())
    }

    /// Commit finished results in one transaction: a run saves whatever finished while the
    /// previous commit was on disk, so a fast run is not held to one commit per case.
    pub fn put_results<'a>(&mut self, run_id: &str, rows: impl IntoIterator<Item = ResultRow<'a>>) -> Result<()> {
        let tx = self.write()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO results (run_id, case_id, repeat, status, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for r in rows {
                insert.execute(params![run_id, r.case_id, r.repeat, r.status, r.data])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Record the run's final header (finish time, summary).
    pub fn update_run(&mut self, id: &str, finished_at: Option<DateTime<Utc>>, header: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = ?2, header = ?3 WHERE id = ?1",
            params![id, finished_at.map(micros), header],
        )?;
        Ok(())
    }

    /// The runs that never finished (live, killed or interrupted), newest first, with their
    /// owners (none for a run released or stored before runs had owners).
    pub fn unfinished_runs(&self) -> Result<Vec<(String, Option<RunOwner>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, owner_pid, owner_host, heartbeat_at FROM runs WHERE finished_at IS NULL \
             ORDER BY started_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, read_owner(r.get(1)?, r.get(2)?, r.get(3)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn resolve_run(&self, prefix: &str) -> Result<String> {
        self.resolve("runs", "run", prefix)
    }

    /// (id, header) of runs, newest first; of one suite when given.
    pub fn run_headers(&self, suite: Option<&str>, limit: usize) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, header FROM runs WHERE (?1 IS NULL OR suite = ?1) ORDER BY started_at DESC, id DESC LIMIT ?2",
        )?;
        id_headers(&mut stmt, params![suite, limit as i64])
    }

    /// (id, header) of a suite's finished runs started up to `until`, newest first.
    pub fn finished_run_headers(
        &self,
        suite: &str,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, header FROM runs WHERE suite = ?1 AND started_at <= ?2 AND finished_at IS NOT NULL \
             ORDER BY started_at DESC, id DESC LIMIT ?3",
        )?;
        id_headers(&mut stmt, params![suite, micros(until), limit as i64])
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
    pub fn case_history(&self, q: &HistoryQuery<'_>) -> Result<(usize, CaseCounts)> {
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

    /// (id, header) of up to `limit` runs after the run `after` (its start time and id) in the
    /// newest-first order; of one suite when given.
    pub fn run_headers_after(
        &self,
        suite: Option<&str>,
        after: Option<(DateTime<Utc>, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, header FROM runs WHERE (?1 IS NULL OR suite = ?1)
             AND (?2 IS NULL OR started_at < ?2 OR (started_at = ?2 AND id < ?3))
             ORDER BY started_at DESC, id DESC LIMIT ?4",
        )?;
        let (at, id) = after.map_or((None, ""), |(t, id)| (Some(micros(t)), id));
        id_headers(&mut stmt, params![suite, at, id, limit as i64])
    }

    pub fn run_header(&self, id: &str) -> Result<String> {
        self.conn
            .query_row("SELECT header FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "run", prefix: id.to_string() })
    }

    /// Up to `limit` stored results of a run as (case id, repeat, data), by case id then repeat,
    /// starting after `after`, with this status and labelled failure when given: a page at a
    /// time, so a reader never holds a whole run, and no statement stays open between pages.
    pub fn results_after(
        &self,
        id: &str,
        after: Option<(&str, u32)>,
        status: Option<&str>,
        failure: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, u32, String)>> {
        // One range on the primary key (the optional filters only test the rows it yields), so
        // each page is an index seek: the first page starts after ("", -1), before every row.
        let mut stmt = self.conn.prepare_cached(
            "SELECT case_id, repeat, data FROM results WHERE run_id = ?1 AND (case_id, repeat) > (?2, ?3)
             AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR json_extract(data, '$.failure') = ?5)
             ORDER BY case_id, repeat LIMIT ?6",
        )?;
        let (case, repeat) = after.map_or(("", -1), |(c, r)| (c, i64::from(r)));
        let rows = stmt.query_map(params![id, case, repeat, status, failure, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_history_reads_the_earlier_runs_of_one_suite_dataset_and_branch() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let t0 = Utc::now() - chrono::Duration::hours(3);
        for (i, (branch, status)) in [("main", "pass"), ("feature", "fail"), ("main", "fail")].iter().enumerate() {
            let (id, at) = (format!("run_{i}"), t0 + chrono::Duration::hours(i as i64));
            let header = format!(r#"{{"dataset_hash": "d", "git": {{"branch": "{branch}"}}}}"#);
            let owner = RunOwner { pid: 1, host: "h".into(), heartbeat: at };
            s.insert_run(&id, "s", at, &header, &owner).unwrap();
            let row = ResultRow { case_id: "a", repeat: 0, status, data: "{}".into() };
            s.put_results(&id, [row]).unwrap();
            s.update_run(&id, Some(at), &header).unwrap();
        }
        // The runs before run_2 on main; then any branch; another dataset has none.
        let q = HistoryQuery {
            suite: "s",
            dataset_hash: "d",
            branch: Some("main"),
            before: t0 + chrono::Duration::hours(2),
            exclude: "run_2",
            limit: 20,
        };
        assert_eq!(s.case_history(&q).unwrap(), (1, vec![("a".to_string(), 1, 1)]));
        let any = HistoryQuery { branch: None, before: Utc::now(), ..q.clone() };
        assert_eq!(s.case_history(&any).unwrap(), (2, vec![("a".to_string(), 1, 2)]));
        assert_eq!(s.case_history(&HistoryQuery { limit: 1, ..any.clone() }).unwrap().0, 1);
        assert_eq!(s.case_history(&HistoryQuery { dataset_hash: "other", ..any }).unwrap(), (0, vec![]));
    }

    #[test]
    fn a_run_is_claimed_only_from_an_owner_that_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        // The store keeps microseconds.
        let t0 = from_micros(micros(chrono::Utc::now()));
        let first = RunOwner { pid: 10, host: "a".into(), heartbeat: t0 };
        s.insert_run("run_1", "demo", t0, "{}", &first).unwrap();
        assert_eq!(s.unfinished_runs().unwrap(), vec![("run_1".to_string(), Some(first.clone()))]);
        let second = RunOwner { pid: 20, host: "b".into(), heartbeat: t0 + chrono::Duration::seconds(1) };
        assert_eq!(s.claim_run("run_1", &second, |_| true).unwrap(), Some(first.clone()), "live: refused");
        assert_eq!(s.unfinished_runs().unwrap()[0].1, Some(first.clone()), "and unchanged");
        assert_eq!(s.claim_run("run_1", &second, |_| false).unwrap(), None);
        // The first owner's late heartbeat and release touch the run no more.
        s.heartbeat_run("run_1", &RunOwner { heartbeat: t0 + chrono::Duration::seconds(9), ..first.clone() }).unwrap();
        s.release_run("run_1", &first).unwrap();
        assert_eq!(s.unfinished_runs().unwrap()[0].1, Some(second.clone()));
        let later = RunOwner { heartbeat: t0 + chrono::Duration::seconds(5), ..second.clone() };
        s.heartbeat_run("run_1", &later).unwrap();
        assert_eq!(s.unfinished_runs().unwrap()[0].1, Some(later.clone()));
        s.release_run("run_1", &second).unwrap();
        assert_eq!(s.unfinished_runs().unwrap()[0].1, None);
        assert!(matches!(s.claim_run("run_9", &second, |_| false), Err(StoreError::NotFound { .. })));
    }
}
