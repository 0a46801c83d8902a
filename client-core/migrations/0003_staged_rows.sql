-- Pull rounds stage decoded rows instead of whole pages, so publishing a round is a few
-- INSERT … SELECT statements rather than parsing every page again (docs/performance.md, W1).
-- A later page of the round replaces an earlier page's entry for the same row; `data` is
-- NULL for a removal.
CREATE TABLE staged_rows (
    set_name  TEXT NOT NULL,
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    version   INTEGER NOT NULL,
    scopes    TEXT NOT NULL,
    data      TEXT,
    PRIMARY KEY (set_name, entity, id)
) WITHOUT ROWID;

-- What the first page of a round said, kept until the round is published.
ALTER TABLE sync_state ADD COLUMN round_pages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN round_full_reset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN round_scopes TEXT;

-- A round staged in the old format starts again from its published cursor.
DROP TABLE staged_pages;
UPDATE sync_state SET round_cursor = NULL;
