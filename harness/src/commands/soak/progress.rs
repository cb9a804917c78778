//! What the soak is doing: on a terminal a spinner through the setup and a bar through the
//! load (seconds gone, requests sent and answered), plain lines otherwise (one per phase and
//! one every few seconds of load), none with `--json` off a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ledger::Counts;

/// How often a plain log gets a line during the load.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
}

impl Progress {
    /// A bar on stdout when it is a terminal; on stderr when stdout carries the JSON and
    /// stderr is a terminal.
    pub fn new(json: bool) -> Self {
        let target = if json {
            std::io::stderr()
                .is_terminal()
                .then(ProgressDrawTarget::stderr)
        } else {
            std::io::stdout()
                .is_terminal()
                .then(ProgressDrawTarget::stdout)
        };
        let bar = target.map(|target| {
            let bar = ProgressBar::with_draw_target(None, target);
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            plain: bar.is_none() && !json,
            bar,
        }
    }

    /// A setup step begins.
    pub fn phase(&self, what: impl Into<String>) {
        let what = what.into();
        match &self.bar {
            Some(bar) => bar.set_message(what),
            None if self.plain => say!("{what}"),
            None => {}
        }
    }

    /// The load begins: the bar counts its seconds.
    pub fn load(&self, duration: Duration) {
        if let Some(bar) = &self.bar {
            bar.set_length(duration.as_secs().max(1));
            bar.set_position(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:32.cyan/blue} {pos}/{len} s {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        }
    }

    /// Where the load stands, `gone` into it.
    pub fn tick(&self, gone: Duration, counts: Counts, plain_line: bool) {
        let line = format!(
            "{} sent, {} answered right, {} crossed, {} wrong, {} lost",
            counts.sent, counts.right, counts.crossed, counts.wrong, counts.lost
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(gone.as_secs());
                bar.set_message(line);
            }
            None if self.plain && plain_line => say!("{:>4} s  {line}", gone.as_secs()),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
