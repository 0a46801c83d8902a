-- The database's identity. Pull cursors carry it; `mentorsync-server restored` gives a
-- database restored from a backup a new one, so that every device's cursor (which may
-- point past what the backup holds) starts a fresh snapshot instead of skipping changes.
CREATE TABLE server_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    epoch  TEXT NOT NULL
);
INSERT INTO server_epoch (id, epoch) VALUES (1, md5(random()::text || clock_timestamp()::text));
