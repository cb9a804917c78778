//! Evidence a reviewer opens in Wireshark: every TCP connection an environment carried, as it
//! crossed the wire (the bytes of each direction, in order, with their times), written as a
//! pcapng with synthesized Ethernet/IPv4/TCP headers, and the TLS secrets of every rustls
//! endpoint in the NSS key log format, so `tshark -o tls.keylog_file:FILE` decrypts it all.
//!
//! Opt-in only: a capture and its key log hold the live secrets of a throwaway environment.

mod keylog;
mod pcapng;
mod tap;

pub use keylog::{KeyLogFile, KeyLogSlot};
pub use pcapng::{PcapError, frame_of, write_pcapng};
pub use tap::{Segment, TapConn, TapRecord, Tapped, Wiretap};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What an environment that captures is handed: the run's wiretap and its key log, shared by
/// every environment the run starts, and the requests its clouds recorded, kept to be set
/// beside the capture.
#[derive(Debug, Clone)]
pub struct CaptureSink {
    pub wiretap: Wiretap,
    pub key_log: Arc<KeyLogFile>,
    requests: Arc<Mutex<Vec<SeenRequest>>>,
    stem: PathBuf,
}

/// One request as the cloud recorded it, and the connection it came on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeenRequest {
    pub endpoint: String,
    pub method: String,
    /// The request target as sent (origin form).
    pub target: String,
    pub status: u16,
    pub peer: Option<SocketAddr>,
    #[serde(skip)]
    pub received: Option<Instant>,
}

/// Wireshark dissects no HTTP/2 inside a WebSocket by itself (no heuristic, and its
/// WebSocket port table takes no "Decode As"): this shim, loaded with
/// `-X lua_script:FILE` (or from the plugins folder), shows the tunnel's streams.
pub const TUNNEL_HTTP2_LUA: &str = "-- conform: the tunnel's WebSocket messages carry HTTP/2 (tunnel.dataminer.services:443)\n\
     DissectorTable.get(\"ws.port\"):add(443, Dissector.get(\"http2\"))\n";

/// The files one run's capture was written to.
#[derive(Debug, Clone)]
pub struct CaptureFiles {
    pub pcapng: PathBuf,
    pub key_log: PathBuf,
    /// The Lua shim that shows the tunnel's HTTP/2 streams ([`TUNNEL_HTTP2_LUA`]).
    pub tunnel_lua: PathBuf,
    /// The requests the clouds recorded (JSON), to hold the capture against.
    pub requests: PathBuf,
}

impl CaptureSink {
    /// A capture whose files will be `<stem>.pcapng`, `<stem>.keys.log` and
    /// `<stem>.requests.json`; the key log is created now, as secrets go to it as they come.
    pub fn create(stem: &Path) -> std::io::Result<Self> {
        let key_log = KeyLogFile::create(&with_suffix(stem, ".keys.log"))?;
        Ok(Self {
            wiretap: Wiretap::new(),
            key_log: Arc::new(key_log),
            requests: Arc::default(),
            stem: stem.to_owned(),
        })
    }

    /// Puts requests a cloud recorded beside the capture.
    pub fn saw_requests(&self, requests: impl IntoIterator<Item = SeenRequest>) {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(requests);
    }

    /// Every request the clouds recorded so far, in the order they arrived.
    pub fn requests(&self) -> Vec<SeenRequest> {
        let mut all = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        all.sort_by_key(|r| r.received);
        all
    }

    /// The last request a cloud received at or before `at`, with its connection's
    /// `tcp.stream` index in the capture and the `frame.number` where the request ends.
    pub fn last_request_before(&self, at: Instant) -> Option<(SeenRequest, usize, usize)> {
        self.requests()
            .into_iter()
            .rev()
            .filter(|r| r.received.is_some_and(|received| received <= at))
            .find_map(|r| {
                let stream = self.wiretap.stream_of(r.peer?, r.received?)?;
                let frame = frame_of(&self.wiretap, stream, r.received?)?;
                Some((r, stream, frame))
            })
    }

    /// Writes the pcapng and the requests; the key log is already written.
    pub fn finish(&self) -> Result<CaptureFiles, PcapError> {
        let files = CaptureFiles {
            pcapng: with_suffix(&self.stem, ".pcapng"),
            key_log: self.key_log.path().to_owned(),
            requests: with_suffix(&self.stem, ".requests.json"),
            tunnel_lua: self.stem.with_file_name("tunnel-http2.lua"),
        };
        write_pcapng(&self.wiretap, &files.pcapng)?;
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|source| PcapError::Io {
                path: path.display().to_string(),
                source,
            })
        };
        write(&files.tunnel_lua, TUNNEL_HTTP2_LUA.as_bytes())?;
        let json = serde_json::to_vec_pretty(&self.requests())
            .map_err(|e| PcapError::Encode(e.to_string()))?;
        write(&files.requests, &json)?;
        Ok(files)
    }
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
