//! Progress on a terminal: a bar on standard error while files are hashed.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use baretpm::proof::flow::Observer;
use baretpm::proof::hash::Progress;
use baretpm::text::Escaped;

/// Draws a progress bar on standard error when it is a terminal; prints notes always.
pub(super) struct Term {
    pub(super) bar: bool,
    pub(super) last: Option<Instant>,
    pub(super) drawn: bool,
}

impl Term {
    pub(super) fn new() -> Term {
        Term {
            bar: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    pub(super) fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Observer for Term {
    fn progress(&mut self, stage: &str, p: &Progress) {
        if !self.bar {
            return;
        }
        let done = p.files_done == p.files_total;
        if done {
            self.clear();
            return;
        }
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let frac = if p.bytes_total > 0 {
            (p.bytes_done as f64 / p.bytes_total as f64).min(1.0)
        } else {
            0.0
        };
        let width = 30;
        let filled = (frac * width as f64) as usize;
        eprint!(
            "\r\x1b[2K{stage}: [{}{}] {:3.0}%  {} / {}  {}/{} files",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            human(p.bytes_done),
            human(p.bytes_total),
            p.files_done,
            p.files_total
        );
        let _ = std::io::stderr().flush();
        self.drawn = true;
    }

    fn note(&mut self, message: &str) {
        self.clear();
        eprintln!("baretpm: {}", Escaped(message));
    }
}

fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
