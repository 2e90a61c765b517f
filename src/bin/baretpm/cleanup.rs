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
/// The signal received, 0 until one is.
static RECEIVED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
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
                        RECEIVED.store(sig, std::sync::atomic::Ordering::SeqCst);
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

/// Called before the process ends on its own: once a signal arrived, the main thread (whose
/// TPM just went away under it) waits for the cleanup to finish and the process to exit with
/// the signal's status, instead of exiting first with its own error.
pub fn wait_if_signalled() {
    let sig = RECEIVED.load(std::sync::atomic::Ordering::SeqCst);
    if sig == 0 {
        return;
    }
    // The signal thread exits the process when done; this bound only guards against a stuck
    // removal.
    std::thread::sleep(std::time::Duration::from_secs(10));
    std::process::exit(128 + sig);
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
    let mut pending: Vec<Undo> = lock().drain(..).collect();
    // Swtpms first: with its TPM gone the main thread stops making progress sooner, so fewer
    // files appear in the directories while they are being removed.
    pending.sort_by_key(|u| matches!(u, Undo::Dir(_)));
    for u in pending {
        match u {
            Undo::Swtpm(r) => {
                r.reap();
                done.push("stopped the private swtpm and removed its state".to_string());
            }
            Undo::Dir(p) => {
                if remove_while_in_use(&p) {
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

/// Removes `dir` although the main thread may still be writing into it (it runs on until the
/// process exits): a file created during the removal makes the last rmdir fail, so try again
/// for up to a second. True once the directory is gone. Gone stays gone only because no code
/// path recreates a registered directory itself (the demo makes its subdirectories one level
/// at a time, never with `create_dir_all`): writes into a removed directory fail.
fn remove_while_in_use(dir: &std::path::Path) -> bool {
    for _ in 0..50 {
        let _ = std::fs::remove_dir_all(dir);
        if !dir.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}
