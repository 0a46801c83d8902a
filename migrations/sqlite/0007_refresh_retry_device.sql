-- The device that spent a refresh token, and when it retried: a retry after a lost answer
-- is honoured once, and only for the device that spent the token (a copy elsewhere is
-- theft, not a retry).
ALTER TABLE refresh_tokens ADD COLUMN used_by TEXT;
ALTER TABLE refresh_tokens ADD COLUMN retried_at INTEGER;
