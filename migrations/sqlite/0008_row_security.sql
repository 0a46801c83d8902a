-- Row-level security exists on PostgreSQL only (migrations/postgres/0008): an embedded
-- SQLite file has one user, the server itself. Kept so both backends count the same steps.
SELECT 1;
