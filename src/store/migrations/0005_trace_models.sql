-- Token use per trace and model (`''` when a call's model is unknown), kept up to date by ingest:
-- costs and totals over many traces read these few small rows, not every model span's JSON.
CREATE TABLE trace_models (
    trace_id            TEXT NOT NULL,
    model               TEXT NOT NULL,
    calls               INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    PRIMARY KEY (trace_id, model)
) WITHOUT ROWID;
INSERT INTO trace_models (trace_id, model, calls, input_tokens, output_tokens, cached_input_tokens)
SELECT trace_id, coalesce(model, ''), count(*), sum(coalesce(input_tokens, 0)), sum(coalesce(output_tokens, 0)),
       sum(coalesce(json_extract(data, '$.usage.cached_input_tokens'), 0))
FROM spans WHERE kind = 'model' GROUP BY 1, 2;
