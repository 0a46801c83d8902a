//! Child processes for crash tests: the real server (the `test-server` binary of this crate
//! runs `mentorsync_server::cli`, the same code as `mentorsync-server`) and a client, each
//! killable with SIGKILL at any moment — no destructor, no flush, no goodbye.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (free when asked; the child binds it a moment later).
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("free port: {e}"));
    l.local_addr()
        .unwrap_or_else(|e| panic!("free port address: {e}"))
}

/// A `mentorsync-server serve` child with the scheduler off (the test decides what happens).
pub struct ServerProcess {
    bin: PathBuf,
    database_url: String,
    pg_schema: Option<String>,
    log: PathBuf,
    child: Option<Child>,
    /// Where it listens now (a restart picks a new port: the old one may linger in
    /// TIME_WAIT after a kill).
    pub addr: SocketAddr,
    /// How many times it was started.
    pub starts: u32,
}

impl ServerProcess {
    /// Starts the server in `bin` on an already migrated and seeded database; its log goes
    /// to `log`.
    pub fn start(
        bin: &str,
        database_url: &str,
        pg_schema: Option<&str>,
        log: &Path,
    ) -> ServerProcess {
        let mut p = ServerProcess {
            bin: bin.into(),
            database_url: database_url.to_owned(),
            pg_schema: pg_schema.map(str::to_owned),
            log: log.to_owned(),
            child: None,
            addr: free_addr(),
            starts: 0,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        for _ in 0..5 {
            self.addr = free_addr();
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap_or_else(|e| panic!("server log: {e}"));
            let mut cmd = Command::new(&self.bin);
            cmd.args(["serve", "--scheduler-tick-seconds", "0", "--bind"])
                .arg(self.addr.to_string())
                .env("DATABASE_URL", &self.database_url)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            if let Some(schema) = &self.pg_schema {
                cmd.env("MENTORSYNC_PG_SCHEMA", schema);
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.display()));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if TcpStream::connect(self.addr).is_ok() {
                    self.child = Some(child);
                    self.starts += 1;
                    return;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    // Most likely the port was taken in between; try another.
                    eprintln!("server exited at start ({status}); retrying");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "the server did not start; its log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL: whatever it was doing stops mid-way.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again (on a new port) after a kill.
    pub fn restart(&mut self) -> SocketAddr {
        self.kill();
        self.spawn();
        self.addr
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
