//! Reading a roster file: one CSV with a header, one row per cohort or person
//! (docs/import.md). Every row is checked here without the database; a file with any bad
//! row is refused whole, each error with its line number.

use mentorsync_protocol::Role;
use mentorsync_protocol::rules::admin;
use std::collections::HashMap;

/// The columns a roster file may have, in the order `export` writes them.
pub const COLUMNS: [&str; 16] = [
    "kind",
    "key",
    "email",
    "name",
    "time_zone",
    "coordinator",
    "mentor",
    "cohort",
    "capacity",
    "specialties",
    "interests",
    "certified_until",
    "starts_on",
    "ends_on",
    "seats",
    "directors",
];

/// The most rows one file may hold (a chapter is designed for 21,000 people).
pub const MAX_ROWS: usize = 50_000;

/// A cohort row.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortLine {
    /// The programme's key (`external_id`), or a cohort id as `export` writes it.
    pub key: String,
    /// Name.
    pub name: String,
    /// Epoch ms of the first day's start (UTC).
    pub starts_at: i64,
    /// Epoch ms of the day after the last day (UTC).
    pub ends_at: i64,
    /// Seats.
    pub seats: i64,
    /// Directors' emails.
    pub directors: Vec<String>,
}

/// A person row.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonLine {
    /// Their role.
    pub role: Role,
    /// Lowercased email: the key.
    pub email: String,
    /// Display name.
    pub name: String,
    /// IANA time zone, if given.
    pub time_zone: Option<String>,
    /// Mentors: their coordinator's email.
    pub coordinator: Option<String>,
    /// Mentees: their mentor's email.
    pub mentor: Option<String>,
    /// Mentees: their cohort's key.
    pub cohort: Option<String>,
    /// Mentors: weekly slots.
    pub capacity: Option<i64>,
    /// Mentors: specialties; mentees: interests.
    pub topics: Option<Vec<String>>,
    /// Mentors: epoch ms the certification expires (the day after `certified_until`).
    pub certified_until: Option<i64>,
}

/// One row of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A cohort.
    Cohort(CohortLine),
    /// A person.
    Person(PersonLine),
}

/// A problem with one line (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// The line in the file.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// A parsed file: its rows with their line numbers.
pub type Parsed = Vec<(u64, Line)>;

const DAY: i64 = 86_400_000;

/// `YYYY-MM-DD` as epoch ms of that day's start, UTC.
pub fn day_start(text: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The day an instant falls on, `YYYY-MM-DD` (UTC).
pub fn day_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The last day still inside a period that ends (exclusively) at `end_ms`.
pub fn last_day(end_ms: i64) -> String {
    day_of(end_ms - 1)
}

/// `a;b;c` as a list (empty parts dropped).
fn list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads and checks a whole file.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_lowercase()).collect(),
        Err(e) => return Err(vec![err(1, format!("unreadable header: {e}"))]),
    };
    let mut errors = Vec::new();
    for c in &header {
        if !COLUMNS.contains(&c.as_str()) {
            errors.push(err(
                1,
                format!("unknown column `{c}` (known: {})", COLUMNS.join(", ")),
            ));
        }
    }
    if !header.iter().any(|c| c == "kind") {
        errors.push(err(1, "the header must name a `kind` column".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        if out.len() + errors.len() >= MAX_ROWS {
            errors.push(err(line, format!("a file holds at most {MAX_ROWS} rows")));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let cells: HashMap<&str, &str> = header
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .collect();
        match row(&cells) {
            Ok(l) => out.push((line, l)),
            Err(m) => errors.push(err(line, m)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn err(line: u64, message: String) -> LineError {
    LineError { line, message }
}

fn row(c: &HashMap<&str, &str>) -> Result<Line, String> {
    let get = |k: &str| c.get(k).copied();
    let need = |k: &str| get(k).ok_or_else(|| format!("`{k}` is required"));
    let refuse = |r: mentorsync_protocol::Refusal| r.reason;
    let kind = need("kind")?.to_lowercase();
    let only = |allowed: &[&str]| -> Result<(), String> {
        for col in COLUMNS {
            if col != "kind" && get(col).is_some() && !allowed.contains(&col) {
                return Err(format!("`{col}` does not apply to a {kind} row"));
            }
        }
        Ok(())
    };
    let int = |k: &str| -> Result<Option<i64>, String> {
        get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| format!("`{k}` must be a whole number"))
            })
            .transpose()
    };
    let day = |k: &str| -> Result<Option<i64>, String> {
        get(k)
            .map(|v| day_start(v).ok_or_else(|| format!("`{k}` must be a date YYYY-MM-DD")))
            .transpose()
    };
    if kind == "cohort" {
        only(&["key", "name", "starts_on", "ends_on", "seats", "directors"])?;
        let key = need("key")?.to_owned();
        admin::external_id(Some(&key)).map_err(refuse)?;
        let starts_at = day("starts_on")?.ok_or("`starts_on` is required")?;
        let ends_at = day("ends_on")?.ok_or("`ends_on` is required")? + DAY;
        if ends_at <= starts_at {
            return Err("`ends_on` must not be before `starts_on`".into());
        }
        let seats = int("seats")?.ok_or("`seats` is required")?;
        if !(0..=admin::SEATS_MAX).contains(&seats) {
            return Err(format!(
                "`seats` must be between 0 and {}",
                admin::SEATS_MAX
            ));
        }
        let directors = get("directors")
            .map(list)
            .unwrap_or_default()
            .iter()
            .map(|e| admin::email(e).map_err(refuse))
            .collect::<Result<_, _>>()?;
        let name = mentorsync_protocol::rules::input::text("name", need("name")?, admin::NAME_MAX)
            .map_err(refuse)?;
        return Ok(Line::Cohort(CohortLine {
            key,
            name,
            starts_at,
            ends_at,
            seats,
            directors,
        }));
    }
    let role: Role = kind.parse().map_err(|_| {
        format!(
            "`kind` must be cohort, admin, coordinator, director, mentor or mentee, not `{kind}`"
        )
    })?;
    match role {
        Role::Mentor => only(&[
            "email",
            "name",
            "time_zone",
            "coordinator",
            "capacity",
            "specialties",
            "certified_until",
        ])?,
        Role::Mentee => only(&[
            "email",
            "name",
            "time_zone",
            "mentor",
            "cohort",
            "interests",
        ])?,
        _ => only(&["email", "name", "time_zone"])?,
    }
    let email = admin::email(need("email")?).map_err(refuse)?;
    let name = mentorsync_protocol::rules::input::text("name", need("name")?, admin::NAME_MAX)
        .map_err(refuse)?;
    let time_zone = admin::time_zone(get("time_zone")).map_err(refuse)?;
    let capacity = int("capacity")?
        .map(admin::capacity)
        .transpose()
        .map_err(refuse)?;
    let (field, topics) = match role {
        Role::Mentor => ("specialties", get("specialties")),
        _ => ("interests", get("interests")),
    };
    let topics = topics
        .map(|t| admin::topics(field, &list(t)))
        .transpose()
        .map_err(refuse)?;
    let person_ref = |k: &str| get(k).map(|e| admin::email(e).map_err(refuse)).transpose();
    Ok(Line::Person(PersonLine {
        role,
        email,
        name,
        time_zone,
        coordinator: person_ref("coordinator")?,
        mentor: person_ref("mentor")?,
        cohort: get("cohort").map(str::to_owned),
        capacity,
        topics,
        certified_until: day("certified_until")?.map(|d| d + DAY),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_row_is_named_by_its_line() {
        let file = b"kind,email,name,capacity\nmentor,ada@x.org,Ada,5\nmentor,not-an-email,Bo,3\nmentee,cy@x.org,Cy,4\nwizard,d@x.org,D,\n";
        let errors = parse(file).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{errors:?}");
        assert!(errors[1].message.contains("capacity"), "{errors:?}");
    }

    #[test]
    fn cohort_days_cover_their_last_day() {
        let file = b"kind,key,name,starts_on,ends_on,seats,directors\ncohort,s26,Spring,2026-03-01,2026-06-30,40,Di@X.org;e@x.org\n";
        let rows = parse(file).unwrap();
        let Line::Cohort(c) = &rows[0].1 else {
            panic!()
        };
        assert_eq!(last_day(c.ends_at), "2026-06-30");
        assert_eq!(day_of(c.starts_at), "2026-03-01");
        assert_eq!(c.directors, vec!["di@x.org", "e@x.org"]);
    }

    #[test]
    fn unknown_columns_refuse_the_file() {
        assert_eq!(parse(b"kind,emial\n").unwrap_err()[0].line, 1);
    }
}
