//! The SQLite store: opening, pragmas, embedded numbered migrations, and the one thread that
//! async code reaches it through.

mod actor;
mod browse;
mod cache;
mod capture;
mod runs;
mod traces;

pub use actor::Handle;
pub use browse::{Bucket, TracePage};
pub use runs::{CaseCounts, HistoryQuery, ResultRow, RunOwner};
pub use traces::{IngestStats, PruneStats, Totals, TraceCursor, TraceFilter, TraceStatus, TraceSummary};

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

/// Schema migrations, applied in order; the store's `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_response_cache.sql"),
    include_str!("migrations/0003_trace_search.sql"),
    include_str!("migrations/0004_run_owner.sql"),
    include_str!("migrations/0005_trace_models.sql"),
    include_str!("migrations/0006_trace_usage.sql"),
];

/// Default location, relative to the current directory.
pub const DEFAULT_PATH: &str = ".evals/evals.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("cannot create the store's folder {path}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error(
        "store {path} has schema version {found}, newer than this evals supports ({supported}); \
         it was written by a newer evals"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("store {path}: migration {number} failed")]
    Migrate { path: PathBuf, number: usize, source: rusqlite::Error },
    #[error("no {kind} matches {prefix:?}")]
    NotFound { kind: &'static str, prefix: String },
    #[error("{kind} id {prefix:?} is ambiguous: it matches {}", .matches.join(", "))]
    Ambiguous { kind: &'static str, prefix: String, matches: Vec<String> },
    #[error("no store at {} (EVALS_STORE)", .0.display())]
    Missing(PathBuf),
    #[error("store record is corrupt: {0}")]
    Corrupt(String),
    #[error("store thread has stopped")]
    Closed,
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// The most of the store's file that reads map into memory (SQLite caps it at 2 GiB by default).
const MMAP_SIZE: i64 = 1 << 31;

/// How long a statement waits for another process's lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Store {
    /// Open (creating if needed) and migrate the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Refuse a newer store before changing anything in it, journal mode included.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found: version, supported });
        }
        // WAL keeps readers (a `traces list` in another terminal) off the writer's back, and a
        // crash mid-write loses only the open transaction.
        // Switching a file to WAL needs it alone for a moment; when another process is doing
        // the same, SQLite answers BUSY at once rather than through the busy handler.
        let started = std::time::Instant::now();
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                done => break done.map_err(open_err)?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        // Plans that do not depend on bound values: otherwise SQLite re-prepares a statement
        // whenever a rebound parameter might change its plan, which made the per-trace summary
        // update of every capture batch re-parse its SQL on each execution.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(open_err)?;
        let mut store = Store { conn, path: path.to_path_buf() };
        store.migrate()?;
        Ok(store)
    }

    /// Open the store at `path` for a command that only reads it: a path that does not exist is
    /// an error, so a mistyped `EVALS_STORE` does not leave an empty store (and folders) behind.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        Store::open(path)
    }

    /// Read through a memory map, for a store that serves the trace browser: a pass over every
    /// selected trace (the totals) otherwise copies each page out of the OS cache with a system
    /// call of its own. Not for every command: mapped pages count in the process's memory, and a
    /// long run reading its results back would carry them.
    pub fn map_reads(&self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Begin a write transaction holding the write lock from its first statement. A deferred
    /// transaction that reads before it writes cannot wait for another writer: SQLite answers
    /// BUSY at once, busy timeout or not, because its snapshot may be stale by then.
    fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// Apply the missing migrations in one write transaction. The version is read again inside
    /// it: two processes opening a new store at once (a run and a `--resume` watcher) must not
    /// both migrate.
    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let err = |number: usize| {
            let path = path.clone();
            move |source| StoreError::Migrate { path, number, source }
        };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err(0))?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let number = i + 1;
            tx.execute_batch(sql).map_err(err(number))?;
            after_migration(&tx, number).map_err(err(number))?;
            tx.pragma_update(None, "user_version", number as i64).map_err(err(number))?;
        }
        tx.commit().map_err(err(MIGRATIONS.len()))
    }

    /// Resolve a unique id prefix in `table` (`traces` or `runs`).
    fn resolve(&self, table: &'static str, kind: &'static str, prefix: &str) -> Result<String> {
        if let Some(id) = self
            .conn
            .query_row(&format!("SELECT id FROM {table} WHERE id = ?1"), [prefix], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(id);
        }
        let mut stmt =
            self.conn.prepare(&format!("SELECT id FROM {table} WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6"))?;
        let upper = format!("{prefix}\u{10FFFF}");
        let matches: Vec<String> =
            stmt.query_map([prefix, upper.as_str()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        match matches.len() {
            0 => Err(StoreError::NotFound { kind, prefix: prefix.to_string() }),
            1 => Ok(matches.into_iter().next().expect("one match")),
            _ => Err(StoreError::Ambiguous { kind, prefix: prefix.to_string(), matches }),
        }
    }
}

/// Data a migration's SQL cannot derive by itself.
fn after_migration(tx: &rusqlite::Transaction, number: usize) -> rusqlite::Result<()> {
    match number {
        3 => traces::index_all_for_search(tx)?,
        6 => traces::copy_all_usage(tx)?,
        _ => {}
    }
    Ok(())
}

/// Microseconds since the epoch, the store's time unit.
fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_folder_and_migrates_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/evals.db");
        let store = Store::open(&path).unwrap();
        let mode: String = store.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let v: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        drop(store);
        // Reopening applies nothing twice.
        Store::open(&path).unwrap();
    }

    #[test]
    fn processes_opening_a_new_store_at_once_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evals.db");
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Store::open(&path).map(|_| ()))
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join().unwrap() {
                panic!("open failed: {e:?}");
            }
        }
    }

    #[test]
    fn opening_a_missing_store_to_read_it_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("typo/evals.db");
        let err = Store::open_existing(&path).err().unwrap();
        assert_eq!(err.to_string(), format!("no store at {} (EVALS_STORE)", path.display()));
        assert!(!dir.path().join("typo").exists(), "no folder is created");
        Store::open(&path).unwrap();
        Store::open_existing(&path).unwrap();
    }

    #[test]
    fn refuses_a_store_from_a_newer_version_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evals.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("newer"));
        assert_eq!(std::fs::read(&path).unwrap(), before, "the file is left byte for byte as it was");
    }
}
