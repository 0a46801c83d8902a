-- Today's sessions and the cockpit read sessions by time.
CREATE INDEX view_by_time ON view_rows (entity, at);
