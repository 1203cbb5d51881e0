//! A local emulator of the WeChat and Tencent COS endpoints wx-media talks to:
//! access tokens, temporary media, Cloud Base storage (with a COS POST Object
//! endpoint and a download host), plus fault injection and a request log.
//!
//! It is deliberately as strict as the real servers (multipart rules,
//! filenames, magic bytes, tokens, signatures, expiries) so that code which
//! passes against it has a good chance of passing against WeChat.
//!
//! It runs on whatever tokio runtime calls [`Emulator::start`]: napi's runtime
//! when started from Node, a test runtime under `cargo test`.

mod cdn;
mod control;
mod fault_body;
mod faults;
#[doc(hidden)]
pub mod fuzzing;
mod gateway;
mod gateway_openapi;
mod gateway_storage;
mod generic;
mod http;
mod media;
mod messages;
mod record;
mod router;
mod state;
mod storage;
mod tokens;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use faults::Fault;
pub use media::MediaLimits;
pub use messages::RISKY_MARKER;

use state::{lock, Shared};

/// The app every emulator knows unless told otherwise.
pub const DEFAULT_APPID: &str = "wxemulator0000001";
pub const DEFAULT_SECRET: &str = "emulator-secret-0000000000000001";
/// The cloud env every emulator knows unless told otherwise.
pub const DEFAULT_ENV: &str = "wx-media-emu";

/// How the emulator listens and what it knows.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Interface to bind; loopback unless deliberately changed.
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    /// (appid, secret) pairs accepted by the token endpoints.
    pub apps: Vec<(String, String)>,
    /// Cloud Base env ids accepted by `/tcb/*`.
    pub envs: Vec<String>,
    /// Cloud-run open-API service mode: requests without any token are accepted.
    pub open_api_service: bool,
    /// Benchmark mode: no request log, no hashing, temporary media not kept.
    pub lean: bool,
    /// Cap on kept media bytes, and separately on kept COS object bytes;
    /// the oldest are evicted beyond it.
    pub max_stored_bytes: usize,
    /// Per-type size limits of `/cgi-bin/media/upload`.
    pub media_limits: MediaLimits,
    /// Largest request body read (bigger ones get 413).
    pub max_body_bytes: usize,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port: 0,
            apps: vec![(DEFAULT_APPID.to_owned(), DEFAULT_SECRET.to_owned())],
            envs: vec![DEFAULT_ENV.to_owned()],
            open_api_service: false,
            lean: false,
            max_stored_bytes: 512 * 1024 * 1024,
            media_limits: MediaLimits::default(),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A running emulator. Dropping it stops the server too; `close()` also
/// waits until every connection is gone.
pub struct Emulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Emulator {
    /// Binds `host:port` and starts serving on the current tokio runtime.
    pub async fn start(opts: EmulatorOptions) -> std::io::Result<Emulator> {
        if opts.apps.is_empty() || opts.envs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the emulator needs at least one app and one env",
            ));
        }
        let listener = TcpListener::bind((opts.host.as_str(), opts.port)).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(opts, base_url(local_addr)));
        let (shutdown, stop) = watch::channel(false);
        let server = tokio::spawn(accept_loop(listener, shared.clone(), stop));
        Ok(Emulator {
            shared,
            local_addr,
            shutdown,
            server: Mutex::new(Some(server)),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Stops accepting, ends every open connection, and waits for both.
    pub async fn close(&self) {
        self.shutdown.send_replace(true);
        let server = lock(&self.server).take();
        if let Some(server) = server {
            // The loop only ends by our signal; a JoinError would mean it
            // panicked, and the server is gone either way.
            let _ = server.await;
        }
    }

    /// `{ requests: {route: count}, tokenFetches, storedMedia, storedObjects, … }`
    pub fn stats(&self) -> serde_json::Value {
        self.shared.stats()
    }

    /// The last ≤ 1000 requests, oldest first.
    pub fn requests(&self) -> serde_json::Value {
        self.shared.requests(None)
    }

    /// The logged requests whose path starts with `path_prefix`.
    pub fn requests_matching(&self, path_prefix: &str) -> serde_json::Value {
        self.shared.requests(Some(path_prefix))
    }

    pub fn clear_requests(&self) {
        self.shared.clear_requests()
    }

    /// Customer-service messages accepted so far, oldest first (≤ 1000).
    pub fn sent_messages(&self) -> serde_json::Value {
        lock(&self.shared.outbox).all()
    }

    /// Clears the request log, the counters, the faults and the sent messages.
    pub fn reset(&self) {
        self.shared.reset()
    }

    /// Every token issued so far reads as expired (42001) from now on.
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens()
    }

    /// Moves emulator time forward (tokens, media, tickets, links expire by it).
    pub fn advance_clock(&self, ms: u64) {
        self.shared.advance_clock(ms)
    }

    pub fn inject_fault(&self, fault: Fault) {
        self.shared.inject_fault(fault)
    }

    pub fn clear_faults(&self) {
        self.shared.clear_faults()
    }

    /// A valid access token for `appid` (default: the first app); an appid
    /// the emulator does not know is refused.
    pub fn issue_token(&self, appid: Option<&str>) -> Result<String, String> {
        self.shared.issue_token(appid)
    }

    /// The active faults with the hits each has left (`remaining`, `null` = forever).
    pub fn faults(&self) -> serde_json::Value {
        self.shared.faults()
    }

    /// A valid token for `?cloudbase_access_token=`.
    pub fn issue_cloudbase_token(&self) -> String {
        self.shared.issue_cloudbase_token()
    }

    /// The environment variables that make a process a cloud function of the
    /// first env whose TCB gateway is this emulator (`TCB_CONTEXT_CNFG`).
    pub fn cloud_function_env(&self) -> std::collections::BTreeMap<&'static str, String> {
        gateway::cloud_function_env(&self.shared)
    }

    /// Issues new cloud-function credentials and tokens (as the platform
    /// does between invocations); the old ones are refused from now on.
    pub fn rotate_cloud_credentials(&self) -> std::collections::BTreeMap<&'static str, String> {
        gateway::rotate(&self.shared)
    }

    /// `{ url, apps: [{appid, secret}], envs }`
    pub fn info(&self) -> serde_json::Value {
        self.shared.info()
    }

    /// The apps and envs the emulator was started with.
    pub fn options(&self) -> &EmulatorOptions {
        &self.shared.opts
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Without this the server would outlive an emulator dropped unclosed.
        self.shutdown.send_replace(true);
    }
}

/// The URL clients use: an unspecified bind address is reached over loopback.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // A closed channel (emulator dropped) stops the loop too.
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, shared.clone()));
                }
                // Out of file descriptors and the like: let things settle.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Resolves once the emulator is closed or dropped.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it before returning.
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    // Small JSON answers should not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| router::handle(shared.clone(), request));
    // Errors here are client disconnects and deliberate resets: nothing to do.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
