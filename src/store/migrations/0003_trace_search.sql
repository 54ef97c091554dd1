-- Full-text search over the model input and output of each trace: one row per trace in a
-- contentless FTS5 table (the text itself lives in the spans), found by `search_rowid`.
-- Existing traces are indexed by the code that runs this migration.
ALTER TABLE traces ADD COLUMN search_rowid INTEGER;
CREATE INDEX traces_by_search ON traces (search_rowid) WHERE search_rowid IS NOT NULL;
CREATE VIRTUAL TABLE trace_text USING fts5 (text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
-- Lists are newest first, by this expression; an index on it answers `traces list` and
-- `--since/--until` without sorting the whole table.
CREATE INDEX traces_by_time ON traces (coalesce(started_at, imported_at));
