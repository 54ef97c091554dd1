-- Traces and spans as captured; runs and their per-case results.
CREATE TABLE traces (
    id            TEXT PRIMARY KEY,
    workflow      TEXT,
    group_id      TEXT,
    metadata      TEXT,
    started_at    INTEGER,
    ended_at      INTEGER,
    agents        TEXT NOT NULL DEFAULT '',
    models        TEXT NOT NULL DEFAULT '',
    turns         INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    content_turns INTEGER NOT NULL DEFAULT 0,
    span_count    INTEGER NOT NULL DEFAULT 0,
    imported_at   INTEGER NOT NULL
);
CREATE INDEX traces_by_start ON traces (started_at);

CREATE TABLE spans (
    trace_id      TEXT NOT NULL,
    id            TEXT NOT NULL,
    parent_id     TEXT,
    kind          TEXT NOT NULL,
    name          TEXT,
    started_at    INTEGER,
    ended_at      INTEGER,
    model         TEXT,
    response_id   TEXT,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    content       INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    data          TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
) WITHOUT ROWID;
CREATE INDEX spans_by_response ON spans (response_id) WHERE response_id IS NOT NULL;

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    suite       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    header      TEXT NOT NULL,
    summary     TEXT
);
CREATE INDEX runs_by_suite ON runs (suite, started_at);

CREATE TABLE results (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    repeat  INTEGER NOT NULL,
    status  TEXT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (run_id, case_id, repeat)
) WITHOUT ROWID;
