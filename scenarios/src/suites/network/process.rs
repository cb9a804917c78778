//! NET-2: the agent as its own process, judged by the operating system's socket table. The
//! DMA drives it over the control channel the agent dialled; the scenario starts the process
//! and reads its sockets before, during and after a connected session.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use mocks::{Environment, Options};
use serde_json::json;

use super::dmz::{approve_pairing, recipients_traffic};
use super::sockets::tcp_sockets_of;
use crate::clients::DmaClient;
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Evidence, Failure};

/// The binary that runs the agent as its own process, when the program running the scenarios
/// is that binary itself (`conform run`): set once, before any scenario runs.
static AGENT_BINARY: OnceLock<PathBuf> = OnceLock::new();

/// Tells the network suite that `binary` is `conform` (the running program, for the harness),
/// so `conform agent` is started from it wherever it was installed.
pub fn use_agent_binary(binary: PathBuf) {
    let _ = AGENT_BINARY.set(binary);
}

/// The `conform` binary: the one the harness named, `CONFORM_BIN`, or next to the test
/// executable (`target/debug/` holds it, `target/debug/deps/` the tests).
fn conform_binary() -> Result<PathBuf, Failure> {
    if let Some(binary) = AGENT_BINARY.get() {
        return Ok(binary.clone());
    }
    if let Some(path) = std::env::var_os("CONFORM_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| Failure::Harness(e.to_string()))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("conform"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Failure::precondition(
                "finding the conform binary, to run the agent as its own process",
                "target/debug/conform beside the tests (cargo build -p harness), or CONFORM_BIN naming it",
                exe.display().to_string(),
            )
        })
}

/// The process holds no listening socket, and each of its connections goes to a port of
/// `allowed`.
fn expect_sockets(
    pid: u32,
    allowed: &BTreeSet<SocketAddr>,
    ev: &Evidence,
    when: &str,
) -> Result<(), Failure> {
    let sockets = tcp_sockets_of(pid).map_err(|e| {
        Failure::precondition(
            format!("reading /proc/{pid} {when}"),
            "the agent process's sockets",
            e.to_string(),
        )
    })?;
    ev.saw(format!("{when}: the agent process's TCP sockets"), &sockets);
    let listening: Vec<_> = sockets.iter().filter(|s| s.is_listening()).collect();
    ev.expect(
        "no-listening-socket-on-dms",
        &format!("{when}: listening sockets the agent process holds"),
        listening.is_empty(),
        "none",
        listening,
    )?;
    let elsewhere: Vec<_> = sockets
        .iter()
        .filter(|s| !allowed.contains(&s.remote))
        .collect();
    ev.expect(
        "dms-process-connects-only-to-translated-ports",
        &format!("{when}: the agent process's connections elsewhere than the cloud's translated ports, the WAF and the DMA"),
        elsewhere.is_empty(),
        "none",
        elsewhere,
    )
}

pub(super) async fn process_listens_on_nothing(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let binary = conform_binary()?;
    let env = ctx
        .environment_with(Options {
            agent_as_process: true,
            ..ctx.options()
        })
        .await?;
    let config = env
        .agent_process()
        .ok_or_else(|| Failure::Harness("the environment wrote no agent process config".into()))?;
    // Where the process may go: the cloud's ports behind the published addresses, the WAF it
    // forwards to, the DMA's control channel it dialled.
    let mut allowed: BTreeSet<SocketAddr> = env.published().into_iter().map(|(_, a)| a).collect();
    allowed.extend([config.forward_to, config.control]);
    let file = std::env::temp_dir().join(format!("conform-agent-{}.json", config.dms_id));
    let text = serde_json::to_vec(config).map_err(|e| Failure::Harness(e.to_string()))?;
    std::fs::write(&file, text).map_err(|e| Failure::Harness(e.to_string()))?;
    let child = tokio::process::Command::new(&binary)
        .arg("agent")
        .arg("--config")
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Failure::precondition(
                format!("starting {} agent", binary.display()),
                "a running agent process",
                e.to_string(),
            )
        })?;
    let credential_file = config.credential_file.clone();
    let judged = judge(&env, &ev, child.id(), &allowed, credential_file.as_deref()).await;
    drop(child);
    let _ = std::fs::remove_file(&file);
    env.stop().await;
    judged
}

async fn judge(
    env: &Environment,
    ev: &Evidence,
    pid: Option<u32>,
    allowed: &BTreeSet<SocketAddr>,
    credential_file: Option<&Path>,
) -> Result<(), Failure> {
    let pid = pid.ok_or_else(|| Failure::Harness("the agent process has no id".into()))?;
    if !env.agent().attached(PROMPTLY).await {
        return Err(Failure::timeout(
            "the agent process to dial the DMA's control channel",
            PROMPTLY,
        ));
    }
    expect_sockets(pid, allowed, ev, "before the DMS is connected")?;
    let reply = steps::ask_dms_to_connect(env).await?;
    approve_pairing(env, &reply).await?;
    let dms_id = &env.accounts().dms_id;
    if !env.cloud().tunnels().wait_ready(dms_id, 1, PROMPTLY).await {
        return Err(Failure::timeout(
            "the cloud to hold a tunnel of the agent process",
            PROMPTLY,
        ));
    }
    recipients_traffic(env).await?;
    expect_sockets(pid, allowed, ev, "connected, after recipients' traffic")?;
    let credential_file = credential_file
        .ok_or_else(|| Failure::Harness("the agent process was given no credential file".into()))?;
    let (mode, refresh_key) = credential_file_now(credential_file)?;
    ev.expect(
        "credential-file-owner-only",
        "the agent process's credential file, connected: its permission bits, and whether it holds a refresh key",
        mode & 0o077 == 0 && refresh_key,
        "no access for group or others, a refresh key held",
        (format!("{mode:o}"), refresh_key),
    )?;
    DmaClient::new(env)
        .log_in(&env.accounts().dms_admin)
        .await?
        .expect_data("DisconnectFromCloud", json!({}))
        .await?;
    env.settle().await;
    expect_sockets(pid, allowed, ev, "after the disconnect")?;
    let (_, refresh_key) = credential_file_now(credential_file)?;
    ev.expect(
        "disconnect-erases-credentials-on-disk",
        "whether the agent process's credential file holds a refresh key after the disconnect",
        !refresh_key,
        "none",
        refresh_key,
    )
}

/// The credential file's permission bits, and whether it holds a refresh key: read from the
/// disk, as the process left it.
fn credential_file_now(path: &Path) -> Result<(u32, bool), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let unreadable = |e: std::io::Error| {
        Failure::precondition(
            format!(
                "reading the agent process's credential file {}",
                path.display()
            ),
            "the file the process keeps its credentials in",
            e.to_string(),
        )
    };
    let mode = std::fs::metadata(path)
        .map_err(unreadable)?
        .permissions()
        .mode()
        & 0o777;
    let text = std::fs::read(path).map_err(unreadable)?;
    let disk: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        Failure::precondition(
            "the credential file as JSON",
            "a JSON object",
            e.to_string(),
        )
    })?;
    let refresh_key = disk
        .pointer("/credentials/refresh_key")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|k| !k.is_empty());
    Ok((mode, refresh_key))
}
