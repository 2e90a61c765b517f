//! Cleanup on SIGINT, SIGTERM and SIGHUP: a private swtpm and the temporary directories of
//! `run` and `demo` must not outlive the process when it is interrupted or told to stop.
//!
//! Once [`install`] ran, a thread waits for those signals (signal-hook; no unsafe code here).
//! On the first one it stops every registered swtpm, removes every registered directory and
//! exits with 128 + the signal number, as a shell reports a process killed by that signal.
//! Normal exits clean up through `Drop` as before; what the registry holds then is already
//! gone and undoing it again does nothing.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};

use baretpm::proof::swtpm::Reaper;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

enum Undo {
    Swtpm(Reaper),
    Dir(PathBuf),
}

static PENDING: Mutex<Vec<Undo>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Starts the signal thread (once). Fails when the handlers cannot be registered.
pub fn install() -> Result<(), String> {
    INSTALLED
        .get_or_init(|| {
            let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])
                .map_err(|e| format!("cannot handle SIGINT/SIGTERM/SIGHUP: {e}"))?;
            std::thread::Builder::new()
                .name("baretpm-signals".into())
                .spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        let what = undo_all();
                        eprintln!(
                            "baretpm: {} received: {}",
                            name(sig),
                            if what.is_empty() {
                                "stopping".to_string()
                            } else {
                                what.join(", ")
                            }
                        );
                        std::process::exit(128 + sig);
                    }
                })
                .map_err(|e| format!("cannot start the signal thread: {e}"))?;
            Ok(())
        })
        .clone()
}

/// Stops this swtpm if a signal arrives.
pub fn swtpm(r: Reaper) {
    lock().push(Undo::Swtpm(r));
}

/// Removes this directory if a signal arrives.
pub fn dir(p: PathBuf) {
    lock().push(Undo::Dir(p));
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Undo>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn undo_all() -> Vec<String> {
    let mut done = Vec::new();
    for u in lock().drain(..) {
        match u {
            Undo::Swtpm(r) => {
                r.reap();
                done.push("stopped the private swtpm and removed its state".to_string());
            }
            Undo::Dir(p) => {
                if std::fs::remove_dir_all(&p).is_ok() {
                    done.push(format!("removed {}", p.display()));
                }
            }
        }
    }
    done
}

fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}
