//! `createak` and `quote` under an HMAC session salted to the EK (issue 15): the AK's
//! CreatePrimary and the Quote carry a command HMAC the TPM checks (a template or a nonce
//! rewritten on the bus is refused by the TPM), and each answer's HMAC is checked before it is
//! used.
//!
//! The EK is chosen and checked as the provenance flow does it ([`baretpm::proof::session`]):
//! when the TPM has an EK certificate in NV, the EK of that certificate's type is created from
//! its default template and its public key must be the certificate's key, or the command is
//! refused (exit 1, `ek-certificate-match`) before any salt is sent to it; without a
//! certificate the standard ECC EK (TCG EK Credential Profile L-2) is used and a note says it
//! is unverified. The EK is flushed once the session is started. When no EK can be created
//! (endorsement hierarchy with a password, or disabled) the commands go without a session and
//! a warning says so; `--no-session` asks for that, with the same warning. An EK that exists
//! but refuses to start the session is an error, not a reason to go without one.
//!
//! Limit: the certificate is read over the same bus and compared by key only (not
//! chain-validated here); an interposer that hides it (NV reads carry no session) leaves the
//! EK unverified, as the note says, and could then read the salt by replacing the EK.

use baretpm::commands::Command;
use baretpm::proof::flow::AkKind;
use baretpm::proof::session::SessionFailure;
use baretpm::tpm::{Tpm, TpmError};
use baretpm::transport::tcti::AnyTransport;
use baretpm::transport::Transport;

use crate::tpmcmds::LoadedAk;
use crate::util::CliError;

#[cfg(feature = "credential")]
pub use self::with::*;
#[cfg(not(feature = "credential"))]
pub use self::without::*;

/// The `--no-session` flag of `createak` and `quote`.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct SessionArgs {
    /// Send the commands without an HMAC session salted to the EK (a bus interposer that
    /// rewrites them then goes unseen).
    #[arg(long)]
    pub no_session: bool,
}

#[cfg(not(feature = "credential"))]
const WARNING: &str = baretpm::proof::session::NO_SESSION_WARNING;

/// A failure under the session: the TPM refusing the command's HMAC (TPM_RC_BAD_AUTH or
/// TPM_RC_AUTH_FAIL, session 1) or an answer whose HMAC does not check means the bytes were
/// changed on the way (exit 1); anything else is a failed command (exit 2).
pub fn under_session(what: &str, e: &TpmError<<AnyTransport as Transport>::Error>) -> CliError {
    match SessionFailure::of(e) {
        SessionFailure::CommandChanged => crate::util::refused(format!(
            "{what}: the TPM refused the command's session HMAC: the command was changed on \
             the way to the TPM ({e}); nothing written"
        )),
        SessionFailure::AnswerChanged => crate::util::refused(format!(
            "{what}: the answer's session HMAC does not check: it was changed on the way ({e}); \
             nothing written"
        )),
        SessionFailure::Other => {
            crate::util::failed(format!("{what} under the salted session: {e}"))
        }
    }
}

/// Whether `e` says the command or its answer was changed on the way (the TPM refused the
/// session HMAC, or the answer's HMAC does not check).
#[cfg(feature = "credential")]
pub fn changed_on_the_way(e: &TpmError<<AnyTransport as Transport>::Error>) -> bool {
    SessionFailure::of(e) != SessionFailure::Other
}

/// Sends `cmd` under the session; `names` are the Names of its handles.
pub fn execute<'t, C: Command>(
    tpm: &'t mut Tpm<AnyTransport>,
    s: &mut EkSession,
    cmd: &C,
    names: &[&[u8]],
) -> Result<C::Response<'t>, TpmError<<AnyTransport as Transport>::Error>> {
    s.execute(tpm, cmd, names)
}

/// Builds without the `credential` feature have no salted sessions.
#[cfg(not(feature = "credential"))]
mod without {
    use super::*;

    /// Never made in such builds.
    pub enum EkSession {}

    impl EkSession {
        pub fn close(self, _tpm: &mut Tpm<AnyTransport>) {
            match self {}
        }
        pub(super) fn execute<'t, C: Command>(
            &mut self,
            _tpm: &'t mut Tpm<AnyTransport>,
            _cmd: &C,
            _names: &[&[u8]],
        ) -> Result<C::Response<'t>, TpmError<<AnyTransport as Transport>::Error>> {
            match *self {}
        }
    }

    pub fn begin(
        _tpm: &mut Tpm<AnyTransport>,
        args: SessionArgs,
    ) -> Result<Option<EkSession>, CliError> {
        let why = if args.no_session {
            "--no-session"
        } else {
            "built without the credential feature"
        };
        eprintln!("baretpm: warning: {why}: {WARNING}");
        Ok(None)
    }

    pub fn create_ak(
        _tpm: &mut Tpm<AnyTransport>,
        s: &mut EkSession,
        _kind: AkKind,
    ) -> Result<LoadedAk, CliError> {
        match *s {}
    }
}

#[cfg(feature = "credential")]
mod with {
    use super::*;
    use crate::util::failed;
    use baretpm::commands::CreatePrimary;
    use baretpm::hmac_session::{handle_name, SaltedSession};
    use baretpm::proof::flow::FlowError;
    use baretpm::proof::session::{FlowSession, SessionMode};
    use baretpm::text::Escaped;
    use baretpm::types::alg::handle::RH_ENDORSEMENT;

    /// A salted session (its EK already flushed), flushed by [`EkSession::close`].
    pub struct EkSession {
        session: SaltedSession,
    }

    /// Starts the session unless `--no-session`; `None` (with a warning) when no EK can be
    /// made. An EK that its certificate does not certify is refused (exit 1).
    pub fn begin(
        tpm: &mut Tpm<AnyTransport>,
        args: SessionArgs,
    ) -> Result<Option<EkSession>, CliError> {
        let mode = if args.no_session {
            SessionMode::Off
        } else {
            SessionMode::Salted
        };
        let fs = FlowSession::begin(tpm, mode).map_err(|e| match e {
            FlowError::EkMismatch { .. } => crate::util::refused(format!("{e}; nothing written")),
            e => failed(e),
        })?;
        for m in fs.messages() {
            eprintln!("baretpm: {}", Escaped(m));
        }
        Ok(fs.into_salted().map(|session| EkSession { session }))
    }

    impl EkSession {
        pub(super) fn execute<'t, C: Command>(
            &mut self,
            tpm: &'t mut Tpm<AnyTransport>,
            cmd: &C,
            names: &[&[u8]],
        ) -> Result<C::Response<'t>, TpmError<<AnyTransport as Transport>::Error>> {
            self.session.execute(tpm, cmd, names)
        }

        /// Flushes the session.
        pub fn close(self, tpm: &mut Tpm<AnyTransport>) {
            self.session.flush(tpm);
        }

        /// ActivateCredential with this session as the AK's authorization and the secret
        /// returned encrypted; the EK authorized as `keys` says.
        pub fn activate_credential(
            &mut self,
            tpm: &mut Tpm<AnyTransport>,
            keys: &baretpm::activation::ActivationKeys<'_>,
            ak_name: &[u8],
            ek_name: &[u8],
            cred: &baretpm::interop::CredentialFile<'_>,
            out: &mut [u8],
        ) -> Result<usize, TpmError<<AnyTransport as Transport>::Error>> {
            self.session.activate_credential(
                tpm,
                keys,
                ak_name,
                ek_name,
                cred.id_object,
                cred.encrypted_secret,
                out,
            )
        }
    }

    /// The standard AK, made under the session.
    pub fn create_ak(
        tpm: &mut Tpm<AnyTransport>,
        s: &mut EkSession,
        kind: AkKind,
    ) -> Result<LoadedAk, CliError> {
        let rsp = s
            .session
            .execute(
                tpm,
                &CreatePrimary::in_endorsement(kind.template()),
                &[&handle_name(RH_ENDORSEMENT)],
            )
            .map_err(|e| under_session("CreatePrimary(AK)", &e))?;
        Ok(LoadedAk {
            handle: rsp.object_handle,
            public: rsp.out_public.to_vec(),
            name: rsp.name.as_bytes().to_vec(),
        })
    }
}
