//! A fault-injecting HTTP proxy for tests: what a phone's connection does to requests on a
//! bad day. Per request it may drop the request before the server sees it, drop the
//! response after the server committed, deliver the request twice, cut the response body
//! halfway, answer 503 as a gateway does while the server restarts, delay, or trickle the
//! body at a set bandwidth; and it can lose the signal altogether (cut every open
//! connection, refuse new ones) or follow a server that restarts on another port.
//!
//! It speaks HTTP (hyper) rather than shuffling bytes so that each fault lands on a request
//! boundary the test can reason about: "the server committed, the client never heard" is a
//! different promise from "the server never heard". Choices come from a seeded generator,
//! so a run replays with the same seed (timing aside).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, Error>;

/// How often each fault happens, per request (probabilities in 0..=1).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Close the connection before forwarding: the server never sees the request.
    pub drop_request: f64,
    /// Answer 503 without forwarding, as a gateway does while the server restarts.
    pub unavailable: f64,
    /// Forward and wait for the whole response, then close without answering: the server
    /// committed and the client cannot know.
    pub drop_response: f64,
    /// Forward the request twice (the first response is thrown away).
    pub duplicate: f64,
    /// Send the response head and half its body, then close.
    pub cut_body: f64,
    /// Hold the response back for up to `max_delay`.
    pub delay: f64,
    /// The longest delay.
    pub max_delay: Duration,
    /// Response bodies trickle at this many bytes per second.
    pub bytes_per_second: Option<u64>,
}

impl Faults {
    /// A hostile but usable network: about one request in three meets a fault.
    pub fn chaos() -> Faults {
        Faults {
            drop_request: 0.06,
            unavailable: 0.03,
            drop_response: 0.08,
            duplicate: 0.08,
            cut_body: 0.06,
            delay: 0.15,
            max_delay: Duration::from_millis(150),
            bytes_per_second: None,
        }
    }
}

/// How many times each fault was injected (a test that claims to survive faults first
/// checks that they happened).
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests forwarded (duplicates counted once).
    pub forwarded: AtomicU64,
    /// Requests dropped before the server.
    pub dropped_requests: AtomicU64,
    /// Requests answered 503 by the proxy.
    pub unavailable: AtomicU64,
    /// Responses dropped after the server answered.
    pub dropped_responses: AtomicU64,
    /// Requests delivered twice.
    pub duplicated: AtomicU64,
    /// Response bodies cut halfway.
    pub cut_bodies: AtomicU64,
    /// Responses delayed.
    pub delayed: AtomicU64,
    /// Requests that found no server (it was down or restarting).
    pub upstream_down: AtomicU64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        write!(
            f,
            "forwarded {}, dropped requests {}, answered 503 {}, dropped responses {}, duplicated {}, cut bodies {}, delayed {}, server down {}",
            g(&self.forwarded),
            g(&self.dropped_requests),
            g(&self.unavailable),
            g(&self.dropped_responses),
            g(&self.duplicated),
            g(&self.cut_bodies),
            g(&self.delayed),
            g(&self.upstream_down)
        )
    }
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    down: AtomicBool,
    cut: Notify,
    stats: Stats,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A running proxy.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the dice said for one request.
struct Plan {
    drop_request: bool,
    unavailable: bool,
    drop_response: bool,
    duplicate: bool,
    cut_body: bool,
    delay: Option<Duration>,
}

impl Shared {
    fn plan(&self) -> Plan {
        let f = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut roll = |p: f64| p > 0.0 && rng.random_bool(p.min(1.0));
        let plan = Plan {
            drop_request: roll(f.drop_request),
            unavailable: roll(f.unavailable),
            drop_response: roll(f.drop_response),
            duplicate: roll(f.duplicate),
            cut_body: roll(f.cut_body),
            delay: roll(f.delay).then_some(f.max_delay),
        };
        match plan.delay {
            Some(max) if !max.is_zero() => Plan {
                delay: Some(max.mul_f64(rng.random::<f64>())),
                ..plan
            },
            _ => Plan {
                delay: None,
                ..plan
            },
        }
    }

    async fn forward(
        &self,
        parts: &hyper::http::request::Parts,
        body: &Bytes,
    ) -> Result<Response<Incoming>, Error> {
        let upstream = *self.upstream.lock().unwrap_or_else(|e| e.into_inner());
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut req = Request::builder()
            .method(parts.method.clone())
            .uri(format!("http://{upstream}{path}"));
        for (name, value) in &parts.headers {
            if name != hyper::header::HOST {
                req = req.header(name, value);
            }
        }
        let req = req.body(Full::new(body.clone()))?;
        match self.client.request(req).await {
            Ok(resp) => Ok(resp),
            Err(e) => {
                self.stats.upstream_down.fetch_add(1, Ordering::Relaxed);
                Err(e.into())
            }
        }
    }

    /// One request through the faults. An `Err` makes hyper close the connection without
    /// an answer, which is exactly what a dropped request or response looks like.
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, Error> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        let plan = self.plan();
        if plan.drop_request {
            self.stats.dropped_requests.fetch_add(1, Ordering::Relaxed);
            return Err("fault: request dropped".into());
        }
        if plan.unavailable {
            self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
            let body =
                r#"{"code":"unavailable","message":"the server is restarting; retry shortly"}"#;
            return Ok(Response::builder()
                .status(503)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)).map_err(Error::from).boxed())?);
        }
        if plan.duplicate
            && let Ok(first) = self.forward(&parts, &body).await
        {
            let _ = first.into_body().collect().await;
            self.stats.duplicated.fetch_add(1, Ordering::Relaxed);
        }
        let resp = self.forward(&parts, &body).await?;
        self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = plan.delay {
            self.stats.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(d).await;
        }
        let rate = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .bytes_per_second;
        let streaming = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if streaming {
            // Event streams never end; they pass through (they are cut with the signal).
            return Ok(resp.map(|b| b.map_err(Error::from).boxed()));
        }
        let (head, body) = resp.into_parts();
        let bytes = body.collect().await?.to_bytes();
        if plan.drop_response {
            self.stats.dropped_responses.fetch_add(1, Ordering::Relaxed);
            return Err("fault: response dropped".into());
        }
        if plan.cut_body && bytes.len() > 1 {
            self.stats.cut_bodies.fetch_add(1, Ordering::Relaxed);
            let half = bytes.slice(..bytes.len() / 2);
            let frames: Vec<Result<Frame<Bytes>, Error>> =
                vec![Ok(Frame::data(half)), Err("fault: body cut halfway".into())];
            let body = StreamBody::new(futures::stream::iter(frames));
            return Ok(Response::from_parts(head, BodyExt::boxed(body)));
        }
        match rate {
            Some(rate) if rate > 0 => Ok(Response::from_parts(head, trickle(bytes, rate))),
            _ => Ok(Response::from_parts(
                head,
                Full::new(bytes).map_err(Error::from).boxed(),
            )),
        }
    }
}

/// A body that arrives `rate` bytes per second, in twentieths of a second.
fn trickle(bytes: Bytes, rate: u64) -> Body {
    let chunk = usize::try_from((rate / 20).max(1)).unwrap_or(usize::MAX);
    let stream = futures::stream::unfold(bytes, move |rest| async move {
        if rest.is_empty() {
            return None;
        }
        let n = chunk.min(rest.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((Ok(Frame::data(rest.slice(..n))), rest.slice(n..)))
    });
    BodyExt::boxed(StreamBody::new(stream))
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`, without faults.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        Proxy::with_seed(upstream, 0).await
    }

    /// As [`Proxy::start`], drawing faults from a generator seeded with `seed`.
    pub async fn with_seed(upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the proxy: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy address: {e}"));
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            faults: Mutex::new(Faults::default()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            down: AtomicBool::new(false),
            cut: Notify::new(),
            stats: Stats::default(),
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(64)
                .build_http(),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if s.down.load(Ordering::SeqCst) {
                    continue; // no signal: the connection is reset
                }
                let s = s.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn({
                        let s = s.clone();
                        move |req| s.clone().handle(req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = s.cut.notified() => {}
                    }
                });
            }
        });
        Proxy { addr, shared }
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Follows a server that came back on another address.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = upstream;
    }

    /// What was injected so far.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Loses the signal: open connections are cut, new ones dropped.
    pub fn take_down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        self.shared.cut.notify_waiters();
    }

    /// The signal is back.
    pub fn bring_up(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }
}
