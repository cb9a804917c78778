//! Every suite three times over with two busy loops beside it, every run required to pass.
//! A race between the environment's tasks shows only when the machine is loaded (a flake is a
//! defect, not bad luck), so this is where it shows first.
//!
//! A test target of its own, for CI: `cargo test --workspace` runs it, and
//! `cargo test --workspace -- --skip busy_loops` skips it by name.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A thread that keeps one core busy until dropped, as another build or test run would.
struct BusyLoop {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BusyLoop {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let spinning = stop.clone();
        let thread = std::thread::spawn(move || {
            while !spinning.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BusyLoop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn every_suite_passes_three_times_over_beside_two_busy_loops() {
    let dir = std::env::temp_dir().join(format!("conform-stress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let load = [BusyLoop::start(), BusyLoop::start()];
    let output = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--repeat", "3", "--report-dir"])
        .arg(&dir)
        .output()
        .expect("conform runs");
    drop(load);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("3 runs: all passed"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
