//! `Tpm<T>`: typed command calls over any transport, with fixed buffers and bounded retries.

use crate::commands::{self, Command, ResponseError, MAX_COMMAND_SIZE, MAX_RESPONSE_SIZE};
use crate::transport::Transport;
use crate::types::capability::{cap, pt, TpmsTaggedProperty};
use crate::types::pcr::{TpmlPcrSelection, TpmsPcrSelection};
use crate::types::rc::TpmRc;
use crate::types::{HashAlg, TpmCc, TpmsCapabilityData};
use crate::wire;
use core::fmt;

/// Why a command failed.
#[derive(Debug)]
pub enum TpmError<E> {
    /// The transport failed (connection, timeout, size); its error names the transport.
    Transport(E),
    /// The command could not be built (a parameter above its spec maximum).
    Build {
        /// The command being built.
        cc: TpmCc,
        /// What was out of bounds.
        error: wire::Error,
    },
    /// The TPM answered with an error code.
    Tpm {
        /// The command that failed.
        cc: TpmCc,
        /// The TPM's response code.
        rc: TpmRc,
    },
    /// The response bytes were malformed.
    Malformed {
        /// The command whose answer was malformed.
        cc: TpmCc,
        /// Where and how parsing failed.
        error: wire::Error,
    },
    /// The TPM kept answering RETRY/YIELDED/TESTING.
    RetriesExhausted {
        /// The command that was retried.
        cc: TpmCc,
        /// The last response code (RETRY, YIELDED or TESTING).
        rc: TpmRc,
        /// How many times the command was sent.
        attempts: u32,
    },
    /// A multi-command operation got an answer that does not fit (e.g. PCR_Read made no progress).
    Protocol {
        /// The command (of the several sent) that got the answer.
        cc: TpmCc,
        /// What did not fit.
        what: &'static str,
    },
}

impl<E: fmt::Display> fmt::Display for TpmError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "{e}"),
            Self::Build { cc, error } => write!(f, "{cc}: cannot build command: {error}"),
            Self::Tpm { cc, rc } => write!(f, "{cc}: {rc}"),
            Self::Malformed { cc, error } => write!(f, "{cc}: malformed response: {error}"),
            Self::RetriesExhausted { cc, rc, attempts } => {
                write!(f, "{cc}: still {rc} after {attempts} attempts")
            }
            Self::Protocol { cc, what } => write!(f, "{cc}: {what}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for TpmError<E> {}

impl<E> TpmError<E> {
    /// The TPM response code, when the TPM itself refused the command.
    pub fn rc(&self) -> Option<TpmRc> {
        match self {
            Self::Tpm { rc, .. } | Self::RetriesExhausted { rc, .. } => Some(*rc),
            _ => None,
        }
    }
}

/// The transient handle a response with a success code carries first, if it does.
fn created_transient(rsp: &[u8]) -> Option<u32> {
    if !commands::response_code(rsp).ok()?.is_success() {
        return None;
    }
    let h = u32::from_be_bytes(
        rsp.get(commands::HEADER_SIZE..commands::HEADER_SIZE + 4)?
            .try_into()
            .ok()?,
    );
    (h >> 24 == 0x80).then_some(h)
}

/// Flushes `handle`, ignoring the outcome: used on a path that already fails.
fn flush_quietly<T: Transport>(transport: &mut T, cmd: &mut [u8], handle: u32) {
    if let Ok(n) = commands::build(
        &commands::FlushContext {
            flush_handle: handle,
        },
        cmd,
    ) {
        let mut rsp = [0u8; 64];
        let _ = transport.transact(&cmd[..n], &mut rsp);
    }
}

/// Default number of attempts for a command the TPM asks to retry.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// A TPM reached through a transport. Command and response buffers live inside this struct:
/// sending a command allocates nothing.
pub struct Tpm<T: Transport> {
    transport: T,
    cmd: [u8; MAX_COMMAND_SIZE],
    rsp: [u8; MAX_RESPONSE_SIZE],
    /// Attempts per command when the TPM answers RETRY, YIELDED or TESTING.
    pub max_attempts: u32,
    /// Called before each retry with the attempt number (std code sleeps here).
    pub backoff: Option<fn(u32)>,
}

/// Sleeps 20 ms times the attempt number: the backoff [`Tpm::open`] installs.
#[cfg(feature = "std")]
pub fn sleep_backoff(attempt: u32) {
    std::thread::sleep(core::time::Duration::from_millis(20 * u64::from(attempt)));
}

#[cfg(feature = "std")]
impl Tpm<crate::transport::tcti::AnyTransport> {
    /// Opens the TPM a TCTI string names (`device:/dev/tpmrm0`, `swtpm:port=2321`, ...), or,
    /// when `tcti` is `None`, the one `TPM2TOOLS_TCTI` names, or else the default device; with
    /// default timeouts and a sleeping backoff between retries ([`sleep_backoff`]).
    pub fn open(tcti: Option<&str>) -> Result<Self, crate::transport::TransportError> {
        Self::open_with(tcti, crate::transport::Timeouts::default())
    }

    /// [`Tpm::open`] with the given timeouts.
    pub fn open_with(
        tcti: Option<&str>,
        timeouts: crate::transport::Timeouts,
    ) -> Result<Self, crate::transport::TransportError> {
        Self::open_tcti(&crate::transport::tcti::tcti_from_env_or(tcti)?, timeouts)
    }

    /// [`Tpm::open_with`] for a TCTI already parsed (a path with a comma in it cannot be
    /// written back into a TCTI string).
    pub fn open_tcti(
        tcti: &crate::transport::tcti::Tcti,
        timeouts: crate::transport::Timeouts,
    ) -> Result<Self, crate::transport::TransportError> {
        let transport = crate::transport::tcti::open(tcti, timeouts)?;
        let mut tpm = Tpm::new(transport);
        tpm.backoff = Some(sleep_backoff);
        Ok(tpm)
    }
}

impl<T: Transport> Tpm<T> {
    /// A TPM reached through `transport`, with fixed command and response buffers and no
    /// backoff between retries.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            cmd: [0; MAX_COMMAND_SIZE],
            rsp: [0; MAX_RESPONSE_SIZE],
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: None,
        }
    }

    /// The transport, to reach it directly (what is sent through it bypasses retries).
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives back the transport.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends `cmd` and parses its response. The response borrows this `Tpm`'s buffer, so copy
    /// what you need before the next command.
    pub fn execute<C: Command>(&mut self, cmd: &C) -> Result<C::Response<'_>, TpmError<T::Error>> {
        self.execute_checked(cmd, |_| Ok(()))
    }

    /// [`Tpm::execute`], running `check` over the raw response before anything in it is
    /// parsed or used (a session's response HMAC). A refusal counts as a malformed answer: an
    /// object a success header names is flushed.
    pub fn execute_checked<C: Command>(
        &mut self,
        cmd: &C,
        check: impl FnOnce(&[u8]) -> Result<(), wire::Error>,
    ) -> Result<C::Response<'_>, TpmError<T::Error>> {
        self.execute_transformed(cmd, |rsp| check(rsp))
    }

    /// [`Tpm::execute_checked`] whose `check` may also change the response in place before it
    /// is parsed (a session decrypting the response's first parameter once its HMAC checks).
    pub fn execute_transformed<C: Command>(
        &mut self,
        cmd: &C,
        check: impl FnOnce(&mut [u8]) -> Result<(), wire::Error>,
    ) -> Result<C::Response<'_>, TpmError<T::Error>> {
        let n = commands::build(cmd, &mut self.cmd)
            .map_err(|error| TpmError::Build { cc: C::CC, error })?;
        // One deadline for the command and all its retries.
        self.transport.begin_command();
        let len = self.send_with_retries(C::CC, n);
        self.transport.end_command();
        let len = len?;
        // A success header followed by a handle means the TPM made an object, whatever the
        // rest of the answer looks like: note the handle now, to flush it if the parameters
        // turn out malformed (otherwise it holds one of the TPM's few object slots until a
        // restart).
        let created = if C::RESPONSE_HANDLES > 0 {
            created_transient(&self.rsp[..len])
        } else {
            None
        };
        let parsed = match check(&mut self.rsp[..len]) {
            Ok(()) => commands::parse_response(cmd, &self.rsp[..len]),
            Err(e) => Err(ResponseError::Malformed(e)),
        };
        match parsed {
            Ok(r) => Ok(r),
            Err(ResponseError::Tpm(rc)) => Err(TpmError::Tpm { cc: C::CC, rc }),
            Err(ResponseError::Malformed(error)) => {
                if let Some(handle) = created {
                    // Disjoint fields: the response buffer stays borrowed by the Ok arm.
                    flush_quietly(&mut self.transport, &mut self.cmd, handle);
                }
                Err(TpmError::Malformed { cc: C::CC, error })
            }
        }
    }

    /// Sends the `n` command bytes until the TPM stops answering RETRY, YIELDED or TESTING (at
    /// most `max_attempts` times); returns the response's length.
    fn send_with_retries(&mut self, cc: TpmCc, n: usize) -> Result<usize, TpmError<T::Error>> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let len = self
                .transport
                .transact(&self.cmd[..n], &mut self.rsp)
                .map_err(TpmError::Transport)?
                .len();
            let rc = commands::response_code(&self.rsp[..len])
                .map_err(|error| TpmError::Malformed { cc, error })?;
            if !rc.is_retryable() {
                return Ok(len);
            }
            if attempt >= self.max_attempts {
                return Err(TpmError::RetriesExhausted {
                    cc,
                    rc,
                    attempts: attempt,
                });
            }
            if let Some(wait) = self.backoff {
                wait(attempt);
            }
        }
    }

    /// Fills `out` with random bytes from the TPM, in as many calls as it takes.
    pub fn get_random(&mut self, out: &mut [u8]) -> Result<(), TpmError<T::Error>> {
        let mut filled = 0;
        while filled < out.len() {
            let want = (out.len() - filled).min(64) as u16;
            let got = self.execute(&commands::GetRandom {
                bytes_requested: want,
            })?;
            if got.is_empty() {
                return Err(TpmError::Protocol {
                    cc: TpmCc::GET_RANDOM,
                    what: "TPM returned no random bytes",
                });
            }
            let take = got.len().min(out.len() - filled);
            out[filled..filled + take].copy_from_slice(&got[..take]);
            filled += take;
        }
        Ok(())
    }

    /// Reads every PCR of `selection`, calling `each(bank, index, value)` in selection order.
    /// A TPM returns at most eight values per PCR_Read, so this loops, asking each time for
    /// what is still missing.
    pub fn pcr_read_each(
        &mut self,
        selection: &TpmlPcrSelection,
        mut each: impl FnMut(HashAlg, u32, &[u8]),
    ) -> Result<(), TpmError<T::Error>> {
        let mut remaining = selection.clone();
        let mut counter = None;
        let lie = |what| TpmError::Protocol {
            cc: TpmCc::PCR_READ,
            what,
        };
        // Each round reads at least one value, so this many rounds is always enough.
        for _ in 0..=selection.pcr_count() {
            if remaining.pcr_count() == 0 {
                return Ok(());
            }
            let rsp = self.execute(&commands::PcrRead {
                selection: remaining.clone(),
            })?;
            // Values from rounds on either side of an extend would mix two snapshots.
            if counter.is_some_and(|c| c != rsp.update_counter) {
                return Err(lie(
                    "PCRs changed between two PCR_Read rounds (pcrUpdateCounter moved), so the \
                     values would mix two snapshots; read again",
                ));
            }
            counter = Some(rsp.update_counter);
            let got = rsp.selection_out.pcr_count();
            let values = rsp.values.digests.len();
            if got == 0 && values == 0 {
                return Err(lie(
                    "TPM returned no PCR values for the selection (is the bank allocated?)",
                ));
            }
            if got != values {
                return Err(lie(
                    "pcrSelectionOut counts a different number of PCRs than the answer carries \
                     values",
                ));
            }
            let mut values = rsp.values.digests.iter();
            for (bank, index) in rsp.selection_out.iter_pcrs() {
                // Each PCR must be the next one still pending in selection order, and is taken
                // off `remaining` as it is delivered: a PCR not asked for, one returned twice (a
                // bank repeated in pcrSelectionOut) or out of order is refused, so `each` sees
                // every selected PCR exactly once, in selection order.
                let next = remaining.iter_pcrs().next();
                let v = values.next().map(|v| v.0).unwrap_or(&[]);
                if next != Some((bank, index)) {
                    return Err(lie(
                        "pcrSelectionOut names a PCR not asked for, one already delivered, or \
                         one out of selection order",
                    ));
                }
                if v.len() != bank.digest_size() {
                    return Err(lie(
                        "a PCR value is not the digest size of its bank's hash algorithm",
                    ));
                }
                remaining.deselect(bank, index);
                each(bank, index, v);
            }
        }
        Err(lie("PCR_Read made no progress"))
    }

    /// The PCR banks the TPM has allocated (banks with at least one PCR selected).
    pub fn pcr_banks(&mut self) -> Result<TpmlPcrSelection, TpmError<T::Error>> {
        let rsp = self.execute(&commands::GetCapability {
            capability: cap::PCRS,
            property: 0,
            property_count: 1,
        })?;
        match rsp.data {
            TpmsCapabilityData::Pcrs(p) => {
                let mut out = TpmlPcrSelection::default();
                for b in p.banks().iter().filter(|b| !b.is_empty()) {
                    out.push(TpmsPcrSelection::from_bitmap(b.hash, b.bitmap()))
                        .map_err(|error| TpmError::Malformed {
                            cc: TpmCc::GET_CAPABILITY,
                            error,
                        })?;
                }
                Ok(out)
            }
            _ => Err(TpmError::Protocol {
                cc: TpmCc::GET_CAPABILITY,
                what: "asked for PCRS, got another capability",
            }),
        }
    }

    /// Reads fixed TPM properties starting at `first`, calling `each` for each one returned.
    pub fn tpm_properties(
        &mut self,
        first: u32,
        count: u32,
        mut each: impl FnMut(TpmsTaggedProperty),
    ) -> Result<(), TpmError<T::Error>> {
        let rsp = self.execute(&commands::GetCapability {
            capability: cap::TPM_PROPERTIES,
            property: first,
            property_count: count,
        })?;
        match rsp.data {
            TpmsCapabilityData::TpmProperties(v) => {
                v.iter().copied().for_each(&mut each);
                Ok(())
            }
            _ => Err(TpmError::Protocol {
                cc: TpmCc::GET_CAPABILITY,
                what: "asked for TPM_PROPERTIES, got another capability",
            }),
        }
    }

    /// Manufacturer (4 ASCII bytes as a u32) and firmware version (two u32 halves).
    pub fn identity(&mut self) -> Result<TpmIdentity, TpmError<T::Error>> {
        let mut id = TpmIdentity::default();
        self.tpm_properties(pt::FAMILY_INDICATOR, 64, |p| match p.property {
            pt::MANUFACTURER => id.manufacturer = p.value,
            pt::FIRMWARE_VERSION_1 => {
                id.firmware_version =
                    (id.firmware_version & 0xffff_ffff) | (u64::from(p.value) << 32)
            }
            pt::FIRMWARE_VERSION_2 => {
                id.firmware_version = (id.firmware_version & !0xffff_ffff) | u64::from(p.value)
            }
            pt::VENDOR_STRING_1..=pt::VENDOR_STRING_4 => {
                let i = (p.property - pt::VENDOR_STRING_1) as usize * 4;
                id.vendor[i..i + 4].copy_from_slice(&p.value.to_be_bytes());
            }
            pt::NV_BUFFER_MAX => id.nv_buffer_max = p.value,
            _ => {}
        })?;
        Ok(id)
    }

    /// Reads a whole NV index into `out` (authorized by the index itself, empty password), in
    /// chunks no larger than `chunk`. Returns the number of bytes read.
    pub fn nv_read_all(
        &mut self,
        nv_index: u32,
        chunk: u16,
        out: &mut [u8],
    ) -> Result<usize, TpmError<T::Error>> {
        let size = usize::from(
            self.execute(&commands::NvReadPublic { nv_index })?
                .nv_public
                .data_size,
        );
        if size > out.len() {
            return Err(TpmError::Protocol {
                cc: TpmCc::NV_READ,
                what: "NV index is larger than the output buffer",
            });
        }
        let chunk = usize::from(chunk.clamp(1, 1024));
        let mut offset = 0usize;
        while offset < size {
            let want = (size - offset).min(chunk);
            let data = self.execute(&commands::NvRead {
                auth_handle: nv_index,
                auth: &[],
                nv_index,
                size: want as u16,
                offset: offset as u16,
            })?;
            if data.len() != want {
                return Err(TpmError::Protocol {
                    cc: TpmCc::NV_READ,
                    what: "TPM returned a chunk of the wrong size",
                });
            }
            out[offset..offset + want].copy_from_slice(data);
            offset += want;
        }
        Ok(size)
    }

    /// The template this TPM's platform defines for an EK of type `ty` (`high`: the high
    /// range): the template in NV when one is stored at [`EkType::template_index`], else the
    /// TCG default; in the low range, with the EK nonce from [`EkType::nonce_index`] when one
    /// is stored (see [`EkTemplate`]). An index that is not defined (or not readable with an
    /// empty password) counts as absent; a transport failure or NV contents that are not a
    /// template or nonce are errors, never a silent fall-back to the default.
    ///
    /// [`EkType::template_index`]: commands::templates::EkType::template_index
    /// [`EkType::nonce_index`]: commands::templates::EkType::nonce_index
    /// [`EkTemplate`]: commands::templates::EkTemplate
    pub fn ek_template(
        &mut self,
        ty: commands::templates::EkType,
        high: bool,
    ) -> Result<commands::templates::EkTemplate, TpmError<T::Error>> {
        let mut t = commands::templates::EkTemplate::default_for(ty, high);
        let (ty, high) = t.ek_type();
        let mut buf = [0u8; crate::types::tpm2b::max::PUBLIC];
        if let Some(n) = self.nv_read_if_defined(ty.template_index(high), &mut buf)? {
            t = t.with_nv_template(&buf[..n]).map_err(nv_malformed)?;
        }
        if let Some(index) = ty.nonce_index(high) {
            if let Some(n) = self.nv_read_if_defined(index, &mut buf)? {
                t = t.with_nonce(&buf[..n]).map_err(nv_malformed)?;
            }
        }
        Ok(t)
    }

    /// [`Tpm::nv_read_all`], with a TPM error (index not defined, not readable with an empty
    /// password) as `None`. Other errors stay errors.
    fn nv_read_if_defined(
        &mut self,
        nv_index: u32,
        out: &mut [u8],
    ) -> Result<Option<usize>, TpmError<T::Error>> {
        match self.nv_read_all(nv_index, 1024, out) {
            Ok(n) => Ok(Some(n)),
            Err(TpmError::Tpm { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// NV contents that are not what their index holds (an EK template that does not parse, a
/// nonce too long for `unique`): a malformed NV_Read answer.
fn nv_malformed<E>(error: wire::Error) -> TpmError<E> {
    TpmError::Malformed {
        cc: TpmCc::NV_READ,
        error,
    }
}

/// What GetCapability says about the TPM itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TpmIdentity {
    /// `TPM_PT_MANUFACTURER`: four ASCII characters, e.g. "IBM ", "MSFT", "INTC".
    pub manufacturer: u32,
    /// `TPM_PT_FIRMWARE_VERSION_1 << 32 | TPM_PT_FIRMWARE_VERSION_2`.
    pub firmware_version: u64,
    /// `TPM_PT_VENDOR_STRING_1..4`.
    pub vendor: [u8; 16],
    /// `TPM_PT_NV_BUFFER_MAX` (0 if not reported).
    pub nv_buffer_max: u32,
}

impl TpmIdentity {
    /// The manufacturer id as text, non-printable bytes replaced by '.'.
    pub fn manufacturer_str(&self) -> [u8; 4] {
        self.manufacturer.to_be_bytes().map(|b| {
            if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'.'
            }
        })
    }
}
