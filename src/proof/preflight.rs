//! Checks made before `run` extends anything.
//!
//! PCR14 and PCR15 go back to zero only when the TPM is reset, so a run that fails after its
//! first PCR_Extend cannot be repeated until a reboot. Everything that can be known before
//! that point is checked here: the command line fits an event, the program exists and may be
//! executed (found the way a shell finds it), the proof file can be created, and no path is
//! given twice (in particular the proof is not one of the files the run reads or writes).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::event::{command_text, Event, MAX_NAME_LEN};
use super::hash::Target;

/// PATH used when the variable is unset (what glibc's `execvp` falls back to).
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// Why a run was refused before anything was extended.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("no command to run")]
    /// The argument list is empty.
    EmptyCommand,
    #[error("argument {index} of the command holds a NUL byte, which no program can receive")]
    /// An argument holds a NUL byte.
    NulInArgument {
        /// Position of the argument (0 is the program).
        index: usize,
    },
    #[error(
        "the command line is {len} bytes as recorded (`command: ` and the arguments as a JSON \
         array), more than the {max} bytes an event may hold; shorten it (for example put the \
         arguments in a file and measure it with --input)"
    )]
    /// The recorded command line would not fit in one event.
    CommandLineTooLong {
        /// Bytes of the command line as recorded.
        len: usize,
        /// The most an event's data may hold.
        max: usize,
    },
    #[error("the program {program:?} was not found in PATH ({path})")]
    /// The program is not in PATH.
    ProgramNotFound {
        /// The program, as given.
        program: String,
        /// The PATH searched.
        path: String,
    },
    #[error("the program {program:?} ({path}) cannot be run: {why}")]
    /// The program was found but cannot be executed.
    ProgramNotRunnable {
        /// The program, as given.
        program: String,
        /// Where it was found.
        path: String,
        /// Why it cannot run (not executable, a directory...).
        why: String,
    },
    #[error("{what} {path}: {why}")]
    /// A file the run will write cannot be written.
    NotWritable {
        /// Which file (`--proof`, `--log`...).
        what: &'static str,
        /// Its path, as given.
        path: String,
        /// Why it cannot be written.
        why: String,
    },
    #[error("{first} and {second} are the same file ({canonical}); {hint}")]
    /// Two paths of the run name the same file.
    SamePath {
        /// The first path, as given.
        first: String,
        /// The second path, as given.
        second: String,
        /// The file both resolve to.
        canonical: String,
        /// Why that is refused, and what to do.
        hint: &'static str,
    },
}

/// A command that passed [`check_command`].
#[derive(Clone, Debug)]
pub struct CheckedCommand {
    /// Where the program was found (what is executed; `argv[0]` stays as given).
    pub program: PathBuf,
    /// The text event recording the command line.
    pub event: Event,
}

/// Checks `argv` before anything is extended: not empty, no NUL byte, the recorded command
/// line fits an event name, and the program resolves to a file this process may execute.
pub fn check_command(argv: &[String]) -> Result<CheckedCommand, PreflightError> {
    let Some(program) = argv.first() else {
        return Err(PreflightError::EmptyCommand);
    };
    if let Some(index) = argv.iter().position(|a| a.as_bytes().contains(&0)) {
        return Err(PreflightError::NulInArgument { index });
    }
    let len = command_text(argv).len();
    if len > MAX_NAME_LEN {
        return Err(PreflightError::CommandLineTooLong {
            len,
            max: MAX_NAME_LEN,
        });
    }
    let event = Event::command_line(argv).map_err(|_| PreflightError::CommandLineTooLong {
        len,
        max: MAX_NAME_LEN,
    })?;
    let path = std::env::var_os("PATH");
    let program = resolve_program(program, path.as_deref())?;
    Ok(CheckedCommand { program, event })
}

/// Finds `name` as a POSIX shell does: a name holding `/` is a path (relative to the current
/// directory); otherwise each PATH entry in turn (an empty entry is the current directory),
/// taking the first regular file this process may execute. `path_env` is PATH's value
/// (`None`: unset).
pub fn resolve_program(name: &str, path_env: Option<&OsStr>) -> Result<PathBuf, PreflightError> {
    let not_runnable = |p: &Path, why: String| PreflightError::ProgramNotRunnable {
        program: name.to_string(),
        path: p.display().to_string(),
        why,
    };
    if name.is_empty() {
        return Err(PreflightError::ProgramNotFound {
            program: String::new(),
            path: "an empty program name".into(),
        });
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return match runnable(&p) {
            Ok(()) => Ok(p),
            Err(why) => Err(not_runnable(&p, why)),
        };
    }
    let path_env: OsString = path_env
        .map(OsStr::to_os_string)
        .unwrap_or_else(|| DEFAULT_PATH.into());
    // The first candidate that exists but may not be run, for the error message.
    let mut refused: Option<(PathBuf, String)> = None;
    for dir in path_env.as_bytes().split(|&b| b == b':') {
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let candidate = dir.join(name);
        match runnable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(why) if candidate.exists() && refused.is_none() => {
                refused = Some((candidate, why));
            }
            Err(_) => {}
        }
    }
    match refused {
        Some((p, why)) => Err(not_runnable(&p, why)),
        None => Err(PreflightError::ProgramNotFound {
            program: name.to_string(),
            path: String::from_utf8_lossy(path_env.as_bytes()).into_owned(),
        }),
    }
}

/// Whether `p` is a regular file with an execute bit this process's user may use.
fn runnable(p: &Path) -> Result<(), String> {
    let meta = fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let mode = meta.mode();
    let allowed = match Credentials::of_this_process() {
        // root may execute a file with any execute bit set.
        Some(c) if c.uid == 0 => mode & 0o111 != 0,
        Some(c) if c.uid == meta.uid() => mode & 0o100 != 0,
        Some(c) if c.groups.contains(&meta.gid()) => mode & 0o010 != 0,
        Some(_) => mode & 0o001 != 0,
        None => mode & 0o111 != 0,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "no execute permission (mode {:o}); chmod +x it, or run it through its interpreter",
            mode & 0o7777
        ))
    }
}

/// The effective user and groups, from `/proc/self/status` (no system call needed).
struct Credentials {
    uid: u32,
    groups: Vec<u32>,
}

impl Credentials {
    fn of_this_process() -> Option<Credentials> {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let field = |key: &str| -> Option<Vec<u32>> {
            let line = status.lines().find_map(|l| l.strip_prefix(key))?;
            Some(
                line.split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect(),
            )
        };
        // Uid: and Gid: list real, effective, saved and filesystem ids.
        let uid = *field("Uid:")?.get(1)?;
        let mut groups = vec![*field("Gid:")?.get(1)?];
        groups.extend(field("Groups:").unwrap_or_default());
        Some(Credentials { uid, groups })
    }
}

/// Checks that a file can be written at `path` (by a temporary file and a rename, as the proof
/// and event logs are): it is not a directory, its directory exists, and a file can be created
/// there. The check creates and removes a temporary file and leaves nothing behind.
pub fn check_writable(path: &Path, what: &'static str) -> Result<(), PreflightError> {
    let fail = |why: String| PreflightError::NotWritable {
        what,
        path: path.display().to_string(),
        why,
    };
    let Some(name) = path.file_name() else {
        return Err(fail("not a file name".into()));
    };
    if path.is_dir() {
        return Err(fail("is a directory".into()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(fail(format!("{} is not a directory", dir.display()))),
        Err(e) => return Err(fail(format!("directory {}: {e}", dir.display()))),
    }
    let mut probe = OsString::from(".");
    probe.push(name);
    probe.push(format!(".baretpm-check{}", std::process::id()));
    let probe = dir.join(probe);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| fail(format!("cannot create a file in {}: {e}", dir.display())))?;
    fs::remove_file(&probe).map_err(|e| {
        fail(format!(
            "cannot remove the test file {}: {e}",
            probe.display()
        ))
    })
}

/// One path a run names, and the option that named it.
#[derive(Clone, Debug)]
pub struct NamedPath<'a> {
    /// `--input`, `--output`, `--proof`...
    pub option: &'static str,
    /// The path.
    pub target: &'a Target,
}

/// Refuses a path given twice among `paths` (compared after resolving symbolic links and `..`
/// where the path exists, so `model.bin`, `./model.bin` and a link to it are one file). A
/// `git:` target is compared with other `git:` targets only: a repository's commit and its
/// files are different measurements. The same path as an `--input` and an `--output` is
/// allowed (a file updated in place is measured before and after); a path given twice in one
/// role, or the proof equal to anything else, is not.
pub fn check_distinct(paths: &[NamedPath<'_>]) -> Result<(), PreflightError> {
    let keyed: Vec<(bool, PathBuf)> = paths
        .iter()
        .map(|n| match n.target {
            Target::Path(p) => (false, canonical(p)),
            Target::Git(p) => (true, canonical(p)),
        })
        .collect();
    for (i, a) in paths.iter().enumerate() {
        for (j, b) in paths.iter().enumerate().skip(i + 1) {
            if keyed[i] != keyed[j] {
                continue;
            }
            let in_place = matches!(
                (a.option, b.option),
                ("--input", "--output") | ("--output", "--input")
            );
            if in_place {
                continue;
            }
            let show = |n: &NamedPath<'_>| {
                let p = match n.target {
                    Target::Path(p) => p.display().to_string(),
                    Target::Git(p) => format!("git:{}", p.display()),
                };
                format!("{} {p}", n.option)
            };
            let hint = if a.option == "--proof" || b.option == "--proof" {
                "the proof would replace it: write the proof elsewhere"
            } else {
                "give each path once"
            };
            return Err(PreflightError::SamePath {
                first: show(a),
                second: show(b),
                canonical: keyed[i].1.display().to_string(),
                hint,
            });
        }
    }
    Ok(())
}

/// `p` with symbolic links and `..` resolved: the whole path when it exists, else its
/// directory (with the last component appended), else lexically against the current
/// directory.
pub fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = fs::canonicalize(p) {
        return c;
    }
    if let (Some(name), Some(parent)) = (p.file_name(), p.parent()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(c) = fs::canonicalize(parent) {
            return c.join(name);
        }
    }
    let abs = std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_lookup_follows_path_order_and_skips_non_executables() {
        let dir = std::env::temp_dir().join(format!("baretpm-preflight-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::write(a.join("tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(a.join("tool"), fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(b.join("tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(b.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        assert_eq!(
            resolve_program("tool", Some(&path)).unwrap(),
            b.join("tool")
        );
        let only_a = a.clone().into_os_string();
        let e = resolve_program("tool", Some(&only_a)).unwrap_err();
        assert!(e.to_string().contains("no execute permission"), "{e}");
        let e = resolve_program("nope", Some(&path)).unwrap_err();
        assert!(matches!(e, PreflightError::ProgramNotFound { .. }), "{e}");
        assert!(resolve_program(&b.join("tool").display().to_string(), None).is_ok());
        let e = resolve_program(&a.display().to_string(), None).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn command_line_limit_is_the_event_name_limit() {
        let fits = vec!["x".repeat(MAX_NAME_LEN - command_text(&["".into()]).len())];
        assert_eq!(command_text(&fits).len(), MAX_NAME_LEN);
        assert!(!matches!(
            check_command(&fits),
            Err(PreflightError::CommandLineTooLong { .. })
        ));
        let over = vec![fits[0].clone() + "x"];
        match check_command(&over) {
            Err(PreflightError::CommandLineTooLong { len, max }) => {
                assert_eq!((len, max), (MAX_NAME_LEN + 1, MAX_NAME_LEN))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_command(&["a\0b".into()]),
            Err(PreflightError::NulInArgument { index: 0 })
        ));
        assert!(matches!(
            check_command(&[]),
            Err(PreflightError::EmptyCommand)
        ));
    }

    #[test]
    fn same_file_by_another_spelling_is_caught() {
        let cwd = std::env::current_dir().unwrap();
        let a = Target::Path(PathBuf::from("Cargo.toml"));
        let b = Target::Path(cwd.join("src/../Cargo.toml"));
        let g = Target::Git(PathBuf::from("Cargo.toml"));
        let named = |option, target| NamedPath { option, target };
        assert!(check_distinct(&[named("--input", &a), named("--proof", &b)]).is_err());
        assert!(check_distinct(&[named("--input", &a), named("--input", &b)]).is_err());
        assert!(check_distinct(&[named("--input", &a), named("--output", &b)]).is_ok());
        assert!(check_distinct(&[named("--input", &a), named("--input", &g)]).is_ok());
    }
}
