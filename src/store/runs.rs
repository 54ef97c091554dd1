//! Runs and their per-case results as rows: the run header and each result are JSON documents
//! the store keeps without reading them (the record module owns their shape); results are
//! committed as they finish.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, micros};

/// One result to save: its key, its status, and the result as JSON.
pub struct ResultRow<'a> {
    pub case_id: &'a str,
    pub repeat: u32,
    pub status: &'a str,
    pub data: String,
}

/// Rows of (id, header), in the order the query gave.
fn id_headers(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<(String, String)>> {
    let rows = stmt.query_map(params, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    pub fn insert_run(&mut self, id: &str, suite: &str, started_at: DateTime<Utc>, header: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO runs (id, suite, started_at, finished_at, header) VALUES (?1, ?2, ?3, NULL, ?4)",
            params![id, suite, micros(started_at), header],
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

    pub fn run_header(&self, id: &str) -> Result<String> {
        self.conn
            .query_row("SELECT header FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound { kind: "run", prefix: id.to_string() })
    }

    /// Hand each stored result of a run to `f`, by case id then repeat, without holding them all.
    pub fn for_each_result(&self, id: &str, mut f: impl FnMut(&str) -> Result<()>) -> Result<()> {
        let mut stmt =
            self.conn.prepare_cached("SELECT data FROM results WHERE run_id = ?1 ORDER BY case_id, repeat")?;
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            f(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
        }
        Ok(())
    }
}
