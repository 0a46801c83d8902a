//! Running the HTTP server until SIGINT or SIGTERM, then draining.

use crate::state::{AppState, Settings};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves HTTP/1.1 on an already-bound listener until `state.shutdown` is cancelled, then
/// drains: in-flight requests finish; long-lived streams observe the same token and end.
///
/// One hyper HTTP/1 connection per socket rather than `axum::serve`: axum's version-sniffing
/// connection replays the bytes it peeked through a second read, which doubles hyper's read
/// buffer to 16 KB, and its per-connection task carries the HTTP/2 builder. An idle event
/// stream is mostly these buffers, so with thousands open this is the server's memory
/// (docs/performance.md, W5). The server does not speak HTTP/2 (axum's `http2` feature is off).
pub async fn run(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    let open = Connections::new(&state.settings);
    let router = crate::api::app(state.clone());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.settings.header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (socket, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let Some(slot) = open.admit(peer) else {
            tracing::debug!(%peer, "connection refused: too many open");
            continue;
        };
        let app = TowerToHyperService::new(tower::util::MapRequest::new(
            router.clone(),
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), app));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Open connections, in all and per peer address, so that one host cannot take every
/// connection (and its buffers) an instance can hold.
#[derive(Clone)]
struct Connections {
    by_address: Arc<Mutex<(usize, HashMap<IpAddr, usize>)>>,
    max: usize,
    per_address: usize,
    limit_loopback: bool,
}

/// One admitted connection; dropping it frees its place.
struct Slot {
    open: Connections,
    address: IpAddr,
}

impl Connections {
    fn new(s: &Settings) -> Self {
        Connections {
            by_address: Default::default(),
            max: s.max_connections,
            per_address: s.max_connections_per_address,
            limit_loopback: s.limit_loopback,
        }
    }

    fn admit(&self, peer: SocketAddr) -> Option<Slot> {
        let address = peer.ip().to_canonical();
        let mut guard = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        let (total, by_address) = &mut *guard;
        let mine = by_address.get(&address).copied().unwrap_or(0);
        let limited = self.limit_loopback || !address.is_loopback();
        if *total >= self.max || (limited && mine >= self.per_address) {
            return None;
        }
        *total += 1;
        by_address.insert(address, mine + 1);
        Some(Slot {
            open: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut guard = self
            .open
            .by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (total, by_address) = &mut *guard;
        *total = total.saturating_sub(1);
        if let Some(n) = by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

/// A refused or reset connection concerns one client; anything else (out of file
/// descriptors) would fail again at once, so wait before the next accept.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Deletes change-log entries older than `retention`, and sign-in failures that left their
/// window (guesses at unknown emails are never looked up again), every hour until shutdown. Safe on
/// several instances at once (deleting and raising the horizon are idempotent).
pub fn spawn_compaction(state: AppState, retention: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let before = state.now() - retention.as_millis() as i64;
            let window = state.now() - state.settings.login_window_ms;
            let result = async {
                let mut tx = state.db.write().await?;
                let horizon = crate::sync::compact::compact(&mut tx, before).await?;
                crate::auth::throttle::collect(&mut tx, window).await?;
                tx.commit().await?;
                Ok::<i64, sqlx::Error>(horizon)
            }
            .await;
            match result {
                Ok(horizon) => tracing::debug!(horizon, "change log compacted"),
                Err(e) => tracing::warn!(error = %e, "change-log compaction failed; will retry"),
            }
        }
    });
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
