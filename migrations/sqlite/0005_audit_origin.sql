-- Which device command made an audit row: set for commands that arrived through push, so
-- that every applied mutation maps to exactly the transitions it made. REST commands and
-- scheduled jobs leave both NULL.
ALTER TABLE audit_log ADD COLUMN client_id TEXT;
ALTER TABLE audit_log ADD COLUMN mutation_id INTEGER;
