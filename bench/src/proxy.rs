//! A TCP proxy on loopback that counts the bytes the server sends (what travels on the
//! wire, compressed), can shape both directions to a bandwidth and a one-way delay (a poor
//! mobile link, without privileges), and can cut every connection at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Link shape: bytes per second each way, and one-way delay.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Bandwidth in bytes per second (each direction).
    pub bytes_per_sec: f64,
    /// Half the round trip.
    pub one_way: Duration,
}

/// A running proxy.
pub struct Proxy {
    /// `http://127.0.0.1:port`.
    pub url: String,
    down_bytes: Arc<AtomicU64>,
    is_down: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl Proxy {
    /// Proxies to `upstream_port`, shaped or not.
    pub async fn start(upstream_port: u16, shape: Option<Shape>) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let down_bytes = Arc::new(AtomicU64::new(0));
        let is_down = Arc::new(AtomicBool::new(false));
        let (cut, _) = broadcast::channel(4);
        let (counter, down, cuts) = (down_bytes.clone(), is_down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if down.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, shape, None, cuts.subscribe()));
                tokio::spawn(pump(sr, cw, shape, Some(counter.clone()), cuts.subscribe()));
            }
        });
        Ok(Proxy {
            url,
            down_bytes,
            is_down,
            cut,
        })
    }

    /// Bytes the server has sent through the proxy so far.
    pub fn bytes_down(&self) -> u64 {
        self.down_bytes.load(Ordering::SeqCst)
    }

    /// Cuts every open connection and refuses new ones.
    pub fn take_down(&self) {
        self.is_down.store(true, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    /// Accepts connections again.
    pub fn bring_up(&self) {
        self.is_down.store(false, Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shape: Option<Shape>,
    count: Option<Arc<AtomicU64>>,
    mut cut: broadcast::Receiver<()>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            if let Some(s) = shape {
                tokio::time::sleep_until(due).await;
                // Serialising the chunks at the link's rate gives the bandwidth.
                tokio::time::sleep(Duration::from_secs_f64(
                    chunk.len() as f64 / s.bytes_per_sec,
                ))
                .await;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 16 * 1024];
    let mut was_cut = false;
    loop {
        let n = tokio::select! {
            _ = cut.recv() => { was_cut = true; break }
            r = from.read(&mut buf) => match r { Ok(0) | Err(_) => break, Ok(n) => n },
        };
        if let Some(c) = &count {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        let due = Instant::now() + shape.map_or(Duration::ZERO, |s| s.one_way);
        if tx.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    if was_cut {
        writer.abort();
    } else {
        let _ = writer.await;
    }
}
