//! `mentorsync-server`: see `mentorsync_server::cli` and `--help`.

fn main() -> anyhow::Result<()> {
    mentorsync_server::cli::main()
}
