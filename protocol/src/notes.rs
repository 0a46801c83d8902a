//! Shared session notes: text several people edit offline, merged without losing an edit.
//!
//! A note is an Automerge document holding one text object. Every document starts from
//! the same initial change (a fixed actor and time), so documents created independently on
//! devices and on the server share their base, and concurrent edits merge instead of
//! replacing each other. Devices send only their changes; the server merges them.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc};

/// A notes document that cannot be read or a change that cannot be applied.
#[derive(Debug, thiserror::Error)]
#[error("invalid notes document or change: {0}")]
pub struct NotesError(String);

impl From<automerge::AutomergeError> for NotesError {
    fn from(e: automerge::AutomergeError) -> Self {
        NotesError(e.to_string())
    }
}

/// A session's notes.
pub struct Notes {
    doc: AutoCommit,
    text: ObjId,
}

impl Default for Notes {
    fn default() -> Self {
        Self::new()
    }
}

impl Notes {
    /// The common empty document (byte for byte the same everywhere).
    pub fn new() -> Notes {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([0u8; 16]));
        let text = doc.put_object(ROOT, "text", ObjType::Text).unwrap_or(ROOT);
        doc.commit_with(CommitOptions::default().with_time(0));
        Notes { doc, text }
    }

    /// A stored document; `None` means "no notes yet" (the common empty document).
    pub fn load(bytes: Option<&[u8]>) -> Result<Notes, NotesError> {
        let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
            return Ok(Notes::new());
        };
        let doc = AutoCommit::load(bytes)?;
        let text = match doc.get(ROOT, "text")? {
            Some((_, id)) => id,
            None => return Err(NotesError("no text in the document".into())),
        };
        Ok(Notes { doc, text })
    }

    /// The merged text.
    pub fn text(&self) -> String {
        self.doc.text(&self.text).unwrap_or_default()
    }

    /// Edits the text to read `new_text`, as `actor` (a device's stable id), and returns
    /// the change to send. Only the differing middle is replaced, so edits elsewhere in
    /// the text by others survive the merge.
    pub fn edit(&mut self, actor: &[u8], new_text: &str) -> Result<Vec<u8>, NotesError> {
        let heads = self.doc.get_heads();
        self.doc.set_actor(ActorId::from(actor));
        let old: Vec<char> = self.text().chars().collect();
        let new: Vec<char> = new_text.chars().collect();
        let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
        let max_suffix = old.len().min(new.len()) - prefix;
        let suffix = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(max_suffix)
            .take_while(|(a, b)| a == b)
            .count();
        let deleted = old.len() - prefix - suffix;
        let inserted: String = new[prefix..new.len() - suffix].iter().collect();
        if deleted > 0 || !inserted.is_empty() {
            self.doc
                .splice_text(&self.text, prefix, deleted as isize, &inserted)?;
            self.doc.commit();
        }
        Ok(self.doc.save_after(&heads))
    }

    /// Merges changes made elsewhere. Applying one twice is harmless; bytes that are not
    /// changes are skipped and leave the document as it was.
    pub fn apply(&mut self, changes: &[u8]) -> Result<(), NotesError> {
        self.doc.load_incremental(changes)?;
        Ok(())
    }

    /// The whole document, for storage.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_documents_share_their_base_and_merge_both_edits() {
        let mut server = Notes::new();
        let mut mentor = Notes::load(Some(&Notes::new().save())).unwrap();
        let mut coordinator = Notes::new();
        let a = mentor.edit(&[1; 16], "Goals: portfolio").unwrap();
        let b = coordinator.edit(&[2; 16], "Check-in Friday").unwrap();
        server.apply(&a).unwrap();
        server.apply(&b).unwrap();
        server.apply(&a).unwrap();
        let merged = server.text();
        assert!(
            merged.contains("Goals: portfolio") && merged.contains("Check-in Friday"),
            "{merged}"
        );
        mentor.apply(&b).unwrap();
        coordinator.apply(&a).unwrap();
        assert_eq!(mentor.text(), merged);
        assert_eq!(coordinator.text(), merged);
        // Round trip through storage.
        assert_eq!(Notes::load(Some(&server.save())).unwrap().text(), merged);
    }

    #[test]
    fn edits_only_touch_the_changed_middle() {
        let mut a = Notes::new();
        let base = a.edit(&[1; 16], "one two three").unwrap();
        let mut b = Notes::new();
        b.apply(&base).unwrap();
        let ca = a.edit(&[1; 16], "ONE two three").unwrap();
        let cb = b.edit(&[2; 16], "one two THREE").unwrap();
        a.apply(&cb).unwrap();
        b.apply(&ca).unwrap();
        assert_eq!(a.text(), "ONE two THREE");
        assert_eq!(b.text(), a.text());
        assert!(Notes::load(Some(b"garbage")).is_err());
        // Bytes that are not changes are skipped: the document is never corrupted.
        let _ = a.apply(b"garbage");
        assert_eq!(a.text(), "ONE two THREE");
    }
}
