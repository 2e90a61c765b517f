//! TPM2_PolicySecret and TPM2_ActivateCredential: what the TPM side of credential activation
//! sends.

use super::{handles, AuthSession, Command, Handles, Sessions};
use crate::types::{Tpm2b, Tpm2bDigest, Tpm2bEncryptedSecret, Tpm2bIdObject, TpmCc};
use crate::wire::{Error, Marshal, Reader, Writer};

/// `sizeof(TPM2B_TIMEOUT)`'s buffer: a UINT64.
const MAX_TIMEOUT: usize = 8;

/// TPM2_PolicySecret: extends a policy session with the authorization of `auth_handle`
/// (TPM_RH_ENDORSEMENT for an EK's PolicyA), given here as a password.
pub struct PolicySecret<'a> {
    /// `authHandle`: the entity whose authorization the policy asserts (TPM_RH_ENDORSEMENT for
    /// an EK's policy).
    pub auth_handle: u32,
    /// The password of `auth_handle` (empty for the default endorsement authorization).
    pub auth: &'a [u8],
    /// `policySession`: the policy session to extend.
    pub policy_session: u32,
    /// `nonceTPM`: the policy session's nonceTPM, tying the authorization to this session;
    /// may be empty.
    pub nonce_tpm: &'a [u8],
    /// `cpHashA`: the command this authorization is limited to, or empty for any.
    pub cp_hash_a: &'a [u8],
    /// `policyRef`: a caller-chosen reference folded into the policy, or empty.
    pub policy_ref: &'a [u8],
    /// 0: no expiration and no ticket.
    pub expiration: i32,
}

/// TPM2_PolicySecret's answer: a timeout and a ticket (empty when expiration is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicySecretResponse<'r> {
    /// `timeout`: when the ticket expires (empty with no expiration).
    pub timeout: Tpm2b<'r, MAX_TIMEOUT>,
    /// `policyTicket.tag`: the ticket's structure tag (TPM_ST_AUTH_SECRET).
    pub ticket_tag: u16,
    /// `policyTicket.hierarchy`: the hierarchy of `auth_handle` (TPM_RH_NULL in a NULL ticket).
    pub ticket_hierarchy: u32,
    /// `policyTicket.digest` (empty with no ticket).
    pub ticket_digest: Tpm2bDigest<'r>,
}

impl Command for PolicySecret<'_> {
    const CC: TpmCc = TpmCc::POLICY_SECRET;
    type Response<'r> = PolicySecretResponse<'r>;
    fn handles(&self) -> Handles {
        handles([self.auth_handle, self.policy_session])
    }
    fn sessions(&self) -> Sessions<'_> {
        Sessions::from_iter([AuthSession::Password(self.auth)])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        use crate::types::tpm2b::max;
        w.tpm2b(self.nonce_tpm, max::DIGEST, "nonceTPM")?;
        w.tpm2b(self.cp_hash_a, max::DIGEST, "cpHashA")?;
        w.tpm2b(self.policy_ref, max::DIGEST, "policyRef")?;
        w.u32(self.expiration as u32)
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<PolicySecretResponse<'r>, Error> {
        Ok(PolicySecretResponse {
            timeout: Tpm2b::read(r, "timeout")?,
            ticket_tag: r.u16("TPMT_TK_AUTH.tag")?,
            ticket_hierarchy: r.u32("TPMT_TK_AUTH.hierarchy")?,
            ticket_digest: Tpm2bDigest::read(r, "TPMT_TK_AUTH.digest")?,
        })
    }
}

/// TPM2_ActivateCredential: the TPM releases the credential if `credential_blob` was made
/// for `activate_handle`'s Name and `secret` decrypts with `key_handle` (the EK).
/// Sessions go in handle order: the AK's (ADMIN role), then the EK's (USER role: a policy
/// session that ran PolicySecret(TPM_RH_ENDORSEMENT) for a low-range EK, a password for a
/// high-range EK with userWithAuth).
pub struct ActivateCredential<'a> {
    /// `activateHandle`: the object the credential was made for (the AK).
    pub activate_handle: u32,
    /// Authorization of `activate_handle` (ADMIN role).
    pub activate_auth: AuthSession<'a>,
    /// `keyHandle`: the key that decrypts `secret` (the EK).
    pub key_handle: u32,
    /// Authorization of `key_handle` (USER role).
    pub key_auth: AuthSession<'a>,
    /// `credentialBlob`: the TPM2B_ID_OBJECT from MakeCredential.
    pub credential_blob: Tpm2bIdObject<'a>,
    /// `secret`: the TPM2B_ENCRYPTED_SECRET from MakeCredential (the seed encrypted to the EK).
    pub secret: Tpm2bEncryptedSecret<'a>,
}

impl Command for ActivateCredential<'_> {
    const CC: TpmCc = TpmCc::ACTIVATE_CREDENTIAL;
    /// `certInfo`: the credential.
    type Response<'r> = Tpm2bDigest<'r>;
    fn handles(&self) -> Handles {
        handles([self.activate_handle, self.key_handle])
    }
    fn sessions(&self) -> Sessions<'_> {
        Sessions::from_iter([self.activate_auth, self.key_auth])
    }
    fn parameters(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        self.credential_blob.marshal(w)?;
        self.secret.write(w, "TPM2B_ENCRYPTED_SECRET")
    }
    fn response<'r>(_: &[u32], r: &mut Reader<'r>) -> Result<Tpm2bDigest<'r>, Error> {
        Tpm2bDigest::read(r, "certInfo")
    }
}
