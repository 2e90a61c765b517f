//! A synthetic firmware event log (crypto-agile) and the extends that make a TPM match it, as
//! firmware would have done at boot.

use baretpm::commands::PcrExtend;
use baretpm::tpm::Tpm;
use baretpm::transport::tcti::AnyTransport;
use baretpm::types::{HashAlg, TpmlDigestValues, TpmtHa};
use sha2::Digest as _;

pub fn h(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    match alg {
        HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        other => panic!("no hash for {other}"),
    }
}

/// One digest per bank.
pub type Digests = Vec<(HashAlg, Vec<u8>)>;

/// A crypto-agile log for `banks` and the (pcr, per-bank digests) it measures.
pub struct SyntheticLog {
    pub bytes: Vec<u8>,
    pub measured: Vec<(u32, Digests)>,
}

pub const EV_POST_CODE: u32 = 0x1;
pub const EV_SEPARATOR: u32 = 0x4;
pub const EV_S_CRTM_VERSION: u32 = 0x8;
pub const EV_IPL: u32 = 0xD;

pub fn synthetic_log(banks: &[HashAlg], cmdline: &str, post_code: &[u8]) -> SyntheticLog {
    synthetic_log_with(banks, cmdline, post_code, &[])
}

pub const EV_EFI_VARIABLE_DRIVER_CONFIG: u32 = 0x8000_0001;
pub const EV_EFI_BOOT_SERVICES_APPLICATION: u32 = 0x8000_0003;

/// A UEFI_VARIABLE_DATA.
pub fn variable(guid: &[u8; 16], name: &str, data: &[u8]) -> Vec<u8> {
    let units: Vec<u16> = name.encode_utf16().collect();
    let mut v = guid.to_vec();
    v.extend((units.len() as u64).to_le_bytes());
    v.extend((data.len() as u64).to_le_bytes());
    for u in units {
        v.extend(u.to_le_bytes());
    }
    v.extend(data);
    v
}

/// A UEFI_IMAGE_LOAD_EVENT whose device path is a single end node.
pub fn image_load(tag: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(tag.to_le_bytes());
    v.extend(0x1000u64.to_le_bytes());
    v.extend(0u64.to_le_bytes());
    v.extend(4u64.to_le_bytes());
    v.extend([0x7f, 0xff, 0x04, 0x00]);
    v
}

/// Secure Boot on with these db/dbx contents (PCR 7, before the separators), then two boot
/// applications (PCR 4): "shim" and "kernel" (their digests are H(data), as good as any).
pub fn secure_boot_log(banks: &[HashAlg], cmdline: &str, db: &[u8], dbx: &[u8]) -> SyntheticLog {
    let g = baretpm::eventlog::EFI_GLOBAL_VARIABLE.0;
    let s = baretpm::eventlog::EFI_IMAGE_SECURITY_DATABASE_GUID.0;
    let pre = [
        (
            7,
            EV_EFI_VARIABLE_DRIVER_CONFIG,
            variable(&g, "SecureBoot", &[1]),
        ),
        (7, EV_EFI_VARIABLE_DRIVER_CONFIG, variable(&g, "PK", b"pk")),
        (
            7,
            EV_EFI_VARIABLE_DRIVER_CONFIG,
            variable(&g, "KEK", b"kek"),
        ),
        (7, EV_EFI_VARIABLE_DRIVER_CONFIG, variable(&s, "db", db)),
        (7, EV_EFI_VARIABLE_DRIVER_CONFIG, variable(&s, "dbx", dbx)),
    ];
    let post = [
        (4, EV_EFI_BOOT_SERVICES_APPLICATION, image_load(1)),
        (4, EV_EFI_BOOT_SERVICES_APPLICATION, image_load(2)),
    ];
    let pre: Vec<(u32, u32, &[u8])> = pre.iter().map(|(p, t, d)| (*p, *t, d.as_slice())).collect();
    let post: Vec<(u32, u32, &[u8])> = post
        .iter()
        .map(|(p, t, d)| (*p, *t, d.as_slice()))
        .collect();
    build(banks, cmdline, b"POST", &pre, &post)
}

/// [`synthetic_log`] with extra `(pcr, type, data)` events after the separators (shim's
/// MokList into PCR14 is `(14, EV_IPL, b"MokList\0")`).
pub fn synthetic_log_with(
    banks: &[HashAlg],
    cmdline: &str,
    post_code: &[u8],
    extra: &[(u32, u32, &[u8])],
) -> SyntheticLog {
    build(banks, cmdline, post_code, &[], extra)
}

fn build(
    banks: &[HashAlg],
    cmdline: &str,
    post_code: &[u8],
    pre: &[(u32, u32, &[u8])],
    extra: &[(u32, u32, &[u8])],
) -> SyntheticLog {
    // Spec ID event: a TCG_PCR_EVENT (SHA-1 layout) on PCR 0, EV_NO_ACTION.
    let mut spec = b"Spec ID Event03\0".to_vec();
    spec.extend(0u32.to_le_bytes());
    spec.extend([0, 2, 0, 2]);
    spec.extend((banks.len() as u32).to_le_bytes());
    for b in banks {
        spec.extend(b.alg_id().0.to_le_bytes());
        spec.extend((b.digest_size() as u16).to_le_bytes());
    }
    spec.push(0);
    let mut bytes = Vec::new();
    bytes.extend(0u32.to_le_bytes());
    bytes.extend(3u32.to_le_bytes());
    bytes.extend([0u8; 20]);
    bytes.extend((spec.len() as u32).to_le_bytes());
    bytes.extend(&spec);

    let mut crtm = Vec::new();
    for u in "1.0\0".encode_utf16() {
        crtm.extend(u.to_le_bytes());
    }
    let cmd = format!("kernel_cmdline: {cmdline}\0").into_bytes();
    let mut events: Vec<(u32, u32, Vec<u8>)> = vec![
        (0, EV_S_CRTM_VERSION, crtm),
        (0, EV_POST_CODE, post_code.to_vec()),
    ];
    for (pcr, ty, data) in pre {
        events.push((*pcr, *ty, data.to_vec()));
    }
    for pcr in 0..8 {
        events.push((pcr, EV_SEPARATOR, vec![0; 4]));
    }
    events.push((8, EV_IPL, cmd));
    for (pcr, ty, data) in extra {
        events.push((*pcr, *ty, data.to_vec()));
    }
    let mut measured = Vec::new();
    for (pcr, ty, data) in events {
        let digests: Vec<(HashAlg, Vec<u8>)> = banks.iter().map(|&b| (b, h(b, &data))).collect();
        bytes.extend(pcr.to_le_bytes());
        bytes.extend(ty.to_le_bytes());
        bytes.extend((digests.len() as u32).to_le_bytes());
        for (b, d) in &digests {
            bytes.extend(b.alg_id().0.to_le_bytes());
            bytes.extend(d);
        }
        bytes.extend((data.len() as u32).to_le_bytes());
        bytes.extend(&data);
        measured.push((pcr, digests));
    }
    SyntheticLog { bytes, measured }
}

/// Extends the log's events into the TPM, as firmware would have.
pub fn boot(tpm: &mut Tpm<AnyTransport>, log: &SyntheticLog) {
    for (pcr, digests) in &log.measured {
        let mut values = TpmlDigestValues::default();
        for (b, d) in digests {
            values
                .digests
                .push(TpmtHa {
                    hash: *b,
                    digest: d,
                })
                .unwrap();
        }
        tpm.execute(&PcrExtend {
            pcr: *pcr,
            auth: &[],
            digests: values,
        })
        .unwrap();
    }
}
