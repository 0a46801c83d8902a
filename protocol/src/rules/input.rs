//! Input checks that need no facts: a command that fails them is refused before anything is
//! read, with `validation_failed` and the field it is about.

use crate::{ErrorCode, Refusal};

/// A `validation_failed` refusal.
pub(crate) fn invalid(message: String) -> Refusal {
    Refusal::new(ErrorCode::VALIDATION_FAILED, message)
}

/// A row id: a UUID, in its canonical lowercase form.
pub fn id(field: &str, value: &str) -> Result<String, Refusal> {
    uuid::Uuid::parse_str(value)
        .map(|u| u.to_string())
        .map_err(|_| invalid(format!("`{field}` must be a UUID")))
}

/// The id of a row a command creates: the device's (checked), or a new UUIDv7. Devices
/// choose ids so that they can refer to the row before the server has seen it.
pub fn new_id(field: &str, chosen: Option<&str>) -> Result<String, Refusal> {
    match chosen {
        Some(v) => id(field, v),
        None => Ok(uuid::Uuid::now_v7().to_string()),
    }
}

/// Free text that must say something and not be a novel; trimmed.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, Refusal> {
    let t = value.trim();
    if t.is_empty() {
        return Err(invalid(format!("`{field}` must not be empty")));
    }
    if t.chars().count() > max_chars {
        return Err(invalid(format!(
            "`{field}` must be at most {max_chars} characters"
        )));
    }
    Ok(t.to_owned())
}

/// Optional free text; empty counts as absent.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max_chars).map(Some),
    }
}

/// A time in epoch milliseconds between 2000 and 2200: anything else is a unit mistake.
pub fn time(field: &str, value: i64) -> Result<i64, Refusal> {
    const Y2000: i64 = 946_684_800_000;
    const Y2200: i64 = 7_258_118_400_000;
    if (Y2000..Y2200).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "`{field}` must be epoch milliseconds between 2000 and 2200"
        )))
    }
}

/// An http(s) link.
pub fn link(field: &str, value: Option<&str>) -> Result<Option<String>, Refusal> {
    match optional_text(field, value, 2000)? {
        Some(l) if !(l.starts_with("https://") || l.starts_with("http://")) => {
            Err(invalid(format!("`{field}` must be an http(s) link")))
        }
        other => Ok(other),
    }
}

/// A time for a person to read in a message (UTC, RFC 3339).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_uuids() {
        assert_eq!(
            id("x", "0192F0C0-0000-7000-8000-000000000000").unwrap(),
            "0192f0c0-0000-7000-8000-000000000000"
        );
        assert!(id("x", "1; DROP TABLE users").is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("r", "  leave ", 10).unwrap(), "leave");
        assert!(text("r", "   ", 10).is_err());
        assert!(text("r", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn times_reject_seconds_and_garbage() {
        assert!(time("t", 1_700_000_000).is_err());
        assert!(time("t", 1_700_000_000_000).is_ok());
    }
}
