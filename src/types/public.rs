//! TPMA_OBJECT, TPMT_PUBLIC, TPM2B_PUBLIC and object Names.

use super::alg::{HashAlg, TpmAlgId, TpmEccCurve};
use super::hash::{self, HashUnavailable};
use super::tpm2b::{max, Tpm2bDigest, Tpm2bEccParameter, Tpm2bPublicKeyRsa};
use crate::wire::{Error, ErrorKind, Marshal, Reader, Unmarshal, Writer};

/// `TPMA_OBJECT`: object attribute bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TpmaObject(pub u32);

impl TpmaObject {
    /// `fixedTPM` (bit 1): the object cannot be duplicated out of this TPM.
    pub const FIXED_TPM: u32 = 1 << 1;
    /// `stClear` (bit 2): saved contexts of the object cannot be loaded after
    /// Startup(CLEAR).
    pub const ST_CLEAR: u32 = 1 << 2;
    /// `fixedParent` (bit 4): the object's parent cannot change (no duplication to another parent).
    pub const FIXED_PARENT: u32 = 1 << 4;
    /// `sensitiveDataOrigin` (bit 5): the TPM generated the sensitive part (it was not imported).
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    /// `userWithAuth` (bit 6): USER role actions may be authorized with the authValue (HMAC or
    /// password), not only with the policy.
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    /// `adminWithPolicy` (bit 7): ADMIN role actions need the authPolicy.
    pub const ADMIN_WITH_POLICY: u32 = 1 << 7;
    /// `noDA` (bit 10): authorization failures do not count toward dictionary-attack lockout.
    pub const NO_DA: u32 = 1 << 10;
    /// `encryptedDuplication` (bit 11): duplication must use an inner wrapper and a parent.
    pub const ENCRYPTED_DUPLICATION: u32 = 1 << 11;
    /// `restricted` (bit 16): the key handles only structures of known format: a signing key
    /// refuses external data that could pass for TPM-generated, a decryption key is a parent;
    /// what makes an AK trustworthy.
    pub const RESTRICTED: u32 = 1 << 16;
    /// `decrypt` (bit 17): the key may decrypt.
    pub const DECRYPT: u32 = 1 << 17;
    /// `sign` / `encrypt` (bit 18): the key may sign (or encrypt, for a symmetric key).
    pub const SIGN_ENCRYPT: u32 = 1 << 18;
    /// `x509sign` (bit 19): the key may sign only X.509 certificates (TPM2_CertifyX509).
    pub const X509_SIGN: u32 = 1 << 19;
    /// Bits the spec reserves; a TPM never sets them.
    pub const RESERVED: u32 = 0xFFF0_F309;

    /// Whether every bit of `mask` is set.
    pub fn has(self, mask: u32) -> bool {
        self.0 & mask == mask
    }
}

/// `TPMT_SYM_DEF_OBJECT`: the symmetric algorithm of a storage key (NULL for signing keys).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtSymDefObject {
    /// `TPM_ALG_NULL`: no symmetric algorithm (signing keys, and anything not a storage parent).
    Null,
    /// AES, SM4 or CAMELLIA with a key size and a block mode.
    Cipher {
        /// `algorithm`: TPM_ALG_AES, TPM_ALG_SM4 or TPM_ALG_CAMELLIA.
        algorithm: TpmAlgId,
        /// `keyBits`: the key size in bits (128, 192 or 256 for AES).
        key_bits: u16,
        /// `mode`: the block mode (TPM_ALG_CFB for a storage key).
        mode: TpmAlgId,
    },
}

impl TpmtSymDefObject {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let at = r.offset();
        let algorithm = TpmAlgId::read(r, "TPMT_SYM_DEF_OBJECT.algorithm")?;
        match algorithm {
            TpmAlgId::NULL => Ok(Self::Null),
            TpmAlgId::AES | TpmAlgId::SM4 | TpmAlgId::CAMELLIA => {
                let key_bits = r.u16("TPMT_SYM_DEF_OBJECT.keyBits")?;
                let at = r.offset();
                let mode = TpmAlgId::read(r, "TPMT_SYM_DEF_OBJECT.mode")?;
                if !matches!(
                    mode,
                    TpmAlgId::CTR
                        | TpmAlgId::OFB
                        | TpmAlgId::CBC
                        | TpmAlgId::CFB
                        | TpmAlgId::ECB
                        | TpmAlgId::NULL
                ) {
                    return Err(Error::new(
                        ErrorKind::UnknownValue {
                            value: u32::from(mode.0),
                        },
                        "TPMT_SYM_DEF_OBJECT.mode",
                        at,
                    ));
                }
                Ok(Self::Cipher {
                    algorithm,
                    key_bits,
                    mode,
                })
            }
            other => Err(unknown(other, "TPMT_SYM_DEF_OBJECT.algorithm", at)),
        }
    }

    /// Writes the TPMT_SYM_DEF_OBJECT (also the layout of TPMT_SYM_DEF for AES/CFB).
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match *self {
            Self::Null => w.u16(TpmAlgId::NULL.0),
            Self::Cipher {
                algorithm,
                key_bits,
                mode,
            } => {
                w.u16(algorithm.0)?;
                w.u16(key_bits)?;
                w.u16(mode.0)
            }
        }
    }
}

fn unknown(alg: TpmAlgId, what: &'static str, at: usize) -> Error {
    Error::new(
        ErrorKind::UnknownValue {
            value: u32::from(alg.0),
        },
        what,
        at,
    )
}

/// A scheme selector followed by its hash (the shape most `TPMT_*_SCHEME`s share).
fn read_hash(r: &mut Reader<'_>, what: &'static str) -> Result<HashAlg, Error> {
    HashAlg::read(r, what)
}

/// `TPMT_RSA_SCHEME`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtRsaScheme {
    /// `TPM_ALG_NULL`: no scheme pinned; the caller picks one per command.
    Null,
    /// `TPM_ALG_RSASSA` with this hash: PKCS#1 v1.5 signatures.
    RsaSsa(HashAlg),
    /// `TPM_ALG_RSAPSS` with this hash: PSS signatures.
    RsaPss(HashAlg),
    /// `TPM_ALG_RSAES`: PKCS#1 v1.5 encryption (no hash).
    RsaEs,
    /// `TPM_ALG_OAEP` with this hash: OAEP encryption.
    Oaep(HashAlg),
}

impl TpmtRsaScheme {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let at = r.offset();
        const W: &str = "TPMT_RSA_SCHEME.details";
        Ok(match TpmAlgId::read(r, "TPMT_RSA_SCHEME.scheme")? {
            TpmAlgId::NULL => Self::Null,
            TpmAlgId::RSASSA => Self::RsaSsa(read_hash(r, W)?),
            TpmAlgId::RSAPSS => Self::RsaPss(read_hash(r, W)?),
            TpmAlgId::RSAES => Self::RsaEs,
            TpmAlgId::OAEP => Self::Oaep(read_hash(r, W)?),
            other => return Err(unknown(other, "TPMT_RSA_SCHEME.scheme", at)),
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        let (alg, hash) = match *self {
            Self::Null => (TpmAlgId::NULL, None),
            Self::RsaSsa(h) => (TpmAlgId::RSASSA, Some(h)),
            Self::RsaPss(h) => (TpmAlgId::RSAPSS, Some(h)),
            Self::RsaEs => (TpmAlgId::RSAES, None),
            Self::Oaep(h) => (TpmAlgId::OAEP, Some(h)),
        };
        w.u16(alg.0)?;
        hash.map_or(Ok(()), |h| w.u16(h.alg_id().0))
    }
}

/// `TPMT_ECC_SCHEME`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtEccScheme {
    /// `TPM_ALG_NULL`: no scheme pinned; the caller picks one per command.
    Null,
    /// `TPM_ALG_ECDSA` with this hash.
    Ecdsa(HashAlg),
    /// `TPM_ALG_ECDAA` with this hash and commit count.
    Ecdaa {
        /// The hash of the scheme.
        hash: HashAlg,
        /// The ECDAA commit count (`TPMS_SCHEME_ECDAA.count`).
        count: u16,
    },
    /// `TPM_ALG_SM2` with this hash.
    Sm2(HashAlg),
    /// `TPM_ALG_ECSCHNORR` with this hash.
    EcSchnorr(HashAlg),
    /// `TPM_ALG_ECDH` with this hash (key exchange).
    Ecdh(HashAlg),
    /// `TPM_ALG_ECMQV` with this hash (key exchange).
    Ecmqv(HashAlg),
}

impl TpmtEccScheme {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let at = r.offset();
        const W: &str = "TPMT_ECC_SCHEME.details";
        Ok(match TpmAlgId::read(r, "TPMT_ECC_SCHEME.scheme")? {
            TpmAlgId::NULL => Self::Null,
            TpmAlgId::ECDSA => Self::Ecdsa(read_hash(r, W)?),
            TpmAlgId::ECDAA => Self::Ecdaa {
                hash: read_hash(r, W)?,
                count: r.u16("TPMS_SCHEME_ECDAA.count")?,
            },
            TpmAlgId::SM2 => Self::Sm2(read_hash(r, W)?),
            TpmAlgId::ECSCHNORR => Self::EcSchnorr(read_hash(r, W)?),
            TpmAlgId::ECDH => Self::Ecdh(read_hash(r, W)?),
            TpmAlgId::ECMQV => Self::Ecmqv(read_hash(r, W)?),
            other => return Err(unknown(other, "TPMT_ECC_SCHEME.scheme", at)),
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        let (alg, hash) = match *self {
            Self::Null => (TpmAlgId::NULL, None),
            Self::Ecdsa(h) => (TpmAlgId::ECDSA, Some(h)),
            Self::Ecdaa { hash, .. } => (TpmAlgId::ECDAA, Some(hash)),
            Self::Sm2(h) => (TpmAlgId::SM2, Some(h)),
            Self::EcSchnorr(h) => (TpmAlgId::ECSCHNORR, Some(h)),
            Self::Ecdh(h) => (TpmAlgId::ECDH, Some(h)),
            Self::Ecmqv(h) => (TpmAlgId::ECMQV, Some(h)),
        };
        w.u16(alg.0)?;
        if let Some(h) = hash {
            w.u16(h.alg_id().0)?;
        }
        if let Self::Ecdaa { count, .. } = *self {
            w.u16(count)?;
        }
        Ok(())
    }
}

/// `TPMT_KDF_SCHEME`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtKdfScheme {
    /// `TPM_ALG_NULL`: no KDF.
    Null,
    /// MGF1, KDF1_SP800_56A, KDF2 or KDF1_SP800_108, each with a hash.
    Kdf {
        /// The KDF algorithm.
        scheme: TpmAlgId,
        /// The hash the KDF uses.
        hash: HashAlg,
    },
}

impl TpmtKdfScheme {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let at = r.offset();
        match TpmAlgId::read(r, "TPMT_KDF_SCHEME.scheme")? {
            TpmAlgId::NULL => Ok(Self::Null),
            s @ (TpmAlgId::MGF1
            | TpmAlgId::KDF1_SP800_56A
            | TpmAlgId::KDF2
            | TpmAlgId::KDF1_SP800_108) => Ok(Self::Kdf {
                scheme: s,
                hash: read_hash(r, "TPMT_KDF_SCHEME.details")?,
            }),
            other => Err(unknown(other, "TPMT_KDF_SCHEME.scheme", at)),
        }
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match *self {
            Self::Null => w.u16(TpmAlgId::NULL.0),
            Self::Kdf { scheme, hash } => {
                w.u16(scheme.0)?;
                w.u16(hash.alg_id().0)
            }
        }
    }
}

/// `TPMT_KEYEDHASH_SCHEME`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TpmtKeyedHashScheme {
    /// `TPM_ALG_NULL`: no scheme (a sealed data object).
    Null,
    /// `TPM_ALG_HMAC` with this hash: an HMAC key.
    Hmac(HashAlg),
    /// `TPMS_SCHEME_XOR`: a hash and a KDF algorithm id.
    Xor {
        /// The hash of the XOR obfuscation.
        hash: HashAlg,
        /// The KDF (TPM_ALG_KDF1_SP800_108 and friends).
        kdf: TpmAlgId,
    },
}

impl TpmtKeyedHashScheme {
    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let at = r.offset();
        Ok(match TpmAlgId::read(r, "TPMT_KEYEDHASH_SCHEME.scheme")? {
            TpmAlgId::NULL => Self::Null,
            TpmAlgId::HMAC => Self::Hmac(read_hash(r, "TPMS_SCHEME_HMAC.hashAlg")?),
            TpmAlgId::XOR => {
                let hash = read_hash(r, "TPMS_SCHEME_XOR.hashAlg")?;
                let at = r.offset();
                let kdf = TpmAlgId::read(r, "TPMS_SCHEME_XOR.kdf")?;
                if !matches!(
                    kdf,
                    TpmAlgId::MGF1
                        | TpmAlgId::KDF1_SP800_56A
                        | TpmAlgId::KDF2
                        | TpmAlgId::KDF1_SP800_108
                        | TpmAlgId::NULL
                ) {
                    return Err(unknown(kdf, "TPMS_SCHEME_XOR.kdf", at));
                }
                Self::Xor { hash, kdf }
            }
            other => return Err(unknown(other, "TPMT_KEYEDHASH_SCHEME.scheme", at)),
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        match *self {
            Self::Null => w.u16(TpmAlgId::NULL.0),
            Self::Hmac(h) => {
                w.u16(TpmAlgId::HMAC.0)?;
                w.u16(h.alg_id().0)
            }
            Self::Xor { hash, kdf } => {
                w.u16(TpmAlgId::XOR.0)?;
                w.u16(hash.alg_id().0)?;
                w.u16(kdf.0)
            }
        }
    }
}

/// `TPMS_RSA_PARMS`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsRsaParms {
    /// `symmetric`: the parent's symmetric algorithm for its children (NULL for a signing key).
    pub symmetric: TpmtSymDefObject,
    /// `scheme`: the signing or encryption scheme the key is restricted to, or NULL.
    pub scheme: TpmtRsaScheme,
    /// `keyBits`: the modulus size in bits (1024, 2048, 3072 or 4096).
    pub key_bits: u16,
    /// 0 means the default exponent 65537.
    pub exponent: u32,
}

impl TpmsRsaParms {
    /// The public exponent, with 0 read as the spec's default of 65537.
    pub fn effective_exponent(&self) -> u32 {
        if self.exponent == 0 {
            65537
        } else {
            self.exponent
        }
    }
}

/// `TPMS_ECC_PARMS`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsEccParms {
    /// `symmetric`: the parent's symmetric algorithm for its children (NULL for a signing key).
    pub symmetric: TpmtSymDefObject,
    /// `scheme`: the signing or key-exchange scheme the key is restricted to, or NULL.
    pub scheme: TpmtEccScheme,
    /// `curveID`: the curve of the key.
    pub curve_id: TpmEccCurve,
    /// `kdf`: the KDF for key exchange (usually NULL).
    pub kdf: TpmtKdfScheme,
}

/// `TPMS_ECC_POINT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmsEccPoint<'a> {
    /// `x`: the X coordinate, big-endian.
    pub x: Tpm2bEccParameter<'a>,
    /// `y`: the Y coordinate, big-endian.
    pub y: Tpm2bEccParameter<'a>,
}

/// `TPMU_PUBLIC_PARMS` and `TPMU_PUBLIC_ID` together: both are selected by `TPMT_PUBLIC.type`,
/// so one enum keeps a parameter set from ever being paired with the wrong kind of unique field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PublicDetails<'a> {
    /// `TPM_ALG_RSA`.
    Rsa {
        /// `TPMS_RSA_PARMS`.
        parms: TpmsRsaParms,
        /// `unique.rsa`: the public modulus, big-endian.
        unique: Tpm2bPublicKeyRsa<'a>,
    },
    /// `TPM_ALG_ECC`.
    Ecc {
        /// `TPMS_ECC_PARMS`.
        parms: TpmsEccParms,
        /// `unique.ecc`: the public point.
        unique: TpmsEccPoint<'a>,
    },
    /// `TPM_ALG_KEYEDHASH`: an HMAC key or a sealed data object.
    KeyedHash {
        /// `TPMS_KEYEDHASH_PARMS.scheme`.
        scheme: TpmtKeyedHashScheme,
        /// `unique.keyedHash`: digest binding the object's obfuscation value and sensitive data.
        unique: Tpm2bDigest<'a>,
    },
    /// `TPM_ALG_SYMCIPHER`: a symmetric key.
    SymCipher {
        /// `TPMS_SYMCIPHER_PARMS.sym`.
        sym: TpmtSymDefObject,
        /// `unique.sym`: digest binding the object's obfuscation value and key.
        unique: Tpm2bDigest<'a>,
    },
}

/// `TPMT_PUBLIC`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TpmtPublic<'a> {
    /// `None` is TPM_ALG_NULL (only for objects that have no Name, which a key never is).
    pub name_alg: Option<HashAlg>,
    /// `objectAttributes`.
    pub object_attributes: TpmaObject,
    /// `authPolicy`: the policy digest for policy authorization (empty when none).
    pub auth_policy: Tpm2bDigest<'a>,
    /// `parameters` and `unique`, both selected by `type`.
    pub details: PublicDetails<'a>,
}

impl TpmtPublic<'_> {
    /// `TPMT_PUBLIC.type`.
    pub fn type_alg(&self) -> TpmAlgId {
        match self.details {
            PublicDetails::Rsa { .. } => TpmAlgId::RSA,
            PublicDetails::Ecc { .. } => TpmAlgId::ECC,
            PublicDetails::KeyedHash { .. } => TpmAlgId::KEYEDHASH,
            PublicDetails::SymCipher { .. } => TpmAlgId::SYMCIPHER,
        }
    }
}

impl TpmtPublic<'_> {
    /// Writes this public area as a TPM2B_PUBLIC (size, then the TPMT_PUBLIC), as a template
    /// in a command or inside a [`Tpm2bPublic`].
    pub fn marshal_tpm2b(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.sized(max::PUBLIC, "TPM2B_PUBLIC", |w| self.marshal(w))
    }

    /// Checks that an object the TPM made is the one `template` asked for: every field but
    /// `unique` (which the TPM fills in) must be equal. Returns the first field that differs.
    /// An interposer that clears `restricted` in a template on the way is caught here.
    pub fn check_made_from(&self, template: &TpmtPublic<'_>) -> Result<(), &'static str> {
        if self.name_alg != template.name_alg {
            return Err("TPMT_PUBLIC.nameAlg");
        }
        if self.object_attributes != template.object_attributes {
            return Err("TPMT_PUBLIC.objectAttributes");
        }
        if self.auth_policy != template.auth_policy {
            return Err("TPMT_PUBLIC.authPolicy");
        }
        let same = match (&self.details, &template.details) {
            (PublicDetails::Rsa { parms: a, .. }, PublicDetails::Rsa { parms: b, .. }) => a == b,
            (PublicDetails::Ecc { parms: a, .. }, PublicDetails::Ecc { parms: b, .. }) => a == b,
            (
                PublicDetails::KeyedHash { scheme: a, .. },
                PublicDetails::KeyedHash { scheme: b, .. },
            ) => a == b,
            (PublicDetails::SymCipher { sym: a, .. }, PublicDetails::SymCipher { sym: b, .. }) => {
                a == b
            }
            _ => return Err("TPMT_PUBLIC.type"),
        };
        if same {
            Ok(())
        } else {
            Err("TPMT_PUBLIC.parameters")
        }
    }
}

impl<'a> Unmarshal<'a> for TpmtPublic<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let type_at = r.offset();
        let type_alg = TpmAlgId::read(r, "TPMT_PUBLIC.type")?;
        if !matches!(
            type_alg,
            TpmAlgId::RSA | TpmAlgId::ECC | TpmAlgId::KEYEDHASH | TpmAlgId::SYMCIPHER
        ) {
            return Err(unknown(type_alg, "TPMT_PUBLIC.type", type_at));
        }
        let at = r.offset();
        let name_alg = match TpmAlgId::read(r, "TPMT_PUBLIC.nameAlg")? {
            TpmAlgId::NULL => None,
            id => Some(HashAlg::from_alg_id(id).ok_or(unknown(id, "TPMT_PUBLIC.nameAlg", at))?),
        };
        let at = r.offset();
        let attrs = r.u32("TPMT_PUBLIC.objectAttributes")?;
        if attrs & TpmaObject::RESERVED != 0 {
            return Err(Error::new(
                ErrorKind::InvalidValue {
                    value: attrs & TpmaObject::RESERVED,
                },
                "TPMT_PUBLIC.objectAttributes",
                at,
            ));
        }
        let auth_policy = Tpm2bDigest::read(r, "TPMT_PUBLIC.authPolicy")?;
        let details = match type_alg {
            TpmAlgId::RSA => {
                let parms = TpmsRsaParms {
                    symmetric: TpmtSymDefObject::read(r)?,
                    scheme: TpmtRsaScheme::read(r)?,
                    key_bits: r.u16("TPMS_RSA_PARMS.keyBits")?,
                    exponent: r.u32("TPMS_RSA_PARMS.exponent")?,
                };
                let unique = Tpm2bPublicKeyRsa::read(r, "TPMT_PUBLIC.unique.rsa")?;
                PublicDetails::Rsa { parms, unique }
            }
            TpmAlgId::ECC => {
                let parms = TpmsEccParms {
                    symmetric: TpmtSymDefObject::read(r)?,
                    scheme: TpmtEccScheme::read(r)?,
                    curve_id: TpmEccCurve(r.u16("TPMS_ECC_PARMS.curveID")?),
                    kdf: TpmtKdfScheme::read(r)?,
                };
                let unique = TpmsEccPoint {
                    x: Tpm2bEccParameter::read(r, "TPMS_ECC_POINT.x")?,
                    y: Tpm2bEccParameter::read(r, "TPMS_ECC_POINT.y")?,
                };
                PublicDetails::Ecc { parms, unique }
            }
            TpmAlgId::KEYEDHASH => PublicDetails::KeyedHash {
                scheme: TpmtKeyedHashScheme::read(r)?,
                unique: Tpm2bDigest::read(r, "TPMT_PUBLIC.unique.keyedHash")?,
            },
            _ => {
                // TPMS_SYMCIPHER_PARMS.sym has no "+": TPM_ALG_NULL is not allowed here.
                let at = r.offset();
                let sym = TpmtSymDefObject::read(r)?;
                if sym == TpmtSymDefObject::Null {
                    return Err(Error::new(
                        ErrorKind::InvalidValue {
                            value: u32::from(TpmAlgId::NULL.0),
                        },
                        "TPMS_SYMCIPHER_PARMS.sym",
                        at,
                    ));
                }
                PublicDetails::SymCipher {
                    sym,
                    unique: Tpm2bDigest::read(r, "TPMT_PUBLIC.unique.sym")?,
                }
            }
        };
        Ok(Self {
            name_alg,
            object_attributes: TpmaObject(attrs),
            auth_policy,
            details,
        })
    }
}

impl Marshal for TpmtPublic<'_> {
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.u16(self.type_alg().0)?;
        w.u16(self.name_alg.map_or(TpmAlgId::NULL, HashAlg::alg_id).0)?;
        w.u32(self.object_attributes.0)?;
        self.auth_policy.write(w, "TPMT_PUBLIC.authPolicy")?;
        match &self.details {
            PublicDetails::Rsa { parms, unique } => {
                parms.symmetric.write(w)?;
                parms.scheme.write(w)?;
                w.u16(parms.key_bits)?;
                w.u32(parms.exponent)?;
                unique.write(w, "TPMT_PUBLIC.unique.rsa")
            }
            PublicDetails::Ecc { parms, unique } => {
                parms.symmetric.write(w)?;
                parms.scheme.write(w)?;
                w.u16(parms.curve_id.0)?;
                parms.kdf.write(w)?;
                unique.x.write(w, "TPMS_ECC_POINT.x")?;
                unique.y.write(w, "TPMS_ECC_POINT.y")
            }
            PublicDetails::KeyedHash { scheme, unique } => {
                scheme.write(w)?;
                unique.write(w, "TPMT_PUBLIC.unique.keyedHash")
            }
            PublicDetails::SymCipher { sym, unique } => {
                sym.write(w)?;
                unique.write(w, "TPMT_PUBLIC.unique.sym")
            }
        }
    }
}

/// `TPM2B_PUBLIC`: the public area and the exact bytes it was parsed from (for its Name).
///
/// Both fields are private and set together, from the same bytes, by the parser: the area
/// cannot be edited apart from the bytes its Name is computed over.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tpm2bPublic<'a> {
    public_area: TpmtPublic<'a>,
    /// The marshaled TPMT_PUBLIC as received, without the size prefix.
    raw: &'a [u8],
}

impl<'a> Tpm2bPublic<'a> {
    /// The parsed `publicArea` (a copy: editing it leaves this value and its Name alone).
    pub fn public_area(&self) -> TpmtPublic<'a> {
        self.public_area
    }

    /// The marshaled `TPMT_PUBLIC` as received, without the size prefix: the bytes the Name
    /// is computed over.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The object's Name: `nameAlg || H_nameAlg(TPMT_PUBLIC)`, over the bytes received.
    pub fn name(&self) -> Result<Name, NameError> {
        Name::of_public(self.public_area.name_alg, self.raw)
    }

    /// Parses a bare TPMT_PUBLIC (no size prefix), keeping its bytes.
    pub fn from_tpmt_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Ok(Self {
            public_area: TpmtPublic::from_bytes(bytes)?,
            raw: bytes,
        })
    }
}

impl Tpm2bPublic<'_> {
    /// The TPM2B_PUBLIC bytes: the size, then the TPMT_PUBLIC exactly as received (what `-u`
    /// files hold, and what the Name covers after the size).
    #[cfg(feature = "alloc")]
    pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
        // Parsing bounded `raw` by max::PUBLIC, far below u16::MAX.
        let len = u16::try_from(self.raw.len()).unwrap_or(u16::MAX);
        let mut out = alloc::vec::Vec::with_capacity(2 + self.raw.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(self.raw);
        out
    }

    /// Checks that `name`, as a TPM returned it beside this public area, is this area's Name
    /// (nameAlg || H(TPMT_PUBLIC)). `at` is the name's offset, for the error.
    pub fn check_name(&self, name: &[u8], what: &'static str, at: usize) -> Result<(), Error> {
        let inconsistent = Error::new(
            ErrorKind::Inconsistent {
                expected: "nameAlg || H(public area) of the public area received",
            },
            what,
            at,
        );
        match self.name() {
            Ok(n) if n.as_bytes() == name => Ok(()),
            _ => Err(inconsistent),
        }
    }
}

impl<'a> Unmarshal<'a> for Tpm2bPublic<'a> {
    fn unmarshal(r: &mut Reader<'a>) -> Result<Self, Error> {
        let (public_area, raw) = r.sized(max::PUBLIC, "TPM2B_PUBLIC", TpmtPublic::unmarshal)?;
        Ok(Self { public_area, raw })
    }
}

impl Marshal for Tpm2bPublic<'_> {
    /// Writes the bytes received (those the Name covers), with their size.
    fn marshal(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.tpm2b(self.raw, max::PUBLIC, "TPM2B_PUBLIC")
    }
}

/// Why a Name could not be computed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NameError {
    /// nameAlg is TPM_ALG_NULL: the object has no Name of digest form.
    NullNameAlg,
    /// The name hash is not compiled into this build.
    Hash(HashUnavailable),
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NullNameAlg => f.write_str("nameAlg is TPM_ALG_NULL, so the object has no Name"),
            Self::Hash(h) => h.fmt(f),
        }
    }
}

/// `TPM2B_NAME` contents in digest form: a 2-byte algorithm id and a digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Name {
    len: usize,
    bytes: [u8; 2 + hash::MAX_DIGEST],
}

impl Name {
    /// `alg || H_alg(public_bytes)`.
    pub fn of_public(name_alg: Option<HashAlg>, public_bytes: &[u8]) -> Result<Self, NameError> {
        let alg = name_alg.ok_or(NameError::NullNameAlg)?;
        let d = hash::digest(alg, &[public_bytes]).map_err(NameError::Hash)?;
        let mut bytes = [0u8; 2 + hash::MAX_DIGEST];
        bytes[..2].copy_from_slice(&alg.alg_id().0.to_be_bytes());
        let n = d.as_bytes().len();
        bytes[2..2 + n].copy_from_slice(d.as_bytes());
        Ok(Self { len: 2 + n, bytes })
    }

    /// The Name bytes: the 2-byte nameAlg followed by the digest.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
