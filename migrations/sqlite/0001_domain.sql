-- mentorsync domain schema (SQLite). Times are epoch milliseconds (UTC); ids are UUID text.
-- Every status column has a CHECK; invariants that code also enforces (one open pause per
-- mentor, one active mentor per mentee, one coordinator per mentor) are unique partial
-- indexes, so the database is the last line of defence.

CREATE TABLE chapters (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    chapter_id    TEXT NOT NULL REFERENCES chapters(id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'mentor', 'mentee', 'director')),
    password_hash TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX users_by_chapter_role_name ON users (chapter_id, role, display_name, id);

CREATE TABLE cohorts (
    id          TEXT PRIMARY KEY,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    name        TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    seats       INTEGER NOT NULL CHECK (seats >= 0),
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX cohorts_by_chapter ON cohorts (chapter_id);

CREATE TABLE cohort_directors (
    cohort_id    TEXT NOT NULL REFERENCES cohorts(id),
    director_id  TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (cohort_id, director_id)
) STRICT;
CREATE INDEX cohort_directors_by_director ON cohort_directors (director_id);

CREATE TABLE mentor_profiles (
    user_id                   TEXT PRIMARY KEY REFERENCES users(id),
    chapter_id                TEXT NOT NULL REFERENCES chapters(id),
    status                    TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'inactive')),
    capacity_weekly           INTEGER NOT NULL DEFAULT 10 CHECK (capacity_weekly BETWEEN 1 AND 100),
    specialties               TEXT NOT NULL DEFAULT '[]',
    availability              TEXT NOT NULL DEFAULT '{}',
    certification_expires_at  INTEGER,
    version                   INTEGER NOT NULL DEFAULT 1,
    updated_at                INTEGER NOT NULL
) STRICT;
CREATE INDEX mentor_profiles_by_chapter_status ON mentor_profiles (chapter_id, status);

CREATE TABLE mentee_profiles (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    cohort_id   TEXT REFERENCES cohorts(id),
    interests   TEXT NOT NULL DEFAULT '[]',
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX mentee_profiles_by_cohort ON mentee_profiles (cohort_id);

CREATE TABLE coordinator_assignments (
    id              TEXT PRIMARY KEY,
    chapter_id      TEXT NOT NULL REFERENCES chapters(id),
    coordinator_id  TEXT NOT NULL REFERENCES users(id),
    mentor_id       TEXT NOT NULL REFERENCES mentor_profiles(user_id),
    status          TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    version         INTEGER NOT NULL DEFAULT 1,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX coordinator_assignments_one_active ON coordinator_assignments (mentor_id) WHERE status = 'active';
CREATE INDEX coordinator_assignments_by_coordinator ON coordinator_assignments (coordinator_id, status, mentor_id);

CREATE TABLE pauses (
    id          TEXT PRIMARY KEY,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    mentor_id   TEXT NOT NULL REFERENCES mentor_profiles(user_id),
    status      TEXT NOT NULL CHECK (status IN ('requested', 'scheduled', 'active', 'ended', 'declined', 'cancelled')),
    reason      TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER,
    created_by  TEXT REFERENCES users(id),
    decided_by  TEXT REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL,
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
) STRICT;
CREATE UNIQUE INDEX pauses_one_open_per_mentor ON pauses (mentor_id) WHERE status IN ('requested', 'scheduled', 'active');
CREATE INDEX pauses_by_mentor ON pauses (mentor_id, status);

CREATE TABLE mentee_assignments (
    id          TEXT PRIMARY KEY,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    mentor_id   TEXT NOT NULL REFERENCES mentor_profiles(user_id),
    mentee_id   TEXT NOT NULL REFERENCES mentee_profiles(user_id),
    status      TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX mentee_assignments_one_active ON mentee_assignments (mentee_id) WHERE status = 'active';
CREATE INDEX mentee_assignments_by_mentor ON mentee_assignments (mentor_id, status);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    chapter_id        TEXT NOT NULL REFERENCES chapters(id),
    mentor_id         TEXT NOT NULL REFERENCES mentor_profiles(user_id),
    mentee_id         TEXT NOT NULL REFERENCES mentee_profiles(user_id),
    status            TEXT NOT NULL CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    scheduled_at      INTEGER NOT NULL,
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    meeting_link      TEXT,
    created_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_mentor_time ON sessions (mentor_id, scheduled_at);
CREATE INDEX sessions_by_mentee_time ON sessions (mentee_id, scheduled_at);

CREATE TABLE mission_submissions (
    id            TEXT PRIMARY KEY,
    chapter_id    TEXT NOT NULL REFERENCES chapters(id),
    mentee_id     TEXT NOT NULL REFERENCES mentee_profiles(user_id),
    mentor_id     TEXT REFERENCES mentor_profiles(user_id),
    mission_ref   TEXT NOT NULL,
    title         TEXT NOT NULL,
    content       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'changes_requested')),
    submitted_at  INTEGER NOT NULL,
    reviewed_at   INTEGER,
    reviewed_by   TEXT REFERENCES users(id),
    feedback      TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX mission_submissions_by_mentee ON mission_submissions (mentee_id, submitted_at);
CREATE INDEX mission_submissions_by_mentor ON mission_submissions (mentor_id, status);

CREATE TABLE work_items (
    id            TEXT PRIMARY KEY,
    chapter_id    TEXT NOT NULL REFERENCES chapters(id),
    mentor_id     TEXT REFERENCES mentor_profiles(user_id),
    mentee_id     TEXT REFERENCES mentee_profiles(user_id),
    kind          TEXT NOT NULL CHECK (kind IN ('mission_review', 'session_followup', 'risk_assessment', 'goal_feedback')),
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status        TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    sla_due_at    INTEGER NOT NULL,
    reference_id  TEXT,
    created_at    INTEGER NOT NULL,
    completed_at  INTEGER,
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX work_items_queue ON work_items (mentor_id, status, sla_due_at);
CREATE INDEX work_items_by_reference ON work_items (reference_id);
CREATE INDEX work_items_by_chapter_status ON work_items (chapter_id, status, sla_due_at);

CREATE TABLE flags (
    id          TEXT PRIMARY KEY,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    mentee_id   TEXT NOT NULL REFERENCES mentee_profiles(user_id),
    raised_by   TEXT NOT NULL REFERENCES users(id),
    severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status      TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    decided_by  TEXT REFERENCES users(id),
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX flags_by_mentee_status ON flags (mentee_id, status);

-- One row per status change (and per creation), written in the transaction of the change.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chapter_id  TEXT NOT NULL REFERENCES chapters(id),
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor_id    TEXT REFERENCES users(id),
    actor_role  TEXT NOT NULL CHECK (actor_role IN ('admin', 'coordinator', 'mentor', 'mentee', 'director', 'system')),
    at          INTEGER NOT NULL,
    details     TEXT
) STRICT;
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id, id);

-- Authentication: tokens are stored only as SHA-256 hashes. A refresh token may be used
-- once; its successor joins the same family, and reusing a spent one revokes the family.
CREATE TABLE token_families (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX token_families_by_user ON token_families (user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES token_families(id),
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

CREATE TABLE access_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES token_families(id),
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_by_family ON access_tokens (family_id);

CREATE TABLE login_failures (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    email  TEXT NOT NULL,
    at     INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_email ON login_failures (email, at);
