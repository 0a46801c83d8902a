//! Importing a roster file: every row checked first (the file is refused whole, with line
//! numbers, if any is bad), then diffed against the chapter and applied as the domain
//! commands an admin would issue, in one transaction (audit, change log, pokes; nothing
//! half-imported). Rows are matched by email and cohort key, and only differences become
//! commands, so importing the same file again changes nothing. A dry run applies
//! everything, reports it, and rolls back: the preview is exactly what an import does.

use super::parse::{self, CohortLine, Line, LineError, PersonLine};
use super::state::Roster;
use crate::db::{Acting, Db, q};
use crate::domain::{self, Actor, DomainError};
use mentorsync_protocol::Role;
use mentorsync_protocol::command::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows read.
    pub rows: u64,
    /// Commands run, by name (`create_user`, `assign_coordinator`, …); empty when the
    /// chapter already matched the file.
    pub changes: BTreeMap<String, u64>,
    /// True when nothing was kept.
    pub dry_run: bool,
}

impl ImportReport {
    /// How many commands ran.
    pub fn total(&self) -> u64 {
        self.changes.values().sum()
    }
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows that are wrong; nothing was changed.
    #[error("{} line(s) are invalid; nothing was imported", .0.len())]
    Invalid(Vec<LineError>),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A command the import will run, with the line it comes from.
struct Step {
    line: u64,
    command: Command,
}

/// Imports `bytes` into the actor's chapter; `progress(done, total)` follows the commands.
pub async fn import(
    db: &Db,
    actor: &Actor,
    bytes: &[u8],
    dry_run: bool,
    now: i64,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<ImportReport, ImportError> {
    let lines = parse::parse(bytes).map_err(ImportError::Invalid)?;
    let chapter = actor.chapter_id.as_str();
    let mut tx = db.write_as(Acting::Chapter(chapter)).await?;
    let roster = Roster::load(&mut tx, chapter).await?;
    let mut errors = check(&lines, &roster);
    for (line, email) in new_emails(&lines, &roster) {
        let elsewhere = tx
            .exists(
                q("SELECT 1 FROM users WHERE lower(email) = $1 AND chapter_id <> $2")
                    .bind(email)
                    .bind(chapter),
            )
            .await?;
        if elsewhere {
            errors.push(LineError {
                line,
                message: format!("{email} signs in to another chapter already"),
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Invalid(errors));
    }
    let steps = plan(&lines, &roster);
    let mut report = ImportReport {
        rows: lines.len() as u64,
        changes: BTreeMap::new(),
        dry_run,
    };
    let total = steps.len() as u64;
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = domain::apply(&mut tx, actor, now, &step.command, None).await {
            let message = match e {
                DomainError::Database(e) => return Err(e.into()),
                e => format!("{}: {e}", step.command.name().replace('_', " ")),
            };
            return Err(ImportError::Invalid(vec![LineError {
                line: step.line,
                message,
            }]));
        }
        *report
            .changes
            .entry(step.command.name().to_owned())
            .or_default() += 1;
        if i % 100 == 0 || i as u64 + 1 == total {
            progress(i as u64 + 1, total);
        }
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(report)
}

/// New people's emails (for the check against other chapters).
fn new_emails<'a>(lines: &'a parse::Parsed, roster: &Roster) -> Vec<(u64, &'a str)> {
    lines
        .iter()
        .filter_map(|(n, l)| match l {
            Line::Person(p) if !roster.accounts.contains_key(&p.email) => {
                Some((*n, p.email.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// Checks that don't need a transaction's writes: duplicates, roles of existing accounts,
/// and that every reference names a row of the right kind in the file or the chapter.
fn check(lines: &parse::Parsed, roster: &Roster) -> Vec<LineError> {
    let mut errors = Vec::new();
    let mut people: HashMap<&str, (u64, Role)> = HashMap::new();
    let mut cohorts: HashMap<&str, u64> = HashMap::new();
    for (n, l) in lines {
        match l {
            Line::Person(p) => {
                if let Some((first, _)) = people.insert(&p.email, (*n, p.role)) {
                    errors.push(LineError {
                        line: *n,
                        message: format!("{} is on line {first} already", p.email),
                    });
                }
                if let Some(a) = roster.accounts.get(&p.email)
                    && a.role != p.role
                {
                    errors.push(LineError {
                        line: *n,
                        message: format!("{} is a {} here, not a {}", p.email, a.role, p.role),
                    });
                }
            }
            Line::Cohort(c) => {
                if let Some(first) = cohorts.insert(&c.key, *n) {
                    errors.push(LineError {
                        line: *n,
                        message: format!("cohort `{}` is on line {first} already", c.key),
                    });
                }
            }
        }
    }
    let role_of = |email: &str| {
        people
            .get(email)
            .map(|(_, r)| *r)
            .or_else(|| roster.accounts.get(email).map(|a| a.role))
    };
    let mut expect = |line: u64, email: &str, role: Role, what: &str| match role_of(email) {
        Some(r) if r == role => {}
        Some(r) => errors.push(LineError {
            line,
            message: format!("{what} {email} is a {r}, not a {role}"),
        }),
        None => errors.push(LineError {
            line,
            message: format!("{what} {email} is neither in the file nor in the chapter"),
        }),
    };
    for (n, l) in lines {
        match l {
            Line::Person(p) => {
                if let Some(c) = &p.coordinator {
                    expect(*n, c, Role::Coordinator, "coordinator");
                }
                if let Some(m) = &p.mentor {
                    expect(*n, m, Role::Mentor, "mentor");
                }
            }
            Line::Cohort(c) => {
                for d in &c.directors {
                    expect(*n, d, Role::Director, "director");
                }
            }
        }
    }
    for (n, l) in lines {
        if let Line::Person(PersonLine {
            cohort: Some(key), ..
        }) = l
            && !cohorts.contains_key(key.as_str())
            && roster.cohort_by_key(key).is_none()
        {
            errors.push(LineError {
                line: *n,
                message: format!("cohort `{key}` is neither in the file nor in the chapter"),
            });
        }
    }
    errors
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The commands that make the chapter match the file, parents first: cohorts, accounts,
/// mentor profiles and coordination, cohort directors, then mentees' profiles, cohorts and
/// mentors.
fn plan(lines: &parse::Parsed, roster: &Roster) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut ids: HashMap<&str, String> = roster
        .accounts
        .iter()
        .map(|(e, a)| (e.as_str(), a.id.clone()))
        .collect();
    let mut cohort_ids: HashMap<&str, String> = HashMap::new();
    for (n, l) in lines {
        if let Line::Cohort(c) = l {
            let id = plan_cohort(&mut steps, *n, c, roster);
            cohort_ids.insert(&c.key, id);
        }
    }
    for (n, l) in lines {
        if let Line::Person(p) = l {
            let mut step = |command| steps.push(Step { line: *n, command });
            match roster.accounts.get(&p.email) {
                None => {
                    let id = new_id();
                    step(Command::CreateUser(CreateUser {
                        user_id: Some(id.clone()),
                        email: p.email.clone(),
                        display_name: p.name.clone(),
                        role: p.role,
                        time_zone: p.time_zone.clone(),
                    }));
                    ids.insert(&p.email, id);
                }
                Some(a) => {
                    let tz_differs = p.time_zone.is_some() && p.time_zone != a.time_zone;
                    if a.display_name != p.name || tz_differs {
                        step(Command::UpdateUser(UpdateUser {
                            user_id: a.id.clone(),
                            email: None,
                            display_name: (a.display_name != p.name).then(|| p.name.clone()),
                            time_zone: tz_differs.then(|| p.time_zone.clone().unwrap_or_default()),
                        }));
                    }
                }
            }
        }
    }
    let id_of = |email: &str| ids.get(email).cloned().unwrap_or_default();
    for (n, l) in lines {
        let Line::Person(p) = l else { continue };
        let id = id_of(&p.email);
        let mut step = |command| steps.push(Step { line: *n, command });
        if p.role == Role::Mentor {
            let current = roster.mentors.get(&id);
            let capacity = p
                .capacity
                .filter(|c| current.is_none_or(|m| m.capacity_weekly != *c));
            let specialties = p
                .topics
                .clone()
                .filter(|t| current.is_none_or(|m| &m.specialties != t));
            if capacity.is_some() || specialties.is_some() {
                step(Command::UpdateMentor(UpdateMentor {
                    mentor_id: id.clone(),
                    capacity_weekly: capacity,
                    specialties,
                    availability: None,
                }));
            }
            if let Some(until) = p.certified_until {
                let held = current.and_then(|m| m.certification_expires_at);
                if held.is_none_or(|h| parse::last_day(h) != parse::last_day(until)) {
                    step(Command::RenewCertification(RenewCertification {
                        mentor_id: id.clone(),
                        expires_at: until,
                    }));
                }
            }
            if let Some(c) = &p.coordinator {
                let coordinator_id = id_of(c);
                if roster.coordinator_of.get(&id) != Some(&coordinator_id) {
                    step(Command::AssignCoordinator(AssignCoordinator {
                        mentor_id: id.clone(),
                        coordinator_id,
                        assignment_id: Some(new_id()),
                    }));
                }
            }
        }
    }
    for (n, l) in lines {
        let Line::Cohort(c) = l else { continue };
        let cohort_id = cohort_ids.get(c.key.as_str()).cloned().unwrap_or_default();
        for d in &c.directors {
            let director_id = id_of(d);
            if !roster
                .directors
                .contains(&(cohort_id.clone(), director_id.clone()))
            {
                steps.push(Step {
                    line: *n,
                    command: Command::AddCohortDirector(CohortDirector {
                        cohort_id: cohort_id.clone(),
                        director_id,
                    }),
                });
            }
        }
    }
    for (n, l) in lines {
        let Line::Person(p) = l else { continue };
        if p.role != Role::Mentee {
            continue;
        }
        let id = id_of(&p.email);
        let mut step = |command| steps.push(Step { line: *n, command });
        let current = roster.mentees.get(&id);
        if let Some(t) = &p.topics
            && current.is_none_or(|m| &m.interests != t)
        {
            step(Command::UpdateMentee(UpdateMentee {
                mentee_id: id.clone(),
                interests: t.clone(),
            }));
        }
        if let Some(key) = &p.cohort {
            let cohort_id = cohort_ids
                .get(key.as_str())
                .cloned()
                .or_else(|| roster.cohort_by_key(key).map(|c| c.id.clone()))
                .unwrap_or_default();
            if current.and_then(|m| m.cohort_id.as_ref()) != Some(&cohort_id) {
                step(Command::EnrolMentee(EnrolMentee {
                    mentee_id: id.clone(),
                    cohort_id: Some(cohort_id),
                }));
            }
        }
        if let Some(m) = &p.mentor {
            let mentor_id = id_of(m);
            match roster.mentor_of.get(&id) {
                Some((_, held)) if *held == mentor_id => {}
                held => {
                    if let Some((assignment_id, _)) = held {
                        step(Command::EndAssignment(AssignmentRef {
                            assignment_id: assignment_id.clone(),
                        }));
                    }
                    step(Command::AssignMentee(AssignMentee {
                        mentor_id,
                        mentee_id: id.clone(),
                        assignment_id: Some(new_id()),
                    }));
                }
            }
        }
    }
    steps
}

/// The command a cohort row needs (if any); returns the cohort's id.
fn plan_cohort(steps: &mut Vec<Step>, line: u64, c: &CohortLine, roster: &Roster) -> String {
    match roster.cohort_by_key(&c.key) {
        None => {
            let id = new_id();
            steps.push(Step {
                line,
                command: Command::CreateCohort(CreateCohort {
                    cohort_id: Some(id.clone()),
                    external_id: Some(c.key.clone()),
                    name: c.name.clone(),
                    starts_at: c.starts_at,
                    ends_at: c.ends_at,
                    seats: c.seats,
                }),
            });
            id
        }
        Some(h) => {
            let same_day = |a: i64, b: i64| parse::day_of(a) == parse::day_of(b);
            let starts = !same_day(h.starts_at, c.starts_at);
            let ends = parse::last_day(h.ends_at) != parse::last_day(c.ends_at);
            if h.name != c.name || starts || ends || h.seats != c.seats {
                steps.push(Step {
                    line,
                    command: Command::UpdateCohort(UpdateCohort {
                        cohort_id: h.id.clone(),
                        name: (h.name != c.name).then(|| c.name.clone()),
                        starts_at: starts.then_some(c.starts_at),
                        ends_at: ends.then_some(c.ends_at),
                        seats: (h.seats != c.seats).then_some(c.seats),
                    }),
                });
            }
            h.id.clone()
        }
    }
}
