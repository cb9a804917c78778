use std::path::PathBuf;
use std::process::ExitCode;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use crate::selection;

/// Starts one environment, prints how to reach it as one JSON line, and keeps it up until
/// Ctrl-C or SIGTERM.
pub fn up(fault_names: &[String]) -> anyhow::Result<ExitCode> {
    let faults = selection::faults(fault_names)?;
    super::runtime()?.block_on(async {
        let env = Environment::start(faults.clone()).await?;
        let dir = ca_dir();
        std::fs::create_dir_all(&dir)?;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, env.ca_pem())?;

        let accounts = env.accounts();
        let dms_users: Vec<_> = [&accounts.dms_admin, &accounts.dms_operator]
            .iter()
            .map(|u| json!({ "login": u.login, "password": u.password, "role": u.role }))
            .collect();
        let line = json!({
            "endpoints": {
                "connection": env.cloud_url(Endpoint::Connection),
                "sharing": env.cloud_url(Endpoint::Sharing),
                "tunnel": env.cloud_url(Endpoint::Tunnel),
                "dma": env.dma().api_url(),
                "waf": format!("http://{}/", env.waf().addr()),
            },
            "ca": ca,
            "resolve": env.published().iter()
                .map(|(name, addr)| format!("{name}:{}:{}", addr.port(), addr.ip()))
                .collect::<Vec<_>>(),
            "dms_id": accounts.dms_id,
            "accounts": {
                "dms": dms_users,
                "cloud": [json!({
                    "email": accounts.cloud_admin.email,
                    "password": accounts.cloud_admin.password,
                    "organization": accounts.cloud_admin.organization,
                })],
            },
            "faults": faults.iter().map(|f| f.name()).collect::<Vec<_>>(),
        });
        say!("{line}");
        let (name, addr) = env.published()[0];
        eprintln!(
            "environment up; try: curl --cacert {} --resolve {name}:{port}:{ip} https://{name}:{port}/api/dms/self\nCtrl-C stops it.",
            ca.display(),
            port = addr.port(),
            ip = addr.ip(),
        );

        wait_for_stop().await?;
        env.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("environment stopped");
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

fn ca_dir() -> PathBuf {
    std::env::temp_dir().join(format!("conform-env-{}", std::process::id()))
}

async fn wait_for_stop() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}
