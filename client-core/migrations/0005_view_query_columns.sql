-- The view's query columns become plain columns, filled from the JSON when a row is
-- written (rows.rs, `VIEW_INSERT`). SQLite counts a generated column as a use of the
-- columns it is computed from, so no index on one covered a query: every roster count
-- read each assignment row from the table (docs/performance.md, W7).
CREATE TABLE view_rows_next (
    entity     TEXT NOT NULL,
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    scopes     TEXT NOT NULL,
    data       TEXT NOT NULL,
    status     TEXT,
    name       TEXT,
    mentor_id  TEXT,
    mentee_id  TEXT,
    due        INTEGER,
    at         INTEGER,
    cert       INTEGER,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
INSERT INTO view_rows_next
    SELECT entity, id, version, scopes, data, status, name, mentor_id, mentee_id, due, at, cert
    FROM view_rows;
DROP TABLE view_rows;
ALTER TABLE view_rows_next RENAME TO view_rows;
CREATE INDEX view_by_name ON view_rows (entity, name, id);
CREATE INDEX view_by_status_name ON view_rows (entity, status, name, id);
CREATE INDEX view_by_mentor ON view_rows (entity, mentor_id, status, mentee_id);
CREATE INDEX view_by_mentee ON view_rows (entity, mentee_id, status);
CREATE INDEX view_by_due ON view_rows (entity, status, due);
CREATE INDEX view_by_time ON view_rows (entity, at);
