-- Mentees are told when a session with them is scheduled or cancelled: a third audience,
-- the mentee named by the notification. SQLite cannot change a CHECK constraint, so both
-- tables are rebuilt (the deliveries first out and last in, for their foreign key); a
-- rename carries the reference along.
CREATE TABLE notifications_v12 (
    id               TEXT PRIMARY KEY,
    chapter_id       TEXT NOT NULL REFERENCES chapters(id),
    kind             TEXT NOT NULL,
    audience         TEXT NOT NULL CHECK (audience IN ('coordinator', 'cohort_directors', 'mentee')),
    mentor_id        TEXT,
    mentee_id        TEXT,
    cohort_id        TEXT,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    message          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'undeliverable', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_error       TEXT,
    settled_at       INTEGER
) STRICT;
INSERT INTO notifications_v12 SELECT * FROM notifications;
CREATE TABLE notification_deliveries_v12 (
    notification_id  TEXT NOT NULL REFERENCES notifications_v12(id),
    channel          TEXT NOT NULL,
    recipient_id     TEXT NOT NULL REFERENCES users(id),
    status           TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 1,
    at               INTEGER NOT NULL,
    error            TEXT,
    PRIMARY KEY (notification_id, channel, recipient_id)
) STRICT;
INSERT INTO notification_deliveries_v12 SELECT * FROM notification_deliveries;
DROP TABLE notification_deliveries;
DROP TABLE notifications;
ALTER TABLE notifications_v12 RENAME TO notifications;
ALTER TABLE notification_deliveries_v12 RENAME TO notification_deliveries;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_chapter_status ON notifications (chapter_id, status, created_at);
CREATE INDEX notification_deliveries_by_recipient ON notification_deliveries (recipient_id, at);
