-- Every person's inbox: one row per notification and recipient, written when the
-- notification is dispatched (its recipient is resolved then) and synced to that person's
-- devices only. The change log gains the recipient as a scope column: an inbox item's only
-- scope key is `user:<recipient>`, which not even the chapter's admins hold.
CREATE TABLE inbox_items (
    id               TEXT PRIMARY KEY,
    chapter_id       TEXT NOT NULL REFERENCES chapters(id),
    recipient_id     TEXT NOT NULL REFERENCES users(id),
    notification_id  TEXT NOT NULL REFERENCES notifications(id),
    kind             TEXT NOT NULL,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    mentor_id        TEXT,
    message          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    read_at          BIGINT,
    dismissed_at     BIGINT,
    version          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
-- Exactly one item per notification and recipient, however often dispatch is retried.
CREATE UNIQUE INDEX inbox_items_once ON inbox_items (notification_id, recipient_id);
-- A snapshot pages a person's items by id; the REST list pages them newest first.
CREATE INDEX inbox_items_by_recipient ON inbox_items (recipient_id, id);
CREATE INDEX inbox_items_by_recipient_created ON inbox_items (recipient_id, created_at, id);

ALTER TABLE change_log ADD COLUMN recipient_id TEXT;

ALTER TABLE inbox_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON inbox_items
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
