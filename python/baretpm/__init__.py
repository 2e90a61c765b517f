"""Verify TPM 2.0 quotes and baretpm provenance proofs from Python.

Everything here runs on the baretpm crate's own Rust parsers and verifier (the same code as
the ``baretpm`` command line): no second implementation, no OpenSSL. Files are read, hashed
and verified with the GIL released, so other Python threads keep running while a multi-GB
output is hashed.

Verify a proof made by ``baretpm run``::

    >>> import baretpm
    >>> report = baretpm.verify("proof.json", nonce="9f86d081884c7d65",
    ...                         ak_pub="ak.pub", outputs=["model.txt"])  # doctest: +SKIP
    >>> report.passed                                                    # doctest: +SKIP
    True
    >>> [c.name for c in report.checks if c.result == "fail"]            # doctest: +SKIP
    []

A refused proof is a :class:`Report` whose ``passed`` is False, never an exception;
:class:`ProofError` (a ``ValueError``) means an input could not be read or is malformed.

Verify a quote written by ``tpm2_quote``::

    >>> q = baretpm.checkquote("ak.pub", "quote.msg", "quote.sig", "quote.pcrs",
    ...                        nonce="abcd")                              # doctest: +SKIP
    >>> q.passed, q.signing_hash                                          # doctest: +SKIP
    (True, 'sha256')
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _native
from ._native import ProofError

__all__ = [
    "Check",
    "Event",
    "ProofError",
    "QuoteResult",
    "Report",
    "checkquote",
    "eventlog",
    "measure",
    "parse_attest",
    "verify",
    "RESULTS",
]

__version__ = "0.1.0"

#: The values :attr:`Check.result` takes.
RESULTS = ("pass", "fail", "skip", "not run")

PathLike = Union[str, "os.PathLike[str]"]
BytesOrPath = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
#: Certificates: a PEM bundle, DER file or directory path, certificate bytes, or a list of them.
CertSource = Union[BytesOrPath, Iterable[BytesOrPath]]


def _escape(text: str) -> str:
    """Untrusted text made safe for a terminal (the CLI's escaping)."""
    return _native.escape(text)


@dataclass(frozen=True)
class Check:
    """One row of a :class:`Report`.

    ``name`` is the CLI's row name (``signature``, ``nonce``, ``pcr14-log``, ``output``, ...),
    ``result`` one of ``'pass'``, ``'fail'``, ``'skip'`` (not asked for: does not fail the
    proof) and ``'not run'`` (an earlier check it depends on failed), ``detail`` the reason.
    ``detail`` quotes text from the proof (file names, command lines): it is shown escaped
    by ``repr``, ``str`` and the HTML table, and is raw here.
    """

    name: str
    result: str
    detail: str

    @property
    def passed(self) -> bool:
        """True for ``'pass'`` and ``'skip'``, the results that do not fail a proof."""
        return self.result in ("pass", "skip")

    def to_dict(self) -> Dict[str, str]:
        return {"name": self.name, "result": self.result, "detail": self.detail}

    def __repr__(self) -> str:
        return f"Check({self.name!r}, {self.result!r}, {_escape(self.detail)!r})"


@dataclass(frozen=True)
class Report:
    """Every check :func:`verify` made, in order.

    ``passed`` is True when no check failed and none was prevented from running. A Report is
    truthy exactly when it passed, so ``if baretpm.verify(...):`` is safe.

    >>> report = baretpm.verify("proof.json", nonce=nonce, ak_pub="ak.pub")  # doctest: +SKIP
    >>> report.failed                                                       # doctest: +SKIP
    ['nonce']
    >>> print(report)     # the CLI's table                                 # doctest: +SKIP
    """

    passed: bool
    checks: List[Check]
    _table: str = field(repr=False, compare=False, default="")
    _json: str = field(repr=False, compare=False, default="")

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failed(self) -> List[str]:
        """Names of the failed checks, in order."""
        return [c.name for c in self.checks if c.result == "fail"]

    def check(self, name: str) -> Optional[Check]:
        """The first check called ``name``, or None."""
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> Dict[str, Any]:
        """``{"passed": bool, "failed": [names], "checks": [{"name", "result", "detail"}]}``."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self) -> str:
        """The report exactly as ``baretpm verify --json`` prints it (keys ``ok``, ``failed``,
        ``checks`` with ``status`` spelled ``pass``/``fail``/``skip``/``not-run``)."""
        return self._json

    def __str__(self) -> str:
        """The table ``baretpm verify`` prints, untrusted text escaped."""
        return self._table

    def __repr__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL (" + ", ".join(self.failed) + ")"
        lines = [f"<baretpm.Report {verdict}"]
        w = max([len(c.name) for c in self.checks] + [5])
        for c in self.checks:
            lines.append(f"  {c.name:<{w}}  {c.result:<7}  {_escape(c.detail)}")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        colour = {"pass": "#1a7f37", "fail": "#cf222e", "skip": "#9a6700", "not run": "#6e7781"}
        esc = lambda s: html.escape(_escape(s), quote=True)  # noqa: E731
        rows = "".join(
            f"<tr><td><code>{esc(c.name)}</code></td>"
            f'<td style="color:{colour.get(c.result, "inherit")};font-weight:bold">'
            f"{esc(c.result)}</td><td>{esc(c.detail)}</td></tr>"
            for c in self.checks
        )
        verdict = (
            "PASS" if self.passed else "FAIL (" + esc(", ".join(self.failed)) + ")"
        )
        return (
            '<table class="baretpm-report">'
            f"<caption>baretpm proof: <b>{verdict}</b></caption>"
            "<thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


@dataclass(frozen=True)
class QuoteResult:
    """What :func:`checkquote` found. Truthy exactly when the quote verified.

    ``check`` names the failed check (the verifier's names: ``signature``, ``nonce``,
    ``pcr-digest``, ``pcr-file``, ...) and ``message`` says why; for a verified quote
    ``check`` is None and ``attest`` holds the parsed TPMS_ATTEST (see :func:`parse_attest`).
    """

    passed: bool
    check: Optional[str]
    message: str
    signing_hash: Optional[str] = None
    ak_format: Optional[str] = None
    pcrs: Optional[str] = None
    attest: Optional[Dict[str, Any]] = None

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return (
                f"<baretpm.QuoteResult verified: signed with {self.signing_hash}, "
                f"PCRs {self.pcrs}>"
            )
        return f"<baretpm.QuoteResult refused by {self.check}: {_escape(self.message)}>"


@dataclass(frozen=True)
class Event:
    """A measured file, directory or git HEAD, as it appears in a proof's event log."""

    kind: str
    name: str
    digest_alg: str
    digest: bytes


def _is_bytes(x: Any) -> bool:
    return isinstance(x, (bytes, bytearray, memoryview))


def _split(x: Any, what: str) -> Tuple[Optional[bytes], Optional[str]]:
    """bytes-like -> (data, None); str or os.PathLike -> (None, path)."""
    if x is None:
        return None, None
    if _is_bytes(x):
        return bytes(x), None
    if isinstance(x, (str, os.PathLike)):
        p = os.fspath(x)
        return None, os.fsdecode(p) if isinstance(p, bytes) else p
    raise TypeError(f"{what}: expected a path or bytes, not {type(x).__name__}")


def _json_or_split(x: Any, what: str) -> Tuple[Optional[bytes], Optional[str]]:
    """Like _split, and a mapping is serialised to JSON first."""
    if isinstance(x, Mapping):
        try:
            return json.dumps(x).encode(), None
        except (TypeError, ValueError) as e:
            err = ProofError(f"{what}: the dict cannot be written as JSON: {e}")
            err.kind = "proof-malformed" if what == "proof" else "usage"
            raise err from None
    return _split(x, what)


def _nonce(x: Any) -> Tuple[Optional[bytes], Optional[str]]:
    if x is None:
        return None, None
    if _is_bytes(x):
        return bytes(x), None
    if isinstance(x, str):
        return None, x
    raise TypeError(f"nonce: expected bytes or a hex string, not {type(x).__name__}")


def _paths(xs: Iterable[PathLike], what: str) -> List[str]:
    if isinstance(xs, (str, bytes, os.PathLike)):
        raise TypeError(f"{what}: expected a list of paths, not a single {type(xs).__name__}")
    out = []
    for x in xs:
        if not isinstance(x, (str, os.PathLike)):
            raise TypeError(f"{what}: expected paths, not {type(x).__name__}")
        p = os.fspath(x)
        out.append(os.fsdecode(p) if isinstance(p, bytes) else p)
    return out


def _cert_items(x: Any, what: str) -> List[Tuple[Optional[bytes], Optional[str]]]:
    """Roots or intermediates: one path/bytes item, or a sequence of them, in order."""
    if x is None:
        return []
    if _is_bytes(x) or isinstance(x, (str, os.PathLike)):
        return [_split(x, what)]
    if isinstance(x, Iterable):
        return [_split(i, what) for i in x]
    raise TypeError(f"{what}: expected a path, bytes or a list of them, not {type(x).__name__}")


def verify(
    proof: Union[BytesOrPath, Mapping[str, Any]],
    *,
    nonce: Union[bytes, str, None] = None,
    ak_pub: Optional[BytesOrPath] = None,
    inputs: Iterable[PathLike] = (),
    outputs: Iterable[PathLike] = (),
    reference: Union[BytesOrPath, Mapping[str, Any], None] = None,
    ak_ca: Optional[CertSource] = None,
    ek_ca: Optional[CertSource] = None,
    allow_sha1: bool = False,
    threads: Optional[int] = None,
    ek_chain: Optional[CertSource] = None,
    ak_chain: Optional[CertSource] = None,
) -> Report:
    """Verify a baretpm provenance proof, as ``baretpm verify`` does.

    :param proof: a path to a proof file, its JSON bytes, or the proof as a dict.
    :param nonce: the nonce this verifier sent (bytes, or hex text as for ``--nonce``); the
        quote must carry it. Without it the ``nonce`` row is a skip saying the proof shows
        no freshness.
    :param ak_pub: the AK this verifier trusts: a path or bytes, TPM2B_PUBLIC (``baretpm
        ak-pub``, ``tpm2_readpublic -o``), TPMT_PUBLIC, or a PEM/DER public key.
    :param inputs: files, directories or ``git:PATH`` that must be events of the PCR14 log;
        each gets an ``input`` row.
    :param outputs: the same for the PCR15 log (``output`` rows).
    :param reference: expected PCR values (``baretpm reference``): a path, bytes or dict.
    :param ak_ca: roots trusted for cloud AK certificates (``--ak-ca``): a path to a PEM
        bundle, a DER file or a directory of them, certificate bytes (PEM or DER), or a list
        of these. With it the ``ak-certificate`` row passes only when a certificate the
        proof carries chains to one of these roots and certifies the quote's AK.
    :param ek_ca: roots trusted for EK certificates (``--ek-ca``), given as ``ak_ca``. With
        it the ``ek-certificate`` row passes only when a certificate the proof carries from
        TPM NV chains to one of these roots.
    :param allow_sha1: accept proofs whose only banks, or whose signature, use SHA-1.
    :param threads: hashing threads for inputs/outputs (default: cores, at most 8).
    :param ek_chain: intermediate certificates for the EK chain (``--ek-chain``), given as
        ``ek_ca``; needs ``ek_ca``.
    :param ak_chain: intermediate certificates for the AK chain (``--ak-chain``); needs
        ``ak_ca``.
    :returns: a :class:`Report`; a refused proof is a Report with ``passed`` False.
    :raises ProofError: the proof, AK, reference or a file to hash cannot be read, or the
        proof or reference is malformed, a certificate file cannot be read or parsed, or the
        nonce is not 1-64 bytes (``baretpm verify`` exits 2 for all of these). ``err.kind`` is
        the CLI's ``--json`` error kind.

    >>> r = baretpm.verify("proof.json", nonce=bytes.fromhex("c0ffee"), ak_pub="ak.pub",
    ...                    inputs=["data", "train.sh"], outputs=["model.txt"])  # doctest: +SKIP
    >>> r.passed, r.failed                                                   # doctest: +SKIP
    (False, ['output'])
    >>> baretpm.verify("proof.json", ek_ca="swtpm-root.pem", ek_chain=["issuer.pem"]
    ...                ).check("ek-certificate").result                       # doctest: +SKIP
    'pass'
    """
    proof_data, proof_path = _json_or_split(proof, "proof")
    if proof_data is None and proof_path is None:
        raise TypeError("proof: expected a path, bytes or a dict, not None")
    nonce_data, nonce_hex = _nonce(nonce)
    ak_data, ak_path = _split(ak_pub, "ak_pub")
    ref_data, ref_path = _json_or_split(reference, "reference")
    if threads is not None and threads < 1:
        raise ValueError("threads: at least 1")
    passed, rows, table, js = _native.verify(
        proof_data,
        proof_path,
        nonce_data,
        nonce_hex,
        ak_data,
        ak_path,
        _paths(inputs, "inputs"),
        _paths(outputs, "outputs"),
        ref_data,
        ref_path,
        bool(allow_sha1),
        threads,
        ek_ca=_cert_items(ek_ca, "ek_ca"),
        ek_chain=_cert_items(ek_chain, "ek_chain"),
        ak_ca=_cert_items(ak_ca, "ak_ca"),
        ak_chain=_cert_items(ak_chain, "ak_chain"),
    )
    return Report(passed, [Check(*r) for r in rows], table, js)


def checkquote(
    ak: BytesOrPath,
    attest: BytesOrPath,
    signature: BytesOrPath,
    pcrs: Optional[BytesOrPath],
    *,
    nonce: Union[bytes, str, None],
    pcr_format: str = "serialized",
    pcr_list: Optional[str] = None,
    hash_algorithm: Optional[str] = None,
    allow_sha1: bool = False,
    allow_no_nonce: bool = False,
    allow_unrestricted_ak: bool = False,
) -> QuoteResult:
    """Verify a quote from tpm2-tools files, as ``baretpm checkquote`` (the flags of
    ``tpm2_checkquote``, stricter where that tool is lax).

    :param ak: the AK public key (``-u``): PEM/DER SubjectPublicKeyInfo, TPM2B_PUBLIC or
        TPMT_PUBLIC, detected; a path or bytes.
    :param attest: the TPMS_ATTEST (``tpm2_quote -m``); a path or bytes.
    :param signature: the TPMT_SIGNATURE (``tpm2_quote -s``); a path or bytes.
    :param pcrs: the PCR values file (``tpm2_quote -o``), or None: then no PCR value is
        given, and a quote over any PCR is refused (``pcr-selection``).
    :param nonce: the qualification (``-q``) the quote must carry: bytes or hex text. None
        is refused unless ``allow_no_nonce`` (a quote without a nonce can be replayed).
    :param pcr_format: ``serialized`` (default), ``values`` or ``marshaled`` (``-F``).
    :param pcr_list: the selection, e.g. ``sha256:0,1,14+sha1:0`` (``-l``); needed with
        ``values``.
    :param hash_algorithm: the hash the AK must have signed with (``-g``).
    :returns: a :class:`QuoteResult`; a refused quote is not an exception.
    :raises ProofError: a file cannot be read, or an option is malformed.

    >>> q = baretpm.checkquote("ak.pub", "q.msg", "q.sig", "q.pcrs", nonce="abcd")  # doctest: +SKIP
    >>> q.passed, q.attest["attested"]["pcr_select"]                               # doctest: +SKIP
    (True, [{'hash': 'sha256', 'pcrs': [0, 1, 2, 3]}])
    """
    ak_d, ak_p = _split(ak, "ak")
    at_d, at_p = _split(attest, "attest")
    sg_d, sg_p = _split(signature, "signature")
    pc_d, pc_p = _split(pcrs, "pcrs")
    if ak_d is None and ak_p is None:
        raise TypeError("ak: expected a path or bytes, not None")
    if at_d is None and at_p is None:
        raise TypeError("attest: expected a path or bytes, not None")
    if sg_d is None and sg_p is None:
        raise TypeError("signature: expected a path or bytes, not None")
    n_d, n_h = _nonce(nonce)
    passed, check, message, details = _native.checkquote(
        ak_d, ak_p, at_d, at_p, sg_d, sg_p, pc_d, pc_p, n_d, n_h,
        str(pcr_format), pcr_list, hash_algorithm,
        bool(allow_sha1), bool(allow_no_nonce), bool(allow_unrestricted_ak),
    )
    if not passed:
        return QuoteResult(False, check, message)
    return QuoteResult(
        True,
        None,
        message,
        signing_hash=details["signing_hash"],
        ak_format=details["ak_format"],
        pcrs=details["pcrs"],
        attest=details["attest"],
    )


def parse_attest(data: Union[bytes, bytearray, memoryview]) -> Dict[str, Any]:
    """Parse a TPMS_ATTEST (``tpm2_quote -m``) with the crate's strict parser.

    Parsing is not verifying: nothing in the result can be trusted before
    :func:`checkquote` has checked the signature over the same bytes.

    :raises ProofError: the bytes are not exactly one TPMS_ATTEST (the message names the field).

    >>> a = baretpm.parse_attest(open("quote.msg", "rb").read())   # doctest: +SKIP
    >>> a["type"], a["extra_data"].hex()                          # doctest: +SKIP
    ('TPM_ST_ATTEST_QUOTE', 'abcd')
    """
    if not _is_bytes(data):
        raise TypeError(f"parse_attest: expected bytes, not {type(data).__name__}")
    return _native.parse_attest(bytes(data))


def measure(paths: Iterable[PathLike], *, threads: Optional[int] = None) -> List[Event]:
    """Measure files, directories or ``git:PATH`` as ``baretpm run`` measures them (SHA-256,
    the directory manifest of docs/proof-format.md), with the GIL released.

    >>> [e.digest.hex()[:16] for e in baretpm.measure(["model.txt"])]   # doctest: +SKIP
    ['6b86b273ff34fce1']
    """
    if threads is not None and threads < 1:
        raise ValueError("threads: at least 1")
    return [Event(*e) for e in _native.measure_paths(_paths(paths, "paths"), threads)]


def eventlog(data: Union[bytes, bytearray, memoryview]) -> Dict[str, Any]:
    """Parse, decode and replay a TCG PC Client binary event log
    (``/sys/kernel/security/tpm0/binary_bios_measurements``) with the crate's strict parser.

    Returns exactly the document ``baretpm eventlog --json`` prints (the same library
    function builds both): ``format``, ``spec_id``, ``events`` (each with its digests, the
    check of each digest against the event data, and the decoded data), ``pcrs`` (the
    replayed value of every extended PCR per computable bank, hex, keyed by bank name then PCR
    number as a string), ``pcr0_start``, ``banks_not_computed`` and ``secure_boot``. Every
    string taken from the log is escaped.

    Replaying a log is not verifying it: the replayed PCRs mean something only once they are
    compared with PCR values a verified quote attests.

    :raises ProofError: the log is malformed (``baretpm eventlog`` exits 2); the message is
        the CLI's, naming the event index and field. ``err.kind`` is ``'eventlog-malformed'``
        (``'usage'`` for a log over 16 MiB).

    >>> log = baretpm.eventlog(open("vectors/eventlogs/keylime/"
    ...     "binary_bios_measurements-secureboot", "rb").read())               # doctest: +SKIP
    >>> log["pcrs"]["sha256"]["7"], log["secure_boot"]["enabled"]              # doctest: +SKIP
    ('2f96e1f1bf7f91b6f17e1bcb823e717e43782ff75481237711f2ed7bf8a8edb1', True)
    """
    if not _is_bytes(data):
        raise TypeError(f"eventlog: expected bytes, not {type(data).__name__}")
    return json.loads(_native.eventlog_json(bytes(data)))
