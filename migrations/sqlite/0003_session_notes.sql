-- Shared session notes: the merged Automerge document and its text.
ALTER TABLE sessions ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN notes_doc BLOB;
