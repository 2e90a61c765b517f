//! `git:PATH`: the repository's HEAD commit id, read from the repository files directly
//! (`HEAD`, loose refs, `packed-refs`), without running git.

use super::*;

/// The raw commit id HEAD points at in the repository at `repo` (a work tree with `.git` as
/// a directory or a `gitdir:` file, or a bare repository). Reads `HEAD`, then the ref it
/// names as a loose file or from `packed-refs`, following symbolic refs. Repositories using
/// the reftable ref storage are refused.
pub fn git_head(repo: &Path) -> Result<Vec<u8>, HashError> {
    let fail = |message: String| HashError::Git {
        path: repo.display().to_string(),
        message,
    };
    let git_dir = find_git_dir(repo).map_err(fail)?;
    let common = match read_small(&git_dir.join("commondir")) {
        Ok(Some(s)) => git_dir.join(s.trim()),
        Ok(None) => git_dir.clone(),
        Err(e) => return Err(fail(e)),
    };
    if git_dir.join("reftable").is_dir() || common.join("reftable").is_dir() {
        return Err(fail(
            "the repository stores refs as reftable, which baretpm does not read; pass the \
             commit id as a text event instead"
                .into(),
        ));
    }
    let head = read_small(&git_dir.join("HEAD"))
        .map_err(fail)?
        .ok_or_else(|| fail(format!("{} has no HEAD file", git_dir.display())))?;
    let mut value = head.trim().to_string();
    for _ in 0..MAX_REF_DEPTH {
        let Some(name) = value.strip_prefix("ref:") else {
            return parse_commit_id(&value).ok_or_else(|| {
                fail(format!(
                    "HEAD resolves to {value:?}, which is not a commit id"
                ))
            });
        };
        let name = name.trim().to_string();
        if !valid_ref_name(&name) {
            return Err(fail(format!("HEAD names an invalid ref {name:?}")));
        }
        value = resolve_ref(&git_dir, &common, &name)
            .map_err(fail)?
            .ok_or_else(|| {
                fail(format!(
                    "HEAD points at {name}, which has no commit yet (an empty repository?)"
                ))
            })?;
    }
    Err(fail(format!(
        "more than {MAX_REF_DEPTH} symbolic refs from HEAD"
    )))
}

fn find_git_dir(repo: &Path) -> Result<PathBuf, String> {
    let dot = repo.join(".git");
    match fs::metadata(&dot) {
        Ok(m) if m.is_dir() => return Ok(dot),
        Ok(m) if m.is_file() => {
            let s = read_small(&dot)?.unwrap_or_default();
            let target = s
                .trim()
                .strip_prefix("gitdir:")
                .ok_or_else(|| format!("{} is a file without a gitdir: line", dot.display()))?
                .trim()
                .to_string();
            return Ok(repo.join(target));
        }
        _ => {}
    }
    if repo.join("HEAD").is_file() && repo.join("objects").is_dir() {
        return Ok(repo.to_path_buf());
    }
    Err("not a git repository (no .git, and not a bare repository)".into())
}

/// Reads a small text file; `Ok(None)` if it does not exist.
fn read_small(path: &Path) -> Result<Option<String>, String> {
    match crate::files::read_bounded(path, MAX_REF_FILE, "git file") {
        Ok(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|_| format!("{} is not UTF-8", path.display())),
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `refs/...` with no empty, `.` or `..` component: safe to join onto the git directory.
fn valid_ref_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.contains('\0')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The value of a ref: a loose file (in the worktree's git dir, then the common dir), else a
/// line of `packed-refs`.
fn resolve_ref(git_dir: &Path, common: &Path, name: &str) -> Result<Option<String>, String> {
    for base in [git_dir, common] {
        if let Some(s) = read_small(&base.join(name))? {
            return Ok(Some(s.trim().to_string()));
        }
    }
    let packed = common.join("packed-refs");
    let bytes = match crate::files::read_bounded(&packed, MAX_PACKED_REFS, "packed-refs") {
        Ok(b) => b,
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == io::ErrorKind::NotFound =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e.to_string()),
    };
    for line in bytes.split(|&b| b == b'\n') {
        if line.starts_with(b"#") || line.starts_with(b"^") {
            continue;
        }
        let mut parts = line.splitn(2, |&b| b == b' ');
        let (Some(id), Some(r)) = (parts.next(), parts.next()) else {
            continue;
        };
        if r.strip_suffix(b"\r").unwrap_or(r) == name.as_bytes() {
            return Ok(Some(String::from_utf8_lossy(id).into_owned()));
        }
    }
    Ok(None)
}

/// 40 (SHA-1) or 64 (SHA-256) lower- or upper-case hex digits.
fn parse_commit_id(s: &str) -> Option<Vec<u8>> {
    if s.len() != 40 && s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        assert!(valid_ref_name("refs/heads/main"));
        assert!(valid_ref_name("refs/heads/feature/x"));
        assert!(!valid_ref_name("refs/../../etc/passwd"));
        assert!(!valid_ref_name("HEAD"));
        assert!(!valid_ref_name("refs//x"));
        assert!(!valid_ref_name("refs/heads/./x"));
    }

    #[test]
    fn commit_ids() {
        assert_eq!(parse_commit_id(&"ab".repeat(20)).unwrap().len(), 20);
        assert_eq!(parse_commit_id(&"AB".repeat(32)).unwrap().len(), 32);
        assert!(parse_commit_id(&"ab".repeat(21)).is_none());
        assert!(parse_commit_id(&"zz".repeat(20)).is_none());
    }
}
