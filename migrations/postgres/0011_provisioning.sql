-- Provisioning: accounts that can be disabled and carry a time zone, chapters with a
-- default time zone, cohorts with the programme's own key, one-time sign-in codes, and
-- emails unique in the deployment whatever their case.

ALTER TABLE chapters ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
ALTER TABLE users ADD COLUMN time_zone TEXT;
UPDATE users SET email = lower(email);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
-- An admin's snapshot pages accounts by id within the chapter (without it SQLite sorts the
-- chapter's accounts for every page).
CREATE INDEX users_by_chapter_id ON users (chapter_id, id);

ALTER TABLE cohorts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX cohorts_by_external_id ON cohorts (chapter_id, external_id) WHERE external_id IS NOT NULL;

-- At most one live code per account, stored as a SHA-256 hash; spending it sets the
-- password. An account created by an admin has no password until then (empty hash).
CREATE TABLE sign_in_codes (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    code_hash   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
