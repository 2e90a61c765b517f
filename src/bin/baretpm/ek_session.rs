//! `createak` and `quote` under an HMAC session salted to the EK (issue 15): the AK's
//! CreatePrimary and the Quote carry a command HMAC the TPM checks (a template or a nonce
//! rewritten on the bus is refused by the TPM), and each answer's HMAC is checked before it is
//! used.
//!
//! The EK is the standard ECC EK template (TCG EK Credential Profile L-2), created in the
//! endorsement hierarchy for this run and flushed afterwards. When it cannot be created
//! (endorsement hierarchy with a password, or disabled) the commands go without a session and
//! a warning says so; `--no-session` asks for that, with the same warning. An EK that exists
//! but refuses to start the session is an error, not a reason to go without one.
//!
//! Limit: the EK public key is read over the same bus; it is not compared with the EK
//! certificate here. An interposer that replaced the EK in the CreatePrimary answer could
//! read the salt.

use baretpm::commands::Command;
use baretpm::proof::flow::AkKind;
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

const WARNING: &str = "commands go without a salted session: a bus interposer that rewrites \
                       them would not be seen";

/// A failure under the session: the TPM refusing the command's HMAC (TPM_RC_BAD_AUTH or
/// TPM_RC_AUTH_FAIL, session 1) or an answer whose HMAC does not check means the bytes were
/// changed on the way (exit 1); anything else is a failed command (exit 2).
pub fn under_session(what: &str, e: &TpmError<<AnyTransport as Transport>::Error>) -> CliError {
    let hmac_refused = matches!(e.rc().map(|rc| rc.0 & !0xF00), Some(0x0a2 | 0x08e));
    if hmac_refused {
        crate::util::refused(format!(
            "{what}: the TPM refused the command's session HMAC: the command was changed on \
             the way to the TPM ({e}); nothing written"
        ))
    } else if matches!(e, TpmError::Malformed { .. }) && e.to_string().contains("hmac") {
        crate::util::refused(format!(
            "{what}: the answer's session HMAC does not check: it was changed on the way ({e}); \
             nothing written"
        ))
    } else {
        crate::util::failed(format!("{what} under the salted session: {e}"))
    }
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
    use baretpm::commands::{templates, CreatePrimary};
    use baretpm::hmac_session::{handle_name, SaltedSession};
    use baretpm::types::alg::handle::RH_ENDORSEMENT;

    use baretpm::types::{HashAlg, Tpm2bPublic};

    /// A salted session and the EK it is salted to, both flushed by [`EkSession::close`].
    pub struct EkSession {
        session: SaltedSession,
        ek: u32,
    }

    /// Starts the session unless `--no-session`; `None` (with a warning) when no EK can be made.
    pub fn begin(
        tpm: &mut Tpm<AnyTransport>,
        args: SessionArgs,
    ) -> Result<Option<EkSession>, CliError> {
        if args.no_session {
            eprintln!("baretpm: warning: --no-session: {WARNING}");
            return Ok(None);
        }
        let made = tpm.execute(&CreatePrimary::in_endorsement(templates::ek_ecc()));
        let (ek, raw) = match made {
            Ok(r) => (r.object_handle, r.out_public.raw().to_vec()),
            Err(e) => {
                eprintln!("baretpm: warning: no EK available ({e}): {WARNING}");
                return Ok(None);
            }
        };
        let public = match Tpm2bPublic::from_tpmt_bytes(&raw) {
            Ok(p) => p,
            Err(e) => {
                tpm.flush_quietly(ek);
                return Err(failed(format!("EK public area: {e}")));
            }
        };
        match SaltedSession::start(tpm, ek, &public.public_area(), HashAlg::Sha256) {
            Ok(session) => Ok(Some(EkSession { session, ek })),
            Err(e) => {
                tpm.flush_quietly(ek);
                Err(failed(e))
            }
        }
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

        /// Flushes the session and the EK.
        pub fn close(self, tpm: &mut Tpm<AnyTransport>) {
            self.session.flush(tpm);
            tpm.flush_quietly(self.ek);
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
        let raw = rsp.out_public.raw();
        let mut public = Vec::with_capacity(2 + raw.len());
        public.extend_from_slice(&(raw.len() as u16).to_be_bytes());
        public.extend_from_slice(raw);
        Ok(LoadedAk {
            handle: rsp.object_handle,
            public,
            name: rsp.name.as_bytes().to_vec(),
        })
    }
}
