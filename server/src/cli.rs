//! What the command line shares: a progress bar for long jobs (`receipts export`, `log
//! verify`, `sites import`, `retention apply`), drawn on standard error only when it is a
//! terminal and `--quiet` was not given.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{
    io::IsTerminal,
    sync::atomic::{AtomicBool, Ordering},
};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress bars, no summary lines on standard error (errors still print).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress bar for a job of `len` steps (`None`: unknown, a spinner), labelled `label`
/// (Thai first, e.g. `"ส่งออกใบรับ / exporting receipts"`), with the rate and the time
/// left. It draws nothing when standard error is not a terminal (piped, in a log, under
/// cron) or with `--quiet`, so a caller can always `inc` it. Finish it with
/// [`ProgressBar::finish`] (the final line stays) or `finish_and_clear`.
pub fn progress(len: Option<u64>, label: &str) -> ProgressBar {
    let target = if quiet() || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::with_draw_target(Some(n), target),
            "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, เหลือ/left {eta})",
        ),
        None => (
            ProgressBar::with_draw_target(None, target),
            "{msg} {spinner} {human_pos} ({per_sec}, {elapsed})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar
}
