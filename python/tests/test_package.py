"""The installed package: typing markers, stubs that match the extension, documented API."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import baretpm
from baretpm import _native

PKG = Path(baretpm.__file__).parent


def test_py_typed_and_stubs_are_installed():
    assert (PKG / "py.typed").exists()
    assert (PKG / "_native.pyi").exists()


def test_stubs_name_exactly_what_the_extension_exports():
    tree = ast.parse((PKG / "_native.pyi").read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    exported = {n for n in dir(_native) if not n.startswith("_")}
    assert stubbed == exported


def test_stub_parameters_match_the_extension():
    tree = ast.parse((PKG / "_native.pyi").read_text())
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        sig = inspect.signature(getattr(_native, fn.name))
        assert [a.arg for a in fn.args.args] == list(sig.parameters), fn.name


def test_public_api_is_documented_with_examples():
    for name in ["verify", "checkquote", "parse_attest", "measure"]:
        doc = getattr(baretpm, name).__doc__
        assert doc and ">>>" in doc, name
    for name in baretpm.__all__:
        assert getattr(baretpm, name) is not None
    assert issubclass(baretpm.ProofError, ValueError)
    assert baretpm.ProofError.__module__ == "baretpm"


def test_verify_signature_is_the_documented_one():
    params = inspect.signature(baretpm.verify).parameters
    assert list(params)[:1] == ["proof"]
    for kw in ["nonce", "ak_pub", "inputs", "outputs", "reference", "ak_ca", "ek_ca",
               "ek_chain", "ak_chain", "allow_sha1"]:
        assert params[kw].kind is inspect.Parameter.KEYWORD_ONLY, kw
    assert params["nonce"].kind is inspect.Parameter.KEYWORD_ONLY
    q = inspect.signature(baretpm.checkquote).parameters
    assert list(q)[:4] == ["ak", "attest", "signature", "pcrs"]
    assert q["nonce"].default is inspect.Parameter.empty


def test_version_is_the_packages():
    from importlib.metadata import version

    assert baretpm.__version__ == version("baretpm")
