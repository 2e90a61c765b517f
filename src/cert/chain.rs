//! Chain building: from a leaf through intermediates to a trusted root, with the checks of
//! RFC 5280 that matter for TPM certificates.

use super::error::CertError;
use super::oid;
use super::parse::{names_equal, time_text, Certificate};
use super::sig::{verify_signature, IssuerKey};
use alloc::string::String;
use alloc::vec::Vec;

/// Most certificates in a chain, leaf and root included.
pub const MAX_CHAIN: usize = 8;
/// Most signature checks one chain search may do (bounds the work on hostile bundles).
pub const MAX_SIGNATURE_CHECKS: usize = 64;

/// What the leaf is asked to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Any end-entity certificate: no EKU or keyUsage requirement.
    Any,
    /// An EK certificate: EKU, when present, has 2.23.133.8.1; keyUsage, when present, has
    /// keyEncipherment or keyAgreement; not a CA.
    Ek,
    /// An AK certificate: EKU, when present, has 2.23.133.8.3 (or 2.23.133.8.1, which
    /// Google's older vTPM AK certificates carry); keyUsage, when present, has
    /// digitalSignature; not a CA.
    Ak,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Any => "end-entity",
            Self::Ek => "EK",
            Self::Ak => "AK",
        }
    }
}

/// What a chain must satisfy.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Unix seconds at which every certificate of the chain must be valid.
    pub at: u64,
    /// Accept SHA-1 signatures (old Infineon CAs, TPM 1.2 EK certificates).
    pub allow_sha1: bool,
    /// The use the leaf must be fit for (EK, AK, or any end-entity).
    pub role: Role,
}

/// Where a certificate of a validated chain came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainLink {
    /// The leaf certificate given.
    Leaf,
    /// The intermediate at this index of the intermediates given.
    Intermediate(usize),
    /// The root at this index of the roots given.
    Root(usize),
}

/// A validated chain, leaf first, root last.
#[derive(Clone, Debug)]
pub struct Validated {
    /// The chain, leaf first, root last.
    pub links: Vec<ChainLink>,
    /// Signatures checked while searching (the chain's own plus failed candidates).
    pub signature_checks: usize,
}

struct Search<'a> {
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    roots: &'a [Certificate],
    policy: &'a Policy,
    checks: usize,
    /// The refusal from the deepest path tried, reported when no path works.
    best: Option<(usize, CertError)>,
}

fn cert_of<'a>(s: &Search<'a>, l: ChainLink) -> &'a Certificate {
    match l {
        ChainLink::Leaf => s.leaf,
        ChainLink::Intermediate(i) => &s.intermediates[i],
        ChainLink::Root(i) => &s.roots[i],
    }
}

/// Validates `leaf` up to one of `roots`, using `intermediates` as needed.
pub fn validate(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
    policy: &Policy,
) -> Result<Validated, CertError> {
    check_own(leaf, policy)?;
    check_leaf_role(leaf, policy.role)?;
    // A leaf that is itself a trusted certificate needs no chain.
    if let Some(i) = roots.iter().position(|r| r.der() == leaf.der()) {
        return Ok(Validated {
            links: alloc::vec![ChainLink::Leaf, ChainLink::Root(i)],
            signature_checks: 0,
        });
    }
    let mut s = Search {
        leaf,
        intermediates,
        roots,
        policy,
        checks: 0,
        best: None,
    };
    let mut path = alloc::vec![ChainLink::Leaf];
    if extend(&mut s, &mut path) {
        return Ok(Validated {
            links: path,
            signature_checks: s.checks,
        });
    }
    Err(s.best.map(|(_, e)| e).unwrap_or(CertError::IssuerNotFound {
        subject: leaf.display_name(),
        issuer: leaf.issuer_text(),
    }))
}

fn record(s: &mut Search<'_>, depth: usize, e: CertError) {
    // Keep the deepest refusal; at equal depth keep the first (the most specific one seen).
    if s.best.as_ref().map_or(true, |(d, _)| depth > *d) {
        s.best = Some((depth, e));
    }
}

/// Checks every certificate needs: validity at the policy time and no unknown critical
/// extension.
fn check_own(c: &Certificate, policy: &Policy) -> Result<(), CertError> {
    if let Some(o) = c.extensions.unknown_critical {
        return Err(CertError::UnknownCriticalExtension(o));
    }
    if policy.at < c.not_before {
        return Err(CertError::NotYetValid {
            subject: c.display_name(),
            not_before: time_text(c.not_before),
        });
    }
    if policy.at > c.not_after {
        return Err(CertError::Expired {
            subject: c.display_name(),
            not_after: time_text(c.not_after),
        });
    }
    Ok(())
}

fn check_leaf_role(c: &Certificate, role: Role) -> Result<(), CertError> {
    if role == Role::Any {
        return Ok(());
    }
    if c.is_ca() {
        return Err(CertError::LeafIsCa);
    }
    if let Some(eku) = &c.extensions.ext_key_usage {
        let ok = eku.iter().any(|o| match role {
            Role::Ek => *o == oid::KP_EK_CERTIFICATE,
            Role::Ak => *o == oid::KP_AK_CERTIFICATE || *o == oid::KP_EK_CERTIFICATE,
            Role::Any => true,
        });
        if !ok {
            return Err(CertError::EkuMismatch { role: role.name() });
        }
    }
    if let Some(ku) = &c.extensions.key_usage {
        let ok = match role {
            Role::Ek => ku.key_encipherment() || ku.key_agreement(),
            Role::Ak => ku.digital_signature(),
            Role::Any => true,
        };
        if !ok {
            return Err(CertError::KeyUsageMismatch { role: role.name() });
        }
    }
    Ok(())
}

/// Whether `issuer` may have issued `child` by name and key identifier.
fn names_match(child: &Certificate, issuer: &Certificate) -> bool {
    if !names_equal(child.issuer(), issuer.subject()) {
        return false;
    }
    match (
        &child.extensions.authority_key_id,
        &issuer.extensions.subject_key_id,
    ) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

/// CA checks on a candidate issuer with `below` CA certificates between it and the leaf.
fn check_issuer(c: &Certificate, below: usize, policy: &Policy) -> Result<(), CertError> {
    check_own(c, policy)?;
    // A v1 certificate (no extensions at all) can only be a trust anchor, checked by caller.
    match c.extensions.basic_constraints {
        Some((true, path_len)) => {
            if let Some(p) = path_len {
                if below > usize::from(p) {
                    return Err(CertError::PathLenExceeded {
                        subject: c.display_name(),
                        path_len: p,
                    });
                }
            }
        }
        _ => {
            return Err(CertError::NotCa {
                subject: c.display_name(),
            })
        }
    }
    if let Some(ku) = &c.extensions.key_usage {
        if !ku.key_cert_sign() {
            return Err(CertError::NoKeyCertSign {
                subject: c.display_name(),
            });
        }
    }
    Ok(())
}

/// Depth-first search for an issuer of the last certificate of `path`. True when `path`
/// ends at a root.
fn extend(s: &mut Search<'_>, path: &mut Vec<ChainLink>) -> bool {
    let Some(&last) = path.last() else {
        return false;
    };
    let child = cert_of(s, last);
    let depth = path.len();
    let candidates: Vec<ChainLink> = s
        .roots
        .iter()
        .enumerate()
        .filter(|(_, c)| names_match(child, c))
        .map(|(i, _)| ChainLink::Root(i))
        .chain(
            s.intermediates
                .iter()
                .enumerate()
                .filter(|(_, c)| names_match(child, c))
                .map(|(i, _)| ChainLink::Intermediate(i)),
        )
        .collect();
    if candidates.is_empty() {
        record(
            s,
            depth,
            CertError::IssuerNotFound {
                subject: child.display_name(),
                issuer: child.issuer_text(),
            },
        );
        return false;
    }
    for cand in candidates {
        let issuer = cert_of(s, cand);
        // The same certificate twice in a path (by bytes, whichever pool it came from).
        if path.iter().any(|&l| cert_of(s, l).der() == issuer.der()) {
            record(
                s,
                depth,
                CertError::ChainLoop {
                    subject: issuer.display_name(),
                },
            );
            continue;
        }
        if depth + 1 > MAX_CHAIN {
            record(s, depth, CertError::ChainTooLong { max: MAX_CHAIN });
            continue;
        }
        if s.checks >= MAX_SIGNATURE_CHECKS {
            record(
                s,
                usize::MAX,
                CertError::SearchLimit {
                    checks: MAX_SIGNATURE_CHECKS,
                },
            );
            return false;
        }
        // CA certificates below this issuer: the path minus the leaf.
        let below = depth - 1;
        let is_v1_anchor = matches!(cand, ChainLink::Root(_)) && issuer.tbs.extensions.is_none();
        let checked = if is_v1_anchor {
            check_own(issuer, s.policy)
        } else {
            check_issuer(issuer, below, s.policy)
        };
        if let Err(e) = checked {
            record(s, depth + 1, e);
            continue;
        }
        let key = match IssuerKey::of(issuer) {
            Ok(k) => k,
            Err(e) => {
                record(s, depth + 1, e);
                continue;
            }
        };
        s.checks += 1;
        if let Err(e) = verify_signature(child, &key, &issuer.display_name(), s.policy.allow_sha1) {
            record(s, depth + 1, e);
            continue;
        }
        path.push(cand);
        if matches!(cand, ChainLink::Root(_)) || extend(s, path) {
            return true;
        }
        path.pop();
    }
    false
}

/// The subjects of a validated chain, leaf first (escaped).
pub fn chain_names(
    v: &Validated,
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
) -> Vec<String> {
    v.links
        .iter()
        .map(|l| match *l {
            ChainLink::Leaf => leaf.display_name(),
            ChainLink::Intermediate(i) => intermediates[i].display_name(),
            ChainLink::Root(i) => roots[i].display_name(),
        })
        .collect()
}
