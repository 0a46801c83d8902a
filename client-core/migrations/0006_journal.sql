-- Commands the server has given a verdict, kept for 30 days (at most 10,000): a server
-- restored from a backup may have forgotten them, and the device submits them again
-- under the same mutation ids (each still applied at most once).
CREATE TABLE journal (
    mutation_id       INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    command           TEXT NOT NULL,
    expected_version  INTEGER,
    created_at        INTEGER NOT NULL,
    acknowledged_at   INTEGER NOT NULL
);
CREATE INDEX journal_by_acknowledged ON journal (acknowledged_at);
