//! `conform soak`: many agents on one cloud, viewers calling shared DMSs through the sharing
//! front end for a while, and every request accounted for by the soak's own oracle. Idle load
//! is light agents (`bench::fleet`); the DMSs that serve viewers run real agents.

mod cpu;
mod figures;
mod ledger;
mod oracle;
mod plan;
mod progress;
mod run;
mod shares;
mod viewers;

use std::process::ExitCode;

use crate::cli::SoakArgs;

pub fn soak(args: SoakArgs) -> anyhow::Result<ExitCode> {
    let plan = plan::Plan::from_args(args)?;
    super::run::prepare_report_dir(&plan.report_dir)?;
    let progress = progress::Progress::new(plan.json);
    let figures = super::runtime()?.block_on(run::soak(&plan, &progress));
    progress.finish();
    let figures = figures?;
    let path = figures.write(&plan.report_dir)?;
    if plan.json {
        say!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        figures.print();
        say!("figures written to {}", path.display());
    }
    Ok(if figures.accounted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
