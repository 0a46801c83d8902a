-- Scheduled jobs, the notification outbox, reconciliation findings and dashboard rows.

-- Set by the overdue job (with an audit row) the first time an item is seen past its SLA.
ALTER TABLE work_items ADD COLUMN overdue_at BIGINT;

-- Cohort dashboards are visible to the cohort's directors: a fourth scope column.
ALTER TABLE change_log ADD COLUMN cohort_id TEXT;

-- One row per run of a job per time slot. The primary key is the claim: of several server
-- instances reaching the same slot, exactly one inserts the row and runs the job.
CREATE TABLE job_runs (
    job          TEXT NOT NULL,
    slot         BIGINT NOT NULL,
    instance     TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    outcome      TEXT CHECK (outcome IN ('ok', 'failed')),
    changed      BIGINT NOT NULL DEFAULT 0,
    details      TEXT,
    PRIMARY KEY (job, slot)
);
CREATE INDEX job_runs_latest ON job_runs (job, started_at);

-- Written in the transaction of its cause. The recipient is not stored until dispatch:
-- `audience` says how to find it then (the mentor's current coordinator, else the chapter
-- admin; or the directors of a cohort).
CREATE TABLE notifications (
    id               TEXT PRIMARY KEY,
    chapter_id       TEXT NOT NULL REFERENCES chapters(id),
    kind             TEXT NOT NULL,
    audience         TEXT NOT NULL CHECK (audience IN ('coordinator', 'cohort_directors')),
    mentor_id        TEXT,
    mentee_id        TEXT,
    cohort_id        TEXT,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    message          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'undeliverable', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    settled_at       BIGINT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_chapter_status ON notifications (chapter_id, status, created_at);

-- One row per notification, channel and recipient. Written as 'sending' (and committed)
-- before the channel is called, so a notification is never sent twice on a channel: a
-- crash mid-send leaves 'sending', which is never retried.
CREATE TABLE notification_deliveries (
    notification_id  TEXT NOT NULL REFERENCES notifications(id),
    channel          TEXT NOT NULL,
    recipient_id     TEXT NOT NULL REFERENCES users(id),
    status           TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 1,
    at               BIGINT NOT NULL,
    error            TEXT,
    PRIMARY KEY (notification_id, channel, recipient_id)
);
CREATE INDEX notification_deliveries_by_recipient ON notification_deliveries (recipient_id, at);

-- What capacity checks and reconciliation found. Recorded, shown, never silently fixed;
-- a finding closes (resolved_at) when a later run no longer sees it.
CREATE TABLE findings (
    id             TEXT PRIMARY KEY,
    chapter_id     TEXT NOT NULL REFERENCES chapters(id),
    kind           TEXT NOT NULL,
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    mentor_id      TEXT,
    details        TEXT NOT NULL,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    resolved_at    BIGINT
);
CREATE UNIQUE INDEX findings_one_open ON findings (kind, entity, entity_id) WHERE resolved_at IS NULL;
CREATE INDEX findings_by_chapter ON findings (chapter_id, resolved_at, kind);

-- Server-computed dashboards, synced like any other row. `kind` is mentor, coordinator
-- or cohort; the scope columns say who sees it.
CREATE TABLE dashboards (
    id              TEXT PRIMARY KEY,
    chapter_id      TEXT NOT NULL REFERENCES chapters(id),
    kind            TEXT NOT NULL CHECK (kind IN ('mentor', 'coordinator', 'cohort')),
    subject_id      TEXT NOT NULL,
    mentor_id       TEXT,
    coordinator_id  TEXT,
    cohort_id       TEXT,
    figures         TEXT NOT NULL,
    computed_at     BIGINT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX dashboards_by_chapter_kind ON dashboards (chapter_id, kind);
