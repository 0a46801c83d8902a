-- Delta sync: the commit-ordered change log, scope sets served to clients, and the
-- exactly-once record of every pushed mutation.

-- One row per change to a synced row, appended in the transaction of the change. The scope
-- columns say who may see it (decided when read, against current relationships); a row
-- that leaves a scope gets a 'remove' row carrying the old scope.
CREATE TABLE change_log (
    position        BIGSERIAL PRIMARY KEY,
    chapter_id      TEXT NOT NULL REFERENCES chapters(id),
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    op              TEXT NOT NULL CHECK (op IN ('upsert', 'remove')),
    version         BIGINT NOT NULL,
    mentor_id       TEXT,
    mentee_id       TEXT,
    coordinator_id  TEXT,
    at              BIGINT NOT NULL
);
CREATE INDEX change_log_by_chapter ON change_log (chapter_id, position);
CREATE INDEX change_log_by_at ON change_log (at);

-- Positions at or below `position` were compacted away: a cursor older than that must
-- re-sync from a snapshot.
CREATE TABLE sync_horizon (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    position  BIGINT NOT NULL
);
INSERT INTO sync_horizon (id, position) VALUES (1, 0);

-- Scope sets a cursor was served with, by content hash (many clients share one).
CREATE TABLE sync_scope_sets (
    hash        TEXT PRIMARY KEY,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A device of a user. `last_mutation_id` advances in the transaction of each verdict.
CREATE TABLE sync_clients (
    client_id          TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users(id),
    last_mutation_id   BIGINT NOT NULL DEFAULT 0,
    acked_mutation_id  BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    last_seen_at       BIGINT NOT NULL
);
CREATE INDEX sync_clients_by_user ON sync_clients (user_id);

-- The verdict of every mutation, replayed verbatim when a push is retried.
CREATE TABLE sync_mutations (
    client_id    TEXT NOT NULL REFERENCES sync_clients(client_id),
    mutation_id  BIGINT NOT NULL,
    name         TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (client_id, mutation_id)
);
