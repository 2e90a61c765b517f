//! TPM2_GetCapability data: TPMS_CAPABILITY_DATA and the lists it carries.

use super::pcr::TpmlPcrSelection;
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// `TPM_CAP` values this crate asks for.
pub mod cap {
    /// `TPM_CAP_ALGS`: the algorithms implemented (TPML_ALG_PROPERTY).
    pub const ALGS: u32 = 0x0000_0000;
    /// `TPM_CAP_HANDLES`: handles of one type in use (TPML_HANDLE), from a starting handle.
    pub const HANDLES: u32 = 0x0000_0001;
    /// `TPM_CAP_COMMANDS`: the commands implemented (TPML_CCA).
    pub const COMMANDS: u32 = 0x0000_0002;
    /// `TPM_CAP_PCRS`: the PCR banks allocated (TPML_PCR_SELECTION).
    pub const PCRS: u32 = 0x0000_0005;
    /// `TPM_CAP_TPM_PROPERTIES`: TPM_PT properties (TPML_TAGGED_TPM_PROPERTY).
    pub const TPM_PROPERTIES: u32 = 0x0000_0006;
}

/// `TPM_PT` properties (fixed group starts at 0x100).
pub mod pt {
    /// `TPM_PT_FAMILY_INDICATOR`: "2.0" as four ASCII bytes.
    pub const FAMILY_INDICATOR: u32 = 0x100;
    /// `TPM_PT_LEVEL`: the specification level.
    pub const LEVEL: u32 = 0x101;
    /// `TPM_PT_REVISION`: the specification revision times 100 (e.g. 138 for 1.38).
    pub const REVISION: u32 = 0x102;
    /// `TPM_PT_MANUFACTURER`: the vendor ID, four ASCII bytes (TCG vendor ID registry).
    pub const MANUFACTURER: u32 = 0x105;
    /// `TPM_PT_VENDOR_STRING_1`: first four bytes of the vendor's free-form string.
    pub const VENDOR_STRING_1: u32 = 0x106;
    /// `TPM_PT_VENDOR_STRING_2`: next four bytes of the vendor string.
    pub const VENDOR_STRING_2: u32 = 0x107;
    /// `TPM_PT_VENDOR_STRING_3`: next four bytes of the vendor string.
    pub const VENDOR_STRING_3: u32 = 0x108;
    /// `TPM_PT_VENDOR_STRING_4`: last four bytes of the vendor string.
    pub const VENDOR_STRING_4: u32 = 0x109;
    /// `TPM_PT_FIRMWARE_VERSION_1`: the most significant 32 bits of the firmware version.
    pub const FIRMWARE_VERSION_1: u32 = 0x10B;
    /// `TPM_PT_FIRMWARE_VERSION_2`: the least significant 32 bits of the firmware version.
    pub const FIRMWARE_VERSION_2: u32 = 0x10C;
    /// `TPM_PT_MAX_COMMAND_SIZE`: the largest command the TPM accepts, in bytes.
    pub const MAX_COMMAND_SIZE: u32 = 0x11E;
    /// `TPM_PT_MAX_RESPONSE_SIZE`: the largest response the TPM returns, in bytes.
    pub const MAX_RESPONSE_SIZE: u32 = 0x11F;
    /// `TPM_PT_MAX_DIGEST`: the largest digest size the TPM produces, in bytes.
    pub const MAX_DIGEST: u32 = 0x120;
    /// `TPM_PT_NV_BUFFER_MAX`: the largest NV read or write in one command, in bytes.
    pub const NV_BUFFER_MAX: u32 = 0x12C;
    /// `TPM_PT_PCR_COUNT`: the number of PCRs implemented.
    pub const PCR_COUNT: u32 = 0x112;
}

/// Maxima: `MAX_CAP_ALGS`, `MAX_CAP_HANDLES`, `MAX_TPM_PROPERTIES` for a 1024-byte capability
/// buffer, as the reference implementation sizes them.
pub const MAX_CAP_ALGS: usize = 169;
/// `MAX_CAP_HANDLES`: handles in one TPML_HANDLE answer.
pub const MAX_CAP_HANDLES: usize = 254;
/// `MAX_TPM_PROPERTIES`: properties in one TPML_TAGGED_TPM_PROPERTY answer.
pub const MAX_TPM_PROPERTIES: usize = 127;

/// `TPMS_ALG_PROPERTY`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsAlgProperty {
    /// `alg`: the TPM_ALG_ID.
    pub alg: u16,
    /// `algProperties`: TPMA_ALGORITHM bits (asymmetric, symmetric, hash, object, signing, ...).
    pub properties: u32,
}

/// `TPMS_TAGGED_PROPERTY`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsTaggedProperty {
    /// `property`: the TPM_PT tag.
    pub property: u32,
    /// `value`: its value.
    pub value: u32,
}

/// `TPMS_CAPABILITY_DATA` for the capabilities this crate reads.
///
/// Lists are inline (no heap), so variants differ in size; the value lives in `Tpm`-owned or
/// caller stack memory for the length of one call.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum TpmsCapabilityData {
    /// `TPM_CAP_ALGS`: TPML_ALG_PROPERTY.
    Algorithms(heapless::Vec<TpmsAlgProperty, MAX_CAP_ALGS>),
    /// `TPM_CAP_HANDLES`: TPML_HANDLE.
    Handles(heapless::Vec<u32, MAX_CAP_HANDLES>),
    /// `TPM_CAP_PCRS`: TPML_PCR_SELECTION, one entry per allocated bank.
    Pcrs(TpmlPcrSelection),
    /// `TPM_CAP_TPM_PROPERTIES`: TPML_TAGGED_TPM_PROPERTY.
    TpmProperties(heapless::Vec<TpmsTaggedProperty, MAX_TPM_PROPERTIES>),
}

fn read_list<T, const N: usize>(
    r: &mut Reader<'_>,
    what: &'static str,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, Error>,
) -> Result<heapless::Vec<T, N>, Error> {
    let count = r.count(N, what)?;
    let mut v = heapless::Vec::new();
    for _ in 0..count {
        let _ = v.push(item(r)?);
    }
    Ok(v)
}

impl<'a> Unmarshal<'a> for TpmsCapabilityData {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let at = r.offset();
        Ok(match r.u32("TPMS_CAPABILITY_DATA.capability")? {
            cap::ALGS => Self::Algorithms(read_list(r, "TPML_ALG_PROPERTY.count", |r| {
                Ok(TpmsAlgProperty {
                    alg: r.u16("TPMS_ALG_PROPERTY.alg")?,
                    properties: r.u32("TPMS_ALG_PROPERTY.algProperties")?,
                })
            })?),
            cap::HANDLES => Self::Handles(read_list(r, "TPML_HANDLE.count", |r| {
                r.u32("TPML_HANDLE.handle")
            })?),
            cap::PCRS => Self::Pcrs(TpmlPcrSelection::unmarshal(r)?),
            cap::TPM_PROPERTIES => {
                Self::TpmProperties(read_list(r, "TPML_TAGGED_TPM_PROPERTY.count", |r| {
                    Ok(TpmsTaggedProperty {
                        property: r.u32("TPMS_TAGGED_PROPERTY.property")?,
                        value: r.u32("TPMS_TAGGED_PROPERTY.value")?,
                    })
                })?)
            }
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported { value: other },
                    "TPMS_CAPABILITY_DATA.capability",
                    at,
                ))
            }
        })
    }
}

impl Marshal for TpmsCapabilityData {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match self {
            Self::Algorithms(v) => {
                w.u32(cap::ALGS)?;
                w.u32(v.len() as u32)?;
                v.iter().try_for_each(|a| {
                    w.u16(a.alg)?;
                    w.u32(a.properties)
                })
            }
            Self::Handles(v) => {
                w.u32(cap::HANDLES)?;
                w.u32(v.len() as u32)?;
                v.iter().try_for_each(|h| w.u32(*h))
            }
            Self::Pcrs(p) => {
                w.u32(cap::PCRS)?;
                p.marshal(w)
            }
            Self::TpmProperties(v) => {
                w.u32(cap::TPM_PROPERTIES)?;
                w.u32(v.len() as u32)?;
                v.iter().try_for_each(|p| {
                    w.u32(p.property)?;
                    w.u32(p.value)
                })
            }
        }
    }
}
