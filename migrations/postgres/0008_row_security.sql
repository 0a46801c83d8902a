-- Row-level security, defence in depth: every chapter-owned table shows a transaction
-- only the rows of the chapter it acts for, so a query that forgot its chapter filter
-- returns nothing foreign. The server sets `mentorsync.chapter` at the start of every
-- transaction (`Db::read_as` / `Db::write_as`): the caller's chapter for requests, `*`
-- for its own work (sign-in lookups, jobs, dispatch), which it names explicitly. Unset,
-- nothing is visible (fail closed). FORCE applies the policies to the tables' owner too;
-- only a superuser (or a BYPASSRLS role) is not bound by them, so run the server as an
-- ordinary role that owns its schema (docs/security.md).
CREATE FUNCTION mentorsync_may_see(row_chapter TEXT) RETURNS BOOLEAN
    LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('mentorsync.chapter', true) IN ('*', row_chapter), false)
$$;

ALTER TABLE chapters ENABLE ROW LEVEL SECURITY;
ALTER TABLE chapters FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON chapters USING (mentorsync_may_see(id)) WITH CHECK (mentorsync_may_see(id));
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON audit_log USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE change_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_log FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON change_log USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE cohorts ENABLE ROW LEVEL SECURITY;
ALTER TABLE cohorts FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON cohorts USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE coordinator_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE coordinator_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON coordinator_assignments USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE dashboards ENABLE ROW LEVEL SECURITY;
ALTER TABLE dashboards FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON dashboards USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE findings FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON findings USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE flags FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON flags USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE mentee_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE mentee_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentee_assignments USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE mentee_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE mentee_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentee_profiles USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE mentor_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE mentor_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentor_profiles USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE mission_submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE mission_submissions FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mission_submissions USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON notifications USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE pauses ENABLE ROW LEVEL SECURITY;
ALTER TABLE pauses FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON pauses USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON sessions USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON users USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
ALTER TABLE work_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE work_items FORCE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON work_items USING (mentorsync_may_see(chapter_id)) WITH CHECK (mentorsync_may_see(chapter_id));
