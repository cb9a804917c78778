//! Panics are contained to the scenario run they happen in. Every run gets a runtime of its
//! own whose threads carry the run's number in their name; a panic on one of them (the body,
//! or any task of any mock) is recorded against that run instead of ending the process, and
//! the runner turns it into a harness failure of that scenario alone.

use std::collections::HashMap;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// Threads of run `n` are named `conform-run-<n>`.
const PREFIX: &str = "conform-run-";

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);
static PANICS: Mutex<Option<HashMap<u64, Vec<String>>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// A fresh run number, and the thread name its runtime uses.
pub(crate) fn next_run() -> (u64, String) {
    let n = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
    (n, format!("{PREFIX}{n}"))
}

/// Installs the containing hook once, in front of whatever hook is there: panics on a run's
/// threads are recorded quietly; any other panic goes to the previous hook (for `conform`, a
/// one-line internal error).
pub fn contain() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match current_run() {
            Some(run) => record(run, info),
            None => previous(info),
        }));
    });
}

fn current_run() -> Option<u64> {
    std::thread::current()
        .name()
        .and_then(|name| name.strip_prefix(PREFIX))
        .and_then(|n| n.parse().ok())
}

fn record(run: u64, info: &PanicHookInfo<'_>) {
    let what = info.payload_as_str().unwrap_or("a panic without a message");
    let message = match info.location() {
        Some(at) => format!("{what} (at {}:{})", at.file(), at.line()),
        None => what.to_owned(),
    };
    let mut panics = PANICS.lock().unwrap_or_else(|p| p.into_inner());
    panics
        .get_or_insert_with(HashMap::new)
        .entry(run)
        .or_default()
        .push(message);
}

/// The panics recorded on run `n`'s threads, taken out of the record.
pub(crate) fn take(run: u64) -> Vec<String> {
    let mut panics = PANICS.lock().unwrap_or_else(|p| p.into_inner());
    panics
        .as_mut()
        .and_then(|p| p.remove(&run))
        .unwrap_or_default()
}
