//! Input checks that need no database: they fail with 400 before anything is read.

use super::DomainError;

/// A row id: a UUID in its canonical lowercase form.
pub fn id(field: &str, value: &str) -> Result<String, DomainError> {
    uuid::Uuid::parse_str(value)
        .map(|u| u.to_string())
        .map_err(|_| DomainError::Invalid(format!("`{field}` must be a UUID")))
}

/// Free text that must say something and not be a novel.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, DomainError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(DomainError::Invalid(format!("`{field}` must not be empty")));
    }
    if t.chars().count() > max_chars {
        return Err(DomainError::Invalid(format!(
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
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max_chars).map(Some),
    }
}

/// A time for a person to read in a message (UTC, RFC 3339).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// A time in epoch milliseconds between 2000 and 2200: anything else is a unit mistake.
pub fn time(field: &str, value: i64) -> Result<i64, DomainError> {
    const Y2000: i64 = 946_684_800_000;
    const Y2200: i64 = 7_258_118_400_000;
    if (Y2000..Y2200).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::Invalid(format!(
            "`{field}` must be epoch milliseconds between 2000 and 2200"
        )))
    }
}

/// An http(s) link.
pub fn link(field: &str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    match optional_text(field, value, 2000)? {
        Some(l) if !(l.starts_with("https://") || l.starts_with("http://")) => Err(
            DomainError::Invalid(format!("`{field}` must be an http(s) link")),
        ),
        other => Ok(other),
    }
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
