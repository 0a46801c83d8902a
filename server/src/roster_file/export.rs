//! Writing a chapter's roster as a roster file (docs/import.md): cohorts, then people by
//! role and email. Importing the export into the same chapter changes nothing.

use super::parse::{self, COLUMNS};
use super::state::Roster;
use mentorsync_protocol::Role;
use std::collections::HashMap;

/// The roster as CSV.
pub fn export(roster: &Roster) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    let email: HashMap<&str, &str> = roster
        .accounts
        .values()
        .map(|a| (a.id.as_str(), a.email.as_str()))
        .collect();
    let email_of = |id: &str| email.get(id).copied().unwrap_or_default().to_owned();
    let key_of = |id: &str| {
        roster
            .cohorts
            .get(id)
            .map(|c| c.external_id.clone().unwrap_or_else(|| c.id.clone()))
            .unwrap_or_default()
    };
    let mut cohorts: Vec<_> = roster.cohorts.values().collect();
    cohorts.sort_by_key(|c| (c.starts_at, c.id.clone()));
    for c in cohorts {
        let directors: Vec<String> = roster
            .directors
            .iter()
            .filter(|(h, _)| *h == c.id)
            .map(|(_, d)| email_of(d))
            .collect();
        let row = [
            ("kind", "cohort".to_owned()),
            ("key", key_of(&c.id)),
            ("name", c.name.clone()),
            ("starts_on", parse::day_of(c.starts_at)),
            ("ends_on", parse::last_day(c.ends_at)),
            ("seats", c.seats.to_string()),
            ("directors", directors.join(";")),
        ];
        write(&mut w, &row)?;
    }
    let mut people: Vec<_> = roster.accounts.values().collect();
    people.sort_by_key(|a| (role_order(a.role), a.email.clone()));
    for a in people {
        let mut row = vec![
            ("kind", a.role.as_str().to_owned()),
            ("email", a.email.clone()),
            ("name", a.display_name.clone()),
            ("time_zone", a.time_zone.clone().unwrap_or_default()),
        ];
        if let Some(m) = roster.mentors.get(&a.id) {
            row.push((
                "coordinator",
                roster
                    .coordinator_of
                    .get(&a.id)
                    .map(|c| email_of(c))
                    .unwrap_or_default(),
            ));
            row.push(("capacity", m.capacity_weekly.to_string()));
            row.push(("specialties", m.specialties.join(";")));
            row.push((
                "certified_until",
                m.certification_expires_at
                    .map(parse::last_day)
                    .unwrap_or_default(),
            ));
        }
        if let Some(m) = roster.mentees.get(&a.id) {
            row.push((
                "mentor",
                roster
                    .mentor_of
                    .get(&a.id)
                    .map(|(_, m)| email_of(m))
                    .unwrap_or_default(),
            ));
            row.push((
                "cohort",
                m.cohort_id.as_deref().map(key_of).unwrap_or_default(),
            ));
            row.push(("interests", m.interests.join(";")));
        }
        write(&mut w, &row)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Cohorts' parents first: admins and staff, mentors, mentees.
fn role_order(r: Role) -> u8 {
    match r {
        Role::Admin => 0,
        Role::Coordinator => 1,
        Role::Director => 2,
        Role::Mentor => 3,
        Role::Mentee => 4,
    }
}

fn write(w: &mut csv::Writer<Vec<u8>>, cells: &[(&str, String)]) -> Result<(), csv::Error> {
    let record: Vec<&str> = COLUMNS
        .iter()
        .map(|c| {
            cells
                .iter()
                .find(|(k, _)| k == c)
                .map_or("", |(_, v)| v.as_str())
        })
        .collect();
    w.write_record(record)
}
