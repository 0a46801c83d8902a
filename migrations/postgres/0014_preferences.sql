-- How each person wants to be reached beyond their inbox (which always has everything):
-- e-mail `auto` (only while they use no app), `always` or `never`; which kinds (a JSON
-- array, NULL for all); quiet hours as HH:MM in their time zone. No row: the defaults.
CREATE TABLE notification_preferences (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    chapter_id   TEXT NOT NULL REFERENCES chapters(id),
    email        TEXT NOT NULL CHECK (email IN ('auto', 'always', 'never')),
    kinds        TEXT,
    quiet_from   TEXT,
    quiet_until  TEXT,
    updated_at   BIGINT NOT NULL
);

ALTER TABLE notification_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON notification_preferences
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
