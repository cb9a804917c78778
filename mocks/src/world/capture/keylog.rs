//! The NSS `SSLKEYLOGFILE` format, fed by rustls's `KeyLog` hook.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// One key log file shared by every endpoint of a run: each line is written whole, under one
/// lock, so lines of concurrent handshakes never interleave.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl KeyLogFile {
    /// Creates (or empties) `path`, readable by its owner only: it holds session secrets.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(options.open(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = nss_line(label, client_random, secret);
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // A key log that cannot be written loses the reviewer a decryption, never the run.
        let _ = file.write_all(line.as_bytes());
    }
}

/// `LABEL <client random> <secret>`, both in lowercase hex, one line.
fn nss_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut line =
        String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    line.push_str(label);
    line.push(' ');
    for byte in client_random {
        let _ = write!(line, "{byte:02x}");
    }
    line.push(' ');
    for byte in secret {
        let _ = write!(line, "{byte:02x}");
    }
    line.push('\n');
    line
}

/// A `KeyLog` a component installs in its TLS configurations when it builds them, which logs
/// nothing until an environment that captures plugs a key log into it.
#[derive(Debug, Clone, Default)]
pub struct KeyLogSlot(Arc<OnceLock<Arc<dyn rustls::KeyLog>>>);

impl KeyLogSlot {
    /// From now on, every secret goes to `log`; a slot already plugged keeps its first log.
    pub fn plug(&self, log: Arc<dyn rustls::KeyLog>) {
        let _ = self.0.set(log);
    }
}

impl rustls::KeyLog for KeyLogSlot {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if let Some(log) = self.0.get() {
            log.log(label, client_random, secret);
        }
    }

    fn will_log(&self, label: &str) -> bool {
        self.0.get().is_some_and(|log| log.will_log(label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn a_plugged_slot_writes_nss_lines_and_an_empty_one_nothing() {
        let dir = std::env::temp_dir().join(format!("conform-keylog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.log");
        let slot = KeyLogSlot::default();
        assert!(!slot.will_log("CLIENT_RANDOM"));
        slot.log("CLIENT_RANDOM", &[1, 2], &[0xab]);
        slot.plug(Arc::new(KeyLogFile::create(&path).unwrap()));
        assert!(slot.will_log("CLIENT_RANDOM"));
        slot.log("CLIENT_RANDOM", &[0x0f, 0xa0], &[0xff, 0x00]);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "CLIENT_RANDOM 0fa0 ff00\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
