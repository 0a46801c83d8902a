//! The mentorsync server, built inside the tests crate so that its tests can run it as a
//! child process (Cargo only hands a test the binaries of its own package).

fn main() -> anyhow::Result<()> {
    mentorsync_server::cli::main()
}
