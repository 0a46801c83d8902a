//! Seeding: the demo chapter of DOMAIN.md (1,000 mentors × 20 mentees by default) and the
//! small fixtures tests build. Rows are buffered and written as multi-row INSERTs in
//! dependency order, so the full demo takes seconds, not minutes. Every stateful row gets
//! one `seed` audit row, so the audit log agrees with the statuses from the start.
//!
//! `writer.rs` buffers and writes rows (the [`Seeder`]); `demo.rs` builds the demo chapter
//! from it; `fixtures.rs` the small chapters tests build.

mod demo;
mod fixtures;
mod writer;

pub use demo::{DEMO_DOMAIN, DEMO_PASSWORD, DemoLogins, DemoSize, demo, demo_exists};
pub use fixtures::SmallChapter;
pub use writer::Seeder;

/// A day in milliseconds.
const DAY: i64 = 86_400_000;
