//! TCTI strings, as tpm2-tools spells them, and a transport over either kind.
//!
//! Accepted forms:
//!
//! | string | meaning |
//! |---|---|
//! | `device` or `device:` | `/dev/tpmrm0` |
//! | `device:PATH` | that device node |
//! | `swtpm` or `swtpm:` | swtpm at 127.0.0.1:2321 (control 2322) |
//! | `swtpm:port=P` | 127.0.0.1:P |
//! | `swtpm:host=H,port=P` | H:P (control P+1); either key may be left out |
//! | `swtpm:path=S` | swtpm on Unix socket S (control S.ctrl) |
//!
//! The long names tpm2-tss also accepts (`tcti-device`, `libtss2-tcti-device.so.0`, and the
//! same for swtpm) mean the same. Other TCTIs (`mssim`, `tabrmd`, `cmd`, ...) are refused with
//! a message saying what to use instead. Parsing never panics, whatever the input.

use std::env;
use std::fmt;
use std::format;
use std::path::PathBuf;
use std::str::FromStr;
use std::string::String;

use super::device::{DeviceTransport, DEFAULT_DEVICE};
use super::swtpm::{SwtpmAddr, SwtpmTransport, DEFAULT_HOST, DEFAULT_PORT};
use super::{Timeouts, Transport, TransportError};

/// The environment variable tpm2-tools read their TCTI from.
pub const ENV_VAR: &str = "TPM2TOOLS_TCTI";

/// The TCTI used when neither an argument nor the environment names one.
pub const DEFAULT_TCTI: &str = concat!("device:", super::device::default_device!());

const EXPECTED: &str = "expected device:PATH or swtpm:host=H,port=P or swtpm:path=S";

/// A parsed TCTI: which transport to open, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tcti {
    /// A kernel TPM device node.
    Device {
        /// The node, e.g. `/dev/tpmrm0`.
        path: PathBuf,
    },
    /// A swtpm socket (TCP or Unix).
    Swtpm(SwtpmAddr),
}

impl Tcti {
    /// Parses a TCTI string (see the [module documentation](self) for the forms).
    pub fn parse(s: &str) -> Result<Tcti, TransportError> {
        let (name, conf) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        match name {
            "" => Err(bad(format!("empty TCTI name in {s:?}; {EXPECTED}"))),
            "device" | "tcti-device" | "libtss2-tcti-device.so" | "libtss2-tcti-device.so.0" => {
                let path = match conf {
                    None | Some("") => DEFAULT_DEVICE,
                    Some(p) => p,
                };
                Ok(Tcti::Device {
                    path: PathBuf::from(path),
                })
            }
            "swtpm" | "tcti-swtpm" | "libtss2-tcti-swtpm.so" | "libtss2-tcti-swtpm.so.0" => {
                parse_swtpm(s, conf.unwrap_or(""))
            }
            "mssim" | "tcti-mssim" | "libtss2-tcti-mssim.so" | "libtss2-tcti-mssim.so.0" => {
                Err(bad(format!(
                    "TCTI {s:?} is not supported: baretpm does not speak the Microsoft simulator \
                     protocol; run swtpm and use swtpm:host=H,port=P"
                )))
            }
            "tabrmd" | "tcti-tabrmd" | "libtss2-tcti-tabrmd.so" | "libtss2-tcti-tabrmd.so.0" => {
                Err(bad(format!(
                    "TCTI {s:?} is not supported: baretpm does not talk to tpm2-abrmd over D-Bus; \
                     use {DEFAULT_TCTI} (the kernel's resource manager)"
                )))
            }
            "cmd" | "libtpms" | "pcap" | "spi-helper" | "spi-ftdi" | "spi-ltt2go"
            | "i2c-helper" | "i2c-ftdi" => Err(bad(format!(
                "TCTI {s:?} is not supported by baretpm; {EXPECTED}"
            ))),
            _ => Err(bad(format!("unknown TCTI {s:?}; {EXPECTED}"))),
        }
    }
}

fn bad(message: String) -> TransportError {
    TransportError::BadTcti { message }
}

/// Parses swtpm's `key=value,...` options. Empty items are skipped, as tpm2-tss does.
fn parse_swtpm(whole: &str, conf: &str) -> Result<Tcti, TransportError> {
    let mut host: Option<&str> = None;
    let mut port: Option<u16> = None;
    let mut path: Option<&str> = None;
    for item in conf.split(',').filter(|i| !i.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(bad(format!(
                "TCTI {whole:?}: option {item:?} is not key=value; {EXPECTED}"
            )));
        };
        if value.is_empty() {
            return Err(bad(format!(
                "TCTI {whole:?}: option {key:?} has an empty value"
            )));
        }
        let duplicate = match key {
            "host" => host.replace(value).is_some(),
            "path" => path.replace(value).is_some(),
            "port" => {
                let p = match value.parse::<u16>() {
                    Ok(p) if (1..u16::MAX).contains(&p) => p,
                    Ok(_) => {
                        return Err(bad(format!(
                            "TCTI {whole:?}: port {value} unusable: it must be 1..=65534, since \
                             the control channel is at port+1"
                        )))
                    }
                    Err(_) => {
                        return Err(bad(format!(
                            "TCTI {whole:?}: port {value:?} is not a number in 1..=65534"
                        )))
                    }
                };
                port.replace(p).is_some()
            }
            _ => {
                return Err(bad(format!(
                    "TCTI {whole:?}: unknown swtpm option {key:?}; known options are host, port \
                     and path"
                )))
            }
        };
        if duplicate {
            return Err(bad(format!("TCTI {whole:?}: option {key:?} given twice")));
        }
    }
    match (path, host, port) {
        (Some(p), None, None) => Ok(Tcti::Swtpm(SwtpmAddr::unix(p))),
        (Some(_), _, _) => Err(bad(format!(
            "TCTI {whole:?}: path= (a Unix socket) cannot be combined with host= or port="
        ))),
        (None, h, p) => Ok(Tcti::Swtpm(SwtpmAddr::tcp(
            h.unwrap_or(DEFAULT_HOST),
            p.unwrap_or(DEFAULT_PORT),
        ))),
    }
}

impl FromStr for Tcti {
    type Err = TransportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tcti::parse(s)
    }
}

impl fmt::Display for Tcti {
    /// The canonical TCTI string, which parses back to the same value (for a Unix socket,
    /// only when the control socket is at the conventional `PATH.ctrl`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tcti::Device { path } => write!(f, "device:{}", path.display()),
            Tcti::Swtpm(SwtpmAddr::Tcp { host, port }) => {
                write!(f, "swtpm:host={host},port={port}")
            }
            Tcti::Swtpm(SwtpmAddr::Unix { path, .. }) => write!(f, "swtpm:path={}", path.display()),
        }
    }
}

/// Chooses the TCTI as tpm2-tools do: the `-T` argument if given, else the value of
/// `TPM2TOOLS_TCTI` (passed in as `env`, so this stays a pure function), else
/// [`DEFAULT_TCTI`]. An empty environment value counts as unset; an empty argument is an error.
pub fn select_tcti(arg: Option<&str>, env: Option<&str>) -> Result<Tcti, TransportError> {
    match (arg, env) {
        (Some(a), _) => Tcti::parse(a),
        (None, Some(e)) if !e.is_empty() => Tcti::parse(e),
        _ => Tcti::parse(DEFAULT_TCTI),
    }
}

/// [`select_tcti`] with the environment variable read from this process's environment.
/// A value that is not UTF-8 is an error, not silently ignored.
pub fn tcti_from_env_or(arg: Option<&str>) -> Result<Tcti, TransportError> {
    if arg.is_some() {
        return select_tcti(arg, None);
    }
    match env::var(ENV_VAR) {
        Ok(v) => select_tcti(None, Some(&v)),
        Err(env::VarError::NotPresent) => select_tcti(None, None),
        Err(env::VarError::NotUnicode(_)) => Err(bad(format!("{ENV_VAR} is not valid UTF-8"))),
    }
}

/// Opens the transport a TCTI names. A swtpm data channel is connected at once (see
/// [`SwtpmTransport::connect`]).
pub fn open(tcti: &Tcti, timeouts: Timeouts) -> Result<AnyTransport, TransportError> {
    match tcti {
        Tcti::Device { path } => DeviceTransport::open(path, timeouts).map(AnyTransport::Device),
        Tcti::Swtpm(addr) => {
            SwtpmTransport::connect(addr.clone(), timeouts).map(AnyTransport::Swtpm)
        }
    }
}

/// Either kind of transport, chosen at run time.
#[derive(Debug)]
pub enum AnyTransport {
    /// A kernel device.
    Device(DeviceTransport),
    /// A swtpm socket.
    Swtpm(SwtpmTransport),
}

impl AnyTransport {
    /// The name used in this transport's errors.
    pub fn name(&self) -> &str {
        match self {
            AnyTransport::Device(d) => d.name(),
            AnyTransport::Swtpm(s) => s.name(),
        }
    }

    /// The swtpm transport, for its control channel; `None` for a device.
    pub fn as_swtpm(&mut self) -> Option<&mut SwtpmTransport> {
        match self {
            AnyTransport::Swtpm(s) => Some(s),
            AnyTransport::Device(_) => None,
        }
    }
}

impl Transport for AnyTransport {
    type Error = TransportError;

    fn begin_command(&mut self) {
        match self {
            AnyTransport::Device(d) => d.begin_command(),
            AnyTransport::Swtpm(s) => s.begin_command(),
        }
    }

    fn end_command(&mut self) {
        match self {
            AnyTransport::Device(d) => d.end_command(),
            AnyTransport::Swtpm(s) => s.end_command(),
        }
    }

    fn transact<'b>(&mut self, cmd: &[u8], rsp: &'b mut [u8]) -> Result<&'b [u8], TransportError> {
        match self {
            AnyTransport::Device(d) => d.transact(cmd, rsp),
            AnyTransport::Swtpm(s) => s.transact(cmd, rsp),
        }
    }
}
