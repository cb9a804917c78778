//! `conform agent --config FILE`: the agent alone, in a process of its own, so the operating
//! system can be asked what it does (NET-2). The file is the JSON an environment started with
//! `Options::agent_as_process` writes (`Environment::agent_process`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use mocks::agent::ProcessConfig;

pub fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let config: ProcessConfig = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an agent configuration", config.display()))?;
    super::runtime()?.block_on(config.run())?;
    Ok(ExitCode::SUCCESS)
}
