//! Progress of a long run: a bar on a terminal (done, passed, failed, elapsed), plain lines
//! when stdout is a file or a pipe, so CI logs stay readable and greppable.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    good: AtomicUsize,
    bad: AtomicUsize,
    /// What a good and a bad step are called: `passed`/`failed`, `killed`/`missed`.
    words: (&'static str, &'static str),
}

impl Progress {
    pub fn new(total: usize, words: (&'static str, &'static str)) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:32.cyan/blue} {pos}/{len} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            good: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            words,
        }
    }

    /// Counts one finished step. `line` is what a plain log shows for it; on a terminal only
    /// the lines worth reading (`loud`) are printed above the bar.
    pub fn step(&self, good: bool, line: Option<String>, loud: bool) {
        let counter = if good { &self.good } else { &self.bad };
        counter.fetch_add(1, Ordering::Relaxed);
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!(
                    "{} {}, {} {}",
                    self.good.load(Ordering::Relaxed),
                    self.words.0,
                    self.bad.load(Ordering::Relaxed),
                    self.words.1
                ));
                if let (Some(line), true) = (line, loud) {
                    bar.println(line);
                }
            }
            None => {
                if let Some(line) = line {
                    say!("{line}");
                }
            }
        }
    }

    /// A line that is not a step (a fault's verdict), above the bar or in the log.
    pub fn note(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => say!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
