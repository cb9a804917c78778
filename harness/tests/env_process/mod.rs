//! A running `conform env up`, as the test targets that drive one by hand start it: the first
//! line it prints, the control endpoint, and SIGTERM (as Ctrl-C would) when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct EnvUp {
    child: Child,
    pub line: Value,
}

impl EnvUp {
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["env", "up"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("conform starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("env up prints a line");
        let line = serde_json::from_str(&first).expect("the line is JSON");
        Self { child, line }
    }

    pub fn control(&self, route: &str) -> String {
        format!(
            "{}{route}",
            self.line["control"].as_str().expect("control URL")
        )
    }
}

impl Drop for EnvUp {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
