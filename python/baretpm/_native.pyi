"""Type stubs of the Rust extension. Use the functions of the `baretpm` package; these are
its private building blocks and their signatures may change."""

from typing import Any, Dict, List, Optional, Tuple

MAX_NONCE: int

# Certificate bytes, or a path to a PEM bundle, DER file or directory of them.
CertItem = Tuple[Optional[bytes], Optional[str]]

class ProofError(ValueError):
    """An input could not be read or is malformed (the CLI's exit 2). `kind` is the CLI's
    `--json` error kind: 'proof-unreadable', 'proof-malformed' or 'usage' ('eventlog-malformed'
    from `eventlog_json`)."""

    kind: str

def verify(
    proof_data: Optional[bytes],
    proof_path: Optional[str],
    nonce_data: Optional[bytes],
    nonce_hex: Optional[str],
    ak_data: Optional[bytes],
    ak_path: Optional[str],
    inputs: List[str],
    outputs: List[str],
    reference_data: Optional[bytes],
    reference_path: Optional[str],
    allow_sha1: bool,
    threads: Optional[int],
    ek_ca: List[CertItem] = ...,
    ek_chain: List[CertItem] = ...,
    ak_ca: List[CertItem] = ...,
    ak_chain: List[CertItem] = ...,
) -> Tuple[bool, List[Tuple[str, str, str]], str, str]: ...
def measure_paths(
    paths: List[str], threads: Optional[int] = None
) -> List[Tuple[str, str, str, bytes]]: ...
def parse_attest(data: bytes) -> Dict[str, Any]: ...
def checkquote(
    ak_data: Optional[bytes],
    ak_path: Optional[str],
    attest_data: Optional[bytes],
    attest_path: Optional[str],
    sig_data: Optional[bytes],
    sig_path: Optional[str],
    pcrs_data: Optional[bytes],
    pcrs_path: Optional[str],
    nonce_data: Optional[bytes],
    nonce_hex: Optional[str],
    pcr_format: str,
    pcr_list: Optional[str],
    hash_algorithm: Optional[str],
    allow_sha1: bool,
    allow_no_nonce: bool,
    allow_unrestricted_ak: bool,
) -> Tuple[bool, Optional[str], str, Optional[Dict[str, Any]]]: ...
def escape(text: str) -> str: ...
def eventlog_json(data: bytes) -> str: ...
