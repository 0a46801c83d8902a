//! Shared session notes: text several people edit offline, merged without losing an edit.
//!
//! A note is an Automerge document holding one text object. Every document starts from
//! the same initial change (a fixed actor and time), so documents created independently on
//! devices and on the server share their base, and concurrent edits merge instead of
//! replacing each other. Devices send only their changes; the server merges them.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc};

/// Most operations one edit may carry. A person's edit replaces a stretch of at most
/// [`MAX_TEXT_CHARS`] characters: one operation per character deleted and per character
/// inserted, so twice that is the most a legitimate editor sends.
pub const MAX_OPS_PER_EDIT: u64 = 2 * MAX_TEXT_CHARS as u64;
/// Longest merged text.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Largest stored document (text plus its edit history). A note past it takes no more
/// edits; a device refuses to load a larger one.
pub const MAX_DOC_BYTES: usize = 1024 * 1024;

/// A notes document that cannot be read, or a change that cannot or may not be applied.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    /// Not a document or change this format allows.
    #[error("invalid notes document or change: {0}")]
    Invalid(String),
    /// Within the format, but past a limit (named in the message).
    #[error("{0}")]
    TooLarge(String),
}

impl From<automerge::AutomergeError> for NotesError {
    fn from(e: automerge::AutomergeError) -> Self {
        NotesError::Invalid(e.to_string())
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
        if bytes.len() > MAX_DOC_BYTES {
            return Err(too_large_doc());
        }
        let doc = AutoCommit::load(bytes)?;
        let text = match doc.get(ROOT, "text")? {
            Some((_, id)) => id,
            None => return Err(NotesError::Invalid("no text in the document".into())),
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

    /// Merges changes made elsewhere. Applying one twice is harmless. The bytes are
    /// inspected before Automerge sees them ([`inspect_changes`]): only plain change
    /// chunks, at most [`MAX_OPS_PER_EDIT`] operations, so that a few bytes cannot expand
    /// into millions of operations. The merged text must stay within [`MAX_TEXT_CHARS`].
    pub fn apply(&mut self, changes: &[u8]) -> Result<(), NotesError> {
        inspect_changes(changes)?;
        self.doc.load_incremental(changes)?;
        if self.text().chars().count() > MAX_TEXT_CHARS {
            return Err(NotesError::TooLarge(format!(
                "notes may hold at most {MAX_TEXT_CHARS} characters"
            )));
        }
        Ok(())
    }

    /// The whole document, for storage; refused past [`MAX_DOC_BYTES`].
    pub fn save(&mut self) -> Result<Vec<u8>, NotesError> {
        let bytes = self.doc.save();
        if bytes.len() > MAX_DOC_BYTES {
            return Err(too_large_doc());
        }
        Ok(bytes)
    }
}

fn too_large_doc() -> NotesError {
    NotesError::TooLarge(format!(
        "the notes document (text and edit history) may be at most {} KiB",
        MAX_DOC_BYTES / 1024
    ))
}

/// Checks, without expanding anything, that `bytes` are what [`Notes::edit`] sends: one or
/// more uncompressed change chunks whose columns are not deflated and hold at most
/// [`MAX_OPS_PER_EDIT`] rows in all. Run-length encoding lets a few bytes describe a
/// billion operations, and a deflated chunk or column inflates without limit; both are
/// refused before Automerge decodes a single operation. (Chunk layout: Automerge's
/// binary format, "change chunks" and "column encodings".)
pub fn inspect_changes(bytes: &[u8]) -> Result<(), NotesError> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut r = Reader(bytes);
    let mut ops = 0u64;
    if bytes.is_empty() {
        return Err(NotesError::Invalid("no change".into()));
    }
    while !r.0.is_empty() {
        if r.take(4)? != MAGIC {
            return Err(NotesError::Invalid("not an Automerge change".into()));
        }
        r.take(4)?; // checksum: Automerge verifies it
        match r.take(1)?[0] {
            1 => {}
            0 => {
                return Err(NotesError::Invalid(
                    "send changes, not a whole document".into(),
                ));
            }
            2 => {
                return Err(NotesError::Invalid(
                    "compressed changes are not accepted".into(),
                ));
            }
            t => return Err(NotesError::Invalid(format!("unknown chunk type {t}"))),
        }
        let len = usize::try_from(r.uleb()?).map_err(|_| truncated())?;
        let mut c = Reader(r.take(len)?);
        let deps = c.uleb()?;
        for _ in 0..deps {
            c.take(32)?;
        }
        c.bytes()?; // actor
        c.uleb()?; // seq
        c.uleb()?; // start op
        c.sleb()?; // time
        c.bytes()?; // message
        let others = c.uleb()?;
        for _ in 0..others {
            c.bytes()?;
        }
        let columns = c.uleb()?;
        let mut specs = Vec::new();
        for _ in 0..columns.min(64) {
            specs.push((c.uleb()?, c.uleb()?));
        }
        if columns > 64 {
            return Err(NotesError::Invalid("too many columns".into()));
        }
        let mut rows = 0u64;
        for (spec, len) in specs {
            let data = c.take(usize::try_from(len).map_err(|_| truncated())?)?;
            if spec & 0b1000 != 0 {
                return Err(NotesError::Invalid(
                    "deflated columns are not accepted".into(),
                ));
            }
            rows = rows.max(column_rows(spec & 0b111, data)?);
        }
        ops = ops.saturating_add(rows);
        if ops > MAX_OPS_PER_EDIT {
            return Err(NotesError::TooLarge(format!(
                "a notes change may carry at most {MAX_OPS_PER_EDIT} operations"
            )));
        }
    }
    Ok(())
}

/// How many rows a column holds, from its run lengths (stops counting past the limit).
fn column_rows(kind: u64, data: &[u8]) -> Result<u64, NotesError> {
    const VALUE: u64 = 7;
    const BOOLEAN: u64 = 4;
    const DELTA: u64 = 3;
    const STRING: u64 = 5;
    let mut r = Reader(data);
    let mut rows = 0u64;
    while !r.0.is_empty() && rows <= MAX_OPS_PER_EDIT {
        match kind {
            VALUE => return Ok(0), // raw bytes, sized by the metadata column
            BOOLEAN => rows = rows.saturating_add(r.uleb()?),
            _ => {
                let count = r.sleb()?;
                let one = |r: &mut Reader| -> Result<(), NotesError> {
                    match kind {
                        STRING => r.bytes().map(|_| ()),
                        DELTA => r.sleb().map(|_| ()),
                        _ => r.uleb().map(|_| ()),
                    }
                };
                if count > 0 {
                    one(&mut r)?;
                    rows = rows.saturating_add(count.unsigned_abs());
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    rows = rows.saturating_add(n);
                    if rows > MAX_OPS_PER_EDIT {
                        break;
                    }
                    for _ in 0..n {
                        one(&mut r)?;
                    }
                } else {
                    rows = rows.saturating_add(r.uleb()?);
                }
            }
        }
    }
    Ok(rows)
}

fn truncated() -> NotesError {
    NotesError::Invalid("truncated change".into())
}

/// LEB128 and length-prefixed reads over a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], NotesError> {
        if n > self.0.len() {
            return Err(truncated());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, NotesError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(NotesError::Invalid("overlong number".into()))
    }

    fn sleb(&mut self) -> Result<i64, NotesError> {
        let mut value = 0i64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift + 7 < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err(NotesError::Invalid("overlong number".into()))
    }

    fn bytes(&mut self) -> Result<&'a [u8], NotesError> {
        let n = usize::try_from(self.uleb()?).map_err(|_| truncated())?;
        self.take(n)
    }
}

/// Hostile changes, for the tests that prove the limits hold (server and device).
#[cfg(any(test, feature = "notes-attacks"))]
// Test support over a chunk `Notes::edit` made: a malformed one is the test's bug.
#[allow(clippy::unwrap_used)]
pub mod attacks {
    use super::Reader;
    use sha2::Digest;

    /// Rewrites a one-character insertion (as [`super::Notes::edit`] makes it) into a
    /// valid change chunk, checksum included and barely larger, that inserts `true`
    /// `times` times: every column's run repeated, the value column empty.
    ///
    /// # Panics
    /// If `chunk` is not a change chunk.
    pub fn run_length_bomb(chunk: &[u8], times: u64) -> Vec<u8> {
        fn uleb(mut v: u64, out: &mut Vec<u8>) {
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        fn sleb(v: i64, out: &mut Vec<u8>) {
            let mut v = v;
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0) {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        let mut r = Reader(&chunk[9..]);
        let len = r.uleb().unwrap() as usize;
        let header_len = chunk.len() - r.0.len();
        let mut c = Reader(&r.0[..len]);
        let body_start = c.0.as_ptr() as usize;
        for _ in 0..c.uleb().unwrap() {
            c.take(32).unwrap();
        }
        c.bytes().unwrap();
        c.uleb().unwrap();
        c.uleb().unwrap();
        c.sleb().unwrap();
        c.bytes().unwrap();
        for _ in 0..c.uleb().unwrap() {
            c.bytes().unwrap();
        }
        let prefix = &chunk[header_len..header_len + (c.0.as_ptr() as usize - body_start)];
        let specs: Vec<(u64, u64)> = (0..c.uleb().unwrap())
            .map(|_| (c.uleb().unwrap(), c.uleb().unwrap()))
            .collect();
        let mut body = prefix.to_vec();
        let mut data = Vec::new();
        let mut meta = Vec::new();
        uleb(specs.len() as u64, &mut meta);
        for (spec, len) in specs {
            let col = c.take(len as usize).unwrap();
            let mut cr = Reader(col);
            let mut out = Vec::new();
            match spec & 0b111 {
                // Values: none; every operation inserts `true`, which takes no bytes.
                7 => {}
                // Booleans: every run `times` times longer.
                4 => {
                    while !cr.0.is_empty() {
                        uleb(cr.uleb().unwrap() * times, &mut out);
                    }
                }
                // Value metadata: `true` (length 0, type 2), `times` times.
                6 => {
                    sleb(times as i64, &mut out);
                    uleb(2, &mut out);
                }
                // Run-length columns: the one operation's entry, `times` times.
                kind => match cr.sleb().unwrap() {
                    0 => {
                        sleb(0, &mut out);
                        uleb(times, &mut out);
                    }
                    _ => {
                        sleb(times as i64, &mut out);
                        let start = cr.0;
                        match kind {
                            5 => drop(cr.bytes().unwrap()),
                            3 => drop(cr.sleb().unwrap()),
                            _ => drop(cr.uleb().unwrap()),
                        }
                        out.extend_from_slice(&start[..start.len() - cr.0.len()]);
                    }
                },
            }
            uleb(spec, &mut meta);
            uleb(out.len() as u64, &mut meta);
            data.extend_from_slice(&out);
        }
        body.extend_from_slice(&meta);
        body.extend_from_slice(&data);
        let mut out = chunk[..9].to_vec();
        uleb(body.len() as u64, &mut out);
        out.extend_from_slice(&body);
        let checksum = sha2::Sha256::digest(&out[8..]);
        out[4..8].copy_from_slice(&checksum[..4]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_documents_share_their_base_and_merge_both_edits() {
        let mut server = Notes::new();
        let mut mentor = Notes::load(Some(&Notes::new().save().unwrap())).unwrap();
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
        assert_eq!(
            Notes::load(Some(&server.save().unwrap())).unwrap().text(),
            merged
        );
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

    #[test]
    fn the_largest_legitimate_edit_passes_inspection() {
        let mut a = Notes::new();
        let long: String = "x".repeat(MAX_TEXT_CHARS);
        let insert = a.edit(&[1; 16], &long).unwrap();
        assert_eq!(insert[8], 1, "edits are plain change chunks");
        inspect_changes(&insert).unwrap();
        let replace = a.edit(&[1; 16], &"y".repeat(MAX_TEXT_CHARS)).unwrap();
        inspect_changes(&replace).unwrap();
        let mut b = Notes::new();
        b.apply(&insert).unwrap();
        b.apply(&replace).unwrap();
        assert_eq!(b.text(), "y".repeat(MAX_TEXT_CHARS));
    }

    /// A change whose action column says "this op, a billion times" in a few bytes.
    #[test]
    fn a_run_length_bomb_is_refused_before_it_is_decoded() {
        let mut a = Notes::new();
        let one = a.edit(&[1; 16], "x").unwrap();
        let bomb = attacks::run_length_bomb(&one, 1_000_000_000);
        let started = std::time::Instant::now();
        let err = Notes::new().apply(&bomb).unwrap_err();
        assert!(matches!(err, NotesError::TooLarge(_)), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        // A whole document, and garbage, are refused too.
        assert!(Notes::new().apply(&a.save().unwrap()).is_err());
        assert!(inspect_changes(b"\x85\x6f\x4a\x83").is_err());
    }
}
