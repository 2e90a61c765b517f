//! The real TCG event logs under `vectors/eventlogs/` (one folder per origin).

use std::path::{Path, PathBuf};

/// `vectors/eventlogs/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/eventlogs")
}

/// Every log file (not the .json, .yaml and .md beside them), as paths relative to [`dir`],
/// sorted.
pub fn all_logs() -> Vec<String> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(dir()).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            if f.extension()
                .is_some_and(|e| e == "json" || e == "yaml" || e == "md")
            {
                continue;
            }
            out.push(
                f.strip_prefix(dir())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    out.sort();
    out
}
