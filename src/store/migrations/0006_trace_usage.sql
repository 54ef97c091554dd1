-- Each trace's token use per model, also kept on its own row (`trace_models` stays the source):
-- totals over a large selection then read one row per trace, with no join to `trace_models`.
-- Records of `model US input US output US cached` joined by RS (char(31), char(30)); the code
-- that runs this migration fills it for the traces already stored.
ALTER TABLE traces ADD COLUMN usage TEXT NOT NULL DEFAULT '';
