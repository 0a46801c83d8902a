-- A refresh token spent not by being presented but because its parent was presented
-- again within the grace period (the answer that carried it was lost). Presenting such a
-- token later means it did arrive somewhere: reuse.
ALTER TABLE refresh_tokens ADD COLUMN superseded_at BIGINT;
