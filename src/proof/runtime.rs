//! The machine-wide runtime log: every event baretpm extends into PCR14/15 in this boot, in
//! order, so that a later run can explain its start value by the earlier runs' events; and the
//! lock that serializes runs on one TPM.
//!
//! The log is a text file of JSON lines: a header `{"format": "baretpm-runtime-log",
//! "version": 1, "boot_id": "..."}`, then one `{"pcr": 14, "event": {...}}` per extended event.
//! A header from another boot (`/proc/sys/kernel/random/boot_id` differs) makes the log
//! empty. The lock is an exclusive `flock` on `PATH.lock`, held by a run from before it reads
//! PCR14/15 until after its quote, and by `measure` and `attest` around their extends and
//! quote: runs on one TPM are serialized, so no run's events interleave with another's.
//!
//! Nothing here is trusted by a verifier: a proof carries the earlier events it uses, and the
//! verifier checks they replay to the recorded start value. A damaged or stale log only makes
//! a start "not explained".

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use serde::{Deserialize, Serialize};

use super::event::{Event, INPUT_PCR, OUTPUT_PCR};
use super::file::{event_from_raw, event_to_raw, RawEvent, MAX_EVENTS, MAX_PROOF_FILE};
use crate::files::read_bounded;

/// Overrides the runtime log's path (tests, or a machine whose /run is elsewhere).
pub const RUNTIME_LOG_ENV: &str = "BARETPM_RUNTIME_LOG";
/// The log's path when /run/baretpm can be created (root).
pub const SYSTEM_PATH: &str = "/run/baretpm/runtime-log.jsonl";
const FORMAT: &str = "baretpm-runtime-log";

/// Where the runtime log lives: `$BARETPM_RUNTIME_LOG`, else [`SYSTEM_PATH`] when its
/// directory exists or can be made, else `$XDG_RUNTIME_DIR/baretpm-runtime-log.jsonl`; `None`
/// when none is usable (runs are then neither logged nor serialized).
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(RUNTIME_LOG_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let system = Path::new(SYSTEM_PATH);
    if let Some(dir) = system.parent() {
        if fs::create_dir_all(dir).is_ok() && writable(dir) {
            return Some(system.to_path_buf());
        }
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|p| !p.is_empty())
        .map(|d| PathBuf::from(d).join("baretpm-runtime-log.jsonl"))
        .filter(|p| p.parent().is_some_and(writable))
}

fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".baretpm-probe-{}", std::process::id()));
    let ok = File::create(&probe).is_ok();
    let _ = fs::remove_file(&probe);
    ok
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().chars().take(64).collect())
        .unwrap_or_default()
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    boot_id: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    pcr: u32,
    event: RawEvent,
}

/// Events of PCR14 and of PCR15.
type PerPcr = (Vec<Event>, Vec<Event>);

/// The runtime log, locked for as long as this value lives.
#[derive(Debug)]
pub struct RuntimeLog {
    path: PathBuf,
    _lock: File,
    /// The events in the file, per PCR; `None` when the file is missing, from another boot or
    /// unreadable (the next append starts it afresh).
    events: Option<PerPcr>,
    /// Why the file was not used, for a note.
    pub problem: Option<String>,
}

impl RuntimeLog {
    /// Takes the lock (waiting for another run to finish) and reads the log.
    pub fn lock(path: &Path) -> Result<RuntimeLog, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .map_err(|e| format!("runtime log directory {}: {e}", dir.display()))?;
        }
        let mut lock_path = std::ffi::OsString::from(path.as_os_str());
        lock_path.push(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("runtime log lock {}: {e}", Path::new(&lock_path).display()))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| format!("runtime log lock {}: {e}", Path::new(&lock_path).display()))?;
        let mut log = RuntimeLog {
            path: path.to_path_buf(),
            _lock: lock,
            events: None,
            problem: None,
        };
        match log.read() {
            Ok(e) => log.events = e,
            Err(m) => log.problem = Some(m),
        }
        Ok(log)
    }

    /// The runtime log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Option<PerPcr>, String> {
        if !self.path.exists() {
            return Ok(None);
        }
        let bytes =
            read_bounded(&self.path, MAX_PROOF_FILE, "runtime log").map_err(|e| e.to_string())?;
        let text =
            core::str::from_utf8(&bytes).map_err(|_| "runtime log: not UTF-8".to_string())?;
        let mut lines = text.lines();
        let shown = self.path.display();
        let Some(first) = lines.next() else {
            return Ok(None);
        };
        let h: Header =
            serde_json::from_str(first).map_err(|e| format!("runtime log {shown}, line 1: {e}"))?;
        if h.format != FORMAT || h.version != 1 {
            return Err(format!("runtime log {shown}: not a version 1 {FORMAT}"));
        }
        if h.boot_id != boot_id() {
            // From an earlier boot: its events are not in this boot's PCRs.
            return Ok(None);
        }
        let (mut p14, mut p15) = (vec![], vec![]);
        for (i, l) in lines.enumerate() {
            let field = format!("runtime log {shown}, line {}", i + 2);
            let line: Line = serde_json::from_str(l).map_err(|e| format!("{field}: {e}"))?;
            let e = event_from_raw(&field, line.event)?;
            let list = match line.pcr {
                INPUT_PCR => &mut p14,
                OUTPUT_PCR => &mut p15,
                p => return Err(format!("{field}: PCR {p} is neither 14 nor 15")),
            };
            if list.len() == MAX_EVENTS {
                return Err(format!(
                    "{field}: more than {MAX_EVENTS} events for one PCR"
                ));
            }
            list.push(e);
        }
        Ok(Some((p14, p15)))
    }

    /// The events logged for `pcr` in this boot, in order.
    pub fn events(&self, pcr: u32) -> &[Event] {
        match (&self.events, pcr) {
            (Some((p14, _)), INPUT_PCR) => p14,
            (Some((_, p15)), OUTPUT_PCR) => p15,
            _ => &[],
        }
    }

    /// Appends events just extended into `pcr` (after the extend, under the lock). A missing,
    /// stale or unreadable file is started afresh.
    pub fn append(&mut self, pcr: u32, events: &[Event]) -> Result<(), String> {
        let err = |e: std::io::Error| format!("runtime log {}: {e}", self.path.display());
        let mut text = String::new();
        let fresh = self.events.is_none();
        if fresh {
            text.push_str(
                &serde_json::to_string(&Header {
                    format: FORMAT.into(),
                    version: 1,
                    boot_id: boot_id(),
                })
                .unwrap_or_default(),
            );
            text.push('\n');
        }
        for e in events {
            text.push_str(
                &serde_json::to_string(&Line {
                    pcr,
                    event: event_to_raw(e),
                })
                .unwrap_or_default(),
            );
            text.push('\n');
        }
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .append(!fresh)
            .truncate(fresh)
            .open(&self.path)
            .map_err(err)?;
        f.write_all(text.as_bytes()).map_err(err)?;
        f.sync_data().map_err(err)?;
        let (p14, p15) = self.events.get_or_insert_with(|| (vec![], vec![]));
        let list = if pcr == INPUT_PCR { p14 } else { p15 };
        list.extend(events.iter().cloned());
        self.problem = None;
        Ok(())
    }
}
