//! Roster files: a chapter's cohorts and people as one CSV (docs/import.md), imported
//! through the domain commands and exported back.

pub mod export;
pub mod import;
pub mod parse;
pub mod state;

pub use export::export;
pub use import::{ImportError, ImportReport, import};
pub use parse::LineError;
pub use state::Roster;
