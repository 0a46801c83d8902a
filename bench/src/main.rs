//! `mentorsync-bench`: starts a server, seeds the demo chapter, runs the workloads W1–W10
//! of docs/performance.md on loopback and prints each figure with its target, PASS or
//! MISS, and the ratio to the limit measured in the same run. Every loop is bounded.

mod attack;
mod client;
mod import;
mod load;
mod proxy;
mod report;
mod server;
mod wire;

use clap::{Parser, Subcommand};
use mentorsync_server::seed::DemoSize;
use report::Line;
use server::{Server, Target};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mentorsync-bench",
    about = "Benchmarks mentorsync against its targets"
)]
struct Cli {
    /// Also run on PostgreSQL (a fresh schema in this database).
    #[arg(long, env = "MENTORSYNC_BENCH_PG_URL")]
    pg_url: Option<String>,
    /// Workloads to run (W1,…,W10); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Demo size.
    #[command(flatten)]
    size: DemoSize,
    #[command(subcommand)]
    child: Option<Child>,
}

#[derive(Subcommand)]
enum Child {
    /// (internal) serve HTTP on a database.
    #[command(name = "__serve", hide = true)]
    Serve {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        pg_schema: Option<String>,
        #[arg(long)]
        bind: String,
    },
    /// (internal) one device's whole-chapter sync, reporting its peak memory.
    #[command(name = "__client-sync", hide = true)]
    ClientSync {
        #[arg(long)]
        server: String,
        #[arg(long)]
        db: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.child {
        Some(Child::Serve {
            database_url,
            pg_schema,
            bind,
        }) => {
            return server::serve_here(
                Target {
                    url: database_url,
                    pg_schema,
                },
                bind,
            )
            .await;
        }
        Some(Child::ClientSync { server, db }) => {
            return client::client_sync_here(server, db).await;
        }
        None => {}
    }
    let wants = |w: &str| cli.only.is_empty() || cli.only.iter().any(|o| o.eq_ignore_ascii_case(w));
    let scratch = tempfile::tempdir()?;
    let mut targets = vec![(
        "sqlite",
        Target {
            url: format!("sqlite://{}", scratch.path().join("server.db").display()),
            pg_schema: None,
        },
    )];
    if let Some(url) = &cli.pg_url {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        targets.push((
            "postgres",
            Target {
                url: url.clone(),
                pg_schema: Some(schema),
            },
        ));
    }
    let mut all: Vec<(String, Vec<Line>)> = Vec::new();
    for (backend, target) in &targets {
        eprintln!("== {backend}");
        let db = server::seed(target, &cli.size).await?;
        let srv = Server::start(target).await?;
        let http = reqwest::Client::new();
        let dir = tempfile::tempdir()?;
        let mut lines = Vec::new();
        // Read-only workloads first, so each sees the seeded chapter as it is.
        if wants("W1") || wants("W7") {
            eprintln!("W1/W7: initial sync and local queries");
            lines.extend(client::w1_w7(&srv, &db, dir.path()).await?);
        }
        if wants("W8") {
            eprintln!("W8: client memory");
            lines.extend(client::w8(&srv, dir.path()).await?);
        }
        if wants("W6") {
            eprintln!("W6: shaped link");
            lines.extend(client::w6(&srv, dir.path()).await?);
        }
        if wants("W2") {
            eprintln!("W2: delta");
            lines.extend(load::w2(&srv, &db, &http).await?);
        }
        if wants("W3") {
            eprintln!("W3: push throughput");
            lines.extend(load::w3(&srv, &db, &http).await?);
        }
        if wants("W4") {
            eprintln!("W4: concurrent pulls under writes");
            lines.extend(load::w4(&srv, &db, &http).await?);
        }
        if wants("W5") {
            eprintln!("W5: 5,000 event streams");
            lines.extend(load::w5(&srv, &db).await?);
        }
        if wants("W9") {
            eprintln!("W9: serving everyone else under attack");
            lines.extend(attack::w9(&srv, &db).await?);
        }
        if wants("W10") {
            eprintln!("W10: importing a chapter's roster");
            lines.extend(import::w10(&db).await?);
        }
        drop(srv);
        db.close().await;
        if let Some(schema) = &target.pg_schema {
            mentorsync_server::db::Db::drop_pg_schema(&target.url, schema).await?;
        }
        println!("\n{backend}");
        report::table(&lines);
        all.push((backend.to_string(), lines));
    }
    if let Some(path) = &cli.json {
        let context = serde_json::json!({
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "mentors": cli.size.mentors,
            "mentees_per_mentor": cli.size.mentees_per_mentor,
        });
        let runs: serde_json::Map<String, serde_json::Value> = all
            .iter()
            .map(|(b, l)| (b.clone(), report::json(l, context.clone())))
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&runs)?)?;
    }
    Ok(())
}
