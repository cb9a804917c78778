//! `conform run --capture DIR`: each scenario run leaves a pcapng of every connection its
//! environments carried, the TLS key log that decrypts it, and the requests the cloud
//! recorded, under `DIR/<scenario id>[@<faults>]`; a failed run names the exchange behind its
//! verdict as a display filter. Off unless asked for: the files hold live secrets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use mocks::world::FaultSet;
use mocks::world::capture::{CaptureFiles, CaptureSink};

use crate::{Failure, Scenario};

static DIR: OnceLock<PathBuf> = OnceLock::new();
/// Stems handed out in this process: a scenario run twice (`--repeat`) gets a second set.
static TAKEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// From now on every run of this process is captured into `dir` (created if missing).
pub fn capture_into(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _ = DIR.set(dir.to_owned());
    Ok(())
}

/// Where one run's capture went, and the exchange behind its verdict.
#[derive(Debug, Clone)]
pub struct RunCapture {
    pub files: CaptureFiles,
    pub exchange: Option<Exchange>,
}

/// One exchange of a capture, as a reviewer finds it in Wireshark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The check whose verdict it preceded.
    pub check: Option<String>,
    /// A display filter that shows it.
    pub filter: String,
    /// The exchange in words.
    pub words: String,
}

/// The capture a run of `scenario` under `faults` starts with, when this process captures.
pub(crate) fn sink_for(scenario: &Scenario, faults: &FaultSet) -> Option<CaptureSink> {
    let dir = DIR.get()?;
    let mut name = scenario.id.to_owned();
    let on: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    if !on.is_empty() {
        name = format!("{name}@{}", on.join("+"));
    }
    let stem = {
        let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
        let mut stem = dir.join(&name);
        let mut n = 1;
        while !taken.insert(stem.clone()) {
            n += 1;
            stem = dir.join(format!("{name}-{n}"));
        }
        stem
    };
    CaptureSink::create(&stem).ok()
}

/// Writes the run's capture; for a failed run, points at the last request a cloud received
/// before the verdict (`ended`): the exchange the check that failed was judged after.
pub(crate) fn finish(
    sink: &CaptureSink,
    failure: Option<&Failure>,
    ended: Instant,
) -> Option<RunCapture> {
    let files = sink.finish().ok()?;
    let exchange = failure.and_then(|failure| {
        let (request, stream, frame) = sink.last_request_before(ended)?;
        Some(Exchange {
            check: failure.check().map(str::to_owned),
            filter: filter(stream, frame),
            words: format!(
                "the last request the cloud received before the verdict: {} {}{} (answered {})",
                request.method, request.endpoint, request.target, request.status
            ),
        })
    });
    Some(RunCapture { files, exchange })
}

/// The packet of TCP stream `stream` where a request ends (Wireshark shows the reassembled
/// request there; "Follow TCP stream" from it shows the whole exchange).
fn filter(stream: usize, frame: usize) -> String {
    format!("tcp.stream eq {stream} && frame.number == {frame}")
}
