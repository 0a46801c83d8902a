-- The audit trail is read newest first by chapter (admins' trail, with a time range) and by
-- actor ("what did this person change"); rows by entity use audit_log_by_entity.
CREATE INDEX audit_log_by_chapter_time ON audit_log (chapter_id, at, id);
CREATE INDEX audit_log_by_actor_time ON audit_log (actor_id, at, id);
