-- Phones that can be woken: one push token per device (the sync client id), FCM or APNs.
-- A token belongs to one device; registering it again (a phone handed to someone else)
-- moves it. Dispatch sends a person's notifications to each of their devices, and a
-- change in their data wakes a backgrounded app with a data-only push.
CREATE TABLE push_devices (
    client_id   TEXT PRIMARY KEY,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    platform    TEXT NOT NULL CHECK (platform IN ('fcm', 'apns')),
    token       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- The last "sync now" push (epoch ms): at most one per device per interval, claimed by
    -- compare-and-set, so several instances hearing the same commit send one.
    woken_at    BIGINT
);
CREATE UNIQUE INDEX push_devices_by_token ON push_devices (platform, token);
CREATE INDEX push_devices_by_user ON push_devices (user_id, updated_at);

ALTER TABLE push_devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON push_devices
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
