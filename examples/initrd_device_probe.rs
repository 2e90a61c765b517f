//! What the real Linux TPM driver does to the device transport: run inside the test initrd
//! (tests/initrd/run.sh copies a static build in as /bin/device-probe), against the kernel's
//! `/dev/tpm0` and `/dev/tpmrm0` in front of the VM's swtpm.
//!
//! Each check prints one line `device-probe: NAME pass|FAIL DETAIL`; the exit status is 0
//! only when all pass. The checks, in order:
//! - `rm-virtual-handle`: a primary key created through `/dev/tpmrm0` gets one of the
//!   resource manager's virtual handles (0x80FFFFxx), not the TPM's own 0x80000000.
//! - `rm-isolation`: a second `/dev/tpmrm0` connection cannot use the first one's handle: the
//!   kernel refuses the command at write() with EINVAL (it never reaches the TPM), and that
//!   connection keeps working.
//! - `rm-flush-on-close`: the key is never flushed; after the connection closes, the TPM
//!   itself (asked through `/dev/tpm0`) holds no transient object.
//! - `tpm0-ebusy`: while one `/dev/tpm0` is open, a second open fails with EBUSY, reported as
//!   a connect failure naming the device; after the first closes, the open succeeds.
//! - `in-flight-close`: a command written to `/dev/tpmrm0` whose answer is never read, then
//!   the file closed: the next connection works and nothing was left loaded.
//! - `tpm0-direct`: a key created through `/dev/tpm0` has the TPM's real handle, and stays
//!   loaded after close (no resource manager), so the probe flushes it itself.

#[cfg(feature = "std")]
fn main() -> std::process::ExitCode {
    probe::main()
}

#[cfg(not(feature = "std"))]
fn main() {}

#[cfg(feature = "std")]
mod probe {
    use std::io::Write as _;
    use std::process::ExitCode;

    use baretpm::commands::{
        self, templates, CreatePrimary, FlushContext, GetCapability, GetRandom, ReadPublic,
    };
    use baretpm::tpm::{Tpm, TpmError};
    use baretpm::transport::device::DeviceTransport;
    use baretpm::transport::{Timeouts, TransportError};

    use baretpm::types::capability::cap;
    use baretpm::types::TpmsCapabilityData;

    const RM: &str = "/dev/tpmrm0";
    const DIRECT: &str = "/dev/tpm0";
    const TRANSIENT_FIRST: u32 = 0x8000_0000;

    type Dev = Tpm<DeviceTransport>;

    fn open(path: &str) -> Result<Dev, String> {
        DeviceTransport::open(path, Timeouts::DEFAULT)
            .map(Tpm::new)
            .map_err(|e| e.to_string())
    }

    fn create_ak(tpm: &mut Dev) -> Result<u32, String> {
        tpm.execute(&CreatePrimary::in_endorsement(templates::ak_ecc()))
            .map(|r| r.object_handle)
            .map_err(|e| format!("CreatePrimary: {e}"))
    }

    /// The transient handles the TPM itself holds (asked through /dev/tpm0).
    fn transient_handles() -> Result<Vec<u32>, String> {
        let mut tpm = open(DIRECT)?;
        let rsp = tpm
            .execute(&GetCapability {
                capability: cap::HANDLES,
                property: TRANSIENT_FIRST,
                property_count: 64,
            })
            .map_err(|e| format!("GetCapability(HANDLES): {e}"))?;
        match rsp.data {
            TpmsCapabilityData::Handles(h) => Ok(h.iter().copied().collect()),
            other => Err(format!("GetCapability(HANDLES) answered {other:?}")),
        }
    }

    struct Report {
        failed: usize,
    }

    impl Report {
        fn row(&mut self, name: &str, result: Result<String, String>) {
            let line = match result {
                Ok(d) => format!("device-probe: {name} pass {d}"),
                Err(d) => {
                    self.failed += 1;
                    format!("device-probe: {name} FAIL {d}")
                }
            };
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    }

    fn rm_checks(r: &mut Report) {
        let mut a = match open(RM) {
            Ok(t) => t,
            Err(e) => return r.row("rm-virtual-handle", Err(e)),
        };
        let h = match create_ak(&mut a) {
            Ok(h) => h,
            Err(e) => return r.row("rm-virtual-handle", Err(e)),
        };
        r.row(
            "rm-virtual-handle",
            if h & 0xFFFF_FF00 == 0x80FF_FF00 {
                Ok(format!("handle {h:#010x}"))
            } else {
                Err(format!(
                    "handle {h:#010x} is not a virtual handle 0x80ffffxx"
                ))
            },
        );

        // The kernel maps handles in the command before sending it; one outside this
        // connection's space makes write() fail with EINVAL (no TPM response code at all),
        // and the connection stays usable.
        r.row(
            "rm-isolation",
            open(RM).and_then(|mut b| {
                let refused = match b.execute(&ReadPublic { object_handle: h }) {
                    Err(TpmError::Transport(TransportError::Io { ref source, .. }))
                        if source.raw_os_error() == Some(22) =>
                    {
                        "write() refused with EINVAL".to_string()
                    }
                    Err(TpmError::Tpm { rc, .. }) => format!("the TPM answered {rc}"),
                    Ok(_) => {
                        return Err(format!(
                            "the second connection could read the first one's {h:#010x}"
                        ))
                    }
                    Err(e) => return Err(format!("ReadPublic: {e}")),
                };
                b.execute(&GetRandom { bytes_requested: 8 })
                    .map(|_| {
                        format!(
                            "another connection's ReadPublic({h:#010x}): {refused}; \
                         that connection still works"
                        )
                    })
                    .map_err(|e| format!("{refused}, then the connection failed: {e}"))
            }),
        );

        // Close without FlushContext: the resource manager must flush for us.
        drop(a);
        r.row(
            "rm-flush-on-close",
            transient_handles().and_then(|h| {
                if h.is_empty() {
                    Ok("the TPM holds no transient object after close".into())
                } else {
                    Err(format!("still loaded after close: {h:#010x?}"))
                }
            }),
        );
    }

    fn ebusy_check(r: &mut Report) {
        let first = match open(DIRECT) {
            Ok(t) => t,
            Err(e) => return r.row("tpm0-ebusy", Err(format!("first open: {e}"))),
        };
        let second = DeviceTransport::open(DIRECT, Timeouts::DEFAULT);
        let busy = match second {
            Err(TransportError::ConnectFailed { ref source, .. })
                if source.raw_os_error() == Some(16) =>
            {
                Ok(format!(
                    "second open refused: {}",
                    second
                        .as_ref()
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                ))
            }
            Err(e) => Err(format!("second open failed, but not with EBUSY: {e}")),
            Ok(_) => Err("a second open of /dev/tpm0 succeeded".into()),
        };
        drop(first);
        let again = open(DIRECT).map(|_| ());
        r.row(
            "tpm0-ebusy",
            busy.and_then(|d| {
                again
                    .map(|()| format!("{d}; reopened after close"))
                    .map_err(|e| format!("{d}; but reopening after close failed: {e}"))
            }),
        );
    }

    fn in_flight_check(r: &mut Report) {
        let mut cmd = [0u8; 1024];
        let n = match commands::build(
            &CreatePrimary::in_endorsement(templates::ak_rsa()),
            &mut cmd,
        ) {
            Ok(n) => n,
            Err(e) => return r.row("in-flight-close", Err(format!("build: {e}"))),
        };
        let written = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(RM)
            .and_then(|mut f| f.write_all(&cmd[..n]));
        if let Err(e) = written {
            return r.row("in-flight-close", Err(format!("raw write: {e}")));
        }
        // The file is closed here, its answer unread.
        let next = open(RM).and_then(|mut t| {
            t.execute(&GetRandom {
                bytes_requested: 16,
            })
            .map(|b| b.len())
            .map_err(|e| format!("GetRandom after the orphaned command: {e}"))
        });
        r.row(
            "in-flight-close",
            next.and_then(|len| {
                let h = transient_handles()?;
                if h.is_empty() {
                    Ok(format!(
                        "next connection's GetRandom gave {len} bytes; nothing left loaded"
                    ))
                } else {
                    Err(format!("left loaded: {h:#010x?}"))
                }
            }),
        );
    }

    fn direct_check(r: &mut Report) {
        let result = open(DIRECT)
            .and_then(|mut t| create_ak(&mut t))
            .and_then(|h| {
                let left = transient_handles()?;
                let mut t = open(DIRECT)?;
                t.execute(&FlushContext { flush_handle: h })
                    .map_err(|e| format!("FlushContext({h:#010x}): {e}"))?;
                if left.contains(&h) && h & 0xFF00_0000 == TRANSIENT_FIRST {
                    Ok(format!(
                        "handle {h:#010x}, still loaded after close (flushed by the probe)"
                    ))
                } else {
                    Err(format!(
                        "handle {h:#010x}; transient handles after close: {left:#010x?}"
                    ))
                }
            });
        r.row("tpm0-direct", result);
    }

    pub fn main() -> ExitCode {
        let mut r = Report { failed: 0 };
        rm_checks(&mut r);
        ebusy_check(&mut r);
        in_flight_check(&mut r);
        direct_check(&mut r);
        if r.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
