//! Who is asking: password login, rotating refresh tokens, the caller extractor, and login
//! throttling. Tokens are random strings handed out once and stored only as SHA-256 hashes,
//! so a copy of the database lets nobody sign in.

pub mod caller;
pub mod codes;
pub mod password;
pub mod throttle;
pub mod tokens;

pub use caller::Caller;
