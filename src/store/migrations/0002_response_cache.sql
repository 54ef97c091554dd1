-- Model responses by a hash of everything that shapes them, so a replay never pays twice.
CREATE TABLE response_cache (
    key        TEXT PRIMARY KEY,
    response   TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
