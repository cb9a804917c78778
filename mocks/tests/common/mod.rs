//! What this crate's test targets share: finding the outside tools they drive. A missing tool
//! fails the test with one line saying how to get it; it never skips.

use std::path::Path;
use std::process::Command;

/// `program` from PATH, ready to run; `package` is the Debian package that has it.
pub fn tool(program: &str, package: &str) -> Command {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
    });
    assert!(
        found,
        "{program} not found: run ./test.sh, or apt-get install {package}"
    );
    Command::new(program)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
