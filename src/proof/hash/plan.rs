//! Planning: which files to hash, and what each target becomes. Directories are walked here
//! (links recorded, never followed; FIFOs, sockets and devices refused) and their manifest
//! digest computed once their files are hashed.

use super::pool::Queue;
use super::*;

#[derive(Clone)]
pub(super) struct Job {
    pub(super) path: PathBuf,
    /// Follow a symbolic link at `path` (true only for a path the user named).
    pub(super) follow: bool,
    /// Size when planned (for progress).
    pub(super) expected: u64,
}

pub(super) enum Plan {
    File(usize),
    Dir(Vec<DirEntry>),
    Git(Vec<u8>),
}

pub(super) enum DirEntry {
    File { rel: Vec<u8>, job: usize },
    Link { rel: Vec<u8>, target: Vec<u8> },
    Dir { rel: Vec<u8> },
}

impl DirEntry {
    fn rel(&self) -> &[u8] {
        match self {
            Self::File { rel, .. } | Self::Link { rel, .. } | Self::Dir { rel } => rel,
        }
    }
}

pub(super) fn plan(t: &Target, queue: &Queue, tick: &mut dyn FnMut()) -> Result<Plan, HashError> {
    match t {
        Target::Git(p) => git_head(p).map(Plan::Git),
        Target::Path(p) => {
            let meta = fs::metadata(p).map_err(io_error(p))?;
            if meta.is_file() {
                Ok(Plan::File(queue.push(Job {
                    path: p.clone(),
                    follow: true,
                    expected: meta.len(),
                })))
            } else if meta.is_dir() {
                walk(p, queue, tick).map(Plan::Dir)
            } else {
                Err(special(p, meta.file_type()))
            }
        }
    }
}

pub(super) fn special(path: &Path, ft: fs::FileType) -> HashError {
    let what = if ft.is_fifo() {
        "named pipe (FIFO)"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    };
    HashError::SpecialFile {
        path: path.display().to_string(),
        what,
    }
}

/// Lists everything below `root` (not following links), sorted by relative path bytes. The
/// files of each directory are queued as soon as the directory is read, so workers hash while
/// the walk goes on (one queue operation per directory, not per file).
pub(super) fn walk(
    root: &Path,
    queue: &Queue,
    tick: &mut dyn FnMut(),
) -> Result<Vec<DirEntry>, HashError> {
    let mut entries = Vec::new();
    let mut stack = vec![(root.to_path_buf(), Vec::new())];
    let mut files: Vec<(Vec<u8>, Job)> = Vec::new();
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let entry = entry.map_err(io_error(&dir))?;
            let mut r: Vec<u8> = rel.clone();
            if !r.is_empty() {
                r.push(b'/');
            }
            r.extend_from_slice(entry.file_name().as_bytes());
            // lstat relative to the open directory: no path walk from the root per entry.
            let meta = entry.metadata().map_err(|e| io_error(&entry.path())(e))?;
            let ft = meta.file_type();
            if ft.is_dir() {
                stack.push((entry.path(), r.clone()));
                entries.push(DirEntry::Dir { rel: r });
            } else if ft.is_file() {
                let job = Job {
                    path: entry.path(),
                    follow: false,
                    expected: meta.len(),
                };
                files.push((r, job));
            } else if ft.is_symlink() {
                let path = entry.path();
                let target = fs::read_link(&path).map_err(io_error(&path))?;
                entries.push(DirEntry::Link {
                    rel: r,
                    target: target.as_os_str().as_bytes().to_vec(),
                });
            } else {
                return Err(special(&entry.path(), ft));
            }
        }
        let (rels, jobs): (Vec<_>, Vec<_>) = files.drain(..).unzip();
        let first = queue.push_all(jobs);
        entries.extend(rels.into_iter().enumerate().map(|(k, rel)| DirEntry::File {
            rel,
            job: first + k,
        }));
        tick();
    }
    entries.sort_unstable_by(|a, b| a.rel().cmp(b.rel()));
    Ok(entries)
}

/// SHA-256 of the manifest of a directory (layout in `docs/proof-format.md`).
pub(super) fn manifest_digest(entries: &[DirEntry], digests: &[FileDigest]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DIR_MANIFEST_TAG);
    for e in entries {
        let rel = e.rel();
        match e {
            DirEntry::File { job, .. } => {
                h.update([b'f']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
                let d = &digests[*job];
                h.update(d.size.to_be_bytes());
                h.update(d.sha256);
            }
            DirEntry::Link { target, .. } => {
                h.update([b'l']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
                h.update((target.len() as u32).to_be_bytes());
                h.update(target);
            }
            DirEntry::Dir { .. } => {
                h.update([b'd']);
                h.update((rel.len() as u32).to_be_bytes());
                h.update(rel);
            }
        }
    }
    h.finalize().into()
}
