//! A TPM, or something on the bus, that lies (issue 15): each lie is driven through a
//! transport that rewrites a real swtpm's answers, and must be caught or cleaned up after.

mod common;

use std::time::Duration;

use baretpm::commands::GetCapability;
use baretpm::commands::ReadPublic;
use baretpm::proof::flow::{self, AkKind};
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::{self, AnyTransport};
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::capability::cap;
use baretpm::types::{TpmCc, TpmsCapabilityData};
use common::proxy;
use common::swtpm::SwtpmInstance;

/// Forwards every command to a real TPM and lets `rewrite` change the answer in place
/// (command bytes, response buffer, response length) -> new length.
struct Rewriting<T, F> {
    inner: T,
    rewrite: F,
}

impl<T: Transport, F: FnMut(&[u8], &mut [u8], usize) -> usize> Transport for Rewriting<T, F> {
    type Error = T::Error;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let n = self.inner.transact(cmd, rsp)?.len();
        let n = (self.rewrite)(cmd, rsp, n).min(rsp.len());
        Ok(&rsp[..n])
    }
}

/// Forwards every command after `edit` has changed it in flight.
struct EditingCommands<T, F> {
    inner: T,
    edit: F,
}

impl<T: Transport, F: FnMut(&mut Vec<u8>)> Transport for EditingCommands<T, F> {
    type Error = T::Error;
    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], T::Error> {
        let mut edited = cmd.to_vec();
        (self.edit)(&mut edited);
        self.inner.transact(&edited, rsp)
    }
}

fn command_code(cmd: &[u8]) -> u32 {
    u32::from_be_bytes(cmd[6..10].try_into().unwrap())
}

fn open(sw: &SwtpmInstance) -> AnyTransport {
    let t = tcti::Tcti::parse(&sw.tcti_string()).unwrap();
    tcti::open(&t, Timeouts::uniform(Duration::from_secs(60))).unwrap()
}

/// Transient objects loaded in the TPM.
fn transient_handles<T: Transport>(tpm: &mut Tpm<T>) -> Vec<u32>
where
    T::Error: std::fmt::Debug,
{
    let rsp = tpm
        .execute(&GetCapability {
            capability: cap::HANDLES,
            property: 0x8000_0000,
            property_count: 64,
        })
        .unwrap();
    match &rsp.data {
        TpmsCapabilityData::Handles(h) => h.iter().copied().collect(),
        other => panic!("asked for handles, got {other:?}"),
    }
}

/// Issue 15, item 6: CreatePrimary answers whose header says success (the new object's handle
/// follows it) but whose parameters are malformed once leaked the object; three filled
/// swtpm's slots and an honest `createak` then failed with TPM_RC_OBJECT_MEMORY.
#[test]
fn transient_objects_are_flushed_when_a_success_answer_is_malformed() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    let mangled = Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::CREATE_PRIMARY.0 && n > 18 {
                // parameterSize (after the handle) now claims more than the answer holds.
                rsp[14..18].copy_from_slice(&u32::MAX.to_be_bytes());
            }
            n
        },
    };
    let mut tpm = Tpm::new(mangled);
    for kind in [AkKind::Ecc, AkKind::Rsa, AkKind::Ecc, AkKind::Ecc] {
        let e = flow::create_ak(&mut tpm, kind).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }
    // swtpm serves one connection at a time.
    drop(tpm);
    let mut honest = Tpm::new(open(&sw));
    assert_eq!(transient_handles(&mut honest), Vec::<u32>::new());
    // And the slots are free: the real AK can be made.
    flow::create_ak(&mut honest, AkKind::Ecc).expect("createak after the lies");

    // A malformed answer to a command that makes no object flushes nothing.
    let before = transient_handles(&mut honest);
    drop(honest);
    let mut lying = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::GET_RANDOM.0 {
                rsp[11] ^= 0xff;
            }
            n
        },
    });
    let mut out = [0u8; 8];
    assert!(matches!(
        lying.get_random(&mut out),
        Err(TpmError::Malformed { .. })
    ));
    drop(lying);
    assert_eq!(transient_handles(&mut Tpm::new(open(&sw))), before);
}

/// Issue 15, item 1: an interposer clears `restricted` in the template `createak` sends; the
/// TPM makes an unrestricted signing key (which can sign a forged TPMS_ATTEST with TPM2_Sign).
/// The object is compared with the template sent and refused, and flushed.
#[test]
fn an_object_that_is_not_the_template_sent_is_refused() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    for kind in [AkKind::Ecc, AkKind::Rsa] {
        let attrs = kind.template().object_attributes.0;
        let mut tpm = Tpm::new(EditingCommands {
            inner: open(&sw),
            edit: move |cmd: &mut Vec<u8>| {
                if command_code(cmd) != TpmCc::CREATE_PRIMARY.0 {
                    return;
                }
                let at = (27..cmd.len() - 4)
                    .find(|&i| cmd[i..i + 4] == attrs.to_be_bytes())
                    .expect("the template's attributes in the command");
                let cleared = attrs & !(1 << 16); // TPMA_OBJECT.restricted
                cmd[at..at + 4].copy_from_slice(&cleared.to_be_bytes());
            },
        });
        let e = flow::create_ak(&mut tpm, kind).unwrap_err().to_string();
        assert!(
            e.contains("objectAttributes") && e.contains("template sent"),
            "{e}"
        );
        drop(tpm);
        assert_eq!(
            transient_handles(&mut Tpm::new(open(&sw))),
            Vec::<u32>::new()
        );
    }
}

/// Issue 15, item 2: a Name received beside a public area must be that area's Name, or an
/// interposer could pair a key of its choice with the real AK's Name.
#[test]
fn names_that_are_not_the_public_areas_name_are_refused() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    // CreatePrimary: the name is the last parameter, before the 5-byte password ack.
    let mut tpm = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::CREATE_PRIMARY.0 && n > 20 {
                rsp[n - 6] ^= 1;
            }
            n
        },
    });
    let e = flow::create_ak(&mut tpm, AkKind::Ecc)
        .unwrap_err()
        .to_string();
    assert!(e.contains("CreatePrimary name: does not match"), "{e}");
    drop(tpm);

    // ReadPublic: the name, then a qualified name of the same size.
    let mut honest = Tpm::new(open(&sw));
    let (handle, _, _) = flow::create_ak(&mut honest, AkKind::Ecc).unwrap();
    drop(honest);
    let mut tpm = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::READ_PUBLIC.0 && n > 80 {
                let qualified = 2 + 34;
                rsp[n - qualified - 1] ^= 1;
            }
            n
        },
    });
    let e = tpm
        .execute(&ReadPublic {
            object_handle: handle,
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("ReadPublic name: does not match"), "{e}");
    drop(tpm);
    // Untouched, the same read passes the check.
    let mut honest = Tpm::new(open(&sw));
    honest
        .execute(&ReadPublic {
            object_handle: handle,
        })
        .expect("honest ReadPublic");
}

/// Runs `baretpm -T <proxy> quote ...` into `dir`; returns the output.
fn cli_quote(tcti: &str, dir: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .env_remove("TPM2TOOLS_TCTI")
        .args(["-T", tcti, "quote", "--ak", "ecc", "-l", "sha256:0,14"])
        .args(["-q", "c0ffee00"])
        // The answer's own check (item 4) is what is tested here: without the salted session,
        // which would have the TPM refuse the changed command first
        // (tests/salted_session.rs).
        .arg("--no-session")
        .arg("-m")
        .arg(dir.join("quote.msg"))
        .arg("-s")
        .arg(dir.join("quote.sig"))
        .arg("-o")
        .arg(dir.join("quote.pcrs"))
        .output()
        .unwrap()
}

/// Issue 15, item 4: with the nonce or the PCR selection changed on the way to the TPM,
/// `quote` once wrote the files and printed "quoted ... with nonce c0ffee". It now checks the
/// answer with the verifier first, and exits 1 with no file written.
#[test]
fn quote_refuses_an_answer_that_is_not_the_quote_asked_for() {
    let sw = SwtpmInstance::start_unix().expect("swtpm");
    let quote_cc = TpmCc::QUOTE.0;
    // The Quote command: header, AK handle, 13-byte password area, then qualifyingData
    // (2-byte size, nonce), inScheme (2 bytes: TPM_ALG_NULL), then the PCR selection.
    let cases: [(&str, proxy::EditCommand); 2] = [
        (
            "nonce",
            Box::new(move |cmd: &mut Vec<u8>| {
                if proxy::command_code(cmd) == quote_cc {
                    cmd[29] ^= 0xff;
                }
            }),
        ),
        (
            "sha256:0,1",
            Box::new(move |cmd: &mut Vec<u8>| {
                if proxy::command_code(cmd) == quote_cc {
                    // Last byte of the PCR bitmap of the one bank: PCR14 (bit 6 of byte 1)
                    // becomes PCR1 (bit 1 of byte 0).
                    let n = cmd.len();
                    cmd[n - 3] = 0b0000_0011;
                    cmd[n - 2] = 0;
                }
            }),
        ),
    ];
    for (lie, edit) in cases {
        let p = proxy::start(sw.socket_path(), edit, Box::new(|_, _| {}));
        let dir = tempfile::tempdir().unwrap();
        let out = cli_quote(&p.tcti(), dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("{lie}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{lie}: {stderr}");
        assert!(
            stderr.contains("not the quote asked for") || stderr.contains("not the sha256:0,14"),
            "{lie}: {stderr}"
        );
        if lie != "nonce" {
            assert!(stderr.contains(lie), "{lie}: {stderr}");
        } else {
            assert!(stderr.contains("nonce"), "{stderr}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{lie}");
    }
    // Through an honest proxy the same command writes its three files.
    let p = proxy::start(sw.socket_path(), Box::new(|_| {}), Box::new(|_, _| {}));
    let dir = tempfile::tempdir().unwrap();
    let out = cli_quote(&p.tcti(), dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

fn read_all<T: Transport>(tpm: &mut Tpm<T>, spec: &str) -> Result<usize, String>
where
    T::Error: std::fmt::Display,
{
    let sel = baretpm::interop::parse_pcr_spec(spec).unwrap();
    let mut n = 0;
    tpm.pcr_read_each(&sel, |_, _, _| n += 1)
        .map(|()| n)
        .map_err(|e| e.to_string())
}

/// Issue 15, item 11: PCR reads that lie about their count are refused with the lie named,
/// and a read that takes several rounds refuses values from two snapshots.
#[test]
fn lying_pcr_reads_are_named() {
    let sw = SwtpmInstance::start_without_cert().expect("swtpm");
    // Two PCRs in pcrSelectionOut, one value in the list.
    let mut tpm = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) != TpmCc::PCR_READ.0 {
                return n;
            }
            // header 10, counter 4, one-bank selection 4 + 6, digest count at 24.
            rsp[24..28].copy_from_slice(&1u32.to_be_bytes());
            let n = n - 34;
            rsp[2..6].copy_from_slice(&(n as u32).to_be_bytes());
            n
        },
    });
    let e = read_all(&mut tpm, "sha256:0,1").unwrap_err();
    assert!(e.contains("counts a different number of PCRs"), "{e}");
    drop(tpm);

    // sha256:0-15 takes two rounds of at most 8; the counter moves between them.
    let mut rounds = 0u32;
    let mut tpm = Tpm::new(Rewriting {
        inner: open(&sw),
        rewrite: move |cmd: &[u8], rsp: &mut [u8], n: usize| {
            if command_code(cmd) == TpmCc::PCR_READ.0 {
                rounds += 1;
                let c = u32::from_be_bytes(rsp[10..14].try_into().unwrap());
                rsp[10..14].copy_from_slice(&(c + rounds).to_be_bytes());
            }
            n
        },
    });
    let e = read_all(&mut tpm, "sha256:0-15").unwrap_err();
    assert!(e.contains("pcrUpdateCounter moved"), "{e}");
    drop(tpm);
    // Honest: all 16 in two rounds.
    assert_eq!(
        read_all(&mut Tpm::new(open(&sw)), "sha256:0-15").unwrap(),
        16
    );
}
