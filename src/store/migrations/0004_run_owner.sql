-- Who runs a run: the process and host that own it while it is live, and the last time it said
-- so. `run --resume` takes only runs whose owner is gone. Older runs have no owner: they are
-- resumable as before.
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_host TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
