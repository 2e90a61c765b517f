//! A TPM that keeps saying "retry", or answers nonsense: bounded retries and clear errors.

use baretpm::commands::GetRandom;
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::swtpm::SwtpmTransport;
use baretpm::transport::{Timeouts, Transport};
use baretpm::types::rc::TpmRc;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fake TPM on a loopback port: answers the n-th command with `answer(n)`.
fn fake_tpm(answer: impl Fn(usize) -> Vec<u8> + Send + 'static) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            let mut header = [0u8; 10];
            if s.read_exact(&mut header).is_err() {
                return;
            }
            let size = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
            if size < 10 || size > buf.len() || s.read_exact(&mut buf[..size - 10]).is_err() {
                return;
            }
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if s.write_all(&answer(n)).is_err() {
                return;
            }
        }
    });
    (port, seen)
}

fn rc_only(rc: u32) -> Vec<u8> {
    let mut v = vec![0x80, 0x01, 0, 0, 0, 10];
    v.extend_from_slice(&rc.to_be_bytes());
    v
}

fn random_answer(bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, 0x01];
    v.extend_from_slice(&(12 + bytes.len() as u32).to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    v.extend_from_slice(bytes);
    v
}

fn tpm_on(port: u16) -> Tpm<SwtpmTransport> {
    let t =
        SwtpmTransport::tcp("127.0.0.1", port, Timeouts::uniform(Duration::from_secs(2))).unwrap();
    Tpm::new(t)
}

#[test]
fn a_retry_storm_ends_after_the_attempt_limit() {
    let (port, seen) = fake_tpm(|_| rc_only(TpmRc::RETRY.0));
    let mut tpm = tpm_on(port);
    tpm.max_attempts = 7;
    let began = Instant::now();
    let e = tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap_err();
    assert!(
        matches!(
            e,
            TpmError::RetriesExhausted {
                rc: TpmRc::RETRY,
                attempts: 7,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        7,
        "exactly the allowed attempts were sent"
    );
    assert!(began.elapsed() < Duration::from_secs(5));
    assert!(
        e.to_string().contains("TPM2_GetRandom: still TPM_RC_RETRY"),
        "{e}"
    );
}

#[test]
fn yielded_and_testing_are_retried_then_the_answer_is_used() {
    let (port, seen) = fake_tpm(|n| match n {
        0 => rc_only(TpmRc::YIELDED.0),
        1 => rc_only(TpmRc::TESTING.0),
        _ => random_answer(&[1, 2, 3, 4, 5, 6, 7, 8]),
    });
    let mut tpm = tpm_on(port);
    tpm.backoff = Some(|_| std::thread::sleep(Duration::from_millis(1)));
    let got = tpm
        .execute(&GetRandom { bytes_requested: 8 })
        .unwrap()
        .to_vec();
    assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[test]
fn other_error_codes_are_not_retried_and_are_named() {
    let (port, seen) = fake_tpm(|_| rc_only(0x0000_01c4)); // TPM_RC_VALUE, parameter 1
    let mut tpm = tpm_on(port);
    let e = tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap_err();
    assert_eq!(e.rc(), Some(TpmRc(0x1c4)));
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    assert!(e.to_string().contains("TPM_RC_VALUE"), "{e}");
    assert!(e.to_string().contains("parameter 1"), "{e}");
}

#[test]
fn malformed_success_answers_are_refused_not_trusted() {
    // A success header with a randomBytes size running past the end of the response.
    let (port, _) = fake_tpm(|_| vec![0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0, 40]);
    let mut tpm = tpm_on(port);
    let e = tpm
        .execute(&GetRandom {
            bytes_requested: 40,
        })
        .unwrap_err();
    assert!(matches!(e, TpmError::Malformed { .. }), "{e}");
    // An error code with a body attached: an error response is the header alone.
    let (port, _) = fake_tpm(|_| vec![0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x01, 0xde, 0xad]);
    let mut tpm = tpm_on(port);
    let e = tpm.execute(&GetRandom { bytes_requested: 4 }).unwrap_err();
    assert!(matches!(e, TpmError::Malformed { .. }), "{e}");
    // A sessions tag on a command sent without sessions.
    let (port, _) = fake_tpm(|_| {
        let mut v = random_answer(&[9]);
        v[1] = 0x02;
        v
    });
    let mut tpm = tpm_on(port);
    let e = tpm.execute(&GetRandom { bytes_requested: 1 }).unwrap_err();
    assert!(matches!(e, TpmError::Malformed { .. }), "{e}");
}

#[test]
fn pcr_values_out_of_selection_order_are_refused() {
    use baretpm::transport::replay::ReplayTransport;
    use baretpm::types::{HashAlg, TpmlPcrSelection, TpmsPcrSelection};
    // Asked for sha1:0 then sha256:0; the answer lists the SHA-256 bank first.
    let mut rsp = vec![0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
    rsp.extend_from_slice(&1u32.to_be_bytes()); // pcrUpdateCounter
    rsp.extend_from_slice(&2u32.to_be_bytes());
    rsp.extend_from_slice(&[0x00, 0x0b, 3, 1, 0, 0, 0x00, 0x04, 3, 1, 0, 0]);
    rsp.extend_from_slice(&2u32.to_be_bytes());
    rsp.extend_from_slice(&[0, 32]);
    rsp.extend_from_slice(&[0xaa; 32]);
    rsp.extend_from_slice(&[0, 20]);
    rsp.extend_from_slice(&[0xbb; 20]);
    let n = rsp.len() as u32;
    rsp[2..6].copy_from_slice(&n.to_be_bytes());
    let responses = [rsp.as_slice()];
    let mut tpm = Tpm::new(ReplayTransport::new(&responses));
    let mut sel = TpmlPcrSelection::default();
    sel.push(TpmsPcrSelection::new(HashAlg::Sha1, &[0]).unwrap())
        .unwrap();
    sel.push(TpmsPcrSelection::new(HashAlg::Sha256, &[0]).unwrap())
        .unwrap();
    let mut seen = 0;
    let e = tpm.pcr_read_each(&sel, |_, _, _| seen += 1).unwrap_err();
    assert!(matches!(e, TpmError::Protocol { .. }), "{e}");
    assert_eq!(seen, 0, "nothing is delivered out of order");
}

/// Issue 15, item 8: a peer that answers TPM_RC_RETRY slowly once stretched one command to
/// `max_attempts` times the read timeout (10 x 120 s). The timeout now covers the command with
/// all its retries.
#[test]
fn retries_share_one_deadline() {
    let (port, seen) = fake_tpm(|_| {
        std::thread::sleep(Duration::from_millis(400));
        rc_only(TpmRc::RETRY.0)
    });
    let t =
        SwtpmTransport::tcp("127.0.0.1", port, Timeouts::uniform(Duration::from_secs(1))).unwrap();
    let mut tpm = Tpm::new(t);
    tpm.max_attempts = 10;
    let began = Instant::now();
    let e = tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap_err();
    let took = began.elapsed();
    assert!(
        e.to_string().contains("retries included"),
        "{e} after {took:?}"
    );
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert!(seen.load(Ordering::SeqCst) <= 4);
}

/// The shared deadline ends with the command: the transport's own next exchange has its full
/// timeout again.
#[test]
fn the_command_deadline_ends_with_the_command() {
    let (port, _) = fake_tpm(|n| {
        if n == 1 {
            std::thread::sleep(Duration::from_millis(800));
        }
        random_answer(&[1; 8])
    });
    let t =
        SwtpmTransport::tcp("127.0.0.1", port, Timeouts::uniform(Duration::from_secs(2))).unwrap();
    let mut tpm = Tpm::new(t);
    tpm.execute(&GetRandom { bytes_requested: 8 }).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // A stale deadline would leave 0.5 s for an answer that takes 0.8 s.
    let mut t = tpm.into_transport();
    let mut buf = [0u8; 64];
    let rsp = t.transact(&[0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x7b, 0, 8], &mut buf);
    assert!(rsp.is_ok(), "{:?}", rsp.err());
}

/// `--timeout` sets that budget from the command line, as TCTI users expect.
#[test]
fn cli_timeout_bounds_a_retrying_command() {
    let (port, _) = fake_tpm(|_| {
        std::thread::sleep(Duration::from_millis(300));
        rc_only(TpmRc::RETRY.0)
    });
    let began = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .env_remove("TPM2TOOLS_TCTI")
        .arg("-T")
        .arg(format!("swtpm:host=127.0.0.1,port={port}"))
        .args(["--timeout", "1", "getrandom", "8", "--hex"])
        .output()
        .unwrap();
    let took = began.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("retries included"), "{stderr}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    // Out of range is a usage error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baretpm"))
        .args(["--timeout", "0", "getrandom", "8"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
