//! The `ek-certificate` and `ak-certificate` rows of the verify report: the certificates a
//! proof carries from TPM NV, validated against the roots the verifier trusts.

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use super::file::{EkCertificate, Proof};
use super::verify::Status;
use crate::cert::{validate, Certificate, ChainLink, Policy, Role, SubjectKey};
use crate::commands::templates::is_ak_cert_nv_index;

/// Roots and intermediates a verifier trusts for one kind of certificate.
#[derive(Clone, Debug)]
pub struct CertTrust {
    /// Trust anchors: a chain must end at one of these.
    pub roots: Vec<Certificate>,
    /// Certificates that may be used to build a chain to a root (not trusted by themselves).
    pub intermediates: Vec<Certificate>,
    /// Unix seconds at which the chain must be valid (the verifier's "now").
    pub at: u64,
    /// Accept certificates signed with SHA-1 (older EK certificates are).
    pub allow_sha1: bool,
}

fn list(certs: &[&EkCertificate]) -> String {
    let v: Vec<String> = certs
        .iter()
        .map(|c| format!("NV {:#010x} ({} bytes)", c.nv_index, c.der.len()))
        .collect();
    v.join(", ")
}

/// Validates one NV certificate; on success returns it with the root's name.
fn check(
    c: &EkCertificate,
    trust: &CertTrust,
    role: Role,
) -> Result<(Certificate, String, usize), String> {
    let cert = Certificate::from_nv_bytes(&c.der).map_err(|e| format!("{e}"))?;
    let policy = Policy {
        at: trust.at,
        allow_sha1: trust.allow_sha1,
        role,
    };
    let v =
        validate(&cert, &trust.intermediates, &trust.roots, &policy).map_err(|e| format!("{e}"))?;
    let root = match v.links.last() {
        Some(ChainLink::Root(i)) => trust.roots[*i].display_name(),
        _ => String::from("?"),
    };
    Ok((cert, root, v.links.len()))
}

fn tpm_text(c: &Certificate) -> String {
    let mut out = match &c.extensions.tpm {
        Some(t) => format!(
            "TPM manufacturer {} ({}), model {}, firmware {}",
            t.manufacturer_name().unwrap_or("not in the TCG registry"),
            t.manufacturer.as_deref().unwrap_or("absent"),
            t.model.as_deref().unwrap_or("absent"),
            t.version.as_deref().unwrap_or("absent"),
        ),
        None => String::from("no TPM attributes in the certificate"),
    };
    if let Some(g) = &c.extensions.gce {
        out.push_str(&format!(
            "; GCE instance {} (id {}) in project {}, zone {}",
            g.instance_name, g.instance_id, g.project_id, g.zone
        ));
    }
    out
}

/// The `ek-certificate` row.
pub(super) fn ek_row(proof: &Proof, trust: Option<&CertTrust>) -> (Status, String) {
    let certs: Vec<&EkCertificate> = proof
        .ek_certificates
        .iter()
        .filter(|c| !is_ak_cert_nv_index(c.nv_index))
        .collect();
    let Some(trust) = trust else {
        return if certs.is_empty() {
            (
                Status::Skip,
                String::from("the TPM had no EK certificate in NV"),
            )
        } else {
            (
                Status::Skip,
                format!(
                    "present: {}; not validated (no --ek-ca given), and the AK is not bound to \
                     the EK by this proof",
                    list(&certs)
                ),
            )
        };
    };
    if certs.is_empty() {
        return (
            Status::Fail,
            String::from("--ek-ca given, but the proof carries no EK certificate"),
        );
    }
    let mut errors = vec![];
    for c in &certs {
        match check(c, trust, Role::Ek) {
            Ok((cert, root, n)) => {
                return (
                    Status::Pass,
                    format!(
                        "NV {:#010x}: chain of {n} valid up to '{root}'; {}; {}",
                        c.nv_index,
                        tpm_text(&cert),
                        if proof.ak_certificate.is_some() {
                            "the AK is bound to an EK only through the ak-certificate row (the \
                             attestation CA's certificate)"
                        } else {
                            "the AK is not bound to this EK by the proof"
                        }
                    ),
                )
            }
            Err(e) => errors.push(format!("NV {:#010x}: {e}", c.nv_index)),
        }
    }
    (Status::Fail, errors.join("; "))
}

/// The `ak-certificate` row: a cloud AK certificate (GCE 0x01C10000/0x01C10002, Azure
/// 0x01C101D0) or the certificate of an attestation CA the proof carries (`run`/`attest
/// --ak-cert`, see src/ca) must validate and certify exactly the quote's AK.
pub(super) fn ak_row(proof: &Proof, trust: Option<&CertTrust>) -> (Status, String) {
    ak_row_with(
        &proof.ek_certificates,
        proof.ak_certificate.as_deref(),
        &proof.ak_public,
        trust,
    )
}

#[cfg(test)]
fn ak_row_of(
    nv_certs: &[EkCertificate],
    ak_public: &[u8],
    trust: Option<&CertTrust>,
) -> (Status, String) {
    ak_row_with(nv_certs, None, ak_public, trust)
}

/// Where an AK certificate came from: an NV index, or the proof's `ak_certificate`.
fn ak_label(nv_index: Option<u32>) -> String {
    match nv_index {
        Some(i) => format!("NV {i:#010x}"),
        None => String::from("AK certificate (enrollment)"),
    }
}

/// For an enrollment certificate (src/ca): the EK certificate of the proof whose SHA-256 the
/// certificate's subject serialNumber names, if any.
fn ek_binding_text(cert: &Certificate, ek_certs: &[EkCertificate]) -> String {
    use sha2::{Digest, Sha256};
    let serial_number = x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.5");
    let mut binding = None;
    for rdn in cert.subject().0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == serial_number {
                binding = core::str::from_utf8(atv.value.value())
                    .ok()
                    .map(String::from);
            }
        }
    }
    let Some(b) = binding else {
        return String::from("it names no EK");
    };
    if let Some(h) = b.strip_prefix("ek-cert-sha256:") {
        for c in ek_certs {
            let der = crate::cert::strip_nv_wrapper(&c.der).unwrap_or(&c.der);
            if hex::encode(Sha256::digest(der)) == h.to_ascii_lowercase() {
                return format!(
                    "the CA bound it to the EK certificate at NV {:#010x} of this proof; with \
                     the ek-certificate row, the proof verifies from the model file back to the \
                     TPM manufacturer root",
                    c.nv_index
                );
            }
        }
        return String::from("the CA bound it to an EK certificate this proof does not carry");
    }
    format!("EK binding {}", crate::text::escape(&b))
}

fn ak_row_with(
    nv_certs: &[EkCertificate],
    enrolled: Option<&[u8]>,
    ak_public: &[u8],
    trust: Option<&CertTrust>,
) -> (Status, String) {
    let mut certs: Vec<(Option<u32>, &[u8])> = nv_certs
        .iter()
        .filter(|c| is_ak_cert_nv_index(c.nv_index))
        .map(|c| (Some(c.nv_index), c.der.as_slice()))
        .collect();
    if let Some(der) = enrolled {
        certs.push((None, der));
    }
    let Some(trust) = trust else {
        return (
            Status::Skip,
            if certs.is_empty() {
                String::from("no --ak-ca given; the proof carries no AK certificate")
            } else {
                let v: Vec<String> = certs
                    .iter()
                    .map(|(i, d)| format!("{} ({} bytes)", ak_label(*i), d.len()))
                    .collect();
                format!(
                    "present: {}; not validated (no --ak-ca given)",
                    v.join(", ")
                )
            },
        );
    };
    if certs.is_empty() {
        return (
            Status::Fail,
            String::from("--ak-ca given, but the proof carries no AK certificate"),
        );
    }
    let ak = match SubjectKey::from_key_bytes(ak_public) {
        Ok(k) => k,
        Err(e) => return (Status::Fail, format!("the proof's AK: {e}")),
    };
    let mut errors = vec![];
    for (index, der) in &certs {
        let label = ak_label(*index);
        let c = EkCertificate {
            nv_index: index.unwrap_or(0),
            der: der.to_vec(),
        };
        match check(&c, trust, Role::Ak) {
            Ok((cert, root, n)) => match cert.subject_key() {
                Ok(k) if k == ak => {
                    let tail = match index {
                        Some(_) => tpm_text(&cert),
                        None => {
                            format!("{}; {}", tpm_text(&cert), ek_binding_text(&cert, nv_certs))
                        }
                    };
                    return (
                        Status::Pass,
                        format!(
                            "{label}: chain of {n} valid up to '{root}' and certifies the \
                             quote's AK; {tail}"
                        ),
                    );
                }
                Ok(_) => errors.push(format!(
                    "{label}: valid, but certifies another key than the quote's AK"
                )),
                Err(e) => errors.push(format!("{label}: {e}")),
            },
            Err(e) => errors.push(format!("{label}: {e}")),
        }
    }
    (Status::Fail, errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{certificates_from_bytes, MAX_POOL};

    macro_rules! material {
        ($f:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/vectors/certs/material/",
                $f
            ))
        };
    }

    fn gce_old_pki() -> CertTrust {
        let pool = |b: &[u8]| certificates_from_bytes(b, MAX_POOL).unwrap();
        let mut intermediates = pool(material!("tpm_ek_intermediate_2.crt"));
        intermediates.extend(pool(material!("tpm_ek_intermediate_3.crt")));
        CertTrust {
            roots: pool(material!("tpm_ek_root_1.cer")),
            intermediates,
            at: 1_811_808_000,
            allow_sha1: false,
        }
    }

    fn gce_ak_cert() -> Vec<EkCertificate> {
        vec![EkCertificate {
            nv_index: 0x01C1_0000,
            der: material!("gce-cos-85-nonce9009.akcert.der").to_vec(),
        }]
    }

    #[test]
    fn a_gce_ak_certificate_certifies_the_quote_ak() {
        let ak = material!("gce-cos-85-nonce9009.akpub.bin");
        let (status, detail) = ak_row_of(&gce_ak_cert(), ak, Some(&gce_old_pki()));
        assert_eq!(status, Status::Pass, "{detail}");
        assert!(detail.contains("cos-test"), "{detail}");
        // Without roots: skip, saying the certificate is there.
        let (status, detail) = ak_row_of(&gce_ak_cert(), ak, None);
        assert_eq!(status, Status::Skip);
        assert!(detail.contains("0x01c10000"), "{detail}");
    }

    #[test]
    fn a_gce_ak_certificate_for_another_key_fails() {
        let other = material!("ek-rsa2048.persistent-0x81010001.tpm2b_public.bin");
        let (status, detail) = ak_row_of(&gce_ak_cert(), other, Some(&gce_old_pki()));
        assert_eq!(status, Status::Fail);
        assert!(detail.contains("another key"), "{detail}");
        // The wrong roots: fail with the chain's reason.
        let mut wrong = gce_old_pki();
        wrong.roots = certificates_from_bytes(material!("gcp_ek_ak_ca_root.crt"), 4).unwrap();
        let ak = material!("gce-cos-85-nonce9009.akpub.bin");
        let (status, detail) = ak_row_of(&gce_ak_cert(), ak, Some(&wrong));
        assert_eq!(status, Status::Fail);
        assert!(detail.contains("no issuer"), "{detail}");
    }
}
