-- Mentees are told when a session with them is scheduled or cancelled: a third audience,
-- the mentee named by the notification.
ALTER TABLE notifications DROP CONSTRAINT notifications_audience_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_audience_check
    CHECK (audience IN ('coordinator', 'cohort_directors', 'mentee'));
