//! The `mentorsync-server` command line: serve, migrate, seed, run a job, print the OpenAPI
//! document. In the library so that end-to-end tests can run the very same server as a child
//! process they kill and restart.

use crate::clock::{Clock, SystemClock};
use crate::db::{ConnectOptions, Db};
use crate::jobs::Scheduler;
use crate::notify::{Dispatcher, RecordingChannel};
use crate::seed::{self, DemoSize};
use crate::telemetry::{self, LogFormat};
use crate::{AppState, Settings, auth::password};
use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "mentorsync-server",
    version,
    about = "The mentorsync sync and API server"
)]
struct Cli {
    /// Database: `sqlite://file.db` or `postgres://…`. Unset: `mentorsync.db` in the working directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// PostgreSQL only: keep the tables in this schema (created if missing), so that several
    /// deployments or test runs can share one database.
    #[arg(long, env = "MENTORSYNC_PG_SCHEMA", global = true)]
    pg_schema: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "MENTORSYNC_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve HTTP until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MENTORSYNC_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seed the demo chapter first if the database has none.
        #[arg(long)]
        seed_demo: bool,
        /// Days of change log kept for delta sync; older cursors get a full re-sync.
        #[arg(
            long,
            env = "MENTORSYNC_CHANGELOG_RETENTION_DAYS",
            default_value_t = 30
        )]
        changelog_retention_days: u64,
        /// Seconds between scheduler ticks (jobs and notification dispatch); 0 turns the
        /// scheduler off on this instance.
        #[arg(long, env = "MENTORSYNC_SCHEDULER_TICK_SECONDS", default_value_t = 15)]
        scheduler_tick_seconds: u64,
        /// Milliseconds after a change before its chapter's mentor and coordinator
        /// dashboards are recomputed (a burst of changes is one refresh; cohorts at most
        /// every 30 s); 0, the default, leaves them to the five-minute job. 2000 keeps
        /// them within seconds, at the cost docs/performance.md measures.
        #[arg(long, env = "MENTORSYNC_DASHBOARD_REFRESH_MS", default_value_t = 0)]
        dashboard_refresh_ms: u64,
        /// Where notifications go besides the inbox.
        #[command(flatten)]
        delivery: Box<crate::notify::channels::Delivery>,
        /// Demo size (with --seed-demo).
        #[command(flatten)]
        size: DemoSize,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Seed data and exit.
    Seed {
        /// Build the demo chapter.
        #[arg(long, required = true)]
        demo: bool,
        /// Demo size.
        #[command(flatten)]
        size: DemoSize,
    },
    /// Run one scheduled job now, whatever its schedule, and print what it did.
    RunJob {
        /// pauses, certifications, overdue, matching, capacity, reconciliation, dashboards,
        /// or notifications (deliver the due ones now: inboxes and the recording channel).
        job: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// SQLite: write a consistent copy of the database to a file while it serves
    /// (PostgreSQL: use pg_dump). See docs/operations.md.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Chapters: create one (prints its id), or list them.
    Chapter {
        #[command(subcommand)]
        action: ChapterAction,
    },
    /// Accounts: create one (the first admin of a chapter, typically).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Import a roster file (CSV, docs/import.md) into a chapter, in one transaction.
    Import {
        /// The file.
        file: std::path::PathBuf,
        /// The chapter (default: the only one).
        #[arg(long)]
        chapter: Option<String>,
        /// Check and apply everything, print what would change, keep nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a chapter's roster as a roster file (CSV).
    Export {
        /// The chapter (default: the only one).
        #[arg(long)]
        chapter: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        to: Option<std::path::PathBuf>,
    },
    /// After restoring the database from a backup, with every server stopped: give it a new
    /// epoch, so that every device starts a fresh snapshot and submits again the commands
    /// the backup does not hold.
    Restored,
}

#[derive(Subcommand)]
enum ChapterAction {
    /// Create a chapter and print its id.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its default IANA time zone (default UTC).
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// List chapters: id, name, accounts.
    List,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account. Prints a one-time sign-in code (72 h), or with --password-stdin
    /// sets the password read from standard input.
    Create {
        /// The chapter (default: the only one).
        #[arg(long)]
        chapter: Option<String>,
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// admin, coordinator, director, mentor or mentee.
        #[arg(long)]
        role: mentorsync_protocol::Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn database_url(cli: &Cli) -> String {
    cli.database_url
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "sqlite://mentorsync.db".to_owned())
}

async fn open(url: &str, pg_schema: Option<&String>) -> anyhow::Result<Db> {
    let opts = ConnectOptions {
        pg_schema: pg_schema.filter(|s| !s.is_empty()).cloned(),
        ..ConnectOptions::new(url)
    };
    let db = Db::connect(&opts)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

/// Hides a password in a database URL before it reaches a log line.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

async fn seed_demo(db: &Db, size: &DemoSize) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    if seed::demo_exists(&mut tx).await? {
        eprintln!("demo chapter already present; not seeding again");
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(|| password::hash(seed::DEMO_PASSWORD))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = ProgressBar::new(size.mentors as u64).with_style(
        ProgressStyle::with_template("seeding {bar:40} {pos}/{len} mentors ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let logins = seed::demo(&mut tx, SystemClock.now_ms(), hash, size, |done, _| {
        bar.set_position(done)
    })
    .await?;
    tx.commit().await?;
    bar.finish();
    eprintln!(
        "seeded the demo chapter ({} mentors, {} mentees) in {:.1?}",
        size.mentors,
        size.mentors * size.mentees_per_mentor,
        started.elapsed()
    );
    eprintln!("demo sign-ins (password `{}`):", seed::DEMO_PASSWORD);
    for (role, email) in &logins.emails {
        eprintln!("  {role:<12} {email}");
    }
    Ok(())
}

/// Parses the command line and runs the command.
#[tokio::main]
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let url = database_url(&cli);
    match &cli.command {
        Command::Openapi => {
            print!("{}", crate::api::openapi::document());
        }
        Command::Migrate => {
            open(&url, cli.pg_schema.as_ref()).await?;
            eprintln!("migrated {}", redact(&url));
        }
        Command::Seed { size, .. } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            seed_demo(&db, size).await?;
            db.close().await;
        }
        Command::Backup { to } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            if to.exists() {
                anyhow::bail!("{} exists; back up to a new file", to.display());
            }
            match crate::epoch::backup_sqlite(&db, to).await? {
                Some(()) => eprintln!("backed up {} to {}", redact(&url), to.display()),
                None => anyhow::bail!(
                    "PostgreSQL databases are backed up with pg_dump (docs/operations.md)"
                ),
            }
            db.close().await;
        }
        Command::Chapter { action } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            match action {
                ChapterAction::Create { name, time_zone } => {
                    let id = crate::operator::create_chapter(
                        &db,
                        name,
                        time_zone.as_deref(),
                        SystemClock.now_ms(),
                    )
                    .await?;
                    eprintln!(
                        "created chapter {name:?}; next: `user create --chapter {id} --role admin …`"
                    );
                    println!("{id}");
                }
                ChapterAction::List => {
                    for (id, name, people) in crate::operator::list_chapters(&db).await? {
                        println!("{id}  {name}  ({people} accounts)");
                    }
                }
            }
            db.close().await;
        }
        Command::User {
            action:
                UserAction::Create {
                    chapter,
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let chapter = crate::operator::chapter(&db, chapter.as_deref()).await?;
            let first = if *password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password")?;
                crate::operator::FirstSignIn::Password(
                    line.trim_end_matches(['\r', '\n']).to_owned(),
                )
            } else {
                crate::operator::FirstSignIn::Code
            };
            let (id, code) = crate::operator::create_user(
                &db,
                &chapter,
                email,
                name,
                *role,
                first,
                SystemClock.now_ms(),
            )
            .await?;
            println!("{id}");
            match code {
                Some(code) => eprintln!(
                    "created {role} {email}; one-time sign-in code (valid 72 h, shown once): {code}\n\
                     they sign in with POST /api/v1/auth/redeem {{email, code, new_password}}"
                ),
                None => eprintln!("created {role} {email} with the password given"),
            }
            db.close().await;
        }
        Command::Import {
            file,
            chapter,
            dry_run,
        } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let chapter = crate::operator::chapter(&db, chapter.as_deref()).await?;
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template(
                    "importing {bar:40} {pos}/{len} changes ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let outcome = crate::operator::import(
                &db,
                &chapter,
                &bytes,
                *dry_run,
                SystemClock.now_ms(),
                &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )
            .await?;
            bar.finish_and_clear();
            db.close().await;
            match outcome {
                Ok(report) => {
                    let verb = if report.dry_run { "would run" } else { "ran" };
                    eprintln!(
                        "{} rows read; {verb} {} change(s) in {:.1?}{}",
                        report.rows,
                        report.total(),
                        started.elapsed(),
                        if report.dry_run {
                            " (dry run: nothing kept)"
                        } else {
                            ""
                        }
                    );
                    for (command, n) in &report.changes {
                        println!("{command:<24} {n}");
                    }
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
                    }
                    anyhow::bail!("{} line(s) are invalid; nothing was imported", errors.len());
                }
            }
        }
        Command::Export { chapter, to } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let chapter = crate::operator::chapter(&db, chapter.as_deref()).await?;
            let bytes = crate::operator::export(&db, &chapter).await?;
            db.close().await;
            match to {
                Some(path) => std::fs::write(path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
        }
        Command::Restored => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let epoch = crate::epoch::renew(&db).await?;
            eprintln!(
                "{} has a new epoch ({epoch}): devices will take a fresh snapshot and submit \
                 again what the backup lacks",
                redact(&url)
            );
            db.close().await;
        }
        Command::RunJob { job } if job == "notifications" => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let report = Dispatcher::new(vec![Arc::new(RecordingChannel::default())])
                .run_once(&db, SystemClock.now_ms())
                .await?;
            println!(
                "notifications: delivered {}, retrying {}, undeliverable {}, failed {}",
                report.delivered, report.retrying, report.undeliverable, report.failed
            );
            db.close().await;
        }
        Command::RunJob { job } => {
            let Some(job) = crate::jobs::Job::by_name(job) else {
                anyhow::bail!("no job named {job:?}; see --help");
            };
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            let now = SystemClock.now_ms();
            let report = crate::jobs::scheduler::run(&db, job, now).await?;
            println!("{}: {report}", job.name());
            db.close().await;
        }
        Command::Serve {
            bind,
            seed_demo: seed,
            size,
            changelog_retention_days,
            scheduler_tick_seconds,
            dashboard_refresh_ms,
            delivery,
        } => {
            let db = open(&url, cli.pg_schema.as_ref()).await?;
            if *seed {
                seed_demo(&db, size).await?;
            }
            let state = AppState::new(db.clone(), Arc::new(SystemClock), Settings::default());
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("binding {bind}"))?;
            tracing::info!(address = %listener.local_addr()?, database = %redact(&url), "mentorsync-server listening");
            crate::memory::spawn_return(&state);
            crate::serve::spawn_compaction(
                state.clone(),
                std::time::Duration::from_secs(changelog_retention_days * 86_400),
            );
            if *dashboard_refresh_ms > 0 {
                crate::dashboard::fresh::spawn(
                    &state,
                    std::time::Duration::from_millis(*dashboard_refresh_ms),
                );
            }
            if *scheduler_tick_seconds > 0 {
                let channels = delivery.channels(&state)?;
                Scheduler::new(&state, Dispatcher::new(channels))
                    .spawn(std::time::Duration::from_secs(*scheduler_tick_seconds));
            }
            let shutdown = state.shutdown.clone();
            tokio::spawn(async move {
                crate::serve::termination_signal().await;
                tracing::info!("shutting down: finishing in-flight requests");
                shutdown.cancel();
            });
            crate::serve::run(listener, state).await?;
            db.close().await;
            tracing::info!("stopped");
        }
    }
    Ok(())
}
