//! Reading certificates: NV wrappers and padding, PEM bundles, concatenated DER, and the
//! extensions EK and AK certificates carry.

use super::error::CertError;
use super::key::SubjectKey;
use super::oid;
use super::text::escape;
use super::vendor::manufacturer_name;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;
use x509_cert::certificate::{Profile, TbsCertificateInner, Version};
use x509_cert::der::asn1::{
    AnyRef, BitStringRef, Ia5StringRef, ObjectIdentifier as Oid, PrintableStringRef, SetOfVec,
    Utf8StringRef,
};
use x509_cert::der::{self, Decode, Header, Reader, SliceReader, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

/// Largest certificate accepted (real EK certificates are 0.8–2 KiB; NV indices hold < 3 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;
/// Most certificates read from one set of trust store and chain files together.
pub const MAX_POOL: usize = 1024;
/// Longest serial number accepted (RFC 5280 says 20 octets; some CAs use a few more).
const MAX_SERIAL_LEN: usize = 32;

/// The `x509-cert` profile for TPM certificates: serial numbers are bounded but may be up to
/// [`MAX_SERIAL_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmProfile;

impl Profile for TpmProfile {
    fn check_serial_number(serial: &SerialNumber<Self>) -> der::Result<()> {
        if serial.as_bytes().len() > MAX_SERIAL_LEN {
            Err(Tag::Integer.value_error())
        } else {
            Ok(())
        }
    }
}

/// TPM identity from the subjectAltName directoryName (TCG EK Credential Profile).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TpmDeviceInfo {
    /// `tcg-at-tpmManufacturer`, e.g. `id:49465800`, as written (escaped).
    pub manufacturer: Option<String>,
    /// The manufacturer ID decoded from `id:XXXXXXXX`.
    pub manufacturer_id: Option<u32>,
    /// `tcg-at-tpmModel` (escaped).
    pub model: Option<String>,
    /// `tcg-at-tpmVersion` (firmware version, escaped).
    pub version: Option<String>,
}

impl TpmDeviceInfo {
    /// The vendor name for the manufacturer ID, if the TCG registry has it.
    pub fn manufacturer_name(&self) -> Option<&'static str> {
        self.manufacturer_id.and_then(manufacturer_name)
    }
}

/// `tcg-at-tpmSpecification` from subjectDirectoryAttributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmSpecification {
    /// `family`: the TPM specification family, e.g. `2.0`.
    pub family: String,
    /// `level`: the specification level.
    pub level: u64,
    /// `revision`: the specification revision (e.g. 138 for 1.38).
    pub revision: u64,
}

/// Google's GCE instance information extension (1.3.6.1.4.1.11129.2.1.21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GceInstanceInfo {
    /// The Compute Engine zone of the instance (e.g. `us-central1-a`).
    pub zone: String,
    /// The numeric project number.
    pub project_number: u64,
    /// The project ID (text).
    pub project_id: String,
    /// The numeric instance ID.
    pub instance_id: u64,
    /// The instance name.
    pub instance_name: String,
    /// The instance's security properties, when present.
    pub security: Option<GceSecurityProperties>,
}

/// The security properties inside [`GceInstanceInfo`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GceSecurityProperties {
    /// `security_version` (absent when not set).
    pub security_version: Option<u64>,
    /// `is_production`, as Google sets it (absent when not set).
    pub is_production: Option<bool>,
}

/// The extensions this verifier understands, decoded.
#[derive(Clone, Debug, Default)]
pub struct Extensions {
    /// `(cA, pathLenConstraint)`.
    pub basic_constraints: Option<(bool, Option<u8>)>,
    /// keyUsage bits, when the extension is present.
    pub key_usage: Option<KeyUsage>,
    /// extendedKeyUsage purposes, when present.
    pub ext_key_usage: Option<Vec<Oid>>,
    /// subjectKeyIdentifier, when present.
    pub subject_key_id: Option<Vec<u8>>,
    /// The keyIdentifier of authorityKeyIdentifier, when present.
    pub authority_key_id: Option<Vec<u8>>,
    /// Whether the certificate has a subjectAltName, and whether it is critical.
    pub san: Option<bool>,
    /// TPM manufacturer, model and version from subjectAltName (EK certificates).
    pub tpm: Option<TpmDeviceInfo>,
    /// `tcg-at-tpmSpecification` from subjectDirectoryAttributes (EK certificates).
    pub tpm_spec: Option<TpmSpecification>,
    /// Google's instance information, on GCE vTPM certificates.
    pub gce: Option<GceInstanceInfo>,
    /// The certificatePolicies OIDs, and whether the extension is critical.
    pub policies: Option<(Vec<Oid>, bool)>,
    /// The first critical extension not understood here (refused at validation).
    pub unknown_critical: Option<Oid>,
}

/// A decoded certificate with the exact bytes its signature covers.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    tbs_range: Range<usize>,
    /// `signatureAlgorithm` of the outer Certificate (checked equal to `tbs.signature`).
    pub signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    /// The decoded TBSCertificate.
    pub tbs: TbsCertificateInner<TpmProfile>,
    /// The extensions, decoded.
    pub extensions: Extensions,
    /// notBefore, in Unix seconds.
    pub not_before: u64,
    /// notAfter, in Unix seconds.
    pub not_after: u64,
}

impl Certificate {
    /// Decodes one certificate: `bytes` must be exactly its DER (see [`strip_nv_wrapper`]).
    pub fn from_der(bytes: &[u8]) -> Result<Self, CertError> {
        if bytes.len() > MAX_CERT_LEN {
            return Err(CertError::TooLarge {
                len: bytes.len(),
                max: MAX_CERT_LEN,
            });
        }
        let der_err = |what| move |error| CertError::Der { what, error };
        let mut r = SliceReader::new(bytes).map_err(der_err("certificate"))?;
        let (tbs_der, signature_algorithm, signature) = r
            .sequence(|r| {
                let tbs = r.tlv_bytes()?;
                let alg = AlgorithmIdentifierOwned::decode(r)?;
                let sig = BitStringRef::decode(r)?;
                Ok((tbs, alg, sig))
            })
            .map_err(der_err("Certificate"))?;
        r.finish(())
            .map_err(der_err("certificate (trailing bytes)"))?;
        let signature = signature
            .as_bytes()
            .ok_or(CertError::SignatureBitString)?
            .to_vec();
        let tbs = TbsCertificateInner::<TpmProfile>::from_der(tbs_der)
            .map_err(der_err("tbsCertificate"))?;
        // tbs_der is a subslice of bytes: its offset is where the outer header ends.
        let start = tbs_der.as_ptr() as usize - bytes.as_ptr() as usize;
        let tbs_range = start..start + tbs_der.len();
        if tbs.extensions.is_some() && tbs.version != Version::V3 {
            return Err(CertError::ExtensionsNotV3);
        }
        let extensions = read_extensions(&tbs)?;
        let not_before = unix(&tbs.validity.not_before);
        let not_after = unix(&tbs.validity.not_after);
        Ok(Self {
            der: bytes.to_vec(),
            tbs_range,
            signature_algorithm,
            signature,
            tbs,
            extensions,
            not_before,
            not_after,
        })
    }

    /// Decodes a certificate as read from TPM NV: a TCG `10 01 00 LEN` wrapper and padding
    /// after the DER are removed first.
    pub fn from_nv_bytes(bytes: &[u8]) -> Result<Self, CertError> {
        Self::from_der(strip_nv_wrapper(bytes)?)
    }

    /// The certificate's DER, exactly as read.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The `tbsCertificate` bytes exactly as read: what the signature covers.
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs_range.clone()]
    }

    /// The signature value.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The subject Name, as decoded.
    pub fn subject(&self) -> &Name {
        &self.tbs.subject
    }

    /// The issuer Name, as decoded.
    pub fn issuer(&self) -> &Name {
        &self.tbs.issuer
    }

    /// Subject as RFC 4514 text, escaped; `(empty subject)` when it has none.
    pub fn subject_text(&self) -> String {
        name_text(&self.tbs.subject)
    }

    /// Issuer as RFC 4514 text, escaped.
    pub fn issuer_text(&self) -> String {
        name_text(&self.tbs.issuer)
    }

    /// What to call the certificate in messages: its subject, or for an empty subject the TPM
    /// model from the SAN, or the serial number.
    pub fn display_name(&self) -> String {
        if !self.tbs.subject.0.is_empty() {
            return self.subject_text();
        }
        match self.extensions.tpm.as_ref().and_then(|t| t.model.clone()) {
            Some(m) => alloc::format!("empty subject, TPM model {m}"),
            None => alloc::format!("empty subject, serial {}", self.serial_hex()),
        }
    }

    /// The serial number as lower-case hex, as encoded (two digits per byte).
    pub fn serial_hex(&self) -> String {
        use core::fmt::Write as _;
        let mut s = String::new();
        for b in self.tbs.serial_number.as_bytes() {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Whether basicConstraints says cA TRUE.
    pub fn is_ca(&self) -> bool {
        matches!(self.extensions.basic_constraints, Some((true, _)))
    }

    /// Whether issuer and subject are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.tbs.issuer == self.tbs.subject
    }

    /// The certificate's public key, for comparison with a TPM key.
    pub fn subject_key(&self) -> Result<SubjectKey, CertError> {
        SubjectKey::from_spki(&self.tbs.subject_public_key_info).map_err(|_| {
            CertError::BadPublicKey {
                subject: self.display_name(),
            }
        })
    }
}

/// Unix seconds of an X.509 time (GeneralizedTime up to 9999 fits easily in a u64).
fn unix(t: &Time) -> u64 {
    t.to_unix_duration().as_secs()
}

/// An RFC 3339 UTC rendering of Unix seconds.
pub fn time_text(secs: u64) -> String {
    match der::DateTime::from_unix_duration(core::time::Duration::from_secs(secs)) {
        Ok(d) => alloc::format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minutes(),
            d.seconds()
        ),
        Err(_) => alloc::format!("{secs} s after 1970"),
    }
}

fn name_text(n: &Name) -> String {
    if n.0.is_empty() {
        return "(empty subject)".to_string();
    }
    escape(&n.to_string())
}

/// The DER certificate inside NV bytes: drops a TCG PC Client `10 01 00 LEN` wrapper and takes
/// the length from the outer SEQUENCE header; what follows must be padding (0x00 or 0xFF).
pub fn strip_nv_wrapper(bytes: &[u8]) -> Result<&[u8], CertError> {
    let mut b = bytes;
    if b.len() > 5 && b[0] == 0x10 && b[1] == 0x01 && b[2] == 0x00 {
        let len = usize::from(u16::from_be_bytes([b[3], b[4]]));
        b = b.get(5..5 + len).ok_or(CertError::Der {
            what: "NV certificate wrapper",
            error: der::ErrorKind::Incomplete {
                expected_len: der::Length::new(len as u16),
                actual_len: der::Length::new((b.len() - 5) as u16),
            }
            .into(),
        })?;
    }
    let n = outer_len(b)?;
    let rest = &b[n..];
    if rest.iter().any(|&x| x != 0x00 && x != 0xff) {
        return Err(CertError::TrailingData { len: rest.len() });
    }
    Ok(&b[..n])
}

/// Length of the DER TLV at the start of `b` (header plus content), checked against `b`.
fn outer_len(b: &[u8]) -> Result<usize, CertError> {
    if b.is_empty() {
        return Err(CertError::Empty);
    }
    let der_err = |error| CertError::Der {
        what: "certificate header",
        error,
    };
    let mut r = SliceReader::new(b).map_err(der_err)?;
    let h = Header::decode(&mut r).map_err(der_err)?;
    if h.tag != Tag::Sequence {
        return Err(der_err(h.tag.unexpected_error(Some(Tag::Sequence))));
    }
    let hl = usize::try_from(r.position()).map_err(der_err)?;
    let cl = usize::try_from(h.length).map_err(der_err)?;
    let total = hl.saturating_add(cl);
    if total > MAX_CERT_LEN {
        return Err(CertError::TooLarge {
            len: total,
            max: MAX_CERT_LEN,
        });
    }
    if total > b.len() {
        return Err(der_err(
            der::ErrorKind::Incomplete {
                expected_len: h.length,
                actual_len: der::Length::new((b.len() - hl) as u16),
            }
            .into(),
        ));
    }
    Ok(total)
}

/// Every certificate in `bytes`: PEM (any number of CERTIFICATE blocks; other blocks are
/// skipped), concatenated DER, or one NV-wrapped/padded certificate. More than `max`
/// certificates is refused as soon as the next one is seen.
pub fn certificates_from_bytes(bytes: &[u8], max: usize) -> Result<Vec<Certificate>, CertError> {
    let mut out = Vec::new();
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    // PEM: text with CERTIFICATE blocks, possibly after comment lines (vendor bundles).
    let is_pem = bytes.get(text_start) != Some(&0x30)
        && !bytes.starts_with(&[0x10, 0x01, 0x00])
        && find(bytes, b"-----BEGIN ").is_some();
    if is_pem {
        let mut rest = &bytes[text_start..];
        while let Some(start) = find(rest, b"-----BEGIN ") {
            let block = &rest[start..];
            let end_marker = find(block, b"-----END ").ok_or(CertError::Pem {
                what: "PEM block without END line",
            })?;
            let after = &block[end_marker + 9..];
            let line_end = find(after, b"-----").ok_or(CertError::Pem {
                what: "PEM END line",
            })? + 5;
            let whole = &block[..end_marker + 9 + line_end];
            rest = &after[line_end..];
            if !whole.starts_with(b"-----BEGIN CERTIFICATE-----") {
                continue;
            }
            if out.len() >= max {
                return Err(CertError::TooManyCertificates { max });
            }
            let (_, der) = der::pem::decode_vec(whole).map_err(|_| CertError::Pem {
                what: "CERTIFICATE block",
            })?;
            out.push(Certificate::from_der(&der)?);
        }
    } else if bytes.starts_with(&[0x10, 0x01, 0x00]) {
        out.push(Certificate::from_nv_bytes(bytes)?);
    } else {
        let mut rest = bytes;
        while !rest.is_empty() && !rest.iter().all(|&b| b == 0 || b == 0xff) {
            if out.len() >= max {
                return Err(CertError::TooManyCertificates { max });
            }
            let n = outer_len(rest)?;
            out.push(Certificate::from_der(&rest[..n])?);
            rest = &rest[n..];
        }
    }
    if out.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_extensions(tbs: &TbsCertificateInner<TpmProfile>) -> Result<Extensions, CertError> {
    let mut e = Extensions::default();
    let Some(list) = &tbs.extensions else {
        return Ok(e);
    };
    let mut seen: Vec<&Oid> = Vec::new();
    for ext in list {
        let id = ext.extn_id;
        if seen.contains(&&ext.extn_id) {
            return Err(CertError::DuplicateExtension(id));
        }
        seen.push(&ext.extn_id);
        let v = ext.extn_value.as_bytes();
        let bad = |error| CertError::BadExtension { oid: id, error };
        match id {
            oid::BASIC_CONSTRAINTS => {
                let bc = BasicConstraints::from_der(v).map_err(bad)?;
                e.basic_constraints = Some((bc.ca, bc.path_len_constraint));
            }
            oid::KEY_USAGE => e.key_usage = Some(KeyUsage::from_der(v).map_err(bad)?),
            oid::EXT_KEY_USAGE => {
                e.ext_key_usage = Some(ExtendedKeyUsage::from_der(v).map_err(bad)?.0)
            }
            oid::SUBJECT_KEY_IDENTIFIER => {
                let ski = SubjectKeyIdentifier::from_der(v).map_err(bad)?;
                e.subject_key_id = Some(ski.0.as_bytes().to_vec());
            }
            oid::AUTHORITY_KEY_IDENTIFIER => {
                let aki = AuthorityKeyIdentifier::from_der(v).map_err(bad)?;
                e.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            oid::SUBJECT_ALT_NAME => {
                let san = SubjectAltName::from_der(v).map_err(bad)?;
                e.san = Some(ext.critical);
                e.tpm = tpm_device_info(&san);
            }
            oid::CERTIFICATE_POLICIES => {
                let cp = x509_cert::ext::pkix::CertificatePolicies::from_der(v).map_err(bad)?;
                e.policies = Some((
                    cp.0.iter().map(|p| p.policy_identifier).collect(),
                    ext.critical,
                ));
            }
            // Informational: decoded when they can be, never a reason to refuse.
            oid::SUBJECT_DIRECTORY_ATTRIBUTES => e.tpm_spec = tpm_specification(v),
            oid::GCE_INSTANCE_INFO => e.gce = gce_instance_info(v),
            oid::CRL_DISTRIBUTION_POINTS | oid::AUTHORITY_INFO_ACCESS => {
                // Not used (no revocation fetching); understood well enough to be ignored.
            }
            other => {
                if ext.critical && e.unknown_critical.is_none() {
                    e.unknown_critical = Some(other);
                }
            }
        }
        // Known extensions that must not be critical when only informational.
        if ext.critical
            && matches!(
                id,
                oid::SUBJECT_DIRECTORY_ATTRIBUTES
                    | oid::GCE_INSTANCE_INFO
                    | oid::CRL_DISTRIBUTION_POINTS
                    | oid::AUTHORITY_INFO_ACCESS
            )
            && e.unknown_critical.is_none()
        {
            // Marked critical, they would demand processing this verifier does not do.
            e.unknown_critical = Some(id);
        }
    }
    Ok(e)
}

/// A directory string value (UTF8String, PrintableString or IA5String) as text.
fn any_text(a: &x509_cert::der::Any) -> Option<String> {
    let r: AnyRef<'_> = a.into();
    let s = match r.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(r).ok()?.as_str().to_string(),
        Tag::PrintableString => PrintableStringRef::try_from(r).ok()?.as_str().to_string(),
        Tag::Ia5String => Ia5StringRef::try_from(r).ok()?.as_str().to_string(),
        _ => return None,
    };
    Some(s)
}

fn tpm_device_info(san: &SubjectAltName) -> Option<TpmDeviceInfo> {
    let mut info = TpmDeviceInfo::default();
    let mut found = false;
    for gn in &san.0 {
        let GeneralName::DirectoryName(name) = gn else {
            continue;
        };
        for rdn in &name.0 {
            for atv in rdn.0.iter() {
                let text = any_text(&atv.value);
                match atv.oid {
                    oid::TPM_MANUFACTURER => {
                        found = true;
                        info.manufacturer_id = text.as_deref().and_then(parse_id);
                        info.manufacturer = text.map(|t| escape(&t));
                    }
                    oid::TPM_MODEL => {
                        found = true;
                        info.model = text.map(|t| escape(&t));
                    }
                    oid::TPM_VERSION => {
                        found = true;
                        info.version = text.map(|t| escape(&t));
                    }
                    _ => {}
                }
            }
        }
    }
    found.then_some(info)
}

/// `id:49465800` → 0x49465800.
fn parse_id(s: &str) -> Option<u32> {
    let h = s.strip_prefix("id:")?;
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// subjectDirectoryAttributes: SEQUENCE OF Attribute; finds tcg-at-tpmSpecification.
fn tpm_specification(v: &[u8]) -> Option<TpmSpecification> {
    let mut r = SliceReader::new(v).ok()?;
    r.sequence(|r| {
        let mut spec = None;
        while !r.is_finished() {
            let (id, values) = r.sequence(|r| {
                let id = Oid::decode(r)?;
                let values = SetOfVec::<AnyRef<'_>>::decode(r)?;
                Ok((id, values))
            })?;
            if id != oid::TPM_SPECIFICATION {
                continue;
            }
            if let Some(first) = values.iter().next() {
                let mut inner = SliceReader::new(first.value())?;
                let family = Utf8StringRef::decode(&mut inner)?.as_str().to_string();
                let level = u64::decode(&mut inner)?;
                let revision = u64::decode(&mut inner)?;
                spec = Some(TpmSpecification {
                    family: escape(&family),
                    level,
                    revision,
                });
            }
        }
        Ok(spec)
    })
    .ok()
    .flatten()
}

/// The GCE instance information: SEQUENCE { zone UTF8String, projectNumber INTEGER,
/// projectId UTF8String, instanceId INTEGER, instanceName UTF8String,
/// [0] EXPLICIT SEQUENCE { [0] securityVersion INTEGER, [1] isProduction BOOLEAN, ... } }.
fn gce_instance_info(v: &[u8]) -> Option<GceInstanceInfo> {
    let mut r = SliceReader::new(v).ok()?;
    let info = r
        .sequence(|r| {
            let zone = Utf8StringRef::decode(r)?.as_str().to_string();
            let project_number = u64::decode(r)?;
            let project_id = Utf8StringRef::decode(r)?.as_str().to_string();
            let instance_id = u64::decode(r)?;
            let instance_name = Utf8StringRef::decode(r)?.as_str().to_string();
            let mut security = None;
            while !r.is_finished() {
                let any = AnyRef::decode(r)?;
                if any.tag().is_context_specific() && any.tag().number().value() == 0 {
                    security = Some(gce_security(any.value())?);
                }
            }
            Ok(GceInstanceInfo {
                zone: escape(&zone),
                project_number,
                project_id: escape(&project_id),
                instance_id,
                instance_name: escape(&instance_name),
                security,
            })
        })
        .ok()?;
    r.finish(info).ok()
}

fn gce_security(v: &[u8]) -> der::Result<GceSecurityProperties> {
    let mut r = SliceReader::new(v)?;
    let props = r.sequence(|r| {
        let mut p = GceSecurityProperties::default();
        while !r.is_finished() {
            let field = AnyRef::decode(r)?;
            match field.tag().number().value() {
                0 => p.security_version = Some(u64::from_der(field.value())?),
                1 => p.is_production = Some(bool::from_der(field.value())?),
                _ => {}
            }
        }
        Ok(p)
    })?;
    r.finish(props)
}

/// A directory string made comparable: trimmed, whitespace runs collapsed, ASCII lowercase
/// (the comparison RFC 5280 section 7.1 asks for, as OpenSSL does it). Non-string values are
/// compared by tag and bytes.
fn normalized(a: &x509_cert::der::Any) -> (Option<String>, &[u8]) {
    let text = any_text(a).map(|s| {
        let mut out = String::with_capacity(s.len());
        for word in s.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word.to_ascii_lowercase());
        }
        out
    });
    (text, a.value())
}

fn atv_equal(
    a: &x509_cert::attr::AttributeTypeAndValue,
    b: &x509_cert::attr::AttributeTypeAndValue,
) -> bool {
    if a.oid != b.oid {
        return false;
    }
    match (normalized(&a.value), normalized(&b.value)) {
        ((Some(x), _), (Some(y), _)) => x == y,
        ((None, x), (None, y)) => a.value.tag() == b.value.tag() && x == y,
        _ => false,
    }
}

/// Whether two names are the same name: equal RDN by RDN, attribute values compared after
/// normalization (so a PrintableString issuer matches a UTF8String subject).
pub fn names_equal(a: &Name, b: &Name) -> bool {
    if a == b {
        return true;
    }
    a.0.len() == b.0.len()
        && a.0.iter().zip(b.0.iter()).all(|(ra, rb)| {
            ra.0.len() == rb.0.len() && ra.0.iter().all(|x| rb.0.iter().any(|y| atv_equal(x, y)))
        })
}
