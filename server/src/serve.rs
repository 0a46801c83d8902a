//! Running the HTTP server until SIGINT or SIGTERM, then draining.

use crate::state::AppState;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Serves on an already-bound listener until `state.shutdown` is cancelled. In-flight
/// requests finish; long-lived streams observe the same token and end.
pub async fn run(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    let app = crate::api::app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}

/// Deletes change-log entries older than `retention` every hour until shutdown. Safe on
/// several instances at once (deleting and raising the horizon are idempotent).
pub fn spawn_compaction(state: AppState, retention: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
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
