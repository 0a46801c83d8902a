//! Running the HTTP server until SIGINT or SIGTERM, then draining.

use crate::state::AppState;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
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
    let app = TowerToHyperService::new(crate::api::app(state));
    let http = hyper::server::conn::http1::Builder::new();
    let graceful = GracefulShutdown::new();
    loop {
        let socket = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), app.clone()));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
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

/// Deletes change-log entries older than `retention` every hour until shutdown. Safe on
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
            let result = async {
                let mut tx = state.db.write().await?;
                let horizon = crate::sync::compact::compact(&mut tx, before).await?;
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
