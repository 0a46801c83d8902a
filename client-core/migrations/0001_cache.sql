-- The device's copy of the server's rows, the optimistic view, the outbox, sync state.

-- Rows exactly as the server confirmed them.
CREATE TABLE server_rows (
    entity   TEXT NOT NULL,
    id       TEXT NOT NULL,
    version  INTEGER NOT NULL,
    scopes   TEXT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;

-- What the app reads: server rows with pending commands replayed on top. Query columns
-- are generated from the JSON so they can be indexed.
CREATE TABLE view_rows (
    entity     TEXT NOT NULL,
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    scopes     TEXT NOT NULL,
    data       TEXT NOT NULL,
    status     TEXT GENERATED ALWAYS AS (json_extract(data, '$.status')) VIRTUAL,
    name       TEXT GENERATED ALWAYS AS (lower(json_extract(data, '$.display_name'))) VIRTUAL,
    mentor_id  TEXT GENERATED ALWAYS AS (CASE entity WHEN 'mentor' THEN id ELSE json_extract(data, '$.mentor_id') END) VIRTUAL,
    mentee_id  TEXT GENERATED ALWAYS AS (CASE entity WHEN 'mentee' THEN id ELSE json_extract(data, '$.mentee_id') END) VIRTUAL,
    due        INTEGER GENERATED ALWAYS AS (json_extract(data, '$.sla_due_at')) VIRTUAL,
    at         INTEGER GENERATED ALWAYS AS (json_extract(data, '$.scheduled_at')) VIRTUAL,
    cert       INTEGER GENERATED ALWAYS AS (json_extract(data, '$.certification_expires_at')) VIRTUAL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
CREATE INDEX view_by_name ON view_rows (entity, name, id);
CREATE INDEX view_by_status_name ON view_rows (entity, status, name, id);
CREATE INDEX view_by_mentor ON view_rows (entity, mentor_id, status);
CREATE INDEX view_by_mentee ON view_rows (entity, mentee_id, status);
CREATE INDEX view_by_due ON view_rows (entity, status, due);

-- Commands not yet confirmed by a pull. `touched` lists the rows the optimistic replay
-- changed, so they can be reset to server truth.
CREATE TABLE outbox (
    mutation_id       INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    command           TEXT NOT NULL,
    expected_version  INTEGER,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'applied')),
    touched           TEXT NOT NULL DEFAULT '[]',
    verdict           TEXT,
    created_at        INTEGER NOT NULL
);

-- Commands the server refused, with its reason, for the app to show.
CREATE TABLE rejections (
    mutation_id  INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    command      TEXT NOT NULL,
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    current      TEXT,
    at           INTEGER NOT NULL
);

-- Pull rounds in progress: pages are staged here and published when the round ends.
CREATE TABLE staged_pages (
    set_name  TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (set_name, seq)
);

-- Per pull set: the published cursor, the cursor of the round in progress, the scope set.
CREATE TABLE sync_state (
    set_name         TEXT PRIMARY KEY,
    cursor           TEXT,
    round_cursor     TEXT,
    scopes           TEXT,
    last_success_at  INTEGER
);

-- Device settings and session: client id, server URL, tokens, the signed-in user.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
