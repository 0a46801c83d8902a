//! `mentorsync`: a coordinator's client in the terminal, and the tool to see what a device
//! holds and why.

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mentorsync_core::protocol::MentorStatus;
use mentorsync_core::{Client, ClientOptions, FileTokens, RosterFilter, RosterSort};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mentorsync",
    version,
    about = "mentorsync client: work offline, sync, inspect"
)]
struct Cli {
    /// The device database.
    #[arg(
        long,
        env = "MENTORSYNC_DB",
        default_value = "mentorsync-client.db",
        global = true
    )]
    db: PathBuf,
    /// The server.
    #[arg(
        long,
        env = "MENTORSYNC_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    server: String,
    /// Never contact the server: commands are only queued.
    #[arg(long, global = true)]
    offline: bool,
    /// Allow a plain http:// server that is not on this machine (development only).
    #[arg(long, env = "MENTORSYNC_ALLOW_INSECURE_HTTP", global = true)]
    allow_insecure_http: bool,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sign in (the password may come from MENTORSYNC_PASSWORD).
    Login {
        /// Email.
        #[arg(long)]
        email: String,
        /// Password.
        #[arg(long, env = "MENTORSYNC_PASSWORD")]
        password: String,
    },
    /// Push queued commands and bring everything up to date.
    Sync,
    /// Keep syncing (following the server's pokes) until Ctrl-C.
    Run,
    /// The roster from this device.
    Roster {
        /// Only this status (active, paused, inactive).
        #[arg(long)]
        status: Option<MentorStatus>,
        /// Only certifications expiring within this many days.
        #[arg(long)]
        expiring_within: Option<u32>,
        /// Part of the name.
        #[arg(long)]
        name: Option<String>,
        /// Sort by certification expiry instead of name.
        #[arg(long)]
        by_expiry: bool,
        /// Rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Rows to skip.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// The work queue: overdue first, then priority, then SLA.
    Queue {
        /// One mentor's queue.
        #[arg(long)]
        mentor: Option<String>,
        /// Items.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Pause a mentor now (queued; synced unless --offline).
    Pause {
        /// The mentor's id.
        mentor: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Until this time (epoch milliseconds).
        #[arg(long)]
        until: Option<i64>,
    },
    /// Resume a paused mentor (queued; synced unless --offline).
    Resume {
        /// The mentor's id.
        mentor: String,
    },
    /// Sign out here and on the server, and clear this device's rows (refused while
    /// commands wait for the server; sync them or `discard` them).
    Logout,
    /// Drop every queued command (says how many the server had not confirmed).
    Discard,
    /// Commands waiting for the server.
    Pending,
    /// Commands the server refused, with its reasons.
    Rejected,
    /// Online state, last sync, pending count, freshness.
    Status,
    /// Look inside the device: cursors, staged pages, outbox, why a row is (not) here.
    Debug {
        #[command(subcommand)]
        what: DebugCmd,
    },
}

#[derive(Subcommand)]
enum DebugCmd {
    /// Sync cursors and staged pages per set.
    Cursor,
    /// The outbox, in order, with states.
    Outbox,
    /// Why a row is or is not on this device.
    Why {
        /// Entity (mentor, pause, session, …).
        entity: String,
        /// Row id.
        id: String,
    },
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn sync(client: &Client, offline: bool) -> anyhow::Result<()> {
    if offline {
        eprintln!("offline: queued only");
        return Ok(());
    }
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let report = client
        .sync(|p| {
            bar.set_message(format!(
                "pushed {} · {} rows · {} KiB · {} pages",
                p.pushed,
                p.rows,
                p.bytes / 1024,
                p.pages
            ))
        })
        .await;
    bar.finish_and_clear();
    match report {
        Ok(r) => {
            eprintln!(
                "synced: pushed {}, received {} rows in {} pages ({} KiB), {} rejected",
                r.progress.pushed,
                r.progress.rows,
                r.progress.pages,
                r.progress.bytes / 1024,
                r.rejected
            );
            Ok(())
        }
        // A failed sync is a failure: scripts and people see it in the exit status.
        Err(e) => Err(anyhow::anyhow!(
            "not synced: {e}; queued commands stay queued"
        )),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Tokens live beside the database in a file only this user may read (mode 0600).
    let mut tokens = cli.db.clone().into_os_string();
    tokens.push(".tokens");
    let options = ClientOptions {
        tokens: Some(std::sync::Arc::new(FileTokens::new(tokens))),
        allow_insecure_http: cli.allow_insecure_http,
    };
    let client = Client::open_with(&cli.db, &cli.server, options)
        .with_context(|| format!("opening {}", cli.db.display()))?;
    match cli.command {
        Cmd::Login { email, password } => {
            let me = client.login(&email, &password).await?;
            eprintln!("signed in as {} ({})", me.display_name, me.role);
        }
        Cmd::Sync => sync(&client, cli.offline).await?,
        Cmd::Run => {
            eprintln!("syncing; Ctrl-C to stop");
            client
                .run(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Cmd::Roster {
            status,
            expiring_within,
            name,
            by_expiry,
            limit,
            offset,
        } => {
            let filter = RosterFilter {
                status,
                certification_expiring_within_days: expiring_within,
                name,
                sort: if by_expiry {
                    RosterSort::CertificationExpiry
                } else {
                    RosterSort::Name
                },
                limit,
                offset,
            };
            let rows = client.roster(&filter)?;
            if cli.json {
                return print_json(&rows);
            }
            for r in rows {
                println!(
                    "{:<36}  {:<24} {:<9} mentees {:>2}  flags {:>2}{}{}",
                    r.mentor.id,
                    r.mentor.display_name,
                    r.mentor.status.as_str(),
                    r.mentee_count,
                    r.open_flags,
                    r.open_pause
                        .map(|p| format!("  pause: {}", p.status))
                        .unwrap_or_default(),
                    if r.pending { "  (pending)" } else { "" }
                );
            }
        }
        Cmd::Queue { mentor, limit } => {
            let items = client.work_queue(mentor.as_deref(), limit)?;
            if cli.json {
                return print_json(&items);
            }
            for i in items {
                println!(
                    "{:<36}  {:<16} {:<7} {:<11} due {}{}",
                    i.id,
                    i.kind.as_str(),
                    i.priority.as_str(),
                    i.status.as_str(),
                    i.sla_due_at,
                    if i.overdue { "  OVERDUE" } else { "" }
                );
            }
        }
        Cmd::Pause {
            mentor,
            reason,
            until,
        } => {
            let id = client.pause_mentor(&mentor, &reason, until)?;
            eprintln!("queued as mutation {id}");
            sync(&client, cli.offline).await?;
        }
        Cmd::Resume { mentor } => {
            let id = client.resume_mentor(&mentor)?;
            eprintln!("queued as mutation {id}");
            sync(&client, cli.offline).await?;
        }
        Cmd::Logout => {
            client.logout().await?;
            eprintln!("signed out; this device's rows are cleared");
        }
        Cmd::Discard => {
            let n = client.discard_pending()?;
            eprintln!("discarded {n} command(s) the server had not confirmed");
        }
        Cmd::Pending => {
            let p = client.pending_commands()?;
            if cli.json {
                return print_json(&p);
            }
            for c in p {
                println!(
                    "{:>5}  {:<20} {:<8} {}",
                    c.mutation_id,
                    c.name,
                    c.state,
                    serde_json::to_string(&c.command)?
                );
            }
        }
        Cmd::Rejected => {
            let r = client.rejected_commands()?;
            if cli.json {
                return print_json(&r);
            }
            for c in r {
                println!(
                    "{:>5}  {:<20} {:<20} {}",
                    c.mutation_id, c.name, c.code, c.reason
                );
            }
        }
        Cmd::Status => {
            let s = client.sync_status()?;
            if cli.json {
                return print_json(&s);
            }
            println!("signed in: {}", s.signed_in);
            println!("online:    {}", s.online);
            println!(
                "last sync: {}",
                s.last_sync_at.map_or("never".into(), |t| t.to_string())
            );
            println!("pending:   {}   rejected: {}", s.pending, s.rejected);
            if let Some(e) = s.last_error {
                println!("last error: {e}");
            }
            for set in s.sets {
                println!(
                    "  {:<7} last success {}  staged pages {}",
                    set.set,
                    set.last_success_at
                        .map_or("never".into(), |t| t.to_string()),
                    set.staged_pages
                );
            }
        }
        Cmd::Debug { what } => match what {
            DebugCmd::Cursor => print_json(&client.sync_status()?.sets)?,
            DebugCmd::Outbox => print_json(&client.pending_commands()?)?,
            DebugCmd::Why { entity, id } => print!("{}", client.explain(&entity, &id)?),
        },
    }
    Ok(())
}
