//! W10: a chapter's roster imported from a file, as the operator's CLI does it: 20 coordinators,
//! 1,000 mentors and 20,000 mentees in 5 cohorts, each mentee with a mentor, in one
//! transaction through the domain commands; then the same file again, which must change
//! nothing.

use crate::report::{Goal, Line};
use mentorsync_server::clock::{Clock, SystemClock};
use mentorsync_server::db::Db;
use mentorsync_server::operator;
use std::fmt::Write;
use std::time::Instant;

/// The roster file: `mentors` mentors with `per_mentor` mentees each.
fn roster(mentors: usize, per_mentor: usize) -> String {
    let mut f = String::from(
        "kind,key,email,name,coordinator,mentor,cohort,capacity,specialties,interests,certified_until,starts_on,ends_on,seats,directors\n",
    );
    let topics = ["maths", "art", "music", "science", "sport", "writing"];
    for c in 0..5 {
        let _ = writeln!(
            f,
            "cohort,w10-c{c},,Cohort {c},,,,,,,,2027-01-01,2027-12-31,{},dir{c}@w10.example.org",
            mentors * per_mentor
        );
        let _ = writeln!(
            f,
            "director,,dir{c}@w10.example.org,Director {c},,,,,,,,,,,"
        );
    }
    for k in 0..20 {
        let _ = writeln!(
            f,
            "coordinator,,coord{k}@w10.example.org,Coordinator {k},,,,,,,,,,,"
        );
    }
    for m in 0..mentors {
        let (a, b) = (topics[m % 6], topics[(m / 6) % 6]);
        let _ = writeln!(
            f,
            "mentor,,mentor{m}@w10.example.org,Mentor {m},coord{}@w10.example.org,,,{per_mentor},{a};{b},,2030-06-30,,,,",
            m % 20
        );
    }
    for e in 0..mentors * per_mentor {
        let _ = writeln!(
            f,
            "mentee,,mentee{e}@w10.example.org,Mentee {e},,mentor{}@w10.example.org,w10-c{},,,{},,,,,",
            e % mentors,
            e % 5,
            topics[e % 6]
        );
    }
    f
}

/// W10.
pub async fn w10(db: &Db) -> anyhow::Result<Vec<Line>> {
    let file = roster(1000, 20);
    let now = SystemClock.now_ms();
    let chapter = operator::create_chapter(db, "W10", None, now).await?;
    let progress = |done: u64, total: u64| {
        if done % 10_000 < 100 || done == total {
            eprintln!("  W10: {done}/{total} commands");
        }
    };
    let t = Instant::now();
    let first = operator::import(db, &chapter, file.as_bytes(), false, now, &progress)
        .await?
        .map_err(|e| anyhow::anyhow!("the W10 file was refused: {:?}", e.first()))?;
    let took = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let again = operator::import(db, &chapter, file.as_bytes(), false, now, &|_, _| {})
        .await?
        .map_err(|e| anyhow::anyhow!("the W10 file was refused again: {:?}", e.first()))?;
    let again_took = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        again.total() == 0,
        "re-importing changed {:?}",
        again.changes
    );
    Ok(vec![
        Line::new(
            "W10",
            format!(
                "import 20,000 mentees ({} rows, {} commands)",
                first.rows,
                first.total()
            ),
            took,
            "s",
            Goal::AtMost,
            60.0,
        ),
        Line::info("W10", "the same file again (no change)", again_took, "s"),
    ])
}
