-- Row-level security, defence in depth: every chapter-owned table shows a transaction
-- only the rows of the chapter it acts for, so a query that forgot its chapter filter
-- returns nothing foreign. The server sets `mentorsync.chapter` at the start of every
-- transaction (`Db::read_as` / `Db::write_as`): the caller's chapter for requests, `*`
-- for its own work (sign-in lookups, jobs, dispatch), which it names explicitly. Unset,
-- nothing is visible (fail closed).
--
-- The policies bind every role but the tables' owner (no FORCE): a server that owns its
-- schema is not bound; an operator who wants the defence runs the server as a role that
-- may read and write the tables but does not own them (docs/security.md). Bound, the
-- planner estimates the policy conditions poorly on PostgreSQL 15 and some sync queries
-- pick slower plans (docs/performance.md), so it is the operator's choice.
--
-- The setting is read in a scalar sub-select, which PostgreSQL evaluates once per query
-- (an InitPlan) instead of once per row.

ALTER TABLE chapters ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON chapters
    USING (id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON audit_log
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE change_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON change_log
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE cohorts ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON cohorts
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE coordinator_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON coordinator_assignments
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE dashboards ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON dashboards
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON findings
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE flags ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON flags
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE mentee_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentee_assignments
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE mentee_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentee_profiles
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE mentor_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mentor_profiles
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE mission_submissions ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON mission_submissions
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON notifications
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE pauses ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON pauses
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON sessions
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON users
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
ALTER TABLE work_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY chapter_isolation ON work_items
    USING (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*')
    WITH CHECK (chapter_id = (SELECT current_setting('mentorsync.chapter', true)) OR (SELECT current_setting('mentorsync.chapter', true)) = '*');
