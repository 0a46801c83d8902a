//! A client-core device as a child process, for crash tests: syncs the database at `path`
//! with the server at `url` once, printing each step, so that the parent can SIGKILL it at
//! a moment it chooses (mid-push, mid-pull, mid-write).
//!
//! Usage: `crash-client <path> <url> <page size>`

use std::io::Write;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, url, page] = args.as_slice() else {
        anyhow::bail!("usage: crash-client <path> <url> <page size>");
    };
    let client = mentorsync_core::Client::open(std::path::Path::new(path), url)?;
    client.set_page_size(page.parse()?);
    say("started");
    let report = client
        .sync(|p| say(&format!("pushed {} pages {}", p.pushed, p.pages)))
        .await?;
    say(&format!("done {} pages", report.progress.pages));
    Ok(())
}
