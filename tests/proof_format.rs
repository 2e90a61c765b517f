//! Provenance without a TPM: the documented encodings (checked against the worked examples in
//! docs/proof-format.md), hashing of files, directories and git HEADs, and the strict proof
//! file reader.
#![cfg(feature = "std")]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use baretpm::proof::event::{replay, Event, EventKind};
use baretpm::proof::file::{EventLog, Proof, Reference, MAX_PROOF_FILE};
use baretpm::proof::hash::{self, HashError, HashOptions, Target};
use baretpm::proof::JsonFile;
use baretpm::types::HashAlg;

const DOC: &str = include_str!("../docs/proof-format.md");

/// The hex block that follows `<!-- example:NAME -->` in the document, whitespace removed.
fn example(name: &str) -> String {
    let marker = format!("<!-- example:{name} -->");
    let at = DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("no example {name}"));
    let rest = &DOC[at + marker.len()..];
    let open = rest.find("```").expect("code block") + 3;
    let body = &rest[open..];
    let body = &body[body.find('\n').expect("newline") + 1..];
    let close = body.find("```").expect("end of code block");
    body[..close].split_whitespace().collect()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

fn hash_all(targets: &[Target], threads: usize) -> Result<Vec<Event>, HashError> {
    let opts = HashOptions {
        threads,
        ..HashOptions::default()
    };
    hash::measure(targets, &opts, &mut |_| {})
}

// ---------------------------------------------------------------------------------------------
// The worked examples

#[test]
fn documented_file_event() {
    let digest = sha256(b"x,y\n1,2\n");
    assert_eq!(hex::encode(digest), example("file-digest"));
    let e = Event::file("data/train.csv".into(), digest).unwrap();
    assert_eq!(hex::encode(e.encode()), example("file-encoding"));
    assert_eq!(e.encode().len(), 59);
    assert_eq!(
        hex::encode(e.extend_digest(HashAlg::Sha256).unwrap().as_bytes()),
        example("file-extend-sha256")
    );
    let one = std::slice::from_ref(&e);
    assert_eq!(
        hex::encode(replay(HashAlg::Sha256, one).unwrap()),
        example("file-pcr-sha256")
    );
    assert_eq!(
        hex::encode(replay(HashAlg::Sha384, one).unwrap()),
        example("file-pcr-sha384")
    );
    let t = Event::exit_status(0).unwrap();
    assert_eq!(t.name(), "exit-status: 0");
    assert_eq!(hex::encode(t.encode()), example("text-encoding"));
    assert_eq!(
        hex::encode(replay(HashAlg::Sha256, &[e, t]).unwrap()),
        example("two-events-pcr-sha256")
    );
}

#[test]
fn documented_directory_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("a.txt"), b"hi\n").unwrap();
    fs::write(root.join("sub/b.bin"), b"").unwrap();
    symlink("a.txt", root.join("link")).unwrap();
    let manifest = hex::decode(example("dir-manifest")).unwrap();
    assert_eq!(manifest.len(), 138);
    assert_eq!(hex::encode(sha256(&manifest)), example("dir-digest"));
    for threads in [1, 2] {
        let e = &hash_all(&[Target::Path(root.clone())], threads).unwrap()[0];
        assert_eq!(e.kind(), EventKind::Dir);
        assert_eq!(hex::encode(e.digest()), example("dir-digest"));
    }
}

// ---------------------------------------------------------------------------------------------
// Events

#[test]
fn event_invariants() {
    assert!(Event::new(
        EventKind::File,
        "x".repeat(4097),
        HashAlg::Sha256,
        vec![0; 32]
    )
    .is_err());
    assert!(Event::new(
        EventKind::File,
        "x".repeat(4096),
        HashAlg::Sha256,
        vec![0; 32]
    )
    .is_ok());
    assert!(Event::new(EventKind::File, "x".into(), HashAlg::Sha256, vec![0; 31]).is_err());
    assert!(Event::new(EventKind::File, "x".into(), HashAlg::Sha1, vec![0; 20]).is_err());
    assert!(Event::new(EventKind::Git, "x".into(), HashAlg::Sha1, vec![0; 20]).is_ok());
    assert!(Event::new(EventKind::Git, "x".into(), HashAlg::Sha384, vec![0; 48]).is_err());
    // A text event's digest is the hash of its text, nothing else.
    assert!(Event::new(EventKind::Text, "hi".into(), HashAlg::Sha256, vec![0; 32]).is_err());
    let cmd = Event::command_line(&["sh".into(), "a b".into()]).unwrap();
    assert_eq!(cmd.name(), r#"command: ["sh","a b"]"#);
}

#[test]
fn replay_depends_on_order_and_count() {
    let a = Event::text("a".into()).unwrap();
    let b = Event::text("b".into()).unwrap();
    let ab = replay(HashAlg::Sha256, &[a.clone(), b.clone()]).unwrap();
    assert_ne!(
        ab,
        replay(HashAlg::Sha256, &[b.clone(), a.clone()]).unwrap()
    );
    assert_ne!(
        ab,
        replay(HashAlg::Sha256, std::slice::from_ref(&a)).unwrap()
    );
    assert_ne!(
        ab,
        replay(HashAlg::Sha256, &[a.clone(), b.clone(), b.clone()]).unwrap()
    );
    assert_eq!(replay(HashAlg::Sha1, &[]).unwrap(), vec![0u8; 20]);
}

// ---------------------------------------------------------------------------------------------
// Hashing

#[test]
fn files_hash_like_sha256sum_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![];
    for (i, size) in [0usize, 1, 4095, 4096, 1 << 20, (1 << 20) + 7, 20 << 20]
        .into_iter()
        .enumerate()
    {
        let p = dir.path().join(format!("f{i}"));
        let data: Vec<u8> = (0..size).map(|k| (k * 31 + i) as u8).collect();
        fs::write(&p, &data).unwrap();
        targets.push((Target::Path(p), sha256(&data)));
    }
    let only: Vec<Target> = targets.iter().map(|t| t.0.clone()).collect();
    for threads in [1, 2, 3] {
        let events = hash_all(&only, threads).unwrap();
        for (e, (_, d)) in events.iter().zip(&targets) {
            assert_eq!(e.kind(), EventKind::File);
            assert_eq!(e.digest(), d);
        }
    }
    // One large file alone takes the read-ahead path (threads > files).
    let big = &targets[6];
    let d = hash::hash_file(
        match &big.0 {
            Target::Path(p) => p,
            _ => unreachable!(),
        },
        &HashOptions::default(),
    )
    .unwrap();
    assert_eq!(d.sha256, big.1);
    assert_eq!(d.size, 20 << 20);
}

#[test]
fn directory_digest_is_order_and_thread_independent_and_sensitive() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("d");
    for i in 0..200 {
        let sub = root.join(format!("s{}", i % 7));
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!("file-{i}")), format!("content {i}")).unwrap();
    }
    let t = [Target::Path(root.clone())];
    let one = hash_all(&t, 1).unwrap();
    let two = hash_all(&t, 2).unwrap();
    assert_eq!(one, two);
    // A renamed file, an added empty directory, a changed byte: each changes the digest.
    fs::rename(root.join("s0/file-0"), root.join("s0/file-0b")).unwrap();
    let renamed = hash_all(&t, 2).unwrap();
    assert_ne!(one[0].digest(), renamed[0].digest());
    fs::create_dir(root.join("empty")).unwrap();
    let with_dir = hash_all(&t, 2).unwrap();
    assert_ne!(renamed[0].digest(), with_dir[0].digest());
    fs::write(root.join("s1/file-1"), "content 2").unwrap();
    assert_ne!(with_dir[0].digest(), hash_all(&t, 2).unwrap()[0].digest());
}

#[test]
fn symlinks_are_recorded_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("secret");
    fs::write(&outside, b"outside the tree").unwrap();
    let root = dir.path().join("tree");
    fs::create_dir(&root).unwrap();
    symlink(&outside, root.join("link")).unwrap();
    let t = [Target::Path(root.clone())];
    let before = hash_all(&t, 2).unwrap();
    // The target's content is not part of the digest: changing it changes nothing.
    fs::write(&outside, b"changed").unwrap();
    assert_eq!(before, hash_all(&t, 2).unwrap());
    // Retargeting the link does.
    fs::remove_file(root.join("link")).unwrap();
    symlink("/elsewhere", root.join("link")).unwrap();
    assert_ne!(before, hash_all(&t, 2).unwrap());
    // A link named on the command line is followed.
    let named = dir.path().join("named");
    symlink(&outside, &named).unwrap();
    let e = &hash_all(&[Target::Path(named)], 1).unwrap()[0];
    assert_eq!(e.digest(), sha256(b"changed"));
}

#[test]
fn special_files_are_refused_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    fs::create_dir(&root).unwrap();
    let sock = root.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let err = hash_all(&[Target::Path(root.clone())], 2).unwrap_err();
    assert!(
        matches!(err, HashError::SpecialFile { what: "socket", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("sock"), "{err}");
    fs::remove_file(&sock).unwrap();
    if Command::new("mkfifo")
        .arg(root.join("fifo"))
        .status()
        .is_ok_and(|s| s.success())
    {
        // Refused without blocking on the pipe, inside a tree and named directly.
        let err = hash_all(&[Target::Path(root.clone())], 2).unwrap_err();
        assert!(matches!(err, HashError::SpecialFile { .. }), "{err}");
        let err = hash_all(&[Target::Path(root.join("fifo"))], 2).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }
    let err = hash_all(&[Target::Path("/dev/null".into())], 1).unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
    let err = hash_all(&[Target::Path(dir.path().join("missing"))], 1).unwrap_err();
    assert!(matches!(err, HashError::Io { .. }), "{err}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn git_head_matches_rev_parse() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("git not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let err = hash::git_head(&repo).unwrap_err();
    assert!(err.to_string().contains("no commit yet"), "{err}");
    fs::write(repo.join("f"), "1").unwrap();
    git(&repo, &["add", "f"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    let check = |path: &Path| {
        let id = git(path, &["rev-parse", "HEAD"]);
        assert_eq!(hex::encode(hash::git_head(path).unwrap()), id);
        let e = &hash_all(&[Target::parse(&format!("git:{}", path.display()))], 1).unwrap()[0];
        assert_eq!(e.kind(), EventKind::Git);
        assert_eq!(e.digest_alg(), HashAlg::Sha1);
        assert_eq!(hex::encode(e.digest()), id);
        assert_eq!(e.name(), path.display().to_string());
    };
    check(&repo); // loose ref
    git(&repo, &["pack-refs", "--all"]);
    assert!(!repo.join(".git/refs/heads/main").exists());
    check(&repo); // packed-refs
    fs::write(repo.join("f"), "2").unwrap();
    git(&repo, &["commit", "-q", "-am", "two"]);
    check(&repo); // loose ref newer than the packed one
    let wt = dir.path().join("wt");
    git(
        &repo,
        &["worktree", "add", "-q", "-b", "other", wt.to_str().unwrap()],
    );
    check(&wt); // .git file, commondir
    git(&repo, &["checkout", "-q", "--detach", "HEAD~1"]);
    check(&repo); // detached
    let bare = dir.path().join("bare.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    check(&bare);
    let err = hash::git_head(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a git repository"), "{err}");
    // A HEAD that tries to leave the repository is refused.
    fs::write(repo.join(".git/HEAD"), "ref: refs/../../../etc/passwd\n").unwrap();
    let err = hash::git_head(&repo).unwrap_err();
    assert!(err.to_string().contains("invalid ref"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The proof file reader

/// A syntactically valid proof (its quote is not a real one; the reader does not verify).
fn sample_proof_json() -> serde_json::Value {
    let ev = |kind: &str, name: &str, d: [u8; 32]| serde_json::json!({"kind": kind, "name": name, "alg": "sha256", "digest": hex::encode(d)});
    serde_json::json!({
        "format": "baretpm-proof",
        "version": 1,
        "tpm": {"manufacturer": "49424d00", "firmware_version": "2019102300163636", "vendor": "SW   TPM"},
        "ak": {"public": "00020001", "name": "000b".to_string() + &"00".repeat(32)},
        "ek_certificates": [{"nv_index": "01c00002", "der": "3082"}],
        "nonce": {"value": "00112233", "source": "verifier"},
        "quote": {"attest": "ff544347", "signature": "0018"},
        "pcrs": [
            {"bank": "sha256", "values": [
                {"pcr": 0, "value": "00".repeat(32)},
                {"pcr": 14, "value": "11".repeat(32)},
                {"pcr": 15, "value": "22".repeat(32)}
            ]},
            {"bank": "sha1", "values": [{"pcr": 14, "value": "33".repeat(20)}]}
        ],
        "events": {
            "pcr14": [ev("file", "data.csv", sha256(b"data"))],
            "pcr15": [{"kind": "text", "name": "exit-status: 0", "alg": "sha256",
                       "digest": hex::encode(sha256(b"exit-status: 0"))}]
        },
        "command": {"argv": ["sh", "train.sh"], "exit_status": 0}
    })
}

fn parse(v: &serde_json::Value) -> Result<Proof, String> {
    Proof::from_json(v.to_string().as_bytes()).map_err(|e| e.to_string())
}

#[test]
fn proof_round_trips() {
    let p = parse(&sample_proof_json()).unwrap();
    assert_eq!(p.pcrs.len(), 4);
    assert_eq!(p.pcrs.get(HashAlg::Sha1, 14), Some(&[0x33u8; 20][..]));
    let again = Proof::from_json(p.to_json().as_bytes()).unwrap();
    assert_eq!(p, again);
    assert_eq!(p.to_json(), again.to_json());
    let sel = p.pcrs.selection();
    assert_eq!(sel.banks()[0].bitmap(), 1 | 1 << 14 | 1 << 15);
    assert_eq!(sel.banks()[1].hash, HashAlg::Sha1);
}

/// Applies `edit` to the sample and expects the reader to refuse it with `needle` in the error.
fn refused(edit: impl FnOnce(&mut serde_json::Value), needle: &str) {
    let mut v = sample_proof_json();
    edit(&mut v);
    match parse(&v) {
        Ok(_) => panic!("accepted a proof that should be refused ({needle})"),
        Err(e) => assert!(
            e.contains(needle),
            "error {e:?} does not mention {needle:?}"
        ),
    }
}

#[test]
fn bad_fields_are_refused_with_the_field_named() {
    refused(|v| v["version"] = 3.into(), "version 3");
    refused(|v| v["version"] = 0.into(), "version 0");
    // Version 2 fields in a version 1 proof.
    refused(
        |v| v["boot_log"] = "00".into(),
        "boot_log: not part of a version 1 proof",
    );
    refused(
        |v| v["starts"] = serde_json::json!([{"pcr": 14, "values": [], "earlier_events": []}]),
        "starts: not part of a version 1 proof",
    );
    // Version 2: a start for another PCR, twice, or with a wrong-sized value.
    let start = |pcr: u32, value: &str| serde_json::json!({"pcr": pcr, "values": [{"bank": "sha256", "value": value}], "earlier_events": []});
    let z = "00".repeat(32);
    refused(
        |v| {
            v["version"] = 2.into();
            v["starts"] = serde_json::json!([start(13, &z)]);
        },
        "starts[0].pcr: 13 is neither 14 nor 15",
    );
    refused(
        |v| {
            v["version"] = 2.into();
            v["starts"] = serde_json::json!([start(14, &z), start(14, &z)]);
        },
        "starts[1].pcr: PCR14 listed twice",
    );
    refused(
        |v| {
            v["version"] = 2.into();
            v["starts"] = serde_json::json!([start(14, "00")]);
        },
        "starts[0].values[0].value",
    );
    refused(
        |v| {
            v["version"] = 2.into();
            v["starts"] = serde_json::json!([start(14, &z), start(15, &z), start(15, &z)]);
        },
        "starts: more than the 2",
    );
    refused(|v| v["format"] = "something".into(), "format");
    refused(|v| v["extra"] = 1.into(), "unknown field");
    refused(|v| v["tpm"]["extra"] = 1.into(), "unknown field");
    refused(
        |v| v["events"]["pcr14"][0]["size"] = 1.into(),
        "unknown field",
    );
    refused(
        |v| v["quote"]["attest"] = "zz".into(),
        "quote.attest: not hex",
    );
    refused(|v| v["quote"]["attest"] = "abc".into(), "quote.attest: odd");
    refused(
        |v| v["quote"]["attest"] = "00".repeat(5000).into(),
        "quote.attest",
    );
    refused(|v| v["quote"]["signature"] = "".into(), "quote.signature");
    refused(|v| v["nonce"]["value"] = "".into(), "nonce.value");
    refused(
        |v| v["nonce"]["value"] = "00".repeat(65).into(),
        "nonce.value",
    );
    refused(|v| v["nonce"]["source"] = "me".into(), "nonce.source");
    refused(
        |v| v["tpm"]["manufacturer"] = "4942".into(),
        "tpm.manufacturer",
    );
    refused(|v| v["tpm"]["vendor"] = "x".repeat(17).into(), "tpm.vendor");
    refused(|v| v["ak"]["public"] = "00".repeat(700).into(), "ak.public");
    refused(
        |v| v["ek_certificates"][0]["der"] = "00".repeat(20000).into(),
        "ek_certificates[0].der",
    );
    refused(
        |v| v["pcrs"][0]["bank"] = "md5".into(),
        "unknown hash algorithm",
    );
    refused(|v| v["pcrs"][1]["bank"] = "sha256".into(), "listed twice");
    refused(
        |v| v["pcrs"][0]["values"][0]["pcr"] = 24.into(),
        "not a PCR index",
    );
    refused(
        |v| v["pcrs"][0]["values"][0]["pcr"] = 4294967295u32.into(),
        "not a PCR index",
    );
    refused(
        |v| v["pcrs"][0]["values"][0]["pcr"] = 4294967296u64.into(),
        "",
    );
    refused(|v| v["pcrs"][0]["values"][0]["pcr"] = (-1).into(), "");
    refused(
        |v| v["pcrs"][0]["values"][1]["pcr"] = 0.into(),
        "strictly ascending",
    );
    refused(
        |v| v["pcrs"][0]["values"][0]["value"] = "00".repeat(20).into(),
        "pcrs[0].values[0].value",
    );
    refused(|v| v["pcrs"] = serde_json::json!([]), "no PCR values");
    refused(
        |v| v["events"]["pcr14"][0]["kind"] = "blob".into(),
        "unknown kind",
    );
    refused(
        |v| v["events"]["pcr14"][0]["digest"] = "00".into(),
        "digest must be 32 bytes",
    );
    refused(
        |v| v["events"]["pcr14"][0]["name"] = "n".repeat(5000).into(),
        "events.pcr14[0]",
    );
    refused(
        |v| v["events"]["pcr15"][0]["name"] = "exit-status: 1".into(),
        "not SHA-256 of its text",
    );
    refused(
        |v| v["command"]["argv"] = serde_json::json!([]),
        "command.argv",
    );
    refused(|v| v["command"]["exit_status"] = 4294967296u64.into(), "");
    refused(
        |v| {
            v.as_object_mut().unwrap().remove("events");
        },
        "missing field",
    );
}

#[test]
fn event_logs_have_a_maximum_length() {
    let mut v = sample_proof_json();
    let e = v["events"]["pcr14"][0].clone();
    v["events"]["pcr14"] = serde_json::Value::Array(vec![e; 100_001]);
    let err = parse(&v).unwrap_err();
    // Refused while parsing, as soon as the list passes the limit.
    assert!(
        err.contains("events.pcr14: more than the 100000 events allowed"),
        "{err}"
    );
}

#[test]
fn garbage_never_panics() {
    let good = sample_proof_json().to_string().into_bytes();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut b = good.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = next() as u8,
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b"\"0123456789abcdef{}[],:-e"[(next() % 25) as usize]),
            }
        }
        let _ = Proof::from_json(&b);
        let _ = EventLog::from_json(&b);
        let _ = Reference::from_json(&b);
    }
    for s in [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "1e999",
        &"[".repeat(100_000),
    ] {
        assert!(Proof::from_json(s.as_bytes()).is_err());
    }
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.json");
    let f = fs::File::create(&p).unwrap();
    f.set_len(MAX_PROOF_FILE + 1).unwrap();
    let err = Proof::read(&p).unwrap_err().to_string();
    assert!(err.contains("more than"), "{err}");
}

#[test]
fn logs_and_references_round_trip_and_check_their_kind() {
    let log = EventLog {
        pcr: 15,
        events: vec![Event::text("x".into()).unwrap()],
        start: None,
    };
    assert_eq!(EventLog::from_json(log.to_json().as_bytes()).unwrap(), log);
    assert!(log.to_json().contains("\"version\": 1"));
    // With a start value (issue 12) the log is version 2 and round-trips; a version 1 log may
    // not carry one, and the start must be the log's own PCR.
    let started = EventLog {
        start: Some(baretpm::proof::start::RunStart {
            pcr: 15,
            values: vec![(baretpm::types::HashAlg::Sha256, vec![7; 32])],
            earlier: vec![Event::text("before".into()).unwrap()],
        }),
        ..log.clone()
    };
    let json = started.to_json();
    assert!(json.contains("\"version\": 2"), "{json}");
    assert_eq!(EventLog::from_json(json.as_bytes()).unwrap(), started);
    let v1 = json.replace("\"version\": 2", "\"version\": 1");
    assert!(EventLog::from_json(v1.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("start: not part of a version 1 event log"));
    let other = json.replacen(
        "\"pcr\": 15,\n    \"values\"",
        "\"pcr\": 14,\n    \"values\"",
        1,
    );
    assert_ne!(other, json, "{json}");
    assert!(EventLog::from_json(other.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("start.pcr: 14 in the event log of PCR15"));
    let bad = log.to_json().replace("\"pcr\": 15", "\"pcr\": 16");
    assert!(EventLog::from_json(bad.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("16"));
    // A proof is not a log, and a log is not a proof.
    let proof = parse(&sample_proof_json()).unwrap();
    assert!(EventLog::from_json(proof.to_json().as_bytes()).is_err());
    assert!(Proof::from_json(log.to_json().as_bytes()).is_err());
    let r = Reference::from_proof(&proof, &[0]);
    assert_eq!(r.pcrs.len(), 1);
    assert_eq!(Reference::from_json(r.to_json().as_bytes()).unwrap(), r);
}
