"""baretpm.eventlog against `baretpm eventlog --json`: the same document for every log in
vectors/eventlogs/, and the same refusal (message and all) for malformed ones."""

from __future__ import annotations

import json

import pytest

import baretpm
from conftest import VECTORS, run_cli

LOGS = sorted(
    p
    for p in (VECTORS / "eventlogs").rglob("*")
    if p.is_file() and p.suffix not in (".json", ".yaml", ".md")
)


def test_there_are_logs_to_compare():
    # The vectors hold the real logs of several projects; a glob that found none would make
    # the comparison below vacuous.
    assert len(LOGS) >= 20, LOGS


@pytest.mark.parametrize("log", LOGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_eventlog_is_the_clis_json(cli, log):
    code, out, err = run_cli(cli, ["eventlog", "--json", str(log)])
    data = log.read_bytes()
    if code == 0:
        doc = baretpm.eventlog(data)
        assert doc == json.loads(out)
        # Byte for byte too: the CLI prints what the library builds, key order included.
        assert json.dumps(doc, indent=2, ensure_ascii=False) + "\n" == out
        assert set(doc) >= {"format", "events", "pcrs", "secure_boot"}
    else:
        assert code == 2, err
        with pytest.raises(baretpm.ProofError) as e:
            baretpm.eventlog(data)
        assert isinstance(e.value, ValueError)
        assert e.value.kind == "eventlog-malformed"
        assert err.strip() == f"baretpm: {e.value}"


def test_a_replayed_log_has_the_pcrs_of_its_machine():
    # go-tpm-tools ships each log with the PCRs of the machine that wrote it.
    log = VECTORS / "eventlogs/go-tpm-tools/debian-10.bin"
    want = json.loads(log.with_name(log.name + ".pcrs.json").read_text())["sha1"]
    doc = baretpm.eventlog(log.read_bytes())
    assert doc["format"] == "sha1"
    assert len(doc["events"]) == doc["events_count"]
    got = doc["pcrs"]["sha1"]
    for pcr in map(str, range(8)):
        assert got[pcr] == want[pcr].lower(), pcr


def test_malformed_logs_are_refused_as_the_cli_refuses_them(cli, tmp_path):
    good = (VECTORS / "eventlogs/go-tpm-tools/debian-10.bin").read_bytes()
    cases = {
        "empty": b"",
        "truncated": good[:100],
        "one byte short": good[:-1],
        "garbage": b"\xff" * 64,
    }
    for name, data in cases.items():
        p = tmp_path / name.replace(" ", "_")
        p.write_bytes(data)
        code, out, err = run_cli(cli, ["eventlog", "--json", str(p)])
        assert code == 2, (name, out)
        assert out == ""
        with pytest.raises(baretpm.ProofError) as e:
            baretpm.eventlog(data)
        assert err.strip() == f"baretpm: {e.value}", name
        assert str(e.value).startswith("eventlog: malformed log: event "), name


def test_eventlog_takes_only_bytes():
    with pytest.raises(TypeError):
        baretpm.eventlog("binary_bios_measurements")
    log = (VECTORS / "eventlogs/go-tpm-tools/debian-10.bin").read_bytes()
    assert baretpm.eventlog(bytearray(log)) == baretpm.eventlog(memoryview(log))
