//! Merging shared notes without holding the write lock. An Automerge merge of a large
//! document costs real time; inside the write transaction it would hold every other
//! writer (on SQLite, all of them). So the merge runs first, on the blocking pool, against
//! the session as a read transaction saw it; the command then only checks, under its lock,
//! that the session is still at that version and writes the result. When someone else
//! edited in between, the command merges again in its transaction — bounded by the notes
//! limits (`mentorsync_protocol::notes`), and rare.

use super::DomainError;
use crate::db::{Acting, Db, q};
use mentorsync_protocol::Command;
use mentorsync_protocol::notes::Notes;

/// Changes at most this large (base64-decoded) are accepted in one edit.
const MAX_CHANGE_BYTES: usize = 64 * 1024;

/// A notes edit merged ahead of its transaction.
#[derive(Debug, Clone)]
pub struct Premerged {
    session_id: String,
    version: i64,
    text: String,
    doc: Vec<u8>,
}

impl Premerged {
    /// The merged text and document, if they were merged from the session at `version`.
    pub(super) fn for_session(&self, session_id: &str, version: i64) -> Option<(String, Vec<u8>)> {
        (self.session_id == session_id && self.version == version)
            .then(|| (self.text.clone(), self.doc.clone()))
    }
}

/// Decodes base64 `changes` and merges them into `stored`: the merged text and document.
pub(super) fn merge(
    stored: Option<&[u8]>,
    changes: &str,
) -> Result<(String, Vec<u8>), DomainError> {
    use base64::Engine;
    let changes = base64::engine::general_purpose::STANDARD
        .decode(changes.trim())
        .map_err(|_| DomainError::Invalid("`changes` must be base64".into()))?;
    if changes.len() > MAX_CHANGE_BYTES {
        return Err(DomainError::Invalid(
            "`changes` must be at most 64 KiB".into(),
        ));
    }
    let mut notes = Notes::load(stored)?;
    notes.apply(&changes)?;
    Ok((notes.text(), notes.save()?))
}

/// Merges a notes edit ahead of its write transaction, for `chapter`; `None` for any other
/// command, or when the merge fails (the command then fails the same way, cheaply, in its
/// transaction, with the right error).
pub async fn premerge(db: &Db, chapter: &str, command: &Command) -> Option<Premerged> {
    let Command::EditSessionNotes(a) = command else {
        return None;
    };
    let mut tx = db.read_as(Acting::Chapter(chapter)).await.ok()?;
    let (version, stored): (i64, Option<Vec<u8>>) = tx
        .fetch_optional(
            q("SELECT version, notes_doc FROM sessions WHERE id = $1 AND chapter_id = $2")
                .bind(a.session_id.as_str())
                .bind(chapter),
        )
        .await
        .ok()??;
    tx.rollback().await.ok()?;
    let changes = a.changes.clone();
    let (text, doc) = tokio::task::spawn_blocking(move || merge(stored.as_deref(), &changes))
        .await
        .ok()?
        .ok()?;
    Some(Premerged {
        session_id: a.session_id.clone(),
        version,
        text,
        doc,
    })
}
