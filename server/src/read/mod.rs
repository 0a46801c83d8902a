//! Read models for server consumers: the coordinator roster, a mentor's work queue, the
//! mentee cockpit. Each is a few queries in one read transaction, filtered by chapter and
//! by the caller's relationships in SQL.

pub mod audit;
pub mod cockpit;
pub mod roster;
pub mod workqueue;
